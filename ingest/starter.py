"""The starter library shipped with the project, ingested on first use of an empty store."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.pipeline import IngestReport, ProgressCallback, ingest_paths
from knowledge.base import KnowledgeBase

STARTER_DIR = Path(__file__).parent / "starter_library"


def starter_files() -> list[Path]:
    return sorted(STARTER_DIR.glob("*.txt"))


def starter_topics() -> dict[str, list[str]]:
    return json.loads((STARTER_DIR / "topics.json").read_text(encoding="utf-8"))


def ingest_starter(kb: KnowledgeBase, on_progress: ProgressCallback | None = None) -> IngestReport:
    topics = starter_topics()
    report = IngestReport()
    for path in starter_files():
        # Shipped with the project: read in-process, without the worker that guards admins' files.
        report.merge(ingest_paths(kb, [path], topics=topics.get(path.stem, ()), on_progress=on_progress,
                                  isolate=False))
    return report


def ensure_library(kb: KnowledgeBase, on_progress: ProgressCallback | None = None) -> IngestReport | None:
    """Ingests the starter library when the store is empty (and the setting allows it)."""
    if not kb.is_empty() or not kb.settings.auto_ingest_starter:
        return None
    return ingest_starter(kb, on_progress)
