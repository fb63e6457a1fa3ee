"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused, then diversified.

Reciprocal rank fusion needs no score calibration between the rankings; the dense ranking weighs
a little more because owners paraphrase. Passages are read by the model of their language
(knowledge/store.py), each model with its own collection, so the question is embedded once per
model. Across languages the question also travels as dictionary words (knowledge/bridge.py): those
rankings count only for passages in that other language, so a dictionary's guesses never reorder
same-language hits. Diversification keeps one long document from filling every slot: past
`max_chunks_per_doc`, a document's further chunks move behind the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from knowledge.catalog import Catalog
from knowledge.chinese import to_simplified, warm_up_in_background
from knowledge.embeddings import Embedder
from knowledge.keyword_cache import KeywordIndexCache
from knowledge.language import Language, primary
from knowledge.store import PassageStores, passage_language
from knowledge.types import ScoredChunk

RRF_K = 60
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.6
BRIDGED_DENSE_WEIGHT = 0.8
BRIDGED_KEYWORD_WEIGHT = 0.6
OTHER_LANGUAGE_PASSAGES = 2

# (question) -> (the other language, the question in its words), or None when there is none.
Bridge = Callable[[str], "tuple[Language, str] | None"]


@dataclass(frozen=True, slots=True)
class QueryVector:
    """The question (or its dictionary words) as one model reads it."""

    vector: np.ndarray
    text: str
    bridged: bool


@dataclass(slots=True)
class RetrievalResult:
    query: str
    language: Language  # the question's
    ranked: list[ScoredChunk]  # diversified: what `retrieved` reports
    by_relevance: list[ScoredChunk]  # every fused candidate, without diversification
    # Per passage language: the query vectors made by the model that reads that language.
    query_vectors: dict[Language, list[QueryVector]] = field(default_factory=dict)

    def passages(self, n: int) -> list[ScoredChunk]:
        """The passages to answer from: the n most relevant, plus the diversified top n, so a
        question about one document reads all of its best chunks and others' best too — and the
        best few in each other language searched, whose fused ranks cannot compete with the
        question's own language but whose sentences may answer it best."""
        chosen = {s.chunk.chunk_id: s for s in self.by_relevance[:n] + self.ranked[:n]}
        for language in self.query_vectors:
            if language != self.language:
                others = [s for s in self.by_relevance if passage_language(s.chunk.text) == language]
                chosen.update((s.chunk.chunk_id, s) for s in others[:OTHER_LANGUAGE_PASSAGES])
        return sorted(chosen.values(), key=lambda s: s.score, reverse=True)


class HybridRetriever:
    def __init__(self, stores: PassageStores, catalog: Catalog, keywords: KeywordIndexCache,
                 embedders: Mapping[Language, Embedder], dense_candidates: int = 40, keyword_candidates: int = 40,
                 max_chunks_per_doc: int = 2, bridge: Bridge | None = None) -> None:
        self.stores = stores
        self.catalog = catalog
        self.keywords = keywords
        self.embedders = embedders
        self.dense_candidates = dense_candidates
        self.keyword_candidates = keyword_candidates
        self.max_chunks_per_doc = max_chunks_per_doc
        self.bridge = bridge

    def search(self, query: str, k: int) -> RetrievalResult:
        keywords = self.keywords.get()
        if "zh" in keywords.languages:
            warm_up_in_background()  # needed after the dense search below, loaded during it
        language = primary(query)
        bridged = self.bridge(query) if self.bridge is not None else None
        if bridged is not None and (not bridged[1] or bridged[0] not in keywords.languages):
            bridged = None  # nothing to say in that language, or no passage written in it
        query_vectors = self._query_vectors(query, language, bridged, keywords.languages | {language})

        # (chunk ids in rank order, weight, only passages of this language or None)
        rankings: list[tuple[list[str], float, Language | None]] = [
            ([h.chunk_id for h in keywords.search(query, self.keyword_candidates)], KEYWORD_WEIGHT, None)]
        if bridged is not None:
            rankings.append(([h.chunk_id for h in keywords.search(bridged[1], self.keyword_candidates)],
                             BRIDGED_KEYWORD_WEIGHT, bridged[0]))
        keyword_ids = list(dict.fromkeys(cid for ids, _, _ in rankings for cid in ids))
        stored = self._candidate_vectors(query_vectors, keyword_ids)
        searched: set[tuple[int, str]] = set()
        for passage_lang, vectors in query_vectors.items():
            store = self.stores.for_language(passage_lang)
            for qv in vectors:
                if (id(store), qv.text) in searched:
                    continue  # one model reading both languages: one search per text
                searched.add((id(store), qv.text))
                rankings.append((self._dense_ranking(qv, stored[id(store)]),
                                 BRIDGED_DENSE_WEIGHT if qv.bridged else DENSE_WEIGHT,
                                 passage_lang if qv.bridged or len(self.stores.stores) > 1 else None))

        # Vectors that no catalog row knows (left by a crash) are never answered from.
        live = self.catalog.chunks(list(dict.fromkeys(cid for ids, _, _ in rankings for cid in ids)))
        languages = {cid: passage_language(chunk.text) for cid, chunk in live.items()}
        fused: dict[str, float] = {}
        for ids, weight, only_language in rankings:
            rank = 0
            for cid in ids:
                if cid not in live or (only_language is not None and languages[cid] != only_language):
                    continue
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
                rank += 1
        similarity = self._similarities(fused, languages, query_vectors, stored)
        ordered = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        scored = {cid: ScoredChunk(live[cid], fused[cid], similarity.get(cid)) for cid in ordered}
        ranked = [scored[cid] for cid in self._diversify(ordered, live)]
        return RetrievalResult(query, language, ranked[:k], [scored[cid] for cid in ordered], query_vectors)

    def _query_vectors(self, query: str, language: Language, bridged: tuple[Language, str] | None,
                       passage_languages: set[str]) -> dict[Language, list[QueryVector]]:
        """For each language the library holds: the question embedded by that language's model,
        when the model reads the question's language; the dictionary words for the other one."""
        found: dict[Language, list[QueryVector]] = {}
        made: dict[tuple[int, str], np.ndarray] = {}

        def embed(embedder: Embedder, text: str) -> np.ndarray:
            key = (id(embedder), text)
            if key not in made:
                made[key] = embedder.embed_queries([to_simplified(text)])[0]
            return made[key]

        for passage_lang in ("en", "zh"):
            if passage_lang not in passage_languages:
                continue
            embedder = self.embedders[passage_lang]  # type: ignore[index]
            vectors = []
            if passage_lang == language or self.embedders[language] is embedder:
                vectors.append(QueryVector(embed(embedder, query), query, False))
            if bridged is not None and bridged[0] == passage_lang:
                vectors.append(QueryVector(embed(embedder, bridged[1]), bridged[1], True))
            if vectors:
                found[passage_lang] = vectors  # type: ignore[index]
        return found

    def _candidate_vectors(self, query_vectors: Mapping[Language, list[QueryVector]],
                           keyword_ids: list[str]) -> dict[int, dict[str, np.ndarray]]:
        """Per store: the stored vectors of its approximate nearest neighbours and of the keyword
        hits. Ranking these by exact cosine gives the HNSW ranking when HNSW is right, and repairs
        it when HNSW misses a live record (Chroma's graph can lose reachability of records after
        deletes and upserts, or crowd them out with near-duplicates; `get` still finds them)."""
        pools: dict[int, tuple[object, dict[str, None]]] = {}
        for passage_lang, vectors in query_vectors.items():
            store = self.stores.for_language(passage_lang)
            pool = pools.setdefault(id(store), (store, dict.fromkeys(keyword_ids)))[1]
            for qv in vectors:
                pool.update(dict.fromkeys(h.chunk_id for h in store.query(qv.vector, self.dense_candidates)))
        return {key: store.vectors(list(pool)) for key, (store, pool) in pools.items()}  # type: ignore[attr-defined]

    def _dense_ranking(self, qv: QueryVector, stored: Mapping[str, np.ndarray]) -> list[str]:
        if not stored:
            return []
        ids = list(stored)
        cosines = np.stack([stored[cid] for cid in ids]) @ qv.vector
        order = np.argsort(-cosines, kind="stable")[: self.dense_candidates]
        return [ids[int(i)] for i in order]

    def _similarities(self, fused: Mapping[str, float], languages: Mapping[str, Language],
                      query_vectors: Mapping[Language, list[QueryVector]],
                      stored: Mapping[int, Mapping[str, np.ndarray]]) -> dict[str, float]:
        similarity: dict[str, float] = {}
        for passage_lang, vectors in query_vectors.items():
            store = self.stores.for_language(passage_lang)
            known = stored.get(id(store), {})
            missing = [cid for cid in fused if languages[cid] == passage_lang and cid not in known]
            found = {**known, **store.vectors(missing)} if missing else known
            for cid in fused:
                if languages[cid] == passage_lang and cid in found:
                    similarity[cid] = max(float(np.dot(found[cid], qv.vector)) for qv in vectors)
        return similarity

    def _diversify(self, ordered: list[str], live: dict) -> list[str]:
        per_doc: dict[str, int] = {}
        first, later = [], []
        for cid in ordered:
            doc_id = live[cid].doc_id
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            (first if per_doc[doc_id] <= self.max_chunks_per_doc else later).append(cid)
        return first + later
