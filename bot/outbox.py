"""Answers that survive Telegram outages: every answer is written to the outbox (the bot's SQLite
store) before it is sent, and leaves it only when its last part has been delivered.

* A chat's parcels go out in order, each part once: after every part the store records how many
  were sent, so a retry (or a restart) continues with the next part, never repeats one.
* When the Bot API is down (5xx, dropped connections, time-outs, a long 429), a parcel stays in
  the outbox and the courier, a background task, tries again every `OUTBOX_RETRY_S` seconds, or
  exactly when a 429's `retry_after` has passed, until it goes through.
* A parcel nothing of which was sent within `OUTBOX_MAX_AGE_S` is not sent any more: a short
  apology naming the question goes instead, since a late answer to a forgotten question confuses.
* A send that timed out waiting for Telegram's answer may have been delivered (`bot.delivery`):
  such a part is sent again, but at most `MAX_UNSURE_SENDS` times in all; after that it counts as
  delivered. So a slow Telegram can show a part twice, never more, and loses it only when it
  took every one of those requests and carried none out.
* A permanent refusal (400 Bad Request, 403 the owner blocked the bot) drops the parcel: no retry
  could deliver it.

PTB's `AIORateLimiter` (bot/app.py) keeps the bot under Telegram's flood limits in the first
place; it is set not to retry (max_retries=0), because it only retries 429s, within the handler,
and keeps nothing across a restart. What an outage needs is somewhere to keep the answer, which is
this; `bot.delivery.with_retries` waits out short 429s for everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.delivery import ATTEMPTS, is_transient, maybe_delivered, retry_after_seconds, with_retries
from bot.storage import BotStore, Parcel
from sme_advisor.i18n import translator

if TYPE_CHECKING:
    from telegram import Bot

log = logging.getLogger(__name__)
QUOTED_QUESTION_CHARS = 120  # the apology names the question, shortened: it stays one short message
GIVE_UP_AFTER_S = 24 * 3600  # an apology that cannot be sent within a day is dropped
MAX_UNSURE_SENDS = 2  # sends of one part that each timed out after Telegram took the request


def apology(question: str, language: str) -> str:
    tr = translator(language)
    shown = " ".join(question.split())
    if len(shown) > QUOTED_QUESTION_CHARS:
        shown = shown[: QUOTED_QUESTION_CHARS - 1].rstrip() + "…"
    if not shown:
        return tr.gettext("Sorry – Telegram could not be reached for a while, so my answer came too late to send. "
                          "Please ask again.")
    return tr.gettext("Sorry – Telegram could not be reached for a while, so my answer to “%(question)s” came too "
                      "late to send. Please ask again if you still need it.") % {"question": shown}


class Outbox:
    def __init__(self, store: BotStore, bot: Bot, max_age_s: float, retry_s: float) -> None:
        self.store, self.bot = store, bot
        self.max_age_s, self.retry_s = max_age_s, retry_s
        self._not_before = 0.0  # monotonic time before which the API is not tried again
        self._pending = True  # something may be waiting (at start: whatever the last run left)
        self._wake = asyncio.Event()
        self._chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._courier: asyncio.Task[None] | None = None
        # (parcel id, part index) -> sends that timed out after Telegram took them. In memory: a
        # restart forgets it, and the part may be sent up to MAX_UNSURE_SENDS times more.
        self._unsure: dict[tuple[int, int], int] = {}

    # --- what handlers call --------------------------------------------------------------------
    async def send(self, chat_id: int, parts: list[str], *, html: bool, markup: InlineKeyboardMarkup | None = None,
                   reply_to: int | None = None, thread_id: int | None = None, question: str = "",
                   language: str = "en") -> None:
        """Keeps the message, then delivers it now unless the API is known to be down (the courier
        will). Never raises for an outage: the message is safe in the outbox."""
        await asyncio.to_thread(self.store.outbox_add, chat_id, parts, html=html,
                                markup=markup.to_dict() if markup else None, reply_to=reply_to,
                                thread_id=thread_id, question=question, language=language)
        if self.down:
            self._pending = True
            return
        await self.flush_chat(chat_id, attempts=ATTEMPTS)

    @property
    def down(self) -> bool:
        return time.monotonic() < self._not_before

    # --- the courier ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._courier is None:
            self._courier = asyncio.create_task(self._run(), name="outbox-courier")
            self._wake.set()  # at once: what the last run left waiting

    async def stop(self) -> None:
        if self._courier is not None:
            self._courier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._courier
            self._courier = None

    async def _run(self) -> None:
        while True:
            if not self._pending:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.retry_s)
            self._wake.clear()
            if (wait := self._not_before - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # retry_after is honoured in full
            try:
                await self.flush_all()
            except Exception:  # the courier must outlive any one bad parcel
                log.exception("outbox delivery failed")
                self._pending = True

    async def flush_all(self) -> bool:
        """Tries every waiting chat, longest-waiting first; False when the API is still down."""
        self._pending = False
        for chat_id in await asyncio.to_thread(self.store.outbox_chats):
            if not await self.flush_chat(chat_id, attempts=1):
                return False
        return True

    async def flush_chat(self, chat_id: int, attempts: int = 1) -> bool:
        """Sends the chat's waiting parcels in order; False (and the courier told) on an outage."""
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        async with lock:  # the handler and the courier never send the same part twice
            if self.down:  # Telegram said to wait (maybe while this waited for the lock): no early retry
                self._pending = True
                return False
            for parcel in await asyncio.to_thread(self.store.outbox_pending, chat_id):
                if not await self._deliver(parcel, attempts):
                    return False
        return True

    async def _deliver(self, parcel: Parcel, attempts: int) -> bool:
        age = time.time() - parcel.created_at
        if parcel.apology and age > GIVE_UP_AFTER_S:
            await asyncio.to_thread(self.store.outbox_drop, parcel.id)
            return True
        if not parcel.apology and parcel.sent == 0 and age > self.max_age_s:
            log.info("an answer waited %.0f s for Telegram; sending an apology instead", age)
            text = apology(parcel.question, parcel.language)
            await asyncio.to_thread(self.store.outbox_apologise, parcel.id, text)
            parcel = Parcel(parcel.id, parcel.chat_id, parcel.thread_id, parcel.reply_to, [text], None, False, 0,
                            parcel.question, parcel.language, True, parcel.created_at)
        for index in range(parcel.sent, len(parcel.parts)):
            try:
                await with_retries(lambda index=index: self._send_part(parcel, index), attempts=attempts)
            except TelegramError as error:
                if not is_transient(error):
                    log.warning("Telegram refused a message for good (%s); dropping it", error)
                    await asyncio.to_thread(self.store.outbox_drop, parcel.id)
                    return True
                self._pause(error)
                return False
            self._unsure.pop((parcel.id, index), None)
            await asyncio.to_thread(self.store.outbox_sent, parcel.id, index + 1, len(parcel.parts))
        return True

    async def _send_part(self, parcel: Parcel, index: int) -> None:
        """One send of one part; a part already sent MAX_UNSURE_SENDS times without an answer
        counts as delivered rather than being shown a third time."""
        key = (parcel.id, index)
        if self._unsure.get(key, 0) >= MAX_UNSURE_SENDS:
            log.warning("a message part timed out %d times after Telegram took it; taking it as delivered",
                        MAX_UNSURE_SENDS)
            return
        try:
            await self._send(parcel, index)
        except TelegramError as error:
            if maybe_delivered(error):
                self._unsure[key] = self._unsure.get(key, 0) + 1
            raise

    async def _send(self, parcel: Parcel, index: int) -> None:
        last = index == len(parcel.parts) - 1
        markup = InlineKeyboardMarkup.de_json(parcel.markup, self.bot) if last and parcel.markup else None
        # Only the first part replies to the question (in groups): the rest follow it.
        reply = ReplyParameters(parcel.reply_to, allow_sending_without_reply=True) \
            if parcel.reply_to is not None and index == 0 else None
        await self.bot.send_message(parcel.chat_id, parcel.parts[index],
                                    parse_mode=ParseMode.HTML if parcel.html else None, reply_markup=markup,
                                    reply_parameters=reply, message_thread_id=parcel.thread_id)

    def _pause(self, error: TelegramError) -> None:
        wait = retry_after_seconds(error) if isinstance(error, RetryAfter) else self.retry_s
        self._not_before = max(self._not_before, time.monotonic() + wait)
        self._pending = True
        self._wake.set()
        log.warning("Telegram unreachable (%s); the outbox tries again in %.1f s", type(error).__name__, wait)
