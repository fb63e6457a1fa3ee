"""Wiring in one place: the PTB Application, its handlers, start-up and the one error handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler,
                          ContextTypes, Defaults, MessageHandler, TypeHandler, filters)

from bot import admin, handlers, shortcuts
from bot.delivery import is_transient, reply_plain, with_retries
from bot.languages import texts_or_english
from bot.links import WebAddressMessage
from bot.ordering import ChatOrderProcessor
from bot.logs import quiet_http_logs
from bot.outbox import Outbox
from bot.ratelimit import RateLimiter
from bot.services import Services
from bot.storage import BotStore
from knowledge.language import LANGUAGES
from sme_advisor.i18n import N_, SOURCE_LANGUAGE, translator

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

# Many owners at once: one slow answer or a long ingest must not hold up the others; within a chat,
# updates are handled one after another, in order (bot.ordering).
CONCURRENT_UPDATES = 64
OWNER_COMMANDS = {"start": N_("What I am and what my library covers"), "help": N_("How to ask"),
                  "topics": N_("The topics and documents I know"), "reset": N_("Forget our conversation")}
ADMIN_COMMANDS = {"sources": (admin.list_sources, N_("List the documents (admin)")),
                  "remove": (admin.remove, N_("Remove a document: /remove DOC_ID (admin)")),
                  "show": (admin.show_document, N_("A document's cleaned text: /show DOC_ID (admin)")),
                  "stats": (admin.stats, N_("Questions, answered share, feedback (admin)")),
                  "unanswered": (admin.unanswered, N_("Recent questions I couldn't answer (admin)")),
                  "export": (admin.export, N_("Feedback and unanswered questions as files (admin)"))}


def command_menu(language: str, with_admin: bool = False) -> list[BotCommand]:
    """The command menu in `language`: the owners' commands, and the admins' too."""
    tr = translator(language)
    described = dict(OWNER_COMMANDS)
    if with_admin:
        described.update({name: text for name, (_, text) in ADMIN_COMMANDS.items()})
    return [BotCommand(name, tr.gettext(text)) for name, text in described.items()]


def build_application(settings: Settings, kb: KnowledgeBase, store: BotStore | None = None) -> Application:
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    quiet_http_logs()
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value().strip())
        .base_url(settings.telegram_base_url)  # a self-hosted Bot API server works the same way
        .base_file_url(settings.telegram_base_file_url)
        .read_timeout(settings.telegram_read_timeout_s)  # fewer sends that arrived reported as failed (bot.delivery)
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True),
                           allow_sending_without_reply=True))  # the question may be deleted meanwhile
        .concurrent_updates(ChatOrderProcessor(CONCURRENT_UPDATES))
        # Stays under Telegram's flood limits in the first place (30 messages/s, 20 a minute per
        # group). max_retries=0: a 429 that still comes is the outbox's to wait out, with the answer
        # kept (bot.outbox), not a handler's to sleep through.
        .rate_limiter(AIORateLimiter(max_retries=0))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    store = store or BotStore(settings.bot_db_path)
    application.bot_data["services"] = Services(
        settings=settings, kb=kb, store=store,
        limiter=RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_s),
        outbox=Outbox(store, application.bot, settings.outbox_max_age_s, settings.outbox_retry_s))
    add_handlers(application, settings.admin_user_ids)
    for language in LANGUAGES:  # read the catalogs now, not on the event loop at the first Chinese owner
        translator(language)
    return application


def add_handlers(application: Application, admin_ids: list[int]) -> None:
    # The allow-list is fixed here, at registration: a non-admin's update never reaches admin code.
    admins = filters.User(user_id=admin_ids)
    new = filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
    application.add_handler(TypeHandler(Update, handlers.rate_gate), group=-1)

    application.add_handler(CommandHandler("start", handlers.start, filters=new))
    application.add_handler(CommandHandler("help", handlers.help_command, filters=new))
    application.add_handler(CommandHandler("topics", handlers.topics, filters=new))
    application.add_handler(CommandHandler("reset", handlers.reset, filters=new))
    for name, (callback, _) in ADMIN_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=new & admins))
    application.add_handler(CommandHandler(list(ADMIN_COMMANDS), handlers.admin_only, filters=new))
    # "/remove_<short id>" and "/show_<short id>", tapped in /sources (bot.shortcuts)
    tapped = filters.Regex(shortcuts.SHORTCUT)
    application.add_handler(MessageHandler(new & tapped & admins, admin.shortcut))
    application.add_handler(MessageHandler(new & tapped, handlers.admin_only))

    application.add_handler(MessageHandler(new & filters.Document.ALL & admins & filters.ChatType.PRIVATE,
                                           admin.receive_document))
    application.add_handler(MessageHandler(new & filters.Document.ALL, handlers.document_from_owner))
    # An admin's web address (alone or with a short comment) is a page to add; anyone else's link,
    # and an admin's in a group, is a message like any other (bot.links).
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & admins & filters.ChatType.PRIVATE
                                           & WebAddressMessage(), admin.receive_web_address))
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, handlers.question))
    application.add_handler(MessageHandler(new & filters.COMMAND, _unknown_command))
    application.add_handler(MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))

    # Ids are at most 18 digits (SQLite's 64-bit integers); any other data the bot never made, so
    # it gets a polite "no longer works" from the last handler, not a traceback.
    application.add_handler(CallbackQueryHandler(handlers.show_quotes, pattern=r"^q:\d{1,18}$"))
    application.add_handler(CallbackQueryHandler(handlers.feedback, pattern=r"^f:\d{1,18}:-?1$"))
    application.add_handler(CallbackQueryHandler(admin.confirm_remove, pattern=r"^rm(-no)?:\d{1,18}$"))
    application.add_handler(CallbackQueryHandler(handlers.unknown_button))
    application.add_error_handler(on_error)


async def _unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    # In groups, "/cmd" may be meant for another bot: answer only "/cmd@this_bot".
    if message.chat.type == ChatType.PRIVATE or f"@{context.bot.username}".lower() in (message.text or "").lower():
        await handlers.help_command(update, context)


# English is the menu of every user whose language has no menu of its own (no language_code).
MENU_LANGUAGES = (SOURCE_LANGUAGE, *(language for language in LANGUAGES if language != SOURCE_LANGUAGE))


def _menu_language_code(language: str) -> str | None:
    return None if language == SOURCE_LANGUAGE else language


async def _post_init(application: Application) -> None:
    """Runs once before polling starts: the command menus owners and admins see, per language
    (Telegram shows the one matching the user's app language, else the one without a code)."""
    for language in MENU_LANGUAGES:
        await with_retries(lambda language=language: application.bot.set_my_commands(
            command_menu(language), language_code=_menu_language_code(language)))
    for admin_id in application.bot_data["services"].settings.admin_user_ids:
        try:
            for language in MENU_LANGUAGES:
                await with_retries(lambda admin_id=admin_id, language=language: application.bot.set_my_commands(
                    command_menu(language, with_admin=True), scope=BotCommandScopeChat(admin_id),
                    language_code=_menu_language_code(language)))
        except TelegramError as error:  # "chat not found" until the admin has messaged the bot once
            log.info("admin command menu not set for one admin: %s", error)
    # Answers the last run could not deliver go out first; then whatever an outage holds back.
    application.bot_data["services"].outbox.start()


async def _post_stop(application: Application) -> None:
    await application.bot_data["services"].outbox.stop()


async def _post_shutdown(application: Application) -> None:
    application.bot_data["services"].close()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log it for us, say so to the user, never raise in turn."""
    if context.error is not None and is_transient(context.error):
        # Telegram itself is unreachable: "something went wrong" could not arrive either, and would
        # be wrong once it did. Answers wait in the outbox; a command can simply be sent again.
        log.warning("Telegram unreachable while handling an update: %s", type(context.error).__name__)
        return
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        sorry = (await texts_or_english(update, context)).gettext(
            "Sorry, something went wrong on my side. Please try again in a moment.")
        if update.callback_query is not None:
            await with_retries(lambda: update.callback_query.answer(sorry), attempts=2)
        elif isinstance(update.effective_message, Message):
            await reply_plain(update.effective_message, sorry)
    except Exception:
        log.warning("could not tell the user about the error", exc_info=True)
