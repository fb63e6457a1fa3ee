"""Fits knowledge/answer_model.json on the development splits: which sentence to quote, and when to
answer, hedge or refuse.

    .venv/bin/python benchmarks/fit_answer_model.py [--data-dir DIR] [--english-shelf-dir DIR2] [--write]

The library is the starter shelf padded with the same-domain documents of tests/fixtures/padding
(built in DIR on first use, reused afterwards). The set of Chinese owners over an English library
(evaluation/sets/english_shelf.jsonl) is asked of that library without its Chinese documents (the
English starter articles and the padding, built in DIR2): where Chinese documents answer, Chinese
questions never show how the English passages read to them. For every dev item of the question sets
(evaluation/sets/*.jsonl; small talk, instruction attacks and gibberish never reach this model):

1. Sentence weights: a listwise softmax over the candidate sentences of each answerable item, the
   sentences holding an expected key fact being the right ones. Weights are rescaled so that a
   sentence's own relevance weighs 1 (the unit the answer's margins are written in).
2. The decision: logistic regression of "answerable" on the question-level evidence, then two cut
   points on its probability: `hedge_at`, the highest that keeps false refusals within
   MAX_FALSE_REFUSALS, and `answer_at`, the lowest at or above it that answers no more than
   MAX_OOS_ANSWERED of the out-of-scope items outright. Items whose best sentence is in the other
   language than the question's get a model of their own (`decision_across`), with the
   same-language model's weight for unknown terms and no out-of-scope item answered outright.

It prints the dev figures each step reaches; the gate split is never read. `--write` saves the model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCE_FEATURES = ("relevance", "context", "coverage", "passage_coverage", "type_hit", "other_language", "pair", "rank")
# 0.02 refused one dev item and put the hedge cut above owners' phrasings outside the sets (tests/
# test_answers.py: "My staff learn the trade and then open a rival shop…", p 0.39).
MAX_FALSE_REFUSALS = 0.01
MAX_OOS_ANSWERED = 0.03
MAX_ANSWER_SENTENCES = 4  # Settings.answer_max_sentences
MAX_SENTENCES = 3.0  # on average, in the chosen margins' answers
L2_SENTENCE = 0.05
L2_DECISION = 0.02
# The across-language decision learns from a few dozen items: weights kept small (0.02, 0.1 and 0.3
# reached the same dev figures).
L2_ACROSS = 0.1


@dataclass
class Item:
    id: str
    answerable: bool
    keywords: list[str]
    kind: str
    features: np.ndarray  # candidates x SENTENCE_FEATURES
    valid: np.ndarray  # candidates that may be quoted (the question's own language first)
    positive: np.ndarray  # candidates holding a key fact
    thought: object


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(Path("/tmp") / "sme-fit-library"))
    parser.add_argument("--english-shelf-dir", default=str(Path("/tmp") / "sme-fit-english-shelf"))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--write", action="store_true", help="save knowledge/answer_model.json")
    args = parser.parse_args()
    items = collect(Path(args.data_dir), args.split) + collect(Path(args.english_shelf_dir), args.split, english_shelf=True)
    answerable = [i for i in items if i.answerable and i.positive.any()]
    print(f"{len(items)} {args.split} items: {sum(i.answerable for i in items)} answerable "
          f"({len(answerable)} with a key fact among the candidates), {sum(not i.answerable for i in items)} out of scope")

    from knowledge.answer_model import SentenceWeights

    default = SentenceWeights()
    start = np.array([getattr(default, name) for name in SENTENCE_FEATURES])
    print(f"sentence choice, default weights: key fact first {first_hit(answerable, start):.3f}")
    weights = fit_listwise(answerable, start)
    print(f"sentence choice, fitted weights:  key fact first {first_hit(answerable, weights):.3f}  "
          + ", ".join(f"{n}={w:.3f}" for n, w in zip(SENTENCE_FEATURES, weights)))

    chosen_margins = fit_margins(items, weights)
    from knowledge.answer_model import DECISION_FEATURES

    rows = np.array([[decision_row(item, weights)[name] for name in DECISION_FEATURES] for item in items])
    labels = np.array([1.0 if item.answerable else 0.0 for item in items])
    # A best sentence in the other language than the question's is decided by a model of its own
    # (knowledge/answer_model.py): its evidence sits on another scale.
    across = rows[:, DECISION_FEATURES.index("cross_language")] > 0
    probability = np.zeros(len(items))
    hedge_at, answer_at = np.zeros(len(items)), np.zeros(len(items))
    fitted: dict[str, dict] = {}
    for name, chosen in (("decision", ~across), ("decision_across", across)):
        x = rows[chosen].copy()
        x[:, DECISION_FEATURES.index("cross_language")] = 0.0
        fixed = {} if name == "decision" else {
            # Terms the library never mentions ("VAT", "UK") mean the same whatever language the
            # quote is in; the across items (Chinese questions over English articles have none)
            # cannot teach it, so the same-language model's weight holds.
            DECISION_FEATURES.index("unknown_terms"): fitted["decision"]["weights"]["unknown_terms"]}
        bias, coef = fit_logistic(x, labels[chosen], l2=L2_DECISION if name == "decision" else L2_ACROSS, fixed=fixed)
        probability[chosen] = 1 / (1 + np.exp(-(bias + x @ coef)))
        hedge, answer = cut_points(probability[chosen], labels[chosen])
        if name == "decision_across":
            # Few items, and the weakest evidence: no out-of-scope one of them is answered outright.
            oos = probability[chosen][labels[chosen] == 0]
            answer = max(answer, float(oos.max()) + 1e-6 if len(oos) else answer)
        hedge_at[chosen], answer_at[chosen] = hedge, answer
        fitted[name] = {"bias": round(float(bias), 4),
                        "weights": {n: round(float(c), 4) for n, c in zip(DECISION_FEATURES, coef) if n != "cross_language"},
                        "answer_at": round(float(answer), 4), "hedge_at": round(float(hedge), 4)}
        print(f"{name}: {int(chosen.sum())} items ({int(labels[chosen].sum())} answerable), hedge from {hedge:.3f}, "
              f"answer from {answer:.3f}")
    report(items, probability, hedge_at, answer_at)
    model = {
        "fitted_on": f"{args.split} splits of evaluation/sets/*.jsonl over the starter shelf + tests/fixtures/padding "
                     f"({ENGLISH_SHELF.name}: over its English articles + the padding)",
        "sentence": {name: round(float(w), 4) for name, w in zip(SENTENCE_FEATURES, weights)},
        "select": chosen_margins,
        **fitted,
    }
    print(json.dumps(model, indent=2))
    if args.write:
        path = ROOT / "knowledge" / "answer_model.json"
        path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


ENGLISH_SHELF = ROOT / "evaluation" / "sets" / "english_shelf.jsonl"


def collect(data_dir: Path, split: str, english_shelf: bool = False) -> list[Item]:
    from evaluation.dataset import load_items
    from knowledge import smalltalk
    from knowledge.chinese import to_simplified
    from knowledge.conversation import is_gibberish, is_instruction_attack, is_task_request, search_query

    kb = open_library(data_dir, english_shelf)
    items: list[Item] = []
    sets = [ENGLISH_SHELF] if english_shelf else sorted(set((ROOT / "evaluation" / "sets").glob("*.jsonl")) - {ENGLISH_SHELF})
    for path in sets:
        kinds = {json.loads(line)["id"]: json.loads(line).get("kind") for line in path.read_text().splitlines()
                 if line.strip()}
        for item in load_items(path, split).items:
            question = item.question
            if kinds.get(item.id) == "small-talk" or smalltalk.intent_of(question) or is_gibberish(question) \
                    or is_instruction_attack(question) or is_task_request(question):
                continue
            asked = smalltalk.without_pleasantries(question)
            thought = kb.deliberate(asked, search_query(asked, list(item.history)))
            scores, candidates = thought.scores, thought.candidates
            features = np.column_stack([scores.relevance, scores.context, scores.coverage, scores.passage_coverage,
                                        scores.type_hit, scores.other_language,
                                        [float(len(c.spans) > 1) for c in candidates],
                                        [1 / (1 + c.passage_rank) for c in candidates]]) \
                if candidates else np.zeros((0, len(SENTENCE_FEATURES)))
            valid = np.isfinite(scores.ranking) & (scores.relevance > -1.0) if candidates else np.zeros(0, bool)
            facts = [to_simplified(k).lower() for k in item.expected_keywords]
            positive = np.array([bool(facts) and any(f in to_simplified(c.text).lower() for f in facts)
                                 for c in candidates], dtype=bool) & valid
            items.append(Item(item.id, item.answerable, list(item.expected_keywords), kinds.get(item.id) or "",
                              features, valid, positive, thought))
    kb.close()
    return items


def open_library(data_dir: Path, english_shelf: bool = False):  # type: ignore[no-untyped-def]
    """The starter shelf (English articles only, for the English shelf) padded with the same-domain
    documents of tests/fixtures/padding, in `data_dir`: built on first use, brought up to date after."""
    from ingest.pipeline import ingest_paths
    from ingest.starter import ingest_starter, starter_files
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=data_dir, auto_ingest_starter=False))
    if english_shelf:
        ingest_paths(kb, starter_files("en"))
    elif kb.is_empty():
        ingest_starter(kb)
    ingest_paths(kb, [ROOT / "tests" / "fixtures" / "padding"], topics=["general-business"])
    return kb


def first_hit(items: list[Item], weights: np.ndarray) -> float:
    hits = 0
    for item in items:
        score = np.where(item.valid, item.features @ weights, -np.inf)
        hits += bool(item.positive[int(np.argmax(score))])
    return hits / max(1, len(items))


# Not fitted, a choice: an owner reads best in the language they asked in, so a sentence in the other
# language is quoted first only when it answers clearly better (the key-fact figures alone would not
# prefer either language).
FIXED = {"other_language": -0.6}


def fit_listwise(items: list[Item], start: np.ndarray, steps: int = 3000, rate: float = 0.05) -> np.ndarray:
    weights = start.astype(float).copy()
    fixed = np.array([name in FIXED for name in SENTENCE_FEATURES])
    weights[fixed] = [FIXED[name] for name in SENTENCE_FEATURES if name in FIXED]
    for _ in range(steps):
        gradient = L2_SENTENCE * (weights - start)
        for item in items:
            f = item.features[item.valid]
            pos = item.positive[item.valid]
            s = f @ weights
            p = np.exp(s - s.max())
            p /= p.sum()
            q = np.where(pos, p, 0.0)
            q /= q.sum()
            gradient += f.T @ (p - q) / len(items)
        weights -= rate * np.where(fixed, 0.0, gradient)
    scaled = weights / weights[0]  # relevance weighs 1
    scaled[fixed] = weights[fixed]
    return scaled


def fit_margins(items: list[Item], weights: np.ndarray) -> dict[str, float]:
    """The margins that find the most key facts in whole answers, at most MAX_SENTENCES said on
    average (longer answers would find more, and owners read less)."""
    from knowledge import answering
    from knowledge.answer_model import Margins
    from knowledge.chinese import to_simplified

    answerable = [i for i in items if i.answerable and i.keywords and i.thought.candidates]
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for same in (0.15, 0.3, 0.5, 0.8):
        for other in (0.05, 0.15, 0.3):
            found, said = 0.0, 0
            for item in answerable:
                scores = _rescored(item, weights)
                chosen = answering.select(item.thought.candidates, scores, MAX_ANSWER_SENTENCES,
                                          within=Margins(same, other))
                text = to_simplified(" ".join(c.text for c in chosen)).lower()
                said += sum(len(c.spans) for c in chosen)
                found += sum(to_simplified(k).lower() in text for k in item.keywords) / len(item.keywords)
            share, length = found / len(answerable), said / len(answerable)
            print(f"  margins same document {same:.2f}, other {other:.2f}: key facts in answers {share:.3f}, "
                  f"{length:.2f} sentences an answer")
            if length <= MAX_SENTENCES and share > best[0]:
                best = (share, {"same_document": same, "other_document": other})
    print(f"chosen margins: {best[1]} (key facts in dev answers {best[0]:.3f})")
    return best[1]


def _rescored(item: Item, weights: np.ndarray):  # type: ignore[no-untyped-def]
    from knowledge import answering

    scores = item.thought.scores
    ranking = np.where(item.valid, item.features @ weights, -np.inf)
    return answering.Scores(scores.similarity, scores.relevance, scores.context, scores.coverage,
                            scores.passage_coverage, scores.type_hit, scores.other_language, ranking)


def decision_row(item: Item, weights: np.ndarray) -> dict[str, float]:
    """The decision features of an item, its top sentence chosen by `weights`."""
    from knowledge import answering
    from knowledge.deliberation import decision_features
    from knowledge.evidence import QuestionTerms

    thought = item.thought
    if not thought.candidates:
        return {"best_relevance": -1.0}
    rescored = _rescored(item, weights)
    terms = thought.terms or [QuestionTerms(())]
    row = decision_features(thought.candidates, rescored, terms, thought.passages, thought.result.language)
    return row or {"best_relevance": -1.0}


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 20000, rate: float = 0.1,
                 l2: float = L2_DECISION, fixed: dict[int, float] | None = None) -> tuple[float, np.ndarray]:
    """Logistic regression on standardised features; `fixed` columns keep the given coefficient."""
    fixed = fixed or {}
    free = [j for j in range(x.shape[1]) if j not in fixed]
    offset = sum((x[:, j] * c for j, c in fixed.items()), np.zeros(len(y)))
    mean, std = x[:, free].mean(axis=0), x[:, free].std(axis=0) + 1e-9
    z = (x[:, free] - mean) / std
    w, b = np.zeros(len(free)), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b + offset)))
        w -= rate * (z.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    coef = np.zeros(x.shape[1])
    coef[free] = w / std
    for j, c in fixed.items():
        coef[j] = c
    return b - float(mean @ coef[free]), coef


def cut_points(probability: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    answerable, oos = probability[labels == 1], probability[labels == 0]
    grid = np.unique(np.concatenate([probability, [0.0, 1.0]]))
    hedge_candidates = [t for t in grid if np.mean(answerable < t) <= MAX_FALSE_REFUSALS]
    hedge_at = max(hedge_candidates) if hedge_candidates else 0.0
    answer_candidates = [t for t in grid if t >= hedge_at and np.mean(oos >= t) <= MAX_OOS_ANSWERED]
    answer_at = min(answer_candidates) if answer_candidates else 1.0
    # Centre each cut in the gap below it, so a new item close to the boundary is not decided by
    # the last digit.
    return _centred(hedge_at, probability), _centred(answer_at, probability)


def _centred(cut: float, probability: np.ndarray) -> float:
    below = probability[probability < cut]
    return (cut + below.max()) / 2 if len(below) else cut


def report(items: list[Item], probability: np.ndarray, hedge_at: np.ndarray, answer_at: np.ndarray) -> None:
    outcome = np.where(probability >= answer_at, "answered", np.where(probability >= hedge_at, "hedged", "refused"))
    for kind in sorted({i.kind or ("out-of-scope" if not i.answerable else "direct") for i in items}):
        chosen = [n for n, i in enumerate(items) if (i.kind or ("out-of-scope" if not i.answerable else "direct")) == kind]
        counts = {o: sum(1 for n in chosen if outcome[n] == o) for o in ("answered", "hedged", "refused")}
        print(f"  {kind:14s} {len(chosen):4d}  " + "  ".join(f"{o} {c}" for o, c in counts.items()))
    labels = np.array([i.answerable for i in items])
    print(f"false refusals {np.mean(outcome[labels] == 'refused'):.3f}, out of scope refused "
          f"{np.mean(outcome[~labels] == 'refused'):.3f}, answered outright {np.mean(outcome[~labels] == 'answered'):.3f}")
    for n in np.argsort(probability):
        item = items[n]
        wrong = (item.answerable and outcome[n] == "refused") or (not item.answerable and outcome[n] != "refused")
        if wrong:
            print(f"    {'answerable' if item.answerable else 'OUT OF SCOPE'} p={probability[n]:.3f} {outcome[n]:8s} {item.id}")


if __name__ == "__main__":
    main()
