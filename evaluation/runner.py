"""Runs a question set through one open knowledge base (the model loads once for the run)."""

from __future__ import annotations

import hashlib
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from evaluation.dataset import EvalItem, ItemError
from evaluation.scoring import score_item, summarize
from knowledge import refusal
from knowledge.language import LANGUAGES

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.types import SourceInfo


def run(kb: KnowledgeBase, items: Sequence[EvalItem], k: int,
        on_item: Callable[[int, EvalItem], None] | None = None) -> list[dict[str, Any]]:
    records = []
    library = {source.doc_id for source in kb.sources()}
    for index, item in enumerate(items):
        if on_item is not None:
            on_item(index, item)
        answer = kb.ask(item.question, history=list(item.history))
        records.append(score_item(item, answer, k, kb.chunk, library))
    return records


def build_report(records: list[dict[str, Any]], *, k: int, question_set: str, split: str | None,
                 load_errors: Sequence[ItemError], kb: KnowledgeBase, wall_s: float) -> dict[str, Any]:
    summary = summarize(records)
    summary["k"] = k
    sources = kb.sources()
    settings = kb.settings
    return {
        "run": {
            "question_set": question_set,
            "split": split,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_s": round(wall_s, 2),
            "code_version": code_version(),
            # What a comparison needs to tell "the code changed" from "the library changed".
            "library": {"documents": len(sources), "chunks": sum(s.chunks for s in sources),
                        "version": kb.catalog.version(), "fingerprint": library_fingerprint(sources),
                        "doc_ids": sorted(s.doc_id for s in sources)},
            "settings": {name: getattr(settings, name) for name in COMPARED_SETTINGS},
            "warnings": unknown_source_warnings(records, sources),
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


# Settings that change answers, recorded in every report so that two runs can be set side by side.
COMPARED_SETTINGS = ("embedding_engine", "llm_model", "retrieval_top_k", "dense_candidates", "keyword_candidates",
                     "max_chunks_per_doc", "answer_max_sentences", "chunk_max_tokens", "cross_language")


def library_fingerprint(sources: Sequence[SourceInfo]) -> str:
    """Equal for two libraries holding the same documents with the same contents, wherever they live."""
    digest = hashlib.sha256("\n".join(sorted(f"{s.doc_id}:{s.sha256}" for s in sources)).encode("utf-8"))
    return digest.hexdigest()[:12]


def unknown_source_warnings(records: Sequence[dict[str, Any]], sources: Sequence[SourceInfo]) -> list[str]:
    """One line per expected source the library does not hold, with the id it probably meant."""
    from sme_advisor.doc_ids import suggestions

    warnings = []
    for record in records:
        for doc_id in record.get("unknown_sources") or []:
            close = suggestions(doc_id, sources, limit=1)
            hint = f" (did you mean {close[0].doc_id!r}?)" if close else ""
            warnings.append(f"item {record['id']}: expected source {doc_id!r} is not in the library{hint}")
    return warnings


def code_version() -> str | None:
    """The git commit of the code, when it runs from a checkout (else None)."""
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
