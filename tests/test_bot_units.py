"""Bot logic without Telegram: flood control, the bot's SQLite store, the retry helper, log redaction."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot import delivery
from bot.logs import REDACTED, redact_token_in_logs
from bot.ratelimit import RateLimiter, Verdict
from bot.storage import BotStore
from knowledge.types import Answer, Citation, Turn


def _answer(question: str = "q", refused: bool = False) -> Answer:
    citations = [] if refused else [Citation(1, "doc", "Doc <title>", "doc:0", "the quote")]
    return Answer(question=question, answer="no" if refused else "x [1]", refused=refused, citations=citations)


# --- flood control -----------------------------------------------------------------------------
def test_rate_limiter_notifies_once_then_drops_until_the_window_frees() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 10.0, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.check(1) is Verdict.NOTIFY
    assert [limiter.check(1) for _ in range(10)] == [Verdict.DROP] * 10  # dropped ones do not extend the wait
    assert limiter.check(2) is Verdict.ALLOW  # another user is unaffected
    assert limiter.retry_in(1) == 10.0 and limiter.retry_in(2) == 0.0
    now[0] = 10.0
    assert limiter.check(1) is Verdict.ALLOW  # the window slid past the first three
    assert [limiter.check(1) for _ in range(3)][-1] is Verdict.NOTIFY  # a new flood gets a new notice


def test_rate_limiter_window_slides_message_by_message() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    limiter.check(1)
    now[0] = 6.0
    limiter.check(1)
    now[0] = 9.0
    assert limiter.check(1) is Verdict.NOTIFY
    now[0] = 10.0  # the message at 0 s left the window, the one at 6 s has not
    assert limiter.check(1) is Verdict.ALLOW and limiter.check(1) is Verdict.NOTIFY


def test_rate_limiter_forgets_idle_users() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 5.0, clock=lambda: now[0])
    for user in range(100):
        limiter.check(user)
    now[0] = 6.0
    limiter.check(1000)
    assert limiter.forget_idle() == 100 and len(limiter) == 1


def test_rate_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 30)


# --- storage -----------------------------------------------------------------------------------
def test_store_keeps_history_feedback_and_stats_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = BotStore(path, history_turns=4)
    for n in ("first", "second", "third"):
        store.add_exchange(1, f"{n} question", f"{n} answer")
    store.add_exchange(2, "other chat", "other answer")
    answered = store.save_answer(1, 10, _answer("how?"))
    refused = store.save_answer(1, 10, _answer("weather?", refused=True))
    assert store.record_feedback(answered, 10, 1) and store.record_feedback(answered, 11, 1)
    assert store.record_feedback(answered, 10, -1)  # a second press by the same user replaces the first
    assert not store.record_feedback(9999, 10, 1)
    store.close()

    store = BotStore(path, history_turns=4)  # a restart loses nothing
    assert store.history(1) == [Turn("user", "second question"), Turn("assistant", "second answer"),
                                Turn("user", "third question"), Turn("assistant", "third answer")]
    stats = store.stats()
    assert (stats.questions, stats.answered, stats.refused) == (2, 1, 1) and stats.answered_share == 0.5
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 1)
    assert [q for q, _ in store.unanswered()] == ["weather?"]
    votes = store.feedback()
    assert {(v["user_id"], v["vote"]) for v in votes} == {(10, -1), (11, 1)}
    assert votes[0]["question"] == "how?" and votes[0]["answer"] == "x [1]" and votes[0]["sources"] == ["doc"]
    restored = store.answer(answered)
    assert restored is not None and restored.chat_id == 1 and restored.answer.citations[0].quote == "the quote"
    assert store.answer(refused).answer.refused
    assert store.reset(1) == 6 and store.history(1) == [] and len(store.history(2)) == 2
    store.close()


def test_store_removal_requests_work_once(tmp_path: Path) -> None:
    store = BotStore(tmp_path / "bot.sqlite3")
    request = store.request_removal("a-very-long-document-id-" * 3, admin_id=5)
    assert len(f"rm:{request}".encode()) <= 64
    assert store.take_removal(request) == "a-very-long-document-id-" * 3
    assert store.take_removal(request) is None
    store.close()


def test_store_is_safe_from_many_threads(tmp_path: Path) -> None:
    store = BotStore(tmp_path / "bot.sqlite3")

    def work(chat: int) -> None:
        for n in range(20):
            store.add_exchange(chat, f"q{n}", f"a{n}")
            store.save_answer(chat, chat, _answer(f"q{n}"))
            store.history(chat)

    threads = [threading.Thread(target=work, args=(chat,)) for chat in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.stats().questions == 160 and len(store.history(3)) == 6
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


# --- retries -----------------------------------------------------------------------------------
class _Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(delivery, "_sleep", sleep)
    return waits


async def test_retries_honour_retry_after_and_back_off_on_network_errors(fast_backoff: list[float]) -> None:
    call = _Flaky(RetryAfter(3), NetworkError("Internal Server Error (500)"), TimedOut(), RetryAfter(1))
    assert await delivery.with_retries(call) == "sent"
    assert call.calls == 5 and fast_backoff == [3.0, 0.5, 1.0, 1.0]


async def test_retries_give_up_after_a_few_attempts_and_never_retry_bad_requests(fast_backoff: list[float]) -> None:
    call = _Flaky(*[NetworkError("down")] * 10)
    with pytest.raises(NetworkError):
        await delivery.with_retries(call, attempts=3)
    assert call.calls == 3
    bad = _Flaky(BadRequest("Can't parse entities"))
    with pytest.raises(BadRequest):
        await delivery.with_retries(bad)
    assert bad.calls == 1


# --- logs --------------------------------------------------------------------------------------
def test_the_token_never_reaches_the_log(tmp_path: Path) -> None:
    token = "123456:SECRET-token"
    logger = logging.getLogger("test-bot-redaction")
    logger.propagate = False
    handler = logging.FileHandler(tmp_path / "log.txt")
    logger.addHandler(handler)
    try:
        redact_token_in_logs(token, logger)
        logger.warning("GET https://api.telegram.org/bot%s/getMe", token)
        try:
            raise RuntimeError(f"The token `{token}` was rejected by the server.")
        except RuntimeError:
            logger.exception("start-up failed")
    finally:
        handler.close()
        logger.removeHandler(handler)
    written = (tmp_path / "log.txt").read_text()
    assert token not in written and written.count(REDACTED) == 2 and "Traceback" in written
