"""Keyword search alone, Chinese segmented by jieba vs character bigrams, on the same library.

    .venv/bin/python benchmarks/compare_tokenizers.py [--data-dir DIR] [evaluation/sets/bilingual.jsonl ...]

The library is the starter shelf (English and Chinese) plus the padded same-domain reports (built
in a temporary data dir unless --data-dir names one already built). Every answerable item is
searched with BM25 only, once per tokenizer; document-level hit@1, hit@5 and MRR are printed per
language pair (the item's `lang`), with index build time, index size in terms and query time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="*", default=[str(ROOT / "evaluation" / "sets" / "bilingual.jsonl")])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    from evaluation.metrics import hit_at, ranked_documents, reciprocal_rank
    from ingest.pipeline import ingest_paths
    from ingest.starter import ingest_starter
    from knowledge import bridge
    from knowledge.base import KnowledgeBase
    from knowledge.conversation import search_query
    from knowledge.keyword import KeywordIndex
    from knowledge.types import Turn
    from sme_advisor.settings import Settings

    items = [json.loads(line) for path in args.questions for line in Path(path).read_text().splitlines()
             if line.strip()]
    items = [item for item in items if item.get("answerable")]
    work = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="sme-tokenizers-"))
    try:
        kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=work))
        if kb.is_empty():
            ingest_starter(kb)
            ingest_paths(kb, [ROOT / "tests" / "fixtures" / "padding"])
        chunks = list(kb.catalog.iter_chunks())
        kb.close()
    finally:
        if not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)

    bridge.other_language("预热 warm up")  # load the dictionary and jieba before anything is timed
    print(f"{len(chunks)} chunks, {len(items)} answerable items")
    print(f"{'tokenizer':10} {'lang':6} {'n':>3} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
    for mode in ("jieba", "bigram"):
        started = time.perf_counter()
        index = KeywordIndex.build(chunks, chinese_mode=mode)  # type: ignore[arg-type]
        build_s = time.perf_counter() - started
        by_lang: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        query_s = 0.0
        for item in items:
            history = [Turn(t["role"], t["content"]) for t in item.get("history", [])]
            query = search_query(item["question"], history)
            lang = item.get("lang", "en-en")
            started = time.perf_counter()
            if lang[:2] == lang[-2:]:
                hits = index.search(query, 40)
            else:  # across languages, keyword search can only go through the dictionary
                hits = index.search(bridge.other_language(query)[1], 40)
            query_s += time.perf_counter() - started
            ranked = ranked_documents(h.chunk_id.split(":")[0] for h in sorted(hits, key=lambda h: -h.score))
            expected = item["expected_sources"]
            by_lang[lang].append(
                (hit_at(ranked, expected, 1), hit_at(ranked, expected, 5), reciprocal_rank(ranked, expected)))
        for lang, rows in sorted(by_lang.items()):
            n = len(rows)
            print(f"{mode:10} {lang:6} {n:3d} {sum(r[0] for r in rows) / n:6.3f} {sum(r[1] for r in rows) / n:6.3f} "
                  f"{sum(r[2] for r in rows) / n:6.3f}")
        terms = len(index.vocabulary)
        print(f"{mode:10} build {build_s:.2f} s, {terms} terms, query {1000 * query_s / len(items):.1f} ms avg\n")


if __name__ == "__main__":
    main()
