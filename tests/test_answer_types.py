"""The kind of answer a question wants, and which sentences have it (knowledge/evidence.py)."""

from __future__ import annotations

import pytest

from knowledge.evidence import has_type, wanted_type


@pytest.mark.parametrize(("question", "kind"), [
    ("How often should a retailer update its cash forecast?", "frequency"),
    ("How frequently do you recommend checking stock?", "frequency"),
    ("现金流预测多久更新一次？", "frequency"),
    ("How many little giants are based in Shanghai?", "number"),
    ("How much cash should I keep in reserve?", "number"),
    ("When should I start planning the handover?", "date"),
    ("What does it take for a company to be called a little giant?", "requirement"),
    ("In which industries do most of the little giants work?", "list"),
    ("Who decides on the little giant list?", "name"),
    ("Why do family firms quarrel about going online?", None),
])
def test_the_kind_of_answer_a_question_wants(question: str, kind: str | None) -> None:
    assert wanted_type(question) == kind


@pytest.mark.parametrize(("sentence", "has"), [
    ("Most advisers recommend a rolling thirteen-week forecast, updated every Monday.", True),
    ("Review the figures weekly with your accountant.", True),
    ("Banks check the accounts twice a year.", True),
    ("The board meets four times a year.", True),
    ("企业应当每季度更新一次预测。", True),
    ("A profitable shop can still run out of cash.", False),
    ("现金流预测能提前发现缺口。", False),
])
def test_a_sentence_says_how_often_or_not(sentence: str, has: bool) -> None:
    assert has_type(sentence, "frequency") is has
