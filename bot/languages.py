"""Which language the bot speaks in reply to an update ("en" or "zh").

- A question is answered in its own language (`knowledge.language.primary`).
- Commands, buttons and text without letters ("???", a sticker) get the language the chat last
  asked a question in, else the user's Telegram `language_code`, else English. The chat's own
  questions come first: Telegram has no official Chinese interface, so many Chinese owners run it
  in English and their `language_code` says "en" while they write Chinese.
"""

from __future__ import annotations

import asyncio
import gettext
import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services
from knowledge.language import Language, from_locale, primary
from sme_advisor.i18n import translator

log = logging.getLogger(__name__)


def user_language(update: Update) -> Language:
    user = update.effective_user
    return from_locale(user.language_code if user is not None else None)


async def chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Language:
    """For commands and buttons: the chat's last question's language, else the user's."""
    chat = update.effective_chat
    if chat is not None:
        known = await asyncio.to_thread(services(context).store.language, chat.id)
        if known is not None:
            return from_locale(known)
    return user_language(update)


def text_language(text: str) -> Language | None:
    """The language `text` itself is written in, or None when it has no letters to tell by."""
    # `primary` falls back to its default only when the text decides nothing, so two different
    # defaults give the same result exactly when the text decides.
    language = primary(text, default="en")
    return language if primary(text, default="zh") == language else None


async def message_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Language:
    """For a message: its own language when it is prose, else the chat's (commands, stickers…)."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    if not text.startswith("/"):
        spoken = text_language(text)
        if spoken is not None:
            return spoken
    return await chat_language(update, context)


async def texts(update: Update, context: ContextTypes.DEFAULT_TYPE, *,
                for_message: bool = False) -> gettext.NullTranslations:
    """The catalog to answer `update` with (the message's own language when `for_message`)."""
    language = await (message_language if for_message else chat_language)(update, context)
    return translator(language)


async def texts_or_english(update: object, context: ContextTypes.DEFAULT_TYPE) -> gettext.NullTranslations:
    """For the error handler, which must never fail in turn: the chat's language when it can tell."""
    if isinstance(update, Update):
        try:
            return await texts(update, context, for_message=True)
        except Exception:  # the store may be what failed
            log.debug("no language for the error message", exc_info=True)
            return translator(user_language(update))
    return translator("en")
