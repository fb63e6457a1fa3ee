"""Runs a question set through one open knowledge base (the model loads once for the run)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from evaluation.dataset import EvalItem, ItemError
from evaluation.scoring import score_item, summarize
from knowledge import refusal
from knowledge.language import LANGUAGES

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


def run(kb: KnowledgeBase, items: Sequence[EvalItem], k: int,
        on_item: Callable[[int, EvalItem], None] | None = None) -> list[dict[str, Any]]:
    records = []
    for index, item in enumerate(items):
        if on_item is not None:
            on_item(index, item)
        answer = kb.ask(item.question, history=list(item.history))
        records.append(score_item(item, answer, k, kb.chunk))
    return records


def build_report(records: list[dict[str, Any]], *, k: int, question_set: str, split: str | None,
                 load_errors: Sequence[ItemError], kb: KnowledgeBase, wall_s: float) -> dict[str, Any]:
    summary = summarize(records)
    summary["k"] = k
    sources = kb.sources()
    return {
        "run": {
            "question_set": question_set,
            "split": split,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_s": round(wall_s, 2),
            "library": {"documents": len(sources), "chunks": sum(s.chunks for s in sources)},
            "embedding_model": kb.settings.embedding_model,
            "embedding_model_zh": kb.settings.embedding_model_zh,
            "llm_provider": kb.settings.llm_provider,
            "min_relevance": {f"{model}:{lang}": refusal.calibration(kb.settings, model, lang).threshold
                              for model in dict.fromkeys(e.model_id for e in kb.embedders.values())
                              for lang in LANGUAGES},
            "load_errors": [str(error) for error in load_errors],
        },
        "summary": summary,
        "items": records,
    }


def timed_run(kb: KnowledgeBase, items: Sequence[EvalItem], k: int,
              on_item: Callable[[int, EvalItem], None] | None = None) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    records = run(kb, items, k, on_item)
    return records, time.perf_counter() - started
