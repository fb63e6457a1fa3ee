"""`reindex`: every vector rebuilt beside the live ones, then one switch.

The live library keeps answering while the new one is built: the documents are read again from
their kept copies into a staging catalog (`<data dir>/reindex/`) and new Chroma collections
(`<name>-g<N>`), under the library's write lock. Only when every document is in does one catalog
transaction (`Catalog.adopt`) make the staging chunks live and name the new collections; the old
ones are dropped after. A kill at any moment leaves the old library whole; the next start (or the
next reindex) drops what the killed one half-built (`KnowledgeBase.recover`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from typing import Callable, Mapping

from ingest.pipeline import IngestReport, Note, ProgressCallback, ingest_paths
from knowledge.base import KnowledgeBase, make_embedders
from knowledge.catalog import Catalog
from knowledge.embeddings import Embedder
from knowledge.encoding import encode_document
from knowledge.language import Language
from knowledge.locking import LibraryLock, owner_description
from knowledge.store import PassageStores, collection_names, drop_unused_collections, generation_name, _client
from knowledge.types import SourceInfo

log = logging.getLogger(__name__)


def reindex_library(settings, embedders: Mapping[Language, Embedder] | None = None,  # type: ignore[no-untyped-def]
                    on_progress: ProgressCallback | None = None,
                    on_wait: Callable[[str], None] | None = None) -> IngestReport:
    """Rebuilds every document's chunks and vectors; the library switches only when all are done."""
    embedders = dict(embedders or make_embedders(settings))
    lock = LibraryLock(settings.data_dir)

    def waiting(owner: dict | None) -> None:  # type: ignore[type-arg]
        if on_wait is not None:
            on_wait(f"waiting for {owner_description(owner)} to finish writing to the library")

    with lock.hold("reindex", on_wait=waiting):
        catalog = Catalog(settings.catalog_path)
        client = _client(settings)
        try:
            _clean_up_earlier_attempt(settings, catalog, client)
            generation = int(catalog.get_meta("collection_generation") or 0) + 1
            catalog.set_meta("collection_generation", str(generation))
            target = {logical: generation_name(logical, generation) for logical in collection_names(settings).values()}
            # Written before the first vector, so a kill is recognised and cleaned up afterwards.
            catalog.set_meta("reindex", json.dumps({"collections": target, "pid": os.getpid(),
                                                    "host": socket.gethostname()}))
            report = _build(settings, catalog, embedders, target, on_progress)
            if report.interrupted:
                _abandon(settings, catalog, client, target)
                return report
            catalog.adopt(settings.data_dir / "reindex" / "catalog.sqlite3", target)
            # Readers see the new generation and reopen; a search still on an old collection is
            # retried once on the new ones (KnowledgeBase.retrieve).
            drop_unused_collections(settings, client, set(target.values()), switched=True)
            shutil.rmtree(settings.data_dir / "reindex", ignore_errors=True)
            return report
        finally:
            if hasattr(client, "close"):
                client.close()
            catalog.close()


def _build(settings, catalog: Catalog, embedders: dict[Language, Embedder], target: dict[str, str],  # type: ignore[no-untyped-def]
           on_progress: ProgressCallback | None) -> IngestReport:
    staging_dir = settings.data_dir / "reindex"
    staging_dir.mkdir(parents=True)
    staging_settings = settings.model_copy(update={"data_dir": staging_dir, "models_dir_override": settings.models_dir})
    store = PassageStores(settings, {lang: e.model_id for lang, e in embedders.items()}, target)
    staging = KnowledgeBase(staging_settings, Catalog(staging_dir / "catalog.sqlite3"), store, embedders,
                            recover=False)
    report = IngestReport()
    try:
        for source in catalog.documents():
            copies = sorted((settings.data_dir / "files").glob(f"{source.doc_id}.*"))
            part = IngestReport()
            if copies:
                part = ingest_paths(staging, copies[:1], topics=source.topics, on_progress=on_progress, force=True,
                                    known={copies[0]: source})
                if part.interrupted:
                    report.merge(part)
                    break
            if not copies or part.failed:
                # Kept in the library as it is: its stored chunks get the new vectors.
                reason = part.failed[0].error if part.failed else "no kept copy"
                _copy_document(staging, catalog, source)
                report.notes.append(Note(source.path, source.doc_id, f"{reason}; its stored passages were "
                                                                     "embedded again as they are"))
                part.failed = []
                part.unchanged.append(source.doc_id)
            part.updated, part.added = part.updated + part.added, []  # every document was in the library already
            report.merge(part)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        staging.close()
    return report


def _copy_document(staging: KnowledgeBase, catalog: Catalog, source: SourceInfo) -> None:
    chunks = sorted(catalog.chunks(catalog.chunk_ids_of(source.doc_id)).values(), key=lambda c: c.position)
    vectors, sentences = encode_document(staging.embedders, chunks)
    staging.write_document(source, chunks, vectors, sentences)


def _abandon(settings, catalog: Catalog, client, target: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C: the live library was never touched; what was built goes."""
    names = {c.name if hasattr(c, "name") else c for c in client.list_collections()}
    for name in target.values():
        if name in names:
            client.delete_collection(name)
    catalog.delete_meta("reindex")
    shutil.rmtree(settings.data_dir / "reindex", ignore_errors=True)


def _clean_up_earlier_attempt(settings, catalog: Catalog, client) -> None:  # type: ignore[no-untyped-def]
    switched = catalog.collections()
    active = set(switched.values()) or set(collection_names(settings).values())
    dropped = drop_unused_collections(settings, client, active, switched=bool(switched))
    if dropped or catalog.get_meta("reindex") is not None:
        log.warning("an earlier reindex did not finish; its collections were removed: %s", ", ".join(dropped))
    catalog.delete_meta("reindex")
    shutil.rmtree(settings.data_dir / "reindex", ignore_errors=True)

