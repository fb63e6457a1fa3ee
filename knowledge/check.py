"""`sme-advisor check`: does the catalog agree with Chroma and the keyword index, and repairs.

The catalog is the record of what is live. Every live chunk should have one vector, in the
collection of the model that reads its language; every vector should be a live chunk's; the
keyword index should hold exactly the live chunks. The check runs under the write lock, so it sees
no write half-done; what it finds otherwise was left by a crash or by an older version (a killed
reindex used to leave chunks without vectors).
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from knowledge.base import KnowledgeBase
from knowledge.encoding import encode_document
from knowledge.store import library_collections, passage_language
from sme_advisor.i18n import plural

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class CheckReport:
    documents: int = 0
    chunks: int = 0
    vectors: int = 0
    keyword_entries: int = 0
    collections: dict[str, int] = field(default_factory=dict)  # live collection -> vectors
    missing_vectors: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> live chunks without one
    orphan_vectors: list[str] = field(default_factory=list)  # vectors of no live chunk, or in the wrong collection
    keyword_missing: list[str] = field(default_factory=list)
    keyword_extra: list[str] = field(default_factory=list)
    chunk_counts: list[str] = field(default_factory=list)  # documents whose recorded chunk count is wrong
    unfinished_writes: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    unused_collections: list[str] = field(default_factory=list)
    unfinished_reindex: bool = False
    repaired: list[str] = field(default_factory=list)  # what --repair did

    @property
    def missing_count(self) -> int:
        return sum(len(ids) for ids in self.missing_vectors.values())

    @property
    def problems(self) -> list[str]:
        found = []
        if self.missing_vectors:
            found.append(f"without a vector (vector search cannot find them): {plural(self.missing_count, 'chunk')} "
                         f"of {plural(len(self.missing_vectors), 'document')}: "
                         f"{', '.join(sorted(self.missing_vectors)[:10])}")
        if self.orphan_vectors:
            found.append(f"of no live chunk (or in the other model's collection): "
                         f"{plural(len(self.orphan_vectors), 'vector')}")
        if self.keyword_missing or self.keyword_extra:
            found.append(f"the keyword index lacks {plural(len(self.keyword_missing), 'live chunk')} and holds "
                         f"{len(self.keyword_extra)} others")
        if self.chunk_counts:
            found.append(f"a wrong chunk count recorded: {plural(len(self.chunk_counts), 'document')}: "
                         f"{', '.join(self.chunk_counts[:10])}")
        if self.unfinished_writes:
            found.append(f"not cleaned up after processes that died: {plural(len(self.unfinished_writes), 'write')}")
        if self.unused_collections or self.unfinished_reindex:
            found.append("an interrupted reindex left " + (", ".join(self.unused_collections) or "its staging files"))
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "problems": self.problems}


def check_library(kb: KnowledgeBase) -> CheckReport:
    with kb.writing("check"):
        return _check(kb)


def _check(kb: KnowledgeBase) -> CheckReport:
    report = CheckReport(documents=kb.catalog.document_count())
    chunks = list(kb.catalog.iter_chunks())
    report.chunks = len(chunks)
    stored = {model: set(store.all_ids()) for model, store in kb.store.stores.items()}
    report.collections = {kb.store.stores[model].name: len(ids) for model, ids in stored.items()}
    report.vectors = sum(len(ids) for ids in stored.values())
    expected: dict[str, set[str]] = {model: set() for model in stored}
    for chunk in chunks:
        model = kb.store.models[passage_language(chunk.text)]
        expected[model].add(chunk.chunk_id)
        if chunk.chunk_id not in stored[model]:
            report.missing_vectors.setdefault(chunk.doc_id, []).append(chunk.chunk_id)
    report.orphan_vectors = sorted(cid for model, ids in stored.items() for cid in ids - expected[model])
    live = {c.chunk_id for c in chunks}
    keyword_ids = set(kb.keywords.get().chunk_ids)
    report.keyword_entries = len(keyword_ids)
    report.keyword_missing = sorted(live - keyword_ids)
    report.keyword_extra = sorted(keyword_ids - live)
    per_document: dict[str, int] = {}
    for chunk in chunks:
        per_document[chunk.doc_id] = per_document.get(chunk.doc_id, 0) + 1
    report.chunk_counts = [s.doc_id for s in kb.sources() if s.chunks != per_document.get(s.doc_id, 0)]
    report.unfinished_writes = kb.catalog.pending_owners()  # under the lock: their writers are gone
    active = set(kb.store.names().values()) | set(kb.catalog.collections().values())
    report.unused_collections = sorted(set(library_collections(kb.settings, kb.store.client)) - active
                                       - _configured_but_unswitched(kb))
    report.unfinished_reindex = (kb.catalog.get_meta("reindex") is not None
                                 or (kb.settings.data_dir / "reindex").exists())
    return report


def _configured_but_unswitched(kb: KnowledgeBase) -> set[str]:
    """Before any reindex switched the library, collections under the configured names are kept
    even when no configured model reads them (a model configuration changed back and forth)."""
    from knowledge.store import is_generation_name

    if kb.catalog.collections():
        return set()
    return {n for n in library_collections(kb.settings, kb.store.client) if not is_generation_name(n)}


def repair_library(kb: KnowledgeBase, on_progress: Progress | None = None) -> CheckReport:
    """Checks, repairs what it found, and checks again; the returned report says what was done
    (`repaired`) and what is still wrong."""
    with kb.writing("repair"):
        found = _check(kb)
        done: list[str] = []
        if found.unfinished_writes or found.unused_collections or found.unfinished_reindex:
            kb.recover()  # holding the lock already: every unfinished write is a dead one's
            done.append("cleaned up after interrupted writes and reindexes")
        if found.orphan_vectors:
            for store in kb.store.stores.values():
                store.delete(found.orphan_vectors)
            done.append(f"removed {plural(len(found.orphan_vectors), 'vector')} of no live chunk")
        if found.missing_vectors:
            total = 0
            for doc_id in found.missing_vectors:
                total += repair_vectors(kb, doc_id, on_progress)
            done.append(f"embedded {plural(total, 'chunk')} again")
        if found.keyword_missing or found.keyword_extra:
            shutil.rmtree(kb.settings.data_dir / "bm25", ignore_errors=True)
            kb.keywords.invalidate()
            done.append("rebuilt the keyword index")
        if found.chunk_counts:
            kb.catalog.recount_chunks()
            done.append(f"corrected the chunk count of {plural(len(found.chunk_counts), 'document')}")
        kb.catalog.bump_vectors()
        kb.refresh(force=True)
        after = _check(kb)
    after.repaired = done
    return after


def documents_missing_vectors(kb: KnowledgeBase, doc_ids: list[str]) -> dict[str, list[str]]:
    """Of `doc_ids`, those with live chunks that have no vector, and those chunks: a few lookups
    for many documents (an unchanged re-ingest checks every document it passes)."""
    by_document = kb.catalog.chunk_ids_by_document(doc_ids)
    present = kb.store.present([cid for ids in by_document.values() for cid in ids])
    found = {doc_id: [cid for cid in ids if cid not in present] for doc_id, ids in by_document.items()}
    return {doc_id: ids for doc_id, ids in found.items() if ids}


def repair_vectors(kb: KnowledgeBase, doc_id: str, on_progress: Progress | None = None) -> int:
    """Embeds again the document's live chunks that have no vector; returns how many it did."""
    missing = kb.missing_vectors(doc_id)
    if not missing:
        return 0
    chunks = list(kb.catalog.chunks(missing).values())
    vectors, sentences = encode_document(kb.embedders, chunks, on_progress)
    kb.add_vectors(chunks, vectors, sentences)
    return len(chunks)
