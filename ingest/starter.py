"""The starter library shipped with the project, ingested on first use of a new library
(`AUTO_INGEST_STARTER`), or on request (`sme-advisor ingest --starter`)."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.pipeline import IngestReport, ProgressCallback, ingest_paths
from knowledge.base import KnowledgeBase
from knowledge.language import Language, primary

STARTER_DIR = Path(__file__).parent / "starter_library"


def starter_files(language: Language | None = None) -> list[Path]:
    """The shipped articles; with `language`, those written in it (the English ones make the
    English-only library that Chinese owners' questions are measured over)."""
    files = sorted(STARTER_DIR.glob("*.txt"))
    if language is None:
        return files
    return [path for path in files if primary(path.read_text(encoding="utf-8")) == language]


def starter_topics() -> dict[str, list[str]]:
    return json.loads((STARTER_DIR / "topics.json").read_text(encoding="utf-8"))


def ingest_starter(kb: KnowledgeBase, on_progress: ProgressCallback | None = None) -> IngestReport:
    topics = starter_topics()
    report = IngestReport()
    for path in starter_files():
        # Shipped with the project: read in-process, without the worker that guards admins' files.
        report.merge(ingest_paths(kb, [path], topics=topics.get(path.stem, ()), on_progress=on_progress,
                                  isolate=False))
        if report.interrupted:
            break
    return report


def is_first_use(kb: KnowledgeBase) -> bool:
    """True for a library that has never held a document. One an admin emptied is not: its catalog
    has counted changes (`library_version`), and it stays empty until someone adds documents."""
    return kb.is_empty() and kb.catalog.version() == 0


def ensure_library(kb: KnowledgeBase, on_progress: ProgressCallback | None = None) -> IngestReport | None:
    """Ingests the starter library on first use (when AUTO_INGEST_STARTER allows it)."""
    if not kb.settings.auto_ingest_starter or not is_first_use(kb):
        return None
    return ingest_starter(kb, on_progress)
