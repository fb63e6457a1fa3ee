"""What owners do: commands, questions, the quoted-passages button and feedback.

Handlers are small: they read the update, hand anything heavy to a worker thread (through
`Services`), and send the result through the outbox (`bot.outbox`): answers and command replies
alike are kept until Telegram takes them, so an outage delays a reply, never loses it, and a
chat's replies arrive in the order they were made. Button presses are acknowledged directly
(`bot.delivery`): a toast is only worth showing while the owner is looking.
"""

from __future__ import annotations

import asyncio
import contextlib
import gettext
import logging
import re
from typing import AsyncIterator

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import render
from bot.delivery import is_transient, reply_plain, with_retries
from bot.languages import chat_language, text_language, texts
from bot.ratelimit import Verdict
from bot.services import services
from bot.storage import MAX_ID
from knowledge.refusal_texts import library_overview
from knowledge.types import SourceInfo
from sme_advisor.i18n import N_, translator
from sme_advisor.welcome import Welcome

log = logging.getLogger(__name__)

SHOW_QUOTES = N_("Show quoted passages")
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for 5 s per action


def ask_example(tr: gettext.NullTranslations, example: str | None) -> str:
    if example is None:
        return tr.gettext("Ask me a question in plain words.")
    return tr.gettext("Ask me a question in plain words, for example:\n“%(example)s”") % {"example": example}


def help_text(tr: gettext.NullTranslations, about: Welcome) -> str:
    return "\n\n".join(filter(None, [
        ask_example(tr, about.example),
        about.help,
        tr.gettext("I answer only from my library and number my sources; tap “%(show_quotes)s” to read the "
                   "exact text, and 👍 / 👎 to tell me whether the answer helped. Follow-up questions use our "
                   "conversation.") % {"show_quotes": tr.gettext(SHOW_QUOTES)},
        tr.gettext("/topics – what my library covers\n/reset – forget our conversation\n/help – this message"),
    ]))


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, parts: str | list[str], *, html: bool = False,
                language: str | None = None) -> None:
    """A reply to the update's message through the outbox, as `message.reply_text` would place it
    (quoting it in groups, in its forum topic). The outbox's apology, should the reply wait too
    long, names the message it answers."""
    message = update.effective_message
    if language is None:
        language = await chat_language(update, context)
    await services(context).outbox.send(message.chat_id, [parts] if isinstance(parts, str) else list(parts),
                                        html=html, question=message.text or message.caption or "",
                                        language=language, **reply_target(message))


async def introduction(context: ContextTypes.DEFAULT_TYPE, language: str) -> tuple[Welcome, list[SourceInfo]]:
    """How the bot presents itself in `language`, from the library and the admin's texts file."""
    found = services(context)

    def read() -> tuple[Welcome, list[SourceInfo]]:
        sources = found.kb.sources()
        return found.texts.welcome(sources, language), sources

    return await asyncio.to_thread(read)


# --- commands ----------------------------------------------------------------------------------
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = await chat_language(update, context)
    tr = translator(language)
    about, sources = await introduction(context, language)
    parts = [
        "<b>" + render.escape(tr.gettext("Hello! I'm %(name)s.") % {"name": about.name}) + "</b>",
        render.escape(about.intro),
        render.escape(library_overview(sources, language)),
    ]
    if about.example is not None:
        # The catalog's text is escaped as a whole; only then does the example get its italics.
        parts.append(render.escape(tr.gettext("Try asking: %(example)s")) % {
            "example": f"<i>{render.escape(about.example)}</i>"})
    parts.append(render.escape(tr.gettext("Type /help for more.")))
    await reply(update, context, render.split_html("\n\n".join(parts)), html=True, language=language)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = await chat_language(update, context)
    about, _ = await introduction(context, language)
    # An admin's own help paragraph may be long: escaped and split like any other text.
    await reply(update, context, render.split_html(render.escape(help_text(translator(language), about))), html=True,
                language=language)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = await chat_language(update, context)
    grouped = await asyncio.to_thread(services(context).kb.topics)
    if not grouped:
        await reply(update, context, translator(language).gettext("My library is empty for now."), language=language)
        return
    await reply(update, context, render.topics_messages(grouped, language), html=True, language=language)


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    chat_id = update.effective_chat.id
    await asyncio.to_thread(found.store.reset, chat_id)  # never amid a question: a chat's updates come in turn
    tr = await texts(update, context)
    await reply(update, context, tr.gettext("Done – I've forgotten our conversation. Ask me anything new."))


# --- flood control (handler group -1: runs before every other handler) -------------------------
async def rate_gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counts each message a user addresses to the bot; over the limit, one notice, then silence."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    found = services(context)
    if found.is_admin(user.id) or not is_addressed(message, context.bot.username, context.bot.id):
        return  # admins upload batches of documents; group chatter not meant for us costs nothing
    verdict = found.limiter.check(user.id)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.NOTIFY:
        wait = max(1, round(found.limiter.retry_in(user.id)))
        log.info("rate limit reached by a user; skipping their messages for %d s", wait)
        tr = await texts(update, context, for_message=True)
        # Direct, not through the outbox: "wait about N seconds" is only true now, never worth a delay.
        await reply_plain(message, tr.ngettext(
            "You're sending messages faster than I can answer. Please wait about %(seconds)d second, then ask "
            "again – I'll skip messages until then.",
            "You're sending messages faster than I can answer. Please wait about %(seconds)d seconds, then ask "
            "again – I'll skip messages until then.", wait) % {"seconds": wait})
    raise ApplicationHandlerStop


# --- questions ---------------------------------------------------------------------------------
def is_addressed(message: Message, bot_username: str, bot_id: int) -> bool:
    """Private chats always; in groups, a command, an @mention of the bot or a reply to it."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    # Entity offsets count UTF-16 units: PTB's parse_entity slices them correctly (emoji and all).
    entities, parse = ((message.entities, message.parse_entity) if message.text
                       else (message.caption_entities, message.parse_caption_entity))
    mention = f"@{bot_username}".lower()
    for entity in entities:
        if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
            return True
        if entity.type == MessageEntityType.MENTION and parse(entity).lower() == mention:
            return True
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in `message` without the bot's @mention, or None when it is not for the bot."""
    if not is_addressed(message, bot_username, bot_id):
        return None
    text = re.sub(re.escape(f"@{bot_username}"), " ", message.text or "", flags=re.IGNORECASE)
    return " ".join(text.split())


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return
    spoken = text_language(text)  # None: no letters to tell by ("???")
    language = spoken or await chat_language(update, context)
    tr = translator(language)
    if not text:
        about, _ = await introduction(context, language)
        await reply(update, context, tr.gettext("Please type your question as a message.") + " "
                    + ask_example(tr, about.example), language=language)
        return
    limit = found.settings.max_question_chars
    if len(text) > limit:
        await reply(update, context, tr.gettext(
            "That message is %(length)d characters long; please ask in under %(limit)d characters, one question "
            "at a time.") % {"length": len(text), "limit": limit}, language=language)
        return
    chat_id = message.chat_id
    user_id = update.effective_user.id if update.effective_user else None
    async with typing(context, chat_id):
        answer_id, answer = await found.answer(chat_id, user_id, text, language,
                                               remember_language=spoken is not None)
    # Through the outbox: kept until delivered, so a Telegram outage delays the answer, never loses it.
    where = reply_target(message)
    if answer.outcome == "conversation":
        await found.outbox.send(chat_id, [answer.answer], html=False, question=text, language=answer.language,
                                **where)
        return
    if answer.refused:  # stored with refused=1: /unanswered shows it to admins
        log.info("question not covered by the library (answer %d, %s)", answer_id, answer.refusal)
    await found.outbox.send(chat_id, render.answer_messages(answer), html=True,
                            markup=answer_keyboard(answer_id, answer.refused, translator(answer.language)),
                            question=text, language=answer.language, **where)


def reply_target(message: Message) -> dict[str, int | None]:
    """Where a reply goes, as `message.reply_text` would: quoting the question in groups (not in a
    private chat), in the question's forum topic."""
    return {"reply_to": None if message.chat.type == ChatType.PRIVATE else message.message_id,
            "thread_id": message.message_thread_id if message.is_topic_message else None}


def answer_keyboard(answer_id: int, refused: bool, tr: gettext.NullTranslations,
                    with_quotes: bool = True) -> InlineKeyboardMarkup:
    """👍 / 👎 (and the quotes button): callback data holds only the stored answer's id (≤ 64 bytes)."""
    votes = [InlineKeyboardButton("👍", callback_data=f"f:{answer_id}:1"),
             InlineKeyboardButton("👎", callback_data=f"f:{answer_id}:-1")]
    if refused or not with_quotes:
        return InlineKeyboardMarkup([votes])
    return InlineKeyboardMarkup([[InlineKeyboardButton(tr.gettext(SHOW_QUOTES), callback_data=f"q:{answer_id}")],
                                 votes])


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> AsyncIterator[None]:
    """Shows "typing…" until the block ends, renewed since one action lasts only 5 s."""
    async def send() -> None:
        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except Exception:  # a courtesy: never worth a retry or a delay of the answer
            log.debug("could not send the typing action", exc_info=True)

    async def renew() -> None:
        while True:
            await asyncio.sleep(TYPING_EVERY_S)
            await send()

    await send()
    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()


# --- buttons -----------------------------------------------------------------------------------
def callback_id(data: str | None, prefix: str) -> int | None:
    """The answer id in "q:N" / "f:N:±1"; None for anything else (data can be forged)."""
    fields = (data or "").split(":")
    if len(fields) < 2 or fields[0] != prefix or not fields[1].isascii() or not fields[1].isdigit():
        return None
    number = int(fields[1][:20])
    return number if 0 < number <= MAX_ID else None


async def show_quotes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, found = update.callback_query, services(context)
    answer_id, chat = callback_id(query.data, "q"), update.effective_chat
    # Bound to its chat: a button pressed elsewhere (or forged data) shows nothing of another chat.
    stored = None if answer_id is None or chat is None else \
        await asyncio.to_thread(found.store.answer, answer_id, chat.id)
    if stored is None:
        await unavailable(update, context)
        return
    gone = await asyncio.to_thread(found.kb.missing_chunks, [c.chunk_id for c in stored.answer.citations])
    await found.outbox.send(stored.chat_id, render.quote_messages(stored.answer, gone=gone), html=True,
                            question=stored.answer.question, language=stored.answer.language)
    await acknowledge(query)
    if isinstance(query.message, Message):  # the quotes are shown now: keep only the votes under the answer
        with contextlib.suppress(Exception):
            await with_retries(lambda: query.message.edit_reply_markup(
                answer_keyboard(stored.id, stored.answer.refused, translator(stored.answer.language),
                                with_quotes=False)), attempts=2)


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, found = update.callback_query, services(context)
    answer_id, chat, user = callback_id(query.data, "f"), update.effective_chat, update.effective_user
    vote = (query.data or "").rsplit(":", 1)[-1]
    stored = None if answer_id is None or chat is None or user is None or vote not in ("1", "-1") else \
        await asyncio.to_thread(found.store.answer, answer_id, chat.id)
    if stored is None:
        await unavailable(update, context)
        return
    tr = await texts(update, context)
    if stored.user_id is not None and stored.user_id != user.id:  # in a group: only the one who asked rates it
        await with_retries(lambda: query.answer(tr.gettext("Only the person who asked can rate this answer.")))
        return
    saved = await asyncio.to_thread(found.store.record_feedback, stored.id, user.id, int(vote))
    note = tr.gettext("Thanks for your feedback!") if saved else tr.gettext("That answer is no longer available.")
    await with_retries(lambda: query.answer(note))


async def unavailable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose answer is gone, from another chat, or with data the bot never made."""
    tr = await texts(update, context)
    await with_retries(lambda: update.callback_query.answer(tr.gettext("That answer is no longer available.")))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = await texts(update, context)
    await with_retries(lambda: update.callback_query.answer(tr.gettext("That button no longer works.")))


async def acknowledge(query: CallbackQuery) -> None:
    """Stops the button's spinner; a courtesy an outage may skip (Telegram drops it after a while)."""
    try:
        await with_retries(lambda: query.answer(), attempts=2)
    except TelegramError as error:
        if not is_transient(error):
            raise


# --- everything else an owner may send ---------------------------------------------------------
async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if not is_addressed(message, context.bot.username, context.bot.id):
        return  # in groups, stay quiet about other people's stickers and photos
    tr = await texts(update, context, for_message=True)  # a photo's caption may tell the language
    await reply(update, context, tr.gettext("I can only read text questions – no stickers, photos, voice or video, "
                                            "sorry. Type your question and I'll answer from my library."))


async def document_from_owner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if not is_addressed(message, context.bot.username, context.bot.id):
        return
    tr = await texts(update, context, for_message=True)
    if services(context).is_admin(update.effective_user.id):  # admin uploads are taken in private chats only
        await reply(update, context, tr.gettext("To add a document to the library, send it to me in a private chat."))
        return
    await reply(update, context, tr.gettext("Thanks! Only admins can add documents to my library, so I haven't added "
                                            "this one. You can ask me about what's already there – try /topics."))


async def admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = await texts(update, context)
    await reply(update, context, tr.gettext("Sorry, that command is for the library's admins only. "
                                            "Nothing was changed. Try /help to see what you can do."))

