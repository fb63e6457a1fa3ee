"""What owners do: commands, questions, the quoted-passages button and feedback."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.ext import ContextTypes

from bot import rendering
from bot.delivery import with_retries
from bot.flood import Verdict
from bot.services import Services, reply_html, reply_plain, services

log = logging.getLogger(__name__)

EXAMPLE_QUESTION = "What mistakes do small firms make when they go digital?"
HELP_TEXT = (
    "Ask me a question in plain words, for example:\n"
    f"“{EXAMPLE_QUESTION}”\n\n"
    "I answer only from my library and show numbered sources; tap “Show quoted passages” to read "
    "the exact text. Follow-up questions use our conversation.\n\n"
    "/topics – what my library covers\n/reset – forget our conversation\n/help – this message"
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    overview = await asyncio.to_thread(found.kb.library_overview)
    text = ("<b>Hello! I'm SME Advisor.</b>\n\nI help owners of small and medium-sized businesses with "
            "innovation, succession and digital transformation, answering only from my library and "
            f"citing the passages I use.\n\n{rendering.escape(overview)}\n\n"
            f"Try: <i>{rendering.escape(EXAMPLE_QUESTION)}</i>\n\nType /help for more.")
    await reply_html(update.effective_message, [text])


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply_plain(update.effective_message, HELP_TEXT)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    grouped = await asyncio.to_thread(services(context).kb.topics)
    if not grouped:
        await reply_plain(update.effective_message, "My library is empty for now.")
        return
    blocks = []
    for topic, titles in grouped.items():
        blocks.append(rendering.Block(f"<b>{rendering.escape(topic.replace('-', ' ').capitalize())}</b>"))
        blocks.extend(b for title in titles for b in rendering.paragraph(f"• {title}"))
    await reply_html(update.effective_message, rendering.pack(blocks, separator="\n"))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.to_thread(services(context).store.reset, update.effective_chat.id)
    await reply_plain(update.effective_message, "Done – I've forgotten our conversation. Ask me anything new.")


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in `message`, or None when a group message is not meant for the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{bot_username}".lower()
    mentioned = any(entity.type == MessageEntityType.MENTION and
                    text[entity.offset: entity.offset + entity.length].lower() == mention
                    for entity in message.entities)
    replied = message.reply_to_message is not None and message.reply_to_message.from_user is not None \
        and message.reply_to_message.from_user.id == bot_id
    if not (mentioned or replied):
        return None
    return re.sub(re.escape(f"@{bot_username}"), " ", text, flags=re.IGNORECASE)


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return
    if not await _within_limits(message, found, update.effective_user.id):
        return
    text = " ".join(text.split())
    if not text:
        await reply_plain(message, "Please type your question as a message. " + HELP_TEXT.split("\n\n")[0])
        return
    if len(text) > found.settings.max_question_chars:
        await reply_plain(message, f"That message is {len(text)} characters long; please ask in under "
                                   f"{found.settings.max_question_chars} characters, one question at a time.")
        return
    chat_id = message.chat_id
    # Messages of one chat are answered in order, so a follow-up sees the answer before it.
    async with found.chat_lock(chat_id):
        await _typing(context, chat_id)
        answer_id, answer = await found.answer(chat_id, update.effective_user.id, text)
        if answer.refused:
            log.info("unanswered question logged (answer %d)", answer_id)
        await reply_html(message, rendering.answer_messages(answer), answer_keyboard(answer_id, answer.refused))


def answer_keyboard(answer_id: int, refused: bool) -> InlineKeyboardMarkup:
    votes = [InlineKeyboardButton("👍", callback_data=f"f:{answer_id}:1"),
             InlineKeyboardButton("👎", callback_data=f"f:{answer_id}:-1")]
    if refused:
        return InlineKeyboardMarkup([votes])
    return InlineKeyboardMarkup([[InlineKeyboardButton("Show quoted passages", callback_data=f"q:{answer_id}")],
                                 votes])


async def _within_limits(message: Message, found: Services, user_id: int) -> bool:
    verdict = found.guard.check(user_id)
    if verdict is Verdict.NOTIFY:
        wait = max(1, round(found.guard.retry_in(user_id)))
        await reply_plain(message, f"You're sending messages faster than I can answer. Please wait about "
                                   f"{wait} seconds, then ask again – I'll skip messages until then.")
    return verdict is Verdict.ALLOW


async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    try:
        await with_retries(lambda: context.bot.send_chat_action(chat_id, ChatAction.TYPING), attempts=2)
    except Exception:  # the typing hint is a courtesy; the answer matters more
        log.debug("could not send the typing action", exc_info=True)


async def show_quotes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    answer_id = int(query.data.split(":")[1])
    stored = await asyncio.to_thread(services(context).store.answer, answer_id)
    if stored is None or query.message is None:
        await with_retries(lambda: query.answer("That answer is no longer available."))
        return
    await with_retries(lambda: query.answer())
    await reply_html(query.message, rendering.quote_messages(stored.answer))


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, answer_id, vote = query.data.split(":")
    saved = await asyncio.to_thread(services(context).store.record_feedback, int(answer_id),
                                    update.effective_user.id, int(vote))
    note = "Thanks for your feedback!" if saved else "That answer is no longer available."
    await with_retries(lambda: query.answer(note))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        return  # in groups, stay quiet about other people's stickers and photos
    if not await _within_limits(message, services(context), update.effective_user.id):
        return
    await reply_plain(message, "I can only read text questions – no stickers, photos, voice or video, sorry. "
                               "Type your question and I'll answer from my library.")


async def document_from_owner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        return
    await reply_plain(message, "Thanks! Only admins can add documents to my library, so I haven't added this "
                               "one. You can ask me questions about what's already there – try /topics.")


async def admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply_plain(update.effective_message, "Sorry, that command is for the library's admins only. "
                                                "Nothing was changed. Try /help to see what you can do.")
