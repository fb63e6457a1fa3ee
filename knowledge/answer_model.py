"""The fitted weights of answering: which sentence to quote, and whether to answer, hedge or refuse.

Both are small linear models over evidence the answer path computes anyway (knowledge/answering.py,
knowledge/evidence.py), fitted on the development splits of the question sets by
`benchmarks/fit_answer_model.py` and kept in `answer_model.json` beside this file; the gate splits
only check them. Weights are in relevance units: a sentence's own relevance has weight 1.

Decision: p = logistic(bias + Σ weight · feature) is the probability that the library answers the
question. At or above `answer_at` the best sentences are quoted (`answer_across_at` when they are in
the other language than the question's); from `hedge_at` the reply says the library only touches on
the question and offers the closest passages; below, it is refused. When the best sentence is in the
other language, a model of its own decides (`decision_across`): evidence read across languages
(dictionary words, the multilingual model's weaker cosines) sits on another scale, and one model for
both kinds either refused Chinese owners over English articles or hedged English questions it answers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Mapping

MODEL_PATH = Path(__file__).with_name("answer_model.json")


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    relevance: float = 1.0
    context: float = 0.0
    coverage: float = 0.15
    passage_coverage: float = 0.0
    type_hit: float = 0.0
    other_language: float = -1.0
    pair: float = -0.1
    rank: float = 0.04


DECISION_FEATURES = ("best_relevance", "top_relevance", "top_context", "top_coverage", "top_passage_coverage",
                     "best_passage_coverage", "unknown_terms", "uncovered_terms", "cross_language")


@dataclass(frozen=True, slots=True)
class DecisionModel:
    bias: float
    weights: Mapping[str, float]
    answer_at: float
    hedge_at: float
    # A quote in the other language than the question's is matched through dictionary words, the
    # weakest evidence there is: it is said outright only from this probability, else hedged.
    answer_across_at: float = 1.0
    across: DecisionModel | None = None  # for a best sentence in the other language, when fitted

    def outcome(self, features: Mapping[str, float]) -> str:
        model, features = self._deciding(features)
        p = model._probability(features)
        if p >= (model.answer_across_at if features.get("cross_language") else model.answer_at):
            return "answered"
        return "hedged" if p >= model.hedge_at else "refused"

    def probability(self, features: Mapping[str, float]) -> float:
        model, features = self._deciding(features)
        return model._probability(features)

    def _deciding(self, features: Mapping[str, float]) -> tuple[DecisionModel, Mapping[str, float]]:
        """The model that decides, and what it reads: an other-language quote goes to the across
        model, for which every question it sees is across languages (no flag of its own)."""
        if features.get("cross_language") and self.across is not None:
            return self.across, {**features, "cross_language": 0.0}
        return self, features

    def _probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# Until a model is fitted: answer exactly when a sentence reaches its model's threshold (the
# decision before this file existed), never hedge.
_THRESHOLD_ONLY = DecisionModel(0.0, {"best_relevance": 60.0}, 0.5, 0.5, 0.5)


@lru_cache(maxsize=1)
def _load() -> dict:
    try:
        return json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def sentence_weights() -> SentenceWeights:
    known = {f.name for f in fields(SentenceWeights)}
    return SentenceWeights(**{k: float(v) for k, v in _load().get("sentence", {}).items() if k in known})


@dataclass(frozen=True, slots=True)
class Margins:
    """How close (in ranking units) further sentences must come to the best to be quoted too."""

    same_document: float = 0.15
    other_document: float = 0.05


def margins() -> Margins:
    known = {f.name for f in fields(Margins)}
    return Margins(**{k: float(v) for k, v in _load().get("select", {}).items() if k in known})


def decision_model() -> DecisionModel:
    data = _load().get("decision")
    if not data:
        return _THRESHOLD_ONLY
    across = _load().get("decision_across")
    return replace(_model(data, float(data.get("answer_across_at", data["answer_at"]))),
                   across=_model(across, float(across["answer_at"])) if across else None)


def _model(data: Mapping, answer_across_at: float) -> DecisionModel:  # type: ignore[type-arg]
    return DecisionModel(float(data["bias"]), {k: float(v) for k, v in data["weights"].items()},
                         float(data["answer_at"]), float(data["hedge_at"]), answer_across_at)
