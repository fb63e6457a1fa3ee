"""The answer/hedge/refuse decision (knowledge/answer_model.py): a best sentence in the other language
than the question's is decided by the model fitted for that case, when there is one."""

from __future__ import annotations

from knowledge.answer_model import DecisionModel, decision_model

SAME = DecisionModel(bias=-2.0, weights={"best_relevance": 10.0}, answer_at=0.8, hedge_at=0.4, answer_across_at=0.9)
ACROSS = DecisionModel(bias=1.0, weights={"best_relevance": 10.0}, answer_at=0.7, hedge_at=0.5)


def test_a_quote_in_the_questions_language_is_decided_by_the_same_language_model() -> None:
    model = DecisionModel(SAME.bias, SAME.weights, SAME.answer_at, SAME.hedge_at, SAME.answer_across_at, ACROSS)
    features = {"best_relevance": 0.05, "cross_language": 0.0}  # z = -1.5: p 0.18
    assert model.probability(features) == SAME.probability(features)
    assert model.outcome(features) == "refused"
    assert model.outcome({"best_relevance": 0.4, "cross_language": 0.0}) == "answered"


def test_a_quote_in_the_other_language_is_decided_by_the_across_model() -> None:
    model = DecisionModel(SAME.bias, SAME.weights, SAME.answer_at, SAME.hedge_at, SAME.answer_across_at, ACROSS)
    features = {"best_relevance": 0.05, "cross_language": 1.0}  # across: z = 1.5, p 0.82
    assert model.probability(features) == ACROSS.probability({"best_relevance": 0.05})
    assert model.outcome(features) == "answered"
    assert model.outcome({"best_relevance": -0.1, "cross_language": 1.0}) == "hedged"  # p 0.5
    assert model.outcome({"best_relevance": -0.3, "cross_language": 1.0}) == "refused"


def test_without_an_across_model_the_stricter_cut_applies_to_other_language_quotes() -> None:
    features = {"best_relevance": 0.35, "cross_language": 1.0}  # p 0.82: answered in its own language
    assert SAME.outcome({**features, "cross_language": 0.0}) == "answered"
    assert SAME.outcome(features) == "hedged"  # below answer_across_at 0.9


def test_the_shipped_model_has_both_decisions() -> None:
    model = decision_model()
    assert model.across is not None and model.across is not model
    assert 0.0 < model.hedge_at < model.answer_at < 1.0
    assert 0.0 < model.across.hedge_at < model.across.answer_at < 1.0
