"""How far the answer path's own evidence can go: ceilings of sentence choice and of the decision.

    .venv/bin/python benchmarks/answer_ceiling.py [--split gate] [--data-dir DIR]

Over the starter shelf padded with tests/fixtures/padding (built in DIR on first use, as
benchmarks/fit_answer_model.py builds it), for the answerable and out-of-scope items of
evaluation/sets/{starter,owners,bilingual}.jsonl in the split:

1. Sentence choice. The share of answerable items whose key fact is among the candidate sentences
   at all (what retrieval hands the answer), whose top candidate holds it with the shipped weights,
   and with weights fitted on this very split (listwise, in-sample): the best any weighting of the
   same features could do.
2. The decision. The out-of-scope items refused while false refusals stay within 2 %: with the
   shipped model and its cut chosen on this split (an oracle cut), and with a logistic model
   fitted on this split itself (in-sample): the best a linear decision over the same evidence
   could do. Issue 11 asks for 95 %.

Ceilings below the issue's floors say that no refit closes the gap: new evidence (a stronger
reader than the shipped models) would be needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MAX_FALSE_REFUSALS = 0.02


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(Path("/tmp") / "sme-fit-library"))
    parser.add_argument("--split", default="gate")
    args = parser.parse_args()

    import fit_answer_model as fit
    from knowledge.answer_model import DECISION_FEATURES, sentence_weights

    items = fit.collect(Path(args.data_dir), args.split)
    answerable = [i for i in items if i.answerable and i.keywords]
    reachable = [i for i in answerable if i.positive.any()]
    shipped = sentence_weights()
    weights = np.array([getattr(shipped, name) for name in fit.SENTENCE_FEATURES])
    refit = fit.fit_listwise(reachable, weights)
    share = len(reachable) / len(answerable)
    print(f"{args.split}: {len(answerable)} answerable items with key facts, "
          f"{sum(not i.answerable for i in items)} out of scope")
    print(f"  key fact among the candidate sentences at all: {share:.3f}")
    print(f"  top candidate holds it, shipped weights:        {fit.first_hit(reachable, weights) * share:.3f}")
    print(f"  top candidate holds it, weights fitted here:    {fit.first_hit(reachable, refit) * share:.3f}")

    with_evidence = [i for i in items if i.thought.features]
    labels = np.array([i.answerable for i in with_evidence])
    shipped_p = np.array([i.thought.probability for i in with_evidence])
    rows = np.array([[i.thought.features.get(name, 0.0) for name in DECISION_FEATURES] for i in with_evidence])
    bias, coef = fit.fit_logistic(rows, labels.astype(float))
    fitted_p = 1 / (1 + np.exp(-(bias + rows @ coef)))
    for name, probability in (("shipped model, cut chosen here", shipped_p), ("logistic fitted here", fitted_p)):
        refused, false = _best_cut(probability, labels)
        print(f"  out of scope refused at <= {MAX_FALSE_REFUSALS:.0%} false refusals, {name}: {refused:.3f} "
              f"(false refusals {false:.3f})")


def _best_cut(probability: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The refusal cut that refuses the most out-of-scope items within the false-refusal budget."""
    answerable, oos = probability[labels], probability[~labels]
    cut = max(t for t in np.append(np.unique(probability), 0.0) if np.mean(answerable < t) <= MAX_FALSE_REFUSALS)
    return float(np.mean(oos < cut)), float(np.mean(answerable < cut))


if __name__ == "__main__":
    main()
