"""Bot logic without Telegram: HTML rendering and splitting, flood control, the bot's store."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from bot import rendering
from bot.flood import FloodGuard, Verdict
from bot.storage import BotStore
from knowledge.types import Answer, Citation, Turn


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.broken = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.broken = True


def balanced(html: str) -> bool:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    # A cut inside an entity would leave a bare "&" behind.
    return not parser.broken and not parser.stack and not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", html)


def _answer(text: str, quotes: list[str], title: str = "A <title> & more") -> Answer:
    citations = [Citation(n + 1, "doc", title, f"doc:{n}", quote) for n, quote in enumerate(quotes)]
    return Answer(question="q", answer=text, refused=False, citations=citations)


def test_everything_interpolated_is_escaped_and_markers_bold() -> None:
    [message] = rendering.answer_messages(_answer("Use <script> & \"tricks\" [1]", ["a < b & c"]))
    assert "&lt;script&gt; &amp;" in message and "<script>" not in message
    assert "<b>[1]</b>" in message and "[1] A &lt;title&gt; &amp; more" in message
    [quotes] = rendering.quote_messages(_answer("x [1]", ["a < b & c"]))
    assert "<blockquote>a &lt; b &amp; c</blockquote>" in quotes


def test_long_answers_split_under_the_limit_without_breaking_markup() -> None:
    paragraphs = "\n\n".join(f"Point {n} with <angle> & ampersands {'word ' * 150}[{n % 3 + 1}]" for n in range(30))
    answer = _answer(paragraphs, ["q & " * 700, "short quote", "x" * 9000])
    for parts in (rendering.answer_messages(answer), rendering.quote_messages(answer)):
        assert len(parts) > 1
        for part in parts:
            assert len(part) <= rendering.MESSAGE_LIMIT
            assert balanced(part), part[:200]
    # Nothing is lost in the splitting: every quote's text arrives.
    joined = "".join(rendering.quote_messages(answer))
    assert joined.count("short quote") == 1 and joined.count("x") >= 9000


def test_giant_word_and_entity_heavy_text_cut_safely() -> None:
    blocks = rendering.paragraph("&" * 5000, "blockquote")
    assert len(blocks) >= 2
    for block in blocks:
        assert len(block.html) <= rendering.SAFE_LIMIT and balanced(block.html)
        assert block.html.replace("<blockquote>", "").replace("</blockquote>", "").replace("&amp;", "") == ""


def test_refusal_is_plain_escaped_text() -> None:
    refusal = Answer(question="q", answer="My library doesn't cover <that>.", refused=True)
    assert rendering.answer_messages(refusal) == ["My library doesn't cover &lt;that&gt;."]


def test_flood_guard_notifies_once_then_drops_until_the_window_frees() -> None:
    now = [0.0]
    guard = FloodGuard(3, 10.0, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert guard.check(1) is Verdict.NOTIFY
    assert guard.check(1) is Verdict.DROP and guard.check(1) is Verdict.DROP
    assert guard.check(2) is Verdict.ALLOW  # another user is unaffected
    assert guard.retry_in(1) == 10.0
    now[0] = 10.5
    assert guard.check(1) is Verdict.ALLOW
    assert [guard.check(1) for _ in range(3)][-1] is Verdict.NOTIFY  # a new flood gets a new notice


def test_store_keeps_history_feedback_and_stats_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = BotStore(path, history_turns=4)
    store.add_exchange(1, "first question", "first answer")
    store.add_exchange(1, "second question", "second answer")
    store.add_exchange(1, "third question", "third answer")
    store.add_exchange(2, "other chat", "other answer")
    answered = store.save_answer(1, 10, _answer("x [1]", ["quote"]))
    refused = store.save_answer(1, 10, Answer(question="weather?", answer="no", refused=True))
    assert store.record_feedback(answered, 10, 1) and store.record_feedback(answered, 10, -1)
    assert not store.record_feedback(9999, 10, 1)
    store.close()

    store = BotStore(path, history_turns=4)  # a restart loses nothing
    assert store.history(1) == [Turn("user", "second question"), Turn("assistant", "second answer"),
                                Turn("user", "third question"), Turn("assistant", "third answer")]
    assert store.stats().questions == 2 and store.stats().refused == 1
    assert (store.stats().thumbs_up, store.stats().thumbs_down) == (0, 1)  # the second press replaced the first
    assert [q for q, _ in store.unanswered()] == ["weather?"]
    assert store.feedback()[0]["sources"] == ["doc"]
    assert store.answer(refused).answer.refused
    assert store.reset(1) == 6 and store.history(1) == [] and len(store.history(2)) == 2
    store.close()
