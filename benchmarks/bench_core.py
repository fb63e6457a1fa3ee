"""Figures for the knowledge core: ingest throughput, ask latency, cold start, peak memory.

    .venv/bin/python benchmarks/bench_core.py [--copies 6] [--asks 60]

Prints each figure beside the cost of its parts measured in the same run, so the overhead of the
pipeline around the model is visible. Uses a temporary data dir; touches nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CLI_WITH_HWM = (
    "import atexit, sys, re\n"
    "def hwm():\n"
    "    text = open('/proc/self/status').read()\n"
    "    sys.stderr.write('HWM_KB=' + re.search(r'VmHWM:\\s+(\\d+)', text).group(1) + '\\n')\n"
    "atexit.register(hwm)\n"
    "sys.argv[0] = 'sme-advisor'\n"
    "from sme_advisor.cli import app\n"
    "app()\n"
)

QUESTIONS = [
    "What does it take for a company to be recognised as a little giant?",
    "How many little giants are listed on the stock market?",
    "Why do my employees quit and set up competing businesses?",
    "What mistakes do small firms make when they go digital?",
    "How do family firms deal with conflicts between generations?",
    "What share of China's technical innovation comes from SMEs?",
    "What does specialized and special mean for Zhejiang companies?",
    "Is innovation only about patents and new technology?",
    "What's the weather in Paris tomorrow?",
    "How much ibuprofen can I take?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def library_files(folder: Path, copies: int) -> list[Path]:
    """The starter library and the test padding, copied under new names to give volume."""
    from ingest.starter import starter_files

    sources = starter_files() + sorted((ROOT / "tests" / "fixtures" / "padding").glob("*.md"))
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for copy in range(copies):
        for source in sources:
            target = folder / f"{source.stem}-copy{copy}{source.suffix}"
            # A changed first line makes each copy a distinct document (new hash, new chunks).
            target.write_text(f"Edition {copy}\n\n" + source.read_text())
            files.append(target)
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--asks", type=int, default=60)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()

    from ingest.pipeline import ingest_paths
    from knowledge.base import KnowledgeBase
    from knowledge.embeddings import SentenceTransformerEmbedder, resolve_model_path
    from sme_advisor.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="sme-bench-"))
    try:
        settings = Settings(_env_file=None, data_dir=work / "data")
        kb = KnowledgeBase.open(settings)
        started = time.perf_counter()
        kb.embedder.embed(["compile or load the model"])
        model_ready_s = time.perf_counter() - started

        files = library_files(work / "library", args.copies)
        started = time.perf_counter()
        report = ingest_paths(kb, files)
        ingest_s = time.perf_counter() - started
        chunks = list(kb.catalog.iter_chunks())
        texts = [f"{c.title}\n{c.text}" for c in chunks]
        started = time.perf_counter()
        kb.embedder.embed(texts)
        encode_s = time.perf_counter() - started
        reference = SentenceTransformerEmbedder(resolve_model_path(settings.embedding_model))
        sample = texts[: min(len(texts), 96)]
        started = time.perf_counter()
        reference.embed(sample)
        reference_s = time.perf_counter() - started

        print(f"library: {len(files)} documents, {report.chunks_added} chunks, {len(report.failed)} failed")
        print(f"model ready (compile on first use, else load): {model_ready_s:.1f} s")
        print(f"ingest throughput (load+clean+chunk+embed+write): {report.chunks_added / ingest_s:.1f} chunks/s")
        print(f"raw encode, ONNX engine, same chunks:             {len(texts) / encode_s:.1f} chunks/s")
        print(f"raw encode, sentence-transformers, {len(sample)} chunks:   {len(sample) / reference_s:.1f} chunks/s")

        questions = (QUESTIONS * (args.asks // len(QUESTIONS) + 1))[: args.asks]
        kb.ask(questions[0])
        ask_ms, search_ms, embed_ms = [], [], []
        for question in questions:
            started = time.perf_counter()
            kb.ask(question)
            ask_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            vector = kb.embedder.embed_queries([question])[0]
            embed_ms.append((time.perf_counter() - started) * 1000)
            kb.store.for_language("en").query(vector, settings.dense_candidates)
            search_ms.append((time.perf_counter() - started) * 1000)
        print(f"warm ask latency: p50 {percentile(ask_ms, .5):.0f} ms, p95 {percentile(ask_ms, .95):.0f} ms "
              f"({len(ask_ms)} asks, {len(chunks)} chunks in the store)")
        print(f"  query embedding alone: p50 {percentile(embed_ms, .5):.1f} ms, p95 {percentile(embed_ms, .95):.1f} ms")
        print(f"  query embedding + Chroma search: p50 {percentile(search_ms, .5):.1f} ms, "
              f"p95 {percentile(search_ms, .95):.1f} ms")
        kb.close()
        print(f"peak RSS of this process (model, store, both engines): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

        env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(settings.data_dir)}
        # The console script's own code, plus a report of this process's memory high-water mark read
        # from /proc at exit (ru_maxrss of a child would include the parent's size at fork).
        cli = [sys.executable, "-c", CLI_WITH_HWM, "ask", "--json", QUESTIONS[1]]
        cold, child_rss = [], 0.0
        for _ in range(args.cold_runs):
            started = time.perf_counter()
            done = subprocess.run(cli, env=env, capture_output=True, text=True)
            cold.append(time.perf_counter() - started)
            assert done.returncode == 0 and json.loads(done.stdout)["answer"], done.stderr[-500:]
            child_rss = max(child_rss, float(done.stderr.rsplit("HWM_KB=", 1)[1].split()[0]) / 1024)
        print(f"cold start of `sme-advisor ask --json` (process start to answer): median "
              f"{statistics.median(cold):.2f} s, min {min(cold):.2f} s over {len(cold)} runs; peak RSS {child_rss:.0f} MiB")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sentence_transformers"], check=True)
        print(f"  for comparison, `import sentence_transformers` alone: {time.perf_counter() - started:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
