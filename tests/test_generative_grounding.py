"""Grounding by quotes, across English and Chinese, on passages built in the test (no model, no network)."""

from __future__ import annotations

import json

import pytest

import prompts
from knowledge.generative import GenerationError, ground
from knowledge.generative.answerer import render_history, render_passages
from knowledge.generative.grounding import Grounded
from knowledge.language import Language
from knowledge.types import Chunk, ScoredChunk, Turn

GIANTS = ("Little giants focus on a market niche and master key technologies. There are 4,900 of them in "
          "China, according to the ministry.\nListed firms\nMore than 300 are listed on the A-share exchange.")
DIGITAL = ("Many businesses mistake uploading products online for a digital presence. Without strategic "
           "marketing, these listings become invisible in the marketplace.")
# Written for these tests (no source): a Chinese passage as a PDF extractor may leave it, with
# spaces between some Han characters.
SUCCESSION = ("家族企业的两代人常在数字化转型上产生分歧。父辈更看重现金流和稳定的客户关系，"
              "子女则希望尽快引入电商平台和数据系统。\n调查显示，约有 60% 的受访企业把交接班列为未来五年的首要难题。\n"
              "专家建议 先 从 小 范 围 试 点 开 始，再逐步推广。")


def passage(chunk_id: str, title: str, text: str, score: float) -> ScoredChunk:
    return ScoredChunk(Chunk(chunk_id, chunk_id.split(":")[0], title, text, 0, 0, len(text)), score)


PASSAGES = [passage("giants:0", "Little giants", GIANTS, 0.9), passage("digital:0", "Going digital", DIGITAL, 0.8),
            passage("succession:0", "家族企业的交接班", SUCCESSION, 0.7)]
CHUNKS = {p.chunk.chunk_id: p.chunk for p in PASSAGES}


def claim(text: str, n: int | None, quote: str | None) -> str:
    fields: dict[str, object] = {"claim": text}
    if n is not None:
        fields["passage"] = n
    if quote is not None:
        fields["quote"] = quote
    return json.dumps(fields, ensure_ascii=False)


def check(raw: str, language: Language = "en") -> Grounded:
    """Grounds `raw` and checks the contract every answer keeps, whatever was dropped."""
    grounded = ground(raw, PASSAGES, language)
    assert [c.n for c in grounded.citations] == list(range(1, len(grounded.citations) + 1))
    for citation in grounded.citations:
        chunk = CHUNKS[citation.chunk_id]
        assert citation.quote in chunk.text, "the quote is a verbatim slice of the stored chunk"
        assert (citation.doc_id, citation.title) == (chunk.doc_id, chunk.title)
        assert f"[{citation.n}]" in grounded.text
    return grounded


def cited(grounded: Grounded) -> list[tuple[int, str, str]]:
    return [(c.n, c.chunk_id, c.quote) for c in grounded.citations]


def reason(raw: str, language: Language = "en") -> str:
    with pytest.raises(GenerationError) as caught:
        ground(raw, PASSAGES, language)
    return caught.value.reason


# --- across languages --------------------------------------------------------------------------
def test_a_chinese_answer_over_english_passages_keeps_claims_whose_quotes_are_verbatim() -> None:
    raw = "\n".join([
        claim("小巨人企业专注于细分市场，并掌握关键技术。", 1, "focus on a market niche and master key technologies"),
        claim("据工信部统计，中国共有4900家小巨人企业。", 1, "There are 4,900 of them in China"),
        claim("很多企业误以为把产品上传到网上就等于数字化。", 2,
              "Many businesses mistake uploading products online for a digital presence"),
    ])
    grounded = check(raw, "zh")
    assert grounded.text == ("小巨人企业专注于细分市场，并掌握关键技术。 [1] 据工信部统计，中国共有4900家小巨人企业。 [2] "
                             "很多企业误以为把产品上传到网上就等于数字化。 [3]")
    assert cited(grounded) == [
        (1, "giants:0", "focus on a market niche and master key technologies."),
        (2, "giants:0", "There are 4,900 of them in China"),
        (3, "digital:0", "Many businesses mistake uploading products online for a digital presence."),
    ]
    assert grounded.dropped == 0


def test_an_english_answer_over_a_chinese_passage_maps_the_quote_back_to_the_stored_text() -> None:
    raw = claim("Experts advise starting with a small pilot before rolling out further.", 3,
                "专家建议先从小范围试点开始，再逐步推广")  # the model dropped the extractor's spaces
    grounded = check(raw, "en")
    assert grounded.text == "Experts advise starting with a small pilot before rolling out further. [1]"
    assert cited(grounded) == [(1, "succession:0", "专家建议 先 从 小 范 围 试 点 开 始，再逐步推广。")]


def test_a_chinese_answer_quoting_a_chinese_passage() -> None:
    grounded = check(claim("约60%的受访企业认为交接班是未来五年的首要难题。", 3,
                           "约有60%的受访企业把交接班列为未来五年的首要难题"), "zh")
    assert cited(grounded) == [(1, "succession:0", "约有 60% 的受访企业把交接班列为未来五年的首要难题。")]


def test_a_claim_in_another_language_than_the_question_is_dropped() -> None:
    raw = "\n".join([claim("Little giants master key technologies.", 1, "master key technologies in China"),
                     claim("小巨人企业掌握关键技术。", 1, "focus on a market niche and master key technologies")])
    assert reason(raw.splitlines()[0], "zh") == "no verified quote (wrong language)"
    grounded = check(raw, "zh")
    assert grounded.text == "小巨人企业掌握关键技术。 [1]" and grounded.causes == {"wrong language": 1}


def test_traditional_characters_match_a_simplified_passage() -> None:
    raw = claim("父輩更看重現金流和穩定的客戶關係。", 3, "父輩更看重現金流和穩定的客戶關係")
    assert cited(check(raw, "zh")) == [(1, "succession:0", "父辈更看重现金流和稳定的客户关系")]


# --- what a quote must be --------------------------------------------------------------------------
def test_a_fabricated_quote_is_dropped_with_its_claim() -> None:
    raw = "\n".join([claim("The ministry pays each little giant a bonus.", 1, "the ministry pays each firm a bonus"),
                     claim("Little giants master key technologies.", 1, "and master key technologies")])
    grounded = check(raw)
    assert grounded.text == "Little giants master key technologies. [1]"
    assert grounded.causes == {"quote not found": 1} and grounded.dropped == 1


def test_a_quote_found_in_another_passage_than_the_one_cited_is_reattributed() -> None:
    # Decision: the quote is the evidence and the number only a pointer; small models copy the right
    # text under the wrong number. The citation points where the quote really is.
    grounded = check(claim("Listings without strategic marketing become invisible.", 1,
                           "Without strategic marketing, these listings become invisible in the marketplace"))
    assert cited(grounded) == [(1, "digital:0", "Without strategic marketing, these listings become invisible in "
                                                "the marketplace.")]
    # A passage number that names no passage at all is treated the same way.
    assert cited(check(claim("Little giants master key technologies.", 9, "and master key technologies")))[0][1] == (
        "giants:0")


@pytest.mark.parametrize(("quote", "language", "kept"), [
    ("master key technologies", "en", False),        # 3 words
    ("and master key technologies", "en", True),      # 4 words
    ("父辈更看重现", "zh", True),                        # 6 Han characters
    ("父辈更看重", "zh", False),                         # 5
])
def test_a_quote_must_be_long_enough_to_state_something(quote: str, language: Language, kept: bool) -> None:
    text = "Little giants master key technologies." if language == "en" else "父辈重视现金流。"
    n = 1 if language == "en" else 3
    if kept:
        assert check(claim(text, n, quote), language).citations
    else:
        # The claim is no verbatim copy either, so nothing else proves it.
        assert reason(claim(text, n, quote), language) == "no verified quote (quote too short)"


def test_a_quote_of_a_whole_passage_is_too_long() -> None:
    long_text = " ".join(["Little giants focus on a market niche and master key technologies."] * 10)
    passages = [passage("long:0", "Long", long_text, 0.9)]
    with pytest.raises(GenerationError, match="quote too long"):
        ground(claim("Little giants focus on a niche market.", 1, long_text), passages)


def test_figures_in_a_claim_must_appear_in_its_passage() -> None:
    quote = "There are 4,900 of them in China"
    assert check(claim("There are 4900 little giants in China.", 1, quote)).citations
    assert check(claim("中国有４９００家小巨人企业。", 1, quote), "zh").citations  # full-width digits
    assert reason(claim("There are 5,000 little giants in China.", 1, quote)) == "no verified quote (figure not in passage)"
    assert reason(claim("中国有五千家小巨人企业，其中2000家已上市。", 1, quote), "zh") == (
        "no verified quote (figure not in passage)")


def test_a_true_quote_under_an_unrelated_claim_is_caught_when_both_share_a_language() -> None:
    raw = claim("The state pays every family firm a generous subsidy.", 1, "There are 4,900 of them in China")
    assert reason(raw) == "no verified quote (claim unsupported)"
    raw = claim("国家向每家家族企业发放补贴。", 3, "父辈更看重现金流和稳定的客户关系")
    assert reason(raw, "zh") == "no verified quote (claim unsupported)"


def test_a_quote_is_found_despite_case_quotation_marks_and_white_space() -> None:
    quote = "MORE than 300   are listed on the “A-share” exchange"
    passages = [passage("q:0", "Q", 'More than 300 are listed on the "A-share" exchange, it said.', 0.9)]
    grounded = ground(claim("More than 300 little giants are listed on the A-share exchange.", 1, quote), passages)
    assert grounded.citations[0].quote == 'More than 300 are listed on the "A-share" exchange'


def test_an_ellipsis_in_a_quote_elides_words_of_the_passage() -> None:
    grounded = check(claim("Little giants master key technologies; 4,900 exist in China.", 1,
                           "Little giants focus … master key technologies. There are 4,900 of them"))
    assert cited(grounded)[0][2] == ("Little giants focus on a market niche and master key technologies. "
                                     "There are 4,900 of them")


def test_quotes_overlapping_in_one_passage_share_a_citation_and_numbers_follow_first_use() -> None:
    raw = "\n".join([
        claim("Listings without marketing become invisible.", 2, "these listings become invisible in the marketplace"),
        claim("Little giants focus on a market niche.", 1, "Little giants focus on a market niche"),
        claim("Little giants master key technologies.", 1, "on a market niche and master key technologies"),
        claim("More than 300 little giants are listed.", 1, "More than 300 are listed on the A-share exchange"),
    ])
    grounded = check(raw)
    assert [n for n, _, _ in cited(grounded)] == [1, 2, 3]
    assert cited(grounded)[1] == (2, "giants:0", "Little giants focus on a market niche and master key technologies.")
    assert grounded.text.count("[2]") == 2 and grounded.text.index("[1]") < grounded.text.index("[2]")


def test_a_repeated_claim_is_shown_once() -> None:
    line = claim("Little giants master key technologies.", 1, "master key technologies. There are")
    grounded = check(f"{line}\n{line}")
    assert grounded.text == "Little giants master key technologies. [1]" and grounded.causes == {"repeated": 1}


# --- the older tagged form and failures ----------------------------------------------------------
def test_a_tagged_sentence_copied_from_its_passage_is_its_own_quote() -> None:
    grounded = check("Little giants focus on a market niche [1]. Listings become invisible on the web [2].")
    assert grounded.text == "Little giants focus on a market niche. [1]"
    assert cited(grounded) == [(1, "giants:0", "Little giants focus on a market niche")]
    assert grounded.causes == {"no quote": 1}


@pytest.mark.parametrize(("raw", "why"), [
    ("", "empty answer"),
    ("   \n ", "empty answer"),
    ("NO_ANSWER", "model found no answer"),
    ('{"claim": "NO_ANSWER"}', "model found no answer"),
    ("The passages do not say.", "no claim found"),
    ("[1] [2]", "no claim found"),
    (claim("Going digital is a journey every firm should start.", 2, None), "no verified quote (no quote)"),
    ("\n".join([claim("Firms get a bonus of money.", 1, "the ministry pays a bonus to firms"),
                claim("Digital firms grow faster than others.", 2, "digital firms grow faster than others do")]),
     "no verified quote (quote not found)"),
])
def test_nothing_verified_raises_with_a_reason(raw: str, why: str) -> None:
    assert reason(raw) == why


# --- prompts and rendering -------------------------------------------------------------------------
def test_prompt_files_load_as_langchain_templates_in_both_languages() -> None:
    for language, name in (("en", "English"), ("zh", "Chinese (简体中文)")):
        answer = prompts.answer_prompt(language)
        assert set(answer.input_variables) == {"passages", "conversation", "question", "language"}
        messages = answer.format_messages(passages="Passage [1] (T):\nA fact.", conversation="", question="Q?",
                                          language=name)
        assert [m.type for m in messages] == ["system", "human", "ai", "human"]
        system = messages[0].text
        for rule in ("only", '"quote"', '"passage"', "NO_ANSWER", "never instructions", f"every claim in {name}"):
            assert rule in system
        assert "Question: Q?" in messages[-1].text and name in messages[-1].text
        example = prompts.example(language)
        shown = [json.loads(line) for line in messages[2].text.splitlines()]
        assert shown and all(s["quote"] in example.passages for s in shown), "the example's quotes are verbatim"
    zh_example = [json.loads(line) for line in prompts.answer_prompt("zh").messages[2].content.splitlines()]
    assert all("\u4e00" <= s["claim"][0] <= "\u9fff" for s in zh_example), "Chinese claims"
    assert any(s["quote"].isascii() for s in zh_example), "an English quote stays English"
    condense = prompts.condense_prompt()
    assert set(condense.input_variables) == {"history", "question", "language"}
    text = condense.format_messages(history="User: hi", question="and?", language="Chinese (简体中文)")[0].text
    assert "standalone question" in text.lower() and "in Chinese (简体中文)" in text


def test_language_names() -> None:
    assert prompts.language_name("en", "What?") == "English"
    assert prompts.language_name("zh", "小巨人企业有多少家？") == "Chinese (简体中文)"
    assert prompts.language_name("zh", "小巨人企業有多少家？") == "Chinese (繁體中文)"


def test_passages_are_rendered_one_sentence_a_line() -> None:
    text = render_passages(PASSAGES, "How many little giants are listed?", None)
    assert text.startswith("Passage [1] (Little giants):\nLittle giants focus on a market niche and master key "
                           "technologies.\nThere are 4,900")
    assert "Passage [3] (家族企业的交接班):\n家族企业的两代人常在数字化转型上产生分歧。\n父辈更看重" in text
    short = render_passages(PASSAGES, "Which firms are listed on the exchange?", 12)
    assert "More than 300 are listed on the A-share exchange." in short and "4,900" not in short
    chinese = render_passages(PASSAGES[2:], "交接班是不是首要难题？", 30)
    assert "首要难题" in chinese and "电商平台" not in chinese, "Chinese is measured in characters"


def test_history_is_rendered_without_old_markers() -> None:
    rendered = render_history([Turn("user", "What are little giants?"), Turn("assistant", "Niche firms [1][2].")])
    assert rendered == "User: What are little giants?\nAssistant: Niche firms."
