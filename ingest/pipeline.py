"""Files in, live chunks out: walk → identify → load → clean → chunk → embed → write, one document
at a time.

Each document is written through `KnowledgeBase.write_document`, which switches a document's live
chunks in one catalog transaction, so a failure or a kill halfway never leaves half a document.
Which document a file is (an update, a new id, a duplicate) is decided in `ingest.identity`;
which paths are read at all in `ingest.walking`; loading runs in a worker process with a time
limit (`ingest.worker`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence


from ingest.ahead import ReadAhead
from ingest.cleaning import LARGE_REMOVAL_SHARE, Cleaned
from ingest.document import Document
from ingest.identity import Identity, choose_identity, document_id_base, source_key
from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document, read_bytes
from ingest.prepare import prepare_document
from ingest.safety import MB, display_path
from ingest.walking import collect_files
from ingest.web import fetch_web_page, is_web_address
from ingest.worker import LoadTimeout, LoadWorker, WorkerDied
from knowledge.base import KnowledgeBase
from knowledge.catalog import now_iso
from knowledge.check import documents_missing_vectors, repair_vectors
from knowledge.encoding import encode_document
from knowledge.types import SourceInfo

log = logging.getLogger(__name__)
# About 1,500 pages of prose, and ten minutes of embedding on two cores: a longer text is refused
# with a message (split it) rather than left running for an hour.
MAX_TEXT_CHARS = 5_000_000
VERIFY_BATCH = 20_000  # unchanged documents whose vectors are looked up together
# Which documents get the web-boilerplate rules: ingest.prepare.CLEANING_MODES (by format).


@dataclass(frozen=True, slots=True)
class IngestProgress:
    doc_index: int
    doc_count: int
    path: str
    stage: str  # "reading", "embedding", "writing", "done", "failed", "unchanged", "duplicate"
    chunks_done: int = 0
    chunks_total: int = 0


@dataclass(slots=True)
class FailedFile:
    path: str
    error: str


@dataclass(slots=True)
class SkippedPath:
    path: str
    reason: str


@dataclass(slots=True)
class Duplicate:
    path: str
    doc_id: str  # the document already holding this content
    message: str


@dataclass(slots=True)
class Note:
    path: str
    doc_id: str
    message: str


@dataclass(slots=True)
class DocumentResult:
    doc_id: str
    path: str
    status: str  # "added" or "updated"
    chunks: int
    chars: int  # characters of cleaned text kept
    removed_chars: int
    removed: dict[str, int]  # kind of boilerplate -> characters
    web_capture: bool


@dataclass(slots=True)
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # unchanged documents whose chunks had lost vectors (e.g. to a reindex killed in an old
    # version): embedded again from the catalog; also listed as unchanged
    repaired: list[str] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # new ids chosen, replacements
    warnings: list[Note] = field(default_factory=list)  # e.g. cleaning removed a large share
    documents: list[DocumentResult] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    # Ctrl-C: what was done before it stays (each document switches in one transaction); these
    # were not read, the first of them perhaps halfway.
    interrupted: bool = False
    not_done: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def merge(self, other: IngestReport) -> IngestReport:
        for name in ("added", "updated", "unchanged", "repaired", "failed", "duplicates", "skipped", "notes", "warnings",
                     "documents", "not_done"):
            getattr(self, name).extend(getattr(other, name))
        self.interrupted |= other.interrupted
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[IngestProgress], None]


def expand_paths(paths: Sequence[Path], report: IngestReport) -> list[Path]:
    """Files as given, and the supported files inside folders; everything left out is reported."""
    walk = collect_files([Path(p) for p in paths], SUPPORTED_SUFFIXES)
    report.failed += [FailedFile(p.path, p.reason) for p in walk.failed]
    report.skipped += [SkippedPath(p.path, p.reason) for p in walk.skipped]
    return walk.files


def ingest_paths(kb: KnowledgeBase, paths: Sequence[Path | str], topics: Sequence[str] = (),
                 on_progress: ProgressCallback | None = None, force: bool = False, replace: bool = False,
                 known: Mapping[Path, SourceInfo] | None = None, isolate: bool = True) -> IngestReport:
    """Ingests files and folders. `force`: re-index unchanged files and add duplicates anyway;
    `replace`: a file replaces the document with its name's id even when it came from elsewhere;
    `known`: files that are kept copies of these documents (reindex keeps their ids and paths);
    `isolate=False` reads in this process (files shipped with the project need no time limit).
    Web addresses (`https://…`, given as str) are fetched first and known by their address."""
    report = IngestReport()
    urls = [str(p) for p in paths if isinstance(p, str) and is_web_address(p)]
    files = expand_paths([Path(p) for p in paths if not (isinstance(p, str) and is_web_address(p))], report)
    timeout = kb.settings.load_timeout_s
    max_bytes = int(kb.settings.max_file_mb * MB)
    with tempfile.TemporaryDirectory(prefix="sme-advisor-web-") as download_dir, \
            (LoadWorker(timeout) if timeout > 0 and isolate else nullcontext()) as worker, \
            ReadAhead(worker.load if worker is not None else load_document, max_bytes) as reader:
        origins: dict[Path, str] = {}
        for url in urls:
            try:
                page = fetch_web_page(url, Path(download_dir) / str(len(origins)))
            except LoadError as error:
                report.failed.append(FailedFile(url, str(error)))
                continue
            origins[page] = url
            files.append(page)
        unverified: list[tuple[str, str, Callable[..., None]]] = []  # unchanged: (doc_id, shown, notify)
        for index, path in enumerate(files):
            origin = origins.get(path)
            notify = _notifier(on_progress, index, len(files), path, origin)
            shown = origin or display_path(path)
            if len(unverified) >= VERIFY_BATCH:
                _verify_unchanged(kb, unverified, report)
            if index + 1 < len(files) and _needs_reading(kb, files[index + 1], origins.get(files[index + 1]),
                                                         force or bool(known), max_bytes):
                reader.ahead(files[index + 1])  # read in the worker while this one is embedded
            try:
                # One writer at a time per library, across processes: the identity of a file is
                # decided under the lock too, so two ingests never give two files one id.
                with kb.writing("ingest"):
                    if _ingest_one(kb, path, list(topics), report, notify, force, replace, reader.load,
                                   (known or {}).get(path), origin) == "unchanged":
                        unverified.append((report.unchanged[-1], shown, notify))
            except (LoadError, LoadTimeout, WorkerDied) as error:
                report.failed.append(FailedFile(shown, str(error)))
                notify("failed")
            except KeyboardInterrupt:
                # Ctrl-C: the documents finished so far are in the library; the caller says what was not.
                report.interrupted = True
                report.not_done = [origins.get(p) or display_path(p) for p in files[index:]]
                break
            except Exception as error:  # one broken file must not stop the others
                log.exception("ingesting %s failed", shown)
                report.failed.append(FailedFile(shown, f"unexpected error: {type(error).__name__}: {error}"))
                notify("failed")
        if not report.interrupted:
            _verify_unchanged(kb, unverified, report)
    return report


def _needs_reading(kb: KnowledgeBase, path: Path, origin: str | None, force: bool, max_bytes: int) -> bool:
    """Whether the file will be read: not when its content is that of the document from its path
    (the same test `_ingest_one` makes under the lock)."""
    if force:
        return True
    try:
        sha256 = hashlib.sha256(read_bytes(path, max_bytes)).hexdigest()
    except Exception:  # unreadable: reported when its turn comes
        return False
    existing = kb.catalog.document_from(origin or source_key(path))
    return existing is None or existing.sha256 != sha256


def _verify_unchanged(kb: KnowledgeBase, unverified: list[tuple[str, str, Callable[..., None]]],
                      report: IngestReport) -> None:
    """Unchanged documents whose chunks lost their vectors (e.g. to a reindex killed in an old
    version) are embedded again from the catalog. Looked up for many documents at once: one
    lookup per document made an unchanged re-ingest of a large library crawl."""
    if not unverified:
        return
    with kb.writing("repair"):
        missing = documents_missing_vectors(kb, [doc_id for doc_id, _, _ in unverified])
        for doc_id, shown, notify in unverified:
            if doc_id not in missing:
                continue
            try:
                if repair_vectors(kb, doc_id, lambda done, total: notify("embedding", done, total)):
                    report.repaired.append(doc_id)  # unchanged, but vector search could not find all of it
            except Exception as error:
                log.exception("embedding %s again failed", doc_id)
                report.failed.append(FailedFile(shown, f"could not embed its passages again: {error}"))
    unverified.clear()


def _notifier(callback: ProgressCallback | None, index: int, count: int, path: Path,
              origin: str | None = None) -> Callable[..., None]:
    def notify(stage: str, done: int = 0, total: int = 0) -> None:
        if callback is not None:
            callback(IngestProgress(index, count, origin or display_path(path), stage, done, total))

    return notify


def _ingest_one(kb: KnowledgeBase, path: Path, topics: list[str], report: IngestReport,
                notify: Callable[..., None], force: bool, replace: bool, load: Callable[[Path], Document],
                known: SourceInfo | None, origin: str | None = None) -> str:
    """Returns what became of the file: "unchanged", "duplicate", "added" or "updated"."""
    notify("reading")
    shown = origin or display_path(path)
    max_bytes = int(kb.settings.max_file_mb * MB)
    sha256 = hashlib.sha256(read_bytes(path, max_bytes)).hexdigest()
    if known is not None:
        identity = Identity(known.doc_id, existing=kb.source(known.doc_id))
    else:
        # Only the documents this file could be: listing the whole library for every file made
        # re-ingesting a library of thousands quadratic.
        candidates = kb.catalog.documents_like(origin or source_key(path), sha256, document_id_base(path)[:76])
        identity = choose_identity(path, sha256, candidates, replace=replace, force=force, key=origin)
    if identity.duplicate_of is not None:
        twin = identity.duplicate_of
        report.duplicates.append(Duplicate(shown, twin.doc_id, f"same content as {twin.doc_id} ({twin.path}); "
                                                               "skipped (use --force to add it anyway)"))
        notify("duplicate")
        return "duplicate"
    doc_id, existing = identity.doc_id, identity.existing
    merged_topics = sorted(set(topics) | set(existing.topics if existing else ()))
    if existing is not None and existing.sha256 == sha256 and not force:
        if set(merged_topics) != set(existing.topics):
            kb.catalog.set_topics(doc_id, merged_topics)
        report.unchanged.append(doc_id)  # its vectors are checked with others' (_verify_unchanged)
        notify("unchanged")
        return "unchanged"
    loaded: Document = load(path)
    chars = sum(len(block.statement()) + 2 for block in loaded.blocks)
    if chars > MAX_TEXT_CHARS:  # before cleaning and chunking, which take time per character
        raise LoadError(f"the document holds {chars / 1e6:.1f} million characters of text (the limit "
                        f"is {MAX_TEXT_CHARS / 1e6:g} million); split it into parts")
    settings = kb.settings
    # A fetched web page is cleaned as one, whatever its format says (a PDF keeps its own rules).
    mode = "web" if origin is not None and loaded.kind in ("html", "text", "markdown") else None
    prepared = prepare_document(loaded, doc_id, display_path(path.stem), sha256, kb.embedder.count_tokens,
                                settings.chunk_max_tokens, settings.chunk_overlap_sentences, mode)
    title, chunks, text, cleaned = prepared.title, prepared.chunks, prepared.text, prepared.cleaned
    merged_topics = sorted(set(merged_topics) | set(prepared.topics))
    vectors, sentences = encode_document(kb.embedders, chunks, lambda done, total: notify("embedding", done, total))
    notify("writing", len(chunks), len(chunks))
    kept = _keep_copy(kb, path, doc_id)
    # A fetched page is known by its web address, a file by its absolute path.
    stored_path = known.path if known is not None else origin or source_key(path)
    source = SourceInfo(doc_id, title, stored_path, len(chunks), sha256, tuple(merged_topics), now_iso())
    removed = kb.write_document(source, chunks, vectors, sentences)
    _record_cleaning(kb, doc_id, cleaned)
    status = "updated" if existing is not None else "added"
    (report.updated if existing is not None else report.added).append(doc_id)
    report.documents.append(DocumentResult(doc_id, shown, status, len(chunks), len(text), cleaned.removed_chars,
                                           cleaned.by_kind(), cleaned.web_capture))
    if identity.note:
        report.notes.append(Note(shown, doc_id, identity.note))
    if cleaned.removed_share > LARGE_REMOVAL_SHARE:
        report.warnings.append(Note(shown, doc_id, f"cleaning removed {cleaned.removed_share:.0%} of the text "
                                                   f"({cleaned.summary()}); check it with "
                                                   f"`sme-advisor sources show {doc_id}`"))
    report.chunks_added += len(chunks)
    report.chunks_removed += removed
    log.info("ingested %s (%d chunks, copy at %s)", doc_id, len(chunks), kept)
    notify("done", len(chunks), len(chunks))
    return status


def _record_cleaning(kb: KnowledgeBase, doc_id: str, cleaned: Cleaned) -> None:
    """What cleaning removed, for `sources show` (kept in the catalog's meta table)."""
    summary = {"web_capture": cleaned.web_capture, "original_chars": cleaned.original_chars,
               "removed": [{"kind": r.kind, "chars": r.chars, "excerpt": r.excerpt} for r in cleaned.removals]}
    kb.catalog.set_meta(f"cleaning:{doc_id}", json.dumps(summary, ensure_ascii=False))


def cleaning_record(kb: KnowledgeBase, doc_id: str) -> dict[str, Any] | None:
    value = kb.catalog.get_meta(f"cleaning:{doc_id}")
    return json.loads(value) if value else None


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
