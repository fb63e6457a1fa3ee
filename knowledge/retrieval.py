"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused, then diversified.

Reciprocal rank fusion needs no score calibration between the two rankings; the dense ranking
weighs a little more because owners paraphrase. Diversification keeps one long document from
filling every slot: past `max_chunks_per_doc`, a document's further chunks move behind the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.catalog import Catalog
from knowledge.embeddings import Embedder
from knowledge.keyword import KeywordIndexCache
from knowledge.store import VectorStore
from knowledge.types import ScoredChunk

RRF_K = 60
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.6


@dataclass(slots=True)
class RetrievalResult:
    query: str
    query_vector: np.ndarray
    ranked: list[ScoredChunk]  # diversified: what `retrieved` reports
    by_relevance: list[ScoredChunk]  # fused order without diversification

    def passages(self, n: int) -> list[ScoredChunk]:
        """The passages to answer from: the n most relevant, plus the diversified top n, so a
        question about one document reads all of its best chunks and others' best too."""
        chosen = {s.chunk.chunk_id: s for s in self.by_relevance[:n] + self.ranked[:n]}
        return sorted(chosen.values(), key=lambda s: s.score, reverse=True)


class HybridRetriever:
    def __init__(self, store: VectorStore, catalog: Catalog, keywords: KeywordIndexCache, embedder: Embedder,
                 dense_candidates: int = 40, keyword_candidates: int = 40, max_chunks_per_doc: int = 2) -> None:
        self.store = store
        self.catalog = catalog
        self.keywords = keywords
        self.embedder = embedder
        self.dense_candidates = dense_candidates
        self.keyword_candidates = keyword_candidates
        self.max_chunks_per_doc = max_chunks_per_doc

    def search(self, query: str, k: int) -> RetrievalResult:
        vector = self.embedder.embed([query])[0]
        dense = self.store.query(vector, self.dense_candidates)
        keyword = self.keywords.get().search(query, self.keyword_candidates)

        fused: dict[str, float] = {}
        for rank, hit in enumerate(dense):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
        for rank, hit in enumerate(keyword):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + KEYWORD_WEIGHT / (RRF_K + rank + 1)
        # Vectors that no catalog row knows (left by a crash) are never answered from.
        live = self.catalog.chunks(list(fused))
        similarity = {hit.chunk_id: hit.similarity for hit in dense}
        missing = [cid for cid in live if cid not in similarity]
        for cid, stored in self.store.vectors(missing).items():
            similarity[cid] = float(np.dot(stored, vector))

        ordered = sorted(live, key=lambda cid: fused[cid], reverse=True)
        scored = {cid: ScoredChunk(live[cid], fused[cid], similarity.get(cid)) for cid in ordered}
        ranked = [scored[cid] for cid in self._diversify(ordered, live)]
        return RetrievalResult(query, vector, ranked[:k], [scored[cid] for cid in ordered[:k]])

    def _diversify(self, ordered: list[str], live: dict) -> list[str]:
        per_doc: dict[str, int] = {}
        first, later = [], []
        for cid in ordered:
            doc_id = live[cid].doc_id
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            (first if per_doc[doc_id] <= self.max_chunks_per_doc else later).append(cid)
        return first + later
