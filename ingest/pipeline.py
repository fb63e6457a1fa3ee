"""Files in, live chunks out: load → clean → chunk → embed → write, one document at a time.

Each document is written through `KnowledgeBase.write_document`, which switches a document's live
chunks in one catalog transaction, so a failure or a kill halfway never leaves half a document.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ingest.chunking import slugify
from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document
from ingest.prepare import prepare_document
from ingest.web import fetch_web_page, is_web_address
from knowledge.base import KnowledgeBase
from knowledge.catalog import now_iso
from knowledge.encoding import encode_document
from knowledge.types import SourceInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestProgress:
    doc_index: int
    doc_count: int
    path: str
    stage: str  # "reading", "embedding", "writing", "done", "failed", "unchanged"
    chunks_done: int = 0
    chunks_total: int = 0


@dataclass(slots=True)
class FailedFile:
    path: str
    error: str


@dataclass(slots=True)
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def merge(self, other: IngestReport) -> IngestReport:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        return self

    def to_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[IngestProgress], None]


def expand_paths(paths: Sequence[Path], report: IngestReport) -> list[Path]:
    """Files as given, and the supported files inside folders (recursively, hidden ones skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    if child.suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append(child)
                    else:
                        report.failed.append(FailedFile(str(child), f"unsupported file type {child.suffix!r}"))
        elif path.is_file():
            files.append(path)
        else:
            report.failed.append(FailedFile(str(path), "no such file or folder"))
    return files


def ingest_paths(kb: KnowledgeBase, paths: Sequence[Path | str], topics: Sequence[str] = (),
                 on_progress: ProgressCallback | None = None, force: bool = False) -> IngestReport:
    """Files, folders and web addresses (`https://…`, given as str) into the library."""
    report = IngestReport()
    urls = [str(p) for p in paths if isinstance(p, str) and is_web_address(p)]
    files = expand_paths([Path(p) for p in paths if not (isinstance(p, str) and is_web_address(p))], report)
    with tempfile.TemporaryDirectory(prefix="sme-advisor-web-") as download_dir:
        origins: dict[Path, str] = {}
        for url in urls:
            try:
                page = fetch_web_page(url, Path(download_dir) / str(len(origins)))
            except LoadError as error:
                report.failed.append(FailedFile(url, str(error)))
                continue
            origins[page] = url
            files.append(page)
        _ingest_files(kb, files, origins, list(topics), report, on_progress, force)
    return report


def _ingest_files(kb: KnowledgeBase, files: list[Path], origins: dict[Path, str], topics: list[str],
                  report: IngestReport, on_progress: ProgressCallback | None, force: bool) -> None:
    claimed: dict[str, Path] = {}
    for index, path in enumerate(files):
        notify = _notifier(on_progress, index, len(files), path)
        doc_id = slugify(path.stem)
        if doc_id in claimed and claimed[doc_id] != path:
            report.failed.append(FailedFile(str(path), f"same document id {doc_id!r} as {claimed[doc_id]}; rename one"))
            notify("failed")
            continue
        claimed[doc_id] = path
        origin = origins.get(path)
        try:
            _ingest_one(kb, path, doc_id, list(topics), report, notify, force, origin)
        except LoadError as error:
            report.failed.append(FailedFile(origin or str(path), str(error)))
            notify("failed")
        except Exception as error:  # one broken file must not stop the others
            log.exception("ingesting %s failed", origin or path)
            report.failed.append(FailedFile(origin or str(path), f"unexpected error: {type(error).__name__}: {error}"))
            notify("failed")


def _notifier(callback: ProgressCallback | None, index: int, count: int, path: Path) -> Callable[..., None]:
    def notify(stage: str, done: int = 0, total: int = 0) -> None:
        if callback is not None:
            callback(IngestProgress(index, count, str(path), stage, done, total))

    return notify


def _ingest_one(kb: KnowledgeBase, path: Path, doc_id: str, topics: list[str], report: IngestReport,
                notify: Callable[..., None], force: bool, origin: str | None = None) -> None:
    notify("reading")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    existing = kb.source(doc_id)
    merged_topics = sorted(set(topics) | set(existing.topics if existing else ()))
    if existing is not None and existing.sha256 == sha256 and not force:
        if set(merged_topics) != set(existing.topics):
            kb.catalog.set_topics(doc_id, merged_topics)
        report.unchanged.append(doc_id)
        notify("unchanged")
        return
    settings = kb.settings
    prepared = prepare_document(load_document(path), doc_id, path.stem, sha256, kb.embedder.count_tokens,
                                settings.chunk_max_tokens, settings.chunk_overlap_sentences)
    title, chunks = prepared.title, prepared.chunks
    merged_topics = sorted(set(merged_topics) | set(prepared.topics))
    vectors, sentences = encode_document(kb.embedders, chunks, lambda done, total: notify("embedding", done, total))
    notify("writing", len(chunks), len(chunks))
    kept = _keep_copy(kb, path, doc_id)
    # A fetched page is known by its web address, a file by its absolute path.
    source = SourceInfo(doc_id, title, origin or str(path.resolve()), len(chunks), sha256, tuple(merged_topics),
                        now_iso())
    removed = kb.write_document(source, chunks, vectors, sentences)
    (report.updated if existing is not None else report.added).append(doc_id)
    report.chunks_added += len(chunks)
    report.chunks_removed += removed
    log.info("ingested %s (%d chunks, copy at %s)", doc_id, len(chunks), kept)
    notify("done", len(chunks), len(chunks))


def _keep_copy(kb: KnowledgeBase, path: Path, doc_id: str) -> Path:
    """A copy in the data dir lets `reindex` rebuild the library when the originals are gone."""
    folder = kb.settings.data_dir / "files"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{doc_id}.*"):
        if old.suffix.lower() != path.suffix.lower():
            old.unlink(missing_ok=True)
    target = folder / f"{doc_id}{path.suffix.lower()}"
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    return target
