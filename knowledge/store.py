"""The Chroma vector store: embedded `PersistentClient` by default, `HttpClient` for a server.

Chroma holds vectors (and a copy of each chunk's text for other Chroma tools); the SQLite catalog
is the record of which chunks are live. Embeddings are always passed in: Chroma's default embedding
function would try to download a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

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
    def __init__(self, settings: Settings, model_id: str, name: str | None = None) -> None:
        self.client = _client(settings)
        name = name or settings.chroma_collection
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

    @staticmethod
    def drop_collection(settings: Settings) -> None:
        """Drops every collection of the library (one per embedding model)."""
        client = _client(settings)
        existing = {c.name if hasattr(c, "name") else c for c in client.list_collections()}
        # Both names, whatever is configured now: a switch between one and two models leaves none behind.
        for name in (settings.chroma_collection, f"{settings.chroma_collection}_zh"):
            if name in existing:
                client.delete_collection(name)


def collection_names(settings: Settings) -> dict[str, str]:
    """Collection name per embedding model: the English (default) model keeps the configured name,
    so stores built before the Chinese model existed stay valid; another model gets a suffix."""
    names = {settings.embedding_model: settings.chroma_collection}
    if settings.embedding_model_zh != settings.embedding_model:
        names[settings.embedding_model_zh] = f"{settings.chroma_collection}_zh"
    return names


def passage_language(text: str) -> Language:
    """Which model reads a passage: mixed text goes to the Chinese (multilingual) one."""
    return "en" if detect(text) == "en" else "zh"


class PassageStores:
    """One Chroma collection per embedding model; each passage lives in the collection of the model
    that reads its language. Offers VectorStore's interface over all of them."""

    def __init__(self, settings: Settings, models: dict[Language, str]) -> None:
        names = collection_names(settings)
        self.stores: dict[str, VectorStore] = {model: VectorStore(settings, model, names[model])
                                               for model in dict.fromkeys(models.values())}
        self.models = dict(models)

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
