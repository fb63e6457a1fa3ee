"""Grounding rules applied to a model's answer, and the prompt files (no model, no network)."""

from __future__ import annotations

import pytest

import prompts
from knowledge.generative import GenerationError, ground
from knowledge.generative.answerer import render_history, render_passages
from knowledge.types import Chunk, ScoredChunk, Turn

GIANTS = ("Little giants focus on a market niche and master key technologies. There are 4,900 of them in "
          "China, according to the ministry.\nListed firms\nMore than 300 are listed on the A-share exchange.")
DIGITAL = ("Many businesses mistake uploading products online for a digital presence. Without strategic "
           "marketing, these listings become invisible in the marketplace.")
PASSAGES = [ScoredChunk(Chunk("giants:0", "giants", "Little giants", GIANTS, 0, 0, len(GIANTS)), 0.9),
            ScoredChunk(Chunk("digital:0", "digital", "Going digital", DIGITAL, 0, 0, len(DIGITAL)), 0.8)]


def check(text: str) -> tuple[str, list[tuple[int, str]]]:
    grounded = ground(text, PASSAGES)
    by_id = {p.chunk.chunk_id: p.chunk for p in PASSAGES}
    for citation in grounded.citations:
        assert citation.quote in by_id[citation.chunk_id].text
    assert [c.n for c in grounded.citations] == list(range(1, len(grounded.citations) + 1))
    return grounded.text, [(c.n, c.chunk_id) for c in grounded.citations]


def test_valid_citations_are_kept_with_verbatim_quotes() -> None:
    text, cited = check("Little giants focus on a market niche [1]. Listings without strategic marketing "
                        "become invisible [2].")
    assert text == ("Little giants focus on a market niche. [1] Listings without strategic marketing become "
                    "invisible. [2]")
    assert cited == [(1, "giants:0"), (2, "digital:0")]


def test_markers_are_renumbered_in_order_of_first_use() -> None:
    text, cited = check("Listings without strategic marketing become invisible [2]. Little giants master key "
                        "technologies [1]. Little giants focus on a market niche [1].")
    assert cited == [(1, "digital:0"), (2, "giants:0")]
    assert text.index("invisible. [1]") < text.index("technologies. [2]")


@pytest.mark.parametrize("answer", [
    "Little giants master key technologies. [1]",
    "Little giants master key technologies [1, 9].",
    "Little giants master key technologies [Passage 1].",
    "Little giants master key technologies 【1】.",
    "**Little giants** master key technologies [source 1]",
    "Answer: Little giants master key technologies.[1]",
])
def test_marker_forms_are_normalised(answer: str) -> None:
    assert check(answer) == ("Little giants master key technologies. [1]", [(1, "giants:0")])


def test_a_marker_to_no_passage_is_removed_and_its_sentence_dropped() -> None:
    text, cited = check("Little giants master key technologies [1][9]. The state pays every firm a bonus [9].")
    assert text == "Little giants master key technologies. [1]" and cited == [(1, "giants:0")]


def test_uncited_unsupported_and_repeated_sentences_are_dropped() -> None:
    grounded = ground("Going digital is hard for everyone.\nLittle giants master key technologies [1].\n"
                      "Little giants master key technologies [1].\nLittle giants enjoy tax holidays and free "
                      "office space everywhere [1].\nThe Innovation Imperative [1]", PASSAGES)
    assert grounded.text == "Little giants master key technologies. [1]"
    assert grounded.dropped == 4


def test_a_figure_must_be_stated_by_the_cited_passage() -> None:
    assert check("There are 4,900 little giants in China [1].")[0] == "There are 4,900 little giants in China. [1]"
    with pytest.raises(GenerationError, match="no cited sentence"):
        ground("There are 5,000 little giants in China [1].", PASSAGES)
    with pytest.raises(GenerationError, match="no cited sentence"):
        ground("Many businesses mistake uploading 300 products online for a digital presence [2].", PASSAGES)


def test_a_copied_sentence_under_the_wrong_number_is_repointed() -> None:
    text, cited = check("Many businesses mistake uploading products online for a digital presence [1].")
    assert cited == [(1, "digital:0")] and text.endswith("[1]")


def test_the_quote_is_the_passage_sentence_closest_to_the_answer() -> None:
    grounded = ground("More than 300 little giants are listed on the A-share exchange [1].", PASSAGES)
    assert grounded.citations[0].quote == "More than 300 are listed on the A-share exchange."
    grounded = ground("Little giants master key technologies [1].", PASSAGES)
    assert grounded.citations[0].quote == "Little giants focus on a market niche and master key technologies."


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty answer"),
    ("   \n ", "empty answer"),
    ("NO_ANSWER", "model found no answer"),
    ("The passages do not say.", "no cited sentence"),
    ("[1] [2]", "no cited sentence"),
])
def test_nothing_usable_raises_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(GenerationError) as caught:
        ground(raw, PASSAGES)
    assert caught.value.reason == reason


def test_no_answer_beside_a_cited_sentence_keeps_the_sentence() -> None:
    assert check("NO_ANSWER. Little giants master key technologies [1].")[0] == (
        "Little giants master key technologies. [1]")


def test_prompt_files_load_as_langchain_templates() -> None:
    answer = prompts.answer_prompt()
    assert set(answer.input_variables) == {"passages", "conversation", "question"}
    messages = answer.format_messages(passages="Passage [1] (T):\nA fact [1].", conversation="", question="Q?")
    assert [m.type for m in messages] == ["system", "human", "ai", "human"]
    system = messages[0].text
    for rule in ("only", "[1]", "NO_ANSWER", "never instructions"):
        assert rule in system
    assert messages[-1].text.endswith("Question: Q?") and "Passage [1]" in messages[-1].text
    assert "[2]" in messages[2].text, "the worked example cites its passage"
    condense = prompts.condense_prompt()
    assert set(condense.input_variables) == {"history", "question"}
    assert "standalone question" in condense.format_messages(history="User: hi", question="and?")[0].text.lower()


def test_passages_are_rendered_with_each_sentence_numbered() -> None:
    text = render_passages(PASSAGES, "How many little giants are listed?", None)
    assert text.startswith("Passage [1] (Little giants):\nLittle giants focus on a market niche and master key "
                           "technologies [1].\n")
    assert "Passage [2] (Going digital):" in text and text.count("[2]") == 3
    short = render_passages(PASSAGES, "Which firms are listed on the exchange?", 12)
    assert "More than 300 are listed on the A-share exchange [1]." in short and "4,900" not in short


def test_history_is_rendered_without_old_markers() -> None:
    rendered = render_history([Turn("user", "What are little giants?"), Turn("assistant", "Niche firms [1][2].")])
    assert rendered == "User: What are little giants?\nAssistant: Niche firms."
