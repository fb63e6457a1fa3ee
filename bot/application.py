"""Wiring in one place: the PTB Application, its handlers and the one error handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import BotCommand, Update
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, filters)

from bot import admin, owner
from bot.delivery import with_retries
from bot.flood import FloodGuard
from bot.services import Services, reply_plain
from bot.storage import BotStore

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

OWNER_COMMANDS = [BotCommand("start", "What I am and what I know"), BotCommand("help", "How to ask"),
                  BotCommand("topics", "What my library covers"), BotCommand("reset", "Forget our conversation")]
ADMIN_COMMANDS = {"sources": admin.list_sources, "remove": admin.remove, "stats": admin.stats,
                  "unanswered": admin.unanswered}


def quiet_http_logs() -> None:
    # PTB puts the bot token in request URLs; httpx logs URLs at INFO.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_application(settings: Settings, kb: KnowledgeBase, store: BotStore | None = None) -> Application:
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    quiet_http_logs()
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        # Many owners at once: one slow answer or ingest must not hold up the others.
        .concurrent_updates(64)
        .post_init(_register_commands)
        .post_shutdown(_close_store)
        .build()
    )
    application.bot_data["services"] = Services(
        settings=settings, kb=kb, store=store or BotStore(settings.bot_db_path),
        guard=FloodGuard(settings.rate_limit_messages, settings.rate_limit_window_s))
    add_handlers(application, settings.admin_user_ids)
    return application


def add_handlers(application: Application, admin_ids: list[int]) -> None:
    admins = filters.User(user_id=admin_ids)
    application.add_handler(CommandHandler("start", owner.start))
    application.add_handler(CommandHandler("help", owner.help_command))
    application.add_handler(CommandHandler("topics", owner.topics))
    application.add_handler(CommandHandler("reset", owner.reset))
    for name, handler in ADMIN_COMMANDS.items():
        application.add_handler(CommandHandler(name, handler, filters=admins))
    application.add_handler(CommandHandler(list(ADMIN_COMMANDS), owner.admin_only))
    application.add_handler(MessageHandler(filters.Document.ALL & admins, admin.receive_document))
    application.add_handler(MessageHandler(filters.Document.ALL, owner.document_from_owner))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, owner.question))
    application.add_handler(MessageHandler(filters.COMMAND, owner.help_command))  # unknown commands
    application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, owner.not_text))
    application.add_handler(CallbackQueryHandler(owner.show_quotes, pattern=r"^q:\d+$"))
    application.add_handler(CallbackQueryHandler(owner.feedback, pattern=r"^f:\d+:-?1$"))
    application.add_handler(CallbackQueryHandler(admin.confirm_remove, pattern=r"^rm(:|-cancel$)"))
    application.add_error_handler(on_error)


async def _register_commands(application: Application) -> None:
    await with_retries(lambda: application.bot.set_my_commands(OWNER_COMMANDS))


async def _close_store(application: Application) -> None:
    found = application.bot_data["services"]
    found.answer_pool.shutdown(wait=True)
    found.store.close()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await reply_plain(update.effective_message, "Sorry, something went wrong on my side. "
                                                        "Please try again in a moment.")
        except Exception:  # the error report must not raise in its turn
            log.warning("could not tell the user about the error", exc_info=True)
