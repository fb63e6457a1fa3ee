"""Per-user flood control: a sliding window over each user's recent messages.

A user over the limit gets one polite notice, then silence until the window frees up; everyone
else is unaffected because each user has their own window. Runs on the event loop only (no lock).
"""

from __future__ import annotations

import time
from collections import deque
from enum import Enum
from typing import Callable


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # the first message over the limit: say so, once
    DROP = "drop"  # later ones: silence, so a flood costs us nothing


class RateLimiter:
    def __init__(self, max_messages: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_messages < 1 or window_s <= 0:
            raise ValueError("the rate limit needs at least one message per positive window")
        self.max_messages = max_messages
        self.window_s = window_s
        self.clock = clock
        self._recent: dict[int, deque[float]] = {}
        self._notified: set[int] = set()
        self._sweep_at = 1024

    def check(self, user_id: int) -> Verdict:
        if len(self._recent) >= self._sweep_at:
            self.forget_idle()
            self._sweep_at = max(1024, 2 * len(self._recent))
        now = self.clock()
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] >= self.window_s:
            recent.popleft()
        if len(recent) < self.max_messages:
            recent.append(now)
            self._notified.discard(user_id)  # the window freed up: a new flood deserves a new notice
            return Verdict.ALLOW
        if user_id in self._notified:
            return Verdict.DROP
        self._notified.add(user_id)
        return Verdict.NOTIFY

    def retry_in(self, user_id: int) -> float:
        """Seconds until `user_id` may send again."""
        recent = self._recent.get(user_id)
        if not recent or len(recent) < self.max_messages:
            return 0.0
        return max(0.0, self.window_s - (self.clock() - recent[0]))

    def forget_idle(self) -> int:
        """Drops users whose window is empty, so memory follows active users, not all users ever."""
        now = self.clock()
        idle = [user for user, recent in self._recent.items() if not recent or now - recent[-1] >= self.window_s]
        for user in idle:
            del self._recent[user]
            self._notified.discard(user)
        return len(idle)

    def __len__(self) -> int:
        return len(self._recent)
