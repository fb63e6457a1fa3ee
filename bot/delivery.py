"""Sending to Telegram so that flood limits (429) and network errors delay a message, never lose it."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from typing import Awaitable, Callable, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 5
MAX_WAIT_S = 60.0


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T:
    """Runs `call`, waiting out RetryAfter as Telegram asks and backing off on network errors."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as error:
            with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
                warnings.simplefilter("ignore")
                wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)
            if attempt == attempts:
                raise
            log.warning("Telegram flood control: retrying in %.1f s", seconds)
            await asyncio.sleep(min(seconds, MAX_WAIT_S))
        except BadRequest:
            raise  # a NetworkError subclass in PTB, but sending the same request again cannot help
        except (TimedOut, NetworkError) as error:
            if attempt == attempts:
                raise
            log.warning("network error talking to Telegram (%s); retrying in %.1f s", type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
