"""Answers as Telegram HTML: escaping, bold markers, and splitting under 4096 without broken markup."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest

from bot import render
from knowledge.types import Answer, Citation


class _Checker(HTMLParser):
    """Collects the visible text and notices unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.broken = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.broken = True

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(part: str) -> str:
    """Asserts `part` is balanced HTML with only whole entities; returns its visible text."""
    checker = _Checker()
    checker.feed(part)
    checker.close()
    assert not checker.broken and not checker.stack, f"unbalanced: {part[:120]!r}…{part[-120:]!r}"
    # A cut inside an entity would leave a bare "&" (or "&am") behind.
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27|#\d+);)", part), part
    assert not re.search(r"[<>]", re.sub(r"<[^<>]+>", "", part)), "a tag was cut in half"
    return "".join(checker.text)


def visible(html: str) -> str:
    return re.sub(r"\s+", "", check(html))


def _answer(text: str, quotes: list[str], titles: list[str] | None = None) -> Answer:
    titles = titles or ["A <title> & more"] * len(quotes)
    citations = [Citation(n + 1, f"doc-{titles[n]}", titles[n], f"doc:{n}", quote) for n, quote in enumerate(quotes)]
    return Answer(question="q", answer=text, refused=False, citations=citations)


def test_everything_interpolated_is_escaped_and_markers_are_bold() -> None:
    [message] = render.answer_messages(_answer('Use <script> & "tricks" [1]', ["a < b & c"]))
    assert "&lt;script&gt; &amp;" in message and "<script>" not in message
    assert "<b>[1]</b>" in message and "[1] A &lt;title&gt; &amp; more" in message
    [quotes] = render.quote_messages(_answer("x [1]", ["a < b & c"]))
    assert "<blockquote expandable>a &lt; b &amp; c</blockquote>" in quotes
    assert check(message) and check(quotes)


def test_only_markers_with_a_source_behind_them_are_bold() -> None:
    [message] = render.answer_messages(_answer("Sales grew [7] and costs fell [99]. Margins held [1]", ["q"]))
    assert "<b>[1]</b>" in message
    assert "[7]" in message and "<b>[7]</b>" not in message and "<b>[99]</b>" not in message


def test_a_quote_stands_in_bold_between_the_sentences_around_it() -> None:
    cited = Citation(1, "guide", "Guide", "guide:1", "Insure <your> receivables.", before="Exports pay late.",
                     after="Then ship.")
    [quotes] = render.quote_messages(Answer(question="q", answer="x [1]", refused=False, citations=[cited]))
    assert "<blockquote expandable>Exports pay late. <b>Insure &lt;your&gt; receivables.</b> Then ship." in quotes
    assert check(quotes)


def test_a_passage_no_longer_in_the_library_says_so_in_the_answers_language() -> None:
    kept = Citation(1, "guide", "Guide", "guide:1", "Insure receivables.")
    gone = Citation(2, "old", "Old", "old:1", "Ship by sea.")
    [quotes] = render.quote_messages(Answer(question="q", answer="x [1] [2]", refused=False, citations=[kept, gone]),
                                     gone={"old:1"})
    first, second = quotes.split("<b>[2]")
    assert "no longer in the library" not in first
    assert "</blockquote>\n<i>This passage is no longer in the library" in second and check(quotes)
    [chinese] = render.quote_messages(Answer(question="问", answer="x [1]", refused=False, citations=[gone],
                                             language="zh"), gone={"old:1"})
    assert "<i>这段内容已不在资料库中" in chinese and check(chinese)


def test_sources_list_one_line_per_document_with_its_markers() -> None:
    answer = _answer("First [1]. Second [2]. Third [3].", ["q1", "q2", "q3"], titles=["Alpha", "Beta", "Alpha"])
    [message] = render.answer_messages(answer)
    assert message.endswith("<b>Sources</b>\n[1] [3] Alpha\n[2] Beta")


def test_refusal_is_plain_escaped_text() -> None:
    refusal = Answer(question="q", answer="My library doesn't cover <that>.", refused=True)
    assert render.answer_messages(refusal) == ["My library doesn't cover &lt;that&gt;."]


def test_long_answers_split_at_paragraphs_and_sources_under_the_limit() -> None:
    paragraphs = "\n\n".join(f"Point {n} with <angle> & ampersands {'word ' * 150}[{n % 3 + 1}]" for n in range(30))
    answer = _answer(paragraphs, ["q & " * 700, "short quote", "x" * 9000], titles=["One", "Two", "Three"])
    for html in (render.answer_html(answer), render.quotes_html(answer)):
        parts = render.split_html(html)
        assert len(parts) > 1
        for part in parts:
            assert len(part) <= render.MESSAGE_LIMIT
        assert "".join(visible(p) for p in parts) == visible(html)  # nothing lost, nothing doubled
    parts = render.answer_messages(answer)
    # Paragraph boundaries are preferred: every part but the last ends a paragraph of the answer.
    assert all(re.search(r"\[\d\]</b>$", p) for p in parts[:-1])
    assert parts[-1].endswith("[3] Three")


def test_giant_paragraph_is_hard_split_inside_its_element_and_reopened() -> None:
    html = '<blockquote expandable>' + "&amp;" * 3000 + "x" * 6000 + "</blockquote>"
    parts = render.split_html(html)
    assert len(parts) >= 5  # 21,000 characters of markup: the limit applies to the HTML as sent
    for part in parts:
        assert len(part) <= render.MESSAGE_LIMIT
        assert part.startswith("<blockquote expandable>") and part.endswith("</blockquote>")
        check(part)
    assert "".join(visible(p) for p in parts) == visible(html)


def test_cuts_prefer_sentences_then_words() -> None:
    sentence = "This is one sentence of the answer. "
    parts = render.split_html("<i>" + sentence * 20 + "</i>", limit=200)
    assert all(p.endswith(".</i>") for p in parts)
    words = render.split_html("<b>" + "word " * 100 + "</b>", limit=60)
    assert all(re.fullmatch(r"<b>(word ?)+</b>", p) for p in words)


def test_emoji_count_twice_as_telegram_counts() -> None:
    parts = render.split_html("👍" * 3000)
    assert len(parts) == 2 and len(parts[0]) == 2048


@pytest.mark.parametrize("seed", range(25))
def test_random_nested_markup_always_splits_into_balanced_parts(seed: int) -> None:
    rng = random.Random(seed)

    def fragment(depth: int) -> str:
        pieces = []
        for _ in range(rng.randint(1, 6)):
            kind = rng.random()
            if kind < 0.25 and depth < 3:
                tag = rng.choice(["b", "i", "u", "code", 'a href="https://example.com/?a=1&amp;b=2"', "blockquote"])
                pieces.append(f"<{tag}>{fragment(depth + 1)}</{tag.split()[0]}>")
            elif kind < 0.4:
                pieces.append(rng.choice(["&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"]) * rng.randint(1, 50))
            elif kind < 0.5:
                pieces.append(rng.choice(["\n\n", "\n", ". ", " "]))
            else:
                pieces.append(render.escape("".join(rng.choice("abc é👍 <>&.") for _ in range(rng.randint(1, 400)))))
        return "".join(pieces)

    html = fragment(0) * rng.randint(1, 6)
    limit = rng.choice([120, 500, 4096])
    parts = render.split_html(html, limit)
    for part in parts:
        assert render._units(part) <= limit
    assert "".join(visible(p) for p in parts) == visible(html)


def test_titled_lists_escape_and_split_between_lines() -> None:
    lines = [f"doc-{n} – Title <{n}> & co" for n in range(400)]
    parts = render.titled_list("Documents", lines)
    assert len(parts) > 1 and parts[0].startswith("<b>Documents</b>")
    for part in parts:
        check(part)
        assert all(line.startswith(("• ", "<b>")) for line in part.split("\n"))
    assert sum(p.count("•") for p in parts) == 400


def test_locations_stand_next_to_titles_and_quotes() -> None:
    citations = [Citation(1, "guide", "Export guide", "guide:1", "Insure your receivables.", "p. 3"),
                 Citation(2, "guide", "Export guide", "guide:2", "Ask for a letter of credit.", "Payments › <Credit>"),
                 Citation(3, "guide", "Export guide", "guide:3", "Insurers pay 90%.", "p. 3"),
                 Citation(4, "notes", "Notes", "notes:1", "No place known.")]
    answer = Answer(question="q", answer="A [1]. B [2]. C [3]. D [4].", refused=False, citations=citations)
    [message] = render.answer_messages(answer)
    assert message.endswith("<b>Sources</b>\n[1] [3] Export guide · <i>p. 3</i>\n"
                            "[2] Export guide · <i>Payments › &lt;Credit&gt;</i>\n[4] Notes")
    [quotes] = render.quote_messages(answer)
    assert "<b>[1] Export guide</b> · <i>p. 3</i>\n<blockquote expandable>Insure" in quotes
    assert "<b>[4] Notes</b>\n<blockquote" in quotes and check(message) and check(quotes)
