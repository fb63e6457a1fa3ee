"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused, then diversified.

Reciprocal rank fusion needs no score calibration between the rankings; the dense ranking weighs
a little more because owners paraphrase. Across languages, the question is also searched in the
library's other language (knowledge/bridge.py): those rankings count only for passages written in
that language, so a bilingual library never lets a dictionary's guesses reorder same-language hits.
Diversification keeps one long document from filling every slot: past `max_chunks_per_doc`, a
document's further chunks move behind the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from knowledge.catalog import Catalog
from knowledge.chinese import to_simplified
from knowledge.embeddings import Embedder
from knowledge.keyword import KeywordIndexCache
from knowledge.language import Language, detect
from knowledge.store import VectorStore
from knowledge.types import Chunk, ScoredChunk

RRF_K = 60
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.6
BRIDGED_DENSE_WEIGHT = 0.8
BRIDGED_KEYWORD_WEIGHT = 0.6

# (question) -> (the other language, the question in its words), or None when there is none.
Bridge = Callable[[str], "tuple[Language, str] | None"]


@dataclass(slots=True)
class RetrievalResult:
    query: str
    query_vector: np.ndarray
    ranked: list[ScoredChunk]  # diversified: what `retrieved` reports
    by_relevance: list[ScoredChunk]  # fused order without diversification
    bridged_query: str | None = None  # the question in the library's other language, if searched
    bridged_vector: np.ndarray | None = None

    def passages(self, n: int) -> list[ScoredChunk]:
        """The passages to answer from: the n most relevant, plus the diversified top n, so a
        question about one document reads all of its best chunks and others' best too."""
        chosen = {s.chunk.chunk_id: s for s in self.by_relevance[:n] + self.ranked[:n]}
        return sorted(chosen.values(), key=lambda s: s.score, reverse=True)


def chunk_language(chunk: Chunk) -> str:
    return detect(chunk.text)


class HybridRetriever:
    def __init__(self, store: VectorStore, catalog: Catalog, keywords: KeywordIndexCache, embedder: Embedder,
                 dense_candidates: int = 40, keyword_candidates: int = 40, max_chunks_per_doc: int = 2,
                 bridge: Bridge | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.keywords = keywords
        self.embedder = embedder
        self.dense_candidates = dense_candidates
        self.keyword_candidates = keyword_candidates
        self.max_chunks_per_doc = max_chunks_per_doc
        self.bridge = bridge

    def search(self, query: str, k: int) -> RetrievalResult:
        keywords = self.keywords.get()
        vector = self.embedder.embed_queries([to_simplified(query)])[0]
        rankings: list[tuple[list[str], float, str | None]] = [
            ([h.chunk_id for h in self.store.query(vector, self.dense_candidates)], DENSE_WEIGHT, None),
            ([h.chunk_id for h in keywords.search(query, self.keyword_candidates)], KEYWORD_WEIGHT, None),
        ]
        bridged = self.bridge(query) if self.bridge is not None else None
        bridged_vector = None
        if bridged is not None and bridged[1] and bridged[0] in keywords.languages:
            target, words = bridged
            bridged_vector = self.embedder.embed_queries([words])[0]
            rankings.append(([h.chunk_id for h in self.store.query(bridged_vector, self.dense_candidates)],
                             BRIDGED_DENSE_WEIGHT, target))
            rankings.append(([h.chunk_id for h in keywords.search(words, self.keyword_candidates)],
                             BRIDGED_KEYWORD_WEIGHT, target))
        # Vectors that no catalog row knows (left by a crash) are never answered from.
        live = self.catalog.chunks(list(dict.fromkeys(cid for ids, _, _ in rankings for cid in ids)))
        languages = {cid: chunk_language(chunk) for cid, chunk in live.items()} if bridged_vector is not None else {}
        fused: dict[str, float] = {}
        for ids, weight, only_language in rankings:
            rank = 0
            for cid in ids:
                if cid not in live or (only_language and languages.get(cid) not in (only_language, "mixed")):
                    continue
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
                rank += 1
        stored = self.store.vectors(list(fused))
        similarity = {cid: float(np.dot(vec, vector)) for cid, vec in stored.items()}
        if bridged_vector is not None:
            for cid, vec in stored.items():
                similarity[cid] = max(similarity[cid], float(np.dot(vec, bridged_vector)))

        ordered = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        scored = {cid: ScoredChunk(live[cid], fused[cid], similarity.get(cid)) for cid in ordered}
        ranked = [scored[cid] for cid in self._diversify(ordered, live)]
        return RetrievalResult(query, vector, ranked[:k], [scored[cid] for cid in ordered[:k]],
                               bridged[1] if bridged_vector is not None and bridged else None, bridged_vector)

    def _diversify(self, ordered: list[str], live: dict) -> list[str]:
        per_doc: dict[str, int] = {}
        first, later = [], []
        for cid in ordered:
            doc_id = live[cid].doc_id
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            (first if per_doc[doc_id] <= self.max_chunks_per_doc else later).append(cid)
        return first + later
