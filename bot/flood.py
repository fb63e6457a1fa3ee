"""Per-user flood control: a sliding window of recent messages.

A user over the limit gets one polite notice, then silence until the window frees up; everyone
else is unaffected because each user has their own window.
"""

from __future__ import annotations

import time
from collections import deque
from enum import Enum
from typing import Callable


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # first message over the limit: say so once
    DROP = "drop"


class FloodGuard:
    def __init__(self, max_messages: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_messages = max_messages
        self.window_s = window_s
        self.clock = clock
        self._recent: dict[int, deque[float]] = {}
        self._notified: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        now = self.clock()
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] >= self.window_s:
            recent.popleft()
        if len(recent) < self.max_messages:
            recent.append(now)
            self._notified.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._notified:
            return Verdict.DROP
        self._notified.add(user_id)
        return Verdict.NOTIFY

    def retry_in(self, user_id: int) -> float:
        recent = self._recent.get(user_id)
        if not recent:
            return 0.0
        return max(0.0, self.window_s - (self.clock() - recent[0]))
