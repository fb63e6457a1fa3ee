"""Sending to Telegram so that flood limits (429) and network errors delay a message, never lose it.

Every call to the Bot API goes through `with_retries`: it waits out `RetryAfter` exactly as long as
Telegram asks (never less: an early retry only earns another 429), backs off on network errors and
5xx answers (PTB raises `NetworkError` for those), and gives up after a few attempts, or at once
when Telegram asks for a wait longer than `MAX_WAIT_S`, so that an outage cannot hold a handler for
ever. Answers do not depend on it alone: they go through the outbox (`bot.outbox`), which keeps
what could not be sent and delivers it when the API is back.

A time-out is not always a failure: when Telegram has taken a request but its answer is late, the
message may have arrived, and sending it again would show it twice. The Bot API has no way to ask
(no idempotency key, no history), so this is made rare and bounded instead: the read time-out is
long (`TELEGRAM_READ_TIMEOUT_S`, 30 s: a Bot API that has not answered in that long is broken, not
slow; PTB's default of 5 s reports sends Telegram carried out as failed), and
only a read time-out counts as "maybe delivered" (`maybe_delivered`): a connect or write time-out,
a 5xx or a 429 means Telegram did not carry the request out. The outbox sends a part at most
`bot.outbox.MAX_UNSURE_SENDS` times when each send ended in such a time-out.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from typing import Awaitable, Callable, Sequence, TypeVar

import httpx
from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 5
FIRST_BACKOFF_S = 0.5
MAX_WAIT_S = 60.0
_sleep = asyncio.sleep  # the waits, replaceable in tests


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the attribute's type will become timedelta
        warnings.simplefilter("ignore")
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T:
    """Runs `call` (a fresh request each time), retrying what a later attempt can fix."""
    delay = FIRST_BACKOFF_S
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            if attempt == attempts or seconds > MAX_WAIT_S:
                raise
            log.warning("Telegram flood control: retrying in %.1f s", seconds)
            await _sleep(seconds)
        except BadRequest:
            raise  # a NetworkError subclass in PTB, but the same request again cannot succeed
        except (TimedOut, NetworkError) as error:
            if attempt == attempts:
                raise
            log.warning("network error talking to Telegram (%s); retrying in %.1f s", type(error).__name__, delay)
            await _sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def maybe_delivered(error: BaseException) -> bool:
    """A time-out while waiting for Telegram's answer: the request was sent in full, so Telegram
    may have carried it out. (PTB raises `TimedOut` from the httpx exception.)"""
    return isinstance(error, TimedOut) and isinstance(error.__cause__, httpx.ReadTimeout)


def is_transient(error: BaseException) -> bool:
    """An error a later attempt can get past: flood control, timeouts, dropped connections, 5xx."""
    return isinstance(error, (RetryAfter, TimedOut, NetworkError)) and not isinstance(error, BadRequest)


async def reply_html(message: Message, parts: Sequence[str], markup: InlineKeyboardMarkup | None = None) -> Message:
    """Sends `parts` as consecutive HTML messages; the keyboard goes under the last one."""
    sent = message
    for index, part in enumerate(parts):
        keyboard = markup if index == len(parts) - 1 else None
        sent = await with_retries(lambda part=part, keyboard=keyboard: message.reply_text(
            part, parse_mode=ParseMode.HTML, reply_markup=keyboard))
    return sent


async def reply_plain(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    return await with_retries(lambda: message.reply_text(text, reply_markup=markup))


async def edit_text(message: Message, text: str, html: bool = False,
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """Edits a status message; an edit that cannot apply ("message is not modified") is harmless."""
    try:
        await with_retries(lambda: message.edit_text(text, parse_mode=ParseMode.HTML if html else None,
                                                     reply_markup=markup))
    except BadRequest as error:
        log.debug("edit skipped: %s", error)
