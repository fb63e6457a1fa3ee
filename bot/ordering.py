"""A chat's updates one after another, in the order they came; different chats alongside.

An owner who sends a question and then /help, or two questions in a row, reads the replies in the
order asked. Handlers that took a per-chat lock themselves could not promise that: whatever a
handler awaits before taking the lock (the chat's language, a file download) lets a later update of
the same chat overtake it, and commands took no lock at all.

An update of a chat that is busy waits in that chat's queue without holding one of PTB's
concurrency slots: the task running the chat's current update takes the queued ones next. So a
chat that floods the bot (the rate gate answers those quickly anyway) or an admin's long ingest
holds one slot, never all of them.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class ChatOrderProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[int, deque[Awaitable[object]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        chat_id = _chat_of(update)
        if chat_id is None:  # nothing to keep in order with
            await coroutine
            return
        queue = self._queues.get(chat_id)
        if queue is not None:  # the chat is busy: its running task takes this one in turn
            queue.append(coroutine)
            return
        queue = self._queues[chat_id] = deque([coroutine])
        try:
            while queue:
                try:
                    await queue[0]
                except Exception:  # Application.process_update reports handler errors; this is a last guard
                    log.exception("an update of a chat failed; its chat's next updates go on")
                queue.popleft()
        finally:
            del self._queues[chat_id]
            for left in queue:  # cancelled (shut down): close what will never run, no "never awaited"
                close = getattr(left, "close", None)
                if close is not None:
                    close()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def waiting(self) -> int:
        """Updates queued behind their chat's current one."""
        return sum(len(queue) - 1 for queue in self._queues.values())


def _chat_of(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None
