"""The Chroma vector store: embedded `PersistentClient` by default, `HttpClient` for a server.

Chroma holds vectors (and a copy of each chunk's text for other Chroma tools); the SQLite catalog
is the record of which chunks are live. Embeddings are always passed in: Chroma's default embedding
function would try to download a model.

Several processes may use one embedded store (the bot, an admin's CLI). Chroma's embedded client
keeps each collection's HNSW index in memory and never rereads what another process wrote: its
searches miss new vectors and return deleted ones ("Error finding id"). So `PassageStores` keeps
one client per library and `reopen()`s it when the catalog's generation moves (knowledge/base.py);
closing the only client stops Chroma's shared system, and the next one reads the files afresh.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from knowledge.language import Language, detect
from knowledge.types import Chunk

if TYPE_CHECKING:
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)
_WRITE_BATCH = 500
# Chroma's default search breadth (100) lets near-duplicate vectors (a disclaimer repeated in every
# report of a series) crowd real neighbours out of the HNSW graph walk; 200 keeps them found
# (tests/test_ingest.py) for a fraction of a millisecond more per search.
EF_SEARCH = 200


class StoreMismatch(RuntimeError):
    """The store was built with another embedding model; its vectors are not comparable."""


@dataclass(frozen=True, slots=True)
class DenseHit:
    chunk_id: str
    similarity: float


def _client(settings: Settings):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class VectorStore:
    def __init__(self, settings: Settings, model_id: str, name: str | None = None, client=None) -> None:  # type: ignore[no-untyped-def]
        self.client = client if client is not None else _client(settings)
        name = name or settings.chroma_collection
        self.name = name
        self.model_id = model_id
        if len(name) < 3:
            raise ValueError("CHROMA_COLLECTION needs at least 3 characters")
        self.collection = self.client.get_or_create_collection(
            name=name,
            configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
            metadata={"embedding_model": model_id},
            embedding_function=None,
        )
        stored_model = (self.collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != model_id:
            raise StoreMismatch(
                f"the vector store {name!r} was built with embedding model {stored_model!r}, "
                f"but {model_id!r} is configured: run `sme-advisor reindex` to rebuild it"
            )
        self._widen_search()

    def _widen_search(self) -> None:
        """Collections made before EF_SEARCH was set keep Chroma's default until told otherwise."""
        hnsw = (self.collection.configuration_json or {}).get("hnsw") or {}
        if (hnsw.get("ef_search") or 0) < EF_SEARCH:
            self.collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})

    def count(self) -> int:
        return self.collection.count()

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
        for start in range(0, len(chunks), _WRITE_BATCH):
            batch = chunks[start : start + _WRITE_BATCH]
            self.collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=[np.asarray(v).tolist() for v in vectors[start : start + len(batch)]],
                documents=[c.text for c in batch],
                metadatas=[{"doc_id": c.doc_id, "title": c.title, "position": c.position,
                            "start": c.start, "end": c.end} for c in batch],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        ids = list(chunk_ids)
        for start in range(0, len(ids), _WRITE_BATCH):
            self.collection.delete(ids=ids[start : start + _WRITE_BATCH])

    def ids_of_document(self, doc_id: str) -> list[str]:
        """Every vector of a document, including ones no catalog row knows (after a crash)."""
        return list(self.collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def all_ids(self) -> list[str]:
        return list(self.collection.get(include=[])["ids"])

    def present(self, chunk_ids: Sequence[str]) -> set[str]:
        """Which of `chunk_ids` have a vector here: looked up by id (cheaper than by document),
        or for many ids from one listing of the collection (Chroma looks up ~0.15 ms an id)."""
        ids = list(chunk_ids)
        if len(ids) * 20 > self.count():
            return set(self.all_ids()).intersection(ids)
        found: set[str] = set()
        for start in range(0, len(ids), _WRITE_BATCH):
            found.update(self.collection.get(ids=ids[start : start + _WRITE_BATCH], include=[])["ids"])
        return found

    def query(self, vector: np.ndarray, n: int) -> list[DenseHit]:
        if n <= 0:
            return []
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result.get("distances") else []
        return [DenseHit(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(ids, distances)]

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not chunk_ids:
            return {}
        result = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(result["ids"], result["embeddings"])}

def collection_names(settings: Settings) -> dict[str, str]:
    """Collection name per embedding model: the English (default) model keeps the configured name,
    so stores built before the Chinese model existed stay valid; another model gets a suffix."""
    names = {settings.embedding_model: settings.chroma_collection}
    if settings.embedding_model_zh != settings.embedding_model:
        names[settings.embedding_model_zh] = f"{settings.chroma_collection}_zh"
    return names


@lru_cache(maxsize=8192)  # asked of the same candidate passages many times per answer (profiled)
def passage_language(text: str) -> Language:
    """Which model reads a passage: mixed text goes to the Chinese (multilingual) one."""
    return "en" if detect(text) == "en" else "zh"


_GENERATION = re.compile(r"-g\d+$")


def generation_name(logical: str, generation: int) -> str:
    """The Chroma collection a reindex builds beside `logical`'s current one."""
    return f"{logical}-g{generation}"


def is_generation_name(name: str) -> bool:
    return _GENERATION.search(name) is not None


def library_collections(settings: Settings, client) -> list[str]:  # type: ignore[no-untyped-def]
    """Every Chroma collection of this library: the configured names and their reindex generations
    (a server may hold other libraries' collections; those are never touched)."""
    logical = set(collection_names(settings).values()) | {settings.chroma_collection, f"{settings.chroma_collection}_zh"}
    names = [c.name if hasattr(c, "name") else c for c in client.list_collections()]
    return [n for n in names if n in logical or _GENERATION.sub("", n) in logical]


def drop_unused_collections(settings: Settings, client, active: set[str], switched: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """Drops our collections that `active` does not name: a killed reindex's half-built ones, and
    once a reindex has switched the library to its own (`switched`), the ones it replaced. Before
    any switch the configured names are kept whatever model is configured now."""
    unused = [n for n in library_collections(settings, client)
              if n not in active and (switched or is_generation_name(n))]
    for name in unused:
        client.delete_collection(name)
        log.info("removed the unused vector collection %s (an interrupted reindex)", name)
    return unused


class _Gate:
    """Searches and writes share the client; only `reopen` needs it to itself (closing a client
    under a running search would fail that search)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._users = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._users += 1
        try:
            yield
        finally:
            with self._condition:
                self._users -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: self._users == 0)
            yield


class PassageStores:
    """One Chroma collection per embedding model; each passage lives in the collection of the model
    that reads its language. Offers VectorStore's interface over all of them. `physical` maps a
    configured collection name to the collection holding it now (the catalog's, after a reindex)."""

    def __init__(self, settings: Settings, models: dict[Language, str], physical: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.models = dict(models)
        self.gate = _Gate()
        self.client = None
        self.stores: dict[str, VectorStore] = {}
        self._open(physical or {})

    def _open(self, physical: dict[str, str]) -> None:
        names = collection_names(self.settings)
        self.client = _client(self.settings)
        self.stores = {model: VectorStore(self.settings, model, physical.get(names[model], names[model]), self.client)
                       for model in dict.fromkeys(self.models.values())}

    def reopen(self, physical: dict[str, str]) -> None:
        """Drops every cached view of Chroma and opens the (possibly new) collections afresh."""
        with self.gate.exclusive():
            self.close()
            self._open(physical)

    def close(self) -> None:
        if self.client is not None and hasattr(self.client, "close"):
            self.client.close()
        self.client = None

    def names(self) -> dict[str, str]:
        """Model -> the Chroma collection it reads now."""
        return {model: store.name for model, store in self.stores.items()}

    def for_language(self, language: Language) -> VectorStore:
        return self.stores[self.models[language]]

    def count(self) -> int:
        return sum(store.count() for store in self.stores.values())

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
        groups: dict[str, tuple[list[Chunk], list[np.ndarray]]] = {}
        for chunk, vector in zip(chunks, vectors):
            group = groups.setdefault(self.models[passage_language(chunk.text)], ([], []))
            group[0].append(chunk)
            group[1].append(vector)
        for model, (group_chunks, group_vectors) in groups.items():
            self.stores[model].upsert(group_chunks, group_vectors)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for store in self.stores.values():
            store.delete(chunk_ids)

    def ids_of_document(self, doc_id: str) -> list[str]:
        return [cid for store in self.stores.values() for cid in store.ids_of_document(doc_id)]

    def all_ids(self) -> list[str]:
        return [cid for store in self.stores.values() for cid in store.all_ids()]

    def present(self, chunk_ids: Sequence[str]) -> set[str]:
        return set().union(*(store.present(chunk_ids) for store in self.stores.values()))
