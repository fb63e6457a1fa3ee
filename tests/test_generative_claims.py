"""Reading claims out of what models really write, and finding quotes in passages (no model)."""

from __future__ import annotations

import pytest

from knowledge.generative.claims import Claim, parse
from knowledge.generative.quotes import find, long_enough, normalise

ONE = Claim("Little giants master key technologies.", (1,), "master basic technology")


@pytest.mark.parametrize("raw", [
    '{"claim": "Little giants master key technologies.", "passage": 1, "quote": "master basic technology"}',
    '```json\n{"claim": "Little giants master key technologies.", "passage": 1, "quote": "master basic technology"}\n```',
    'Here is my answer:\n{"claim": "Little giants master key technologies", "passage": "1", "quote": "master basic technology",}',
    '[{"claim": "Little giants master key technologies.", "passage": "[1]", "quote": "master basic technology"},]',
    '{"claims": [{"text": "Little giants master key technologies.", "source": "Passage 1", '
    '"evidence": "master basic technology"}]}',
    '{\n  "claim": "Little giants master key technologies.",\n  "passage": 1,\n  "quote": "master basic technology"\n}',
    "{'claim': 'Little giants master key technologies.', 'passage': 1, 'quote': 'master basic technology'}",
    '｛“claim”：“Little giants master key technologies.”，“passage”：1，“quote”：“master basic technology”｝',
    '{"claim": "Little giants master key technologies [1].", "quote": "master basic technology [1]."}',
    '{"claim": "Little giants master key technologies.", "passage": 1}\n{"quote": "master basic technology"}',
], ids=["plain", "fenced", "chatter-and-trailing-comma", "array", "nested-other-keys", "pretty", "single-quotes",
        "full-width", "markers-inline", "quote-apart"])
def test_claim_formats_models_write_are_read_alike(raw: str) -> None:
    assert parse(raw) == [ONE]


def test_chinese_claims_with_full_width_punctuation_and_inner_quotation_marks() -> None:
    raw = ('｛“claim”：“小巨人企业被称为“隐形冠军”，掌握关键技术。”，“passage”：２，“quote”：“master basic technology”｝\n'
           '{"claim": "他们说"专精特新"是方向。", "passage": 1, "quote": "specialised and special"}')
    assert parse(raw) == [Claim("小巨人企业被称为“隐形冠军”，掌握关键技术。", (2,), "master basic technology"),
                          Claim('他们说"专精特新"是方向。', (1,), "specialised and special")]


def test_a_last_object_cut_off_by_the_token_limit_keeps_what_survives() -> None:
    raw = ('{"claim": "Little giants master key technologies.", "passage": 1, "quote": "master basic technology"}\n'
           '{"claim": "There are 4,900 of them.", "passage": 1, "quote": "totaling 4,900 comp')
    assert parse(raw) == [ONE, Claim("There are 4,900 of them.", (1,), "totaling 4,900 comp")]


def test_garbage_and_no_answer_give_no_claims() -> None:
    assert parse('{"claim": "NO_ANSWER"}') == []
    assert parse("NO_ANSWER") == []
    assert parse('{"claim": ') == []
    assert parse("I cannot help with that.") == []
    assert parse('{"passage": 1, "quote": "a quote without a claim"}') == []


def test_the_tagged_form_is_read_when_there_is_no_object() -> None:
    raw = ("Answer: **Little giants** master key technologies [Passage 1].\n"
           "- They are “hidden champions in niche sectors” [1, 2].\nNo marker here.")
    assert parse(raw) == [Claim("Little giants master key technologies.", (1,), None),
                          Claim("They are “hidden champions in niche sectors”.", (1, 2), "hidden champions in niche sectors")]
    assert parse("小巨人企业掌握关键技术【1】。集市每周六举行。[2]") == [
        Claim("小巨人企业掌握关键技术。", (1,), None), Claim("集市每周六举行。", (2,), None)]


# --- quotes ------------------------------------------------------------------------------------
def test_normalised_text_maps_every_character_back_to_the_original() -> None:
    text = "Ａ  “Big”\tstep —\n小 巨 人，企业"
    normalised = normalise(text)
    assert normalised.text == 'a "big" step -小巨人,企业'
    assert len(normalised.text) == len(normalised.origin)
    assert [text[i] for i in normalised.origin[-6:]] == ["小", "巨", "人", "，", "企", "业"]


@pytest.mark.parametrize(("quote", "expected"), [
    ("market niche and master", "market niche and master"),
    ("Market   Niche and MASTER key technologies", "market niche and master key technologies."),
    ("…niche and master key technologies…", "niche and master key technologies."),
    ('"a market niche"', "a market niche"),
    ("focus on a market niche ... There are 4,900", "focus on a market niche and master key technologies. There are 4,900"),
    ("niche and master key technologies. There are 5,000", None),
    ("There are 4,900 ... market niche", None),  # pieces out of order
])
def test_find_returns_the_verbatim_slice_of_the_passage(quote: str, expected: str | None) -> None:
    text = "Little giants focus on a market niche and master key technologies. There are 4,900 of them."
    span = find(quote, text)
    if expected is None:
        assert span is None
    else:
        assert span is not None and text[span.start:span.end].lower() == expected.lower()
        assert text[span.start:span.end] in text


def test_quote_length_counts_words_and_han_characters() -> None:
    assert long_enough("four words are enough") and not long_enough("three words only")
    assert long_enough("六个汉字足够") and not long_enough("五个汉字少")
    assert long_enough("ERP 系统的成本") and not long_enough("ERP 成本")  # 1 word + 5 Han ≥ 1; 1 + 2 < 1
