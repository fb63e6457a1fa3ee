"""Extractive answers: the passages' own sentences that answer the question best, each cited.

Sentences are cut from the stored chunk text by offset, and every quote is checked to be a
verbatim substring of its chunk before it is returned: an answer never puts words in a source's
mouth.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.chinese import to_simplified
from knowledge.language import has_han
from knowledge.sentences import SentenceVectors, candidate_spans, sentence_text
from knowledge.store import passage_language
from knowledge.text import content_words
from knowledge.types import Chunk, Citation, ScoredChunk

log = logging.getLogger(__name__)

RELATIVE_MARGIN = 0.15  # sentences this close to the best one are worth saying too
# Another document must come closer still: a second source is quoted only when it answers
# nearly as well, not because it touches the subject.
OTHER_DOC_MARGIN = 0.05
MAX_PER_CHUNK = 2
# A sentence quoted beside the best one must itself come close to the refusal threshold: within
# 0.07 in relevance units (about 17 % of MiniLM's English threshold of 0.41).
SUPPORT_FLOOR = -0.07
LEXICAL_WEIGHT = 0.15
RANK_WEIGHT = 0.04


@dataclass(frozen=True, slots=True)
class Candidate:
    passage_rank: int
    chunk: Chunk
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class ExtractiveAnswer:
    text: str
    citations: list[Citation]


def candidates_from(passages: Sequence[ScoredChunk]) -> list[Candidate]:
    seen: set[str] = set()
    found: list[Candidate] = []
    for rank, passage in enumerate(passages):
        for start, end in candidate_spans(passage.chunk.text):
            sentence = passage.chunk.text[start:end]
            key = " ".join(sentence.lower().split())
            if key in seen:  # overlapping chunks repeat sentences
                continue
            seen.add(key)
            found.append(Candidate(rank, passage.chunk, start, end))
    return found


@dataclass(frozen=True, slots=True)
class Scores:
    similarity: np.ndarray  # cosine to the question, as the passage's model measures it
    relevance: np.ndarray  # that cosine against its model's refusal threshold: >= 0 answers
    ranking: np.ndarray  # relevance plus shared words and passage rank: what to say first

    @property
    def best_relevance(self) -> float:
        return float(self.relevance.max()) if len(self.relevance) else -1.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of the question: weighted query vectors and its content words. A question read
    by a model both as itself and as dictionary words has two; each sentence takes the better one.
    A bag of dictionary words scores every passage of its language a little (an embedding of
    "天气 明天" is near any Chinese text), so a bridged reading counts only for sentences that share
    its words."""

    vectors: Sequence[tuple[np.ndarray, float]]
    terms: set[str]
    bridged: bool = False

    def shares_enough(self, sentence: str, sentence_terms: set[str]) -> bool:
        """Chinese terms are looked for in the text itself (segmenters split compounds their own
        way: 研发 is inside 研发费用), English ones by their stem."""
        if not self.bridged:
            return True
        needed = 1 if len(self.terms) <= 3 else 2
        simplified = to_simplified(sentence)
        stems = _stems(sentence_terms)
        found = sum(1 for term in self.terms if (term in simplified if has_han(term) else _stems({term}) <= stems))
        return found >= needed


_stem_lock = threading.Lock()


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def _stems(words: set[str]) -> set[str]:
    """English words by their stem (companies ~ company); Chinese words as they are."""
    with _stem_lock:  # PyStemmer objects are not thread-safe
        return set(_stemmer().stemWords(sorted(words)))


@dataclass(frozen=True, slots=True)
class Judge:
    """How one passage language's model is read: its embedder, the question's readings, and its
    calibration (relevance = (cosine - threshold) * scale, so models with narrow cosine ranges
    such as E5 weigh like MiniLM in one ranking)."""

    embedder: Embedder
    readings: Sequence[Reading]
    threshold: float
    scale: float


def score_candidates(candidates: Sequence[Candidate], judges: Mapping[str, Judge],
                     stored: Mapping[str, SentenceVectors] | None = None, language: str | None = None) -> Scores:
    """Scores every candidate with the judge of its passage's language (candidates of a language
    with no judge — no reading of the question reaches it — are never relevant)."""
    similarity = np.full(len(candidates), -1.0)
    relevance = np.full(len(candidates), -1.0)
    ranking = np.full(len(candidates), -1.0)
    groups: dict[str, list[int]] = {}
    for i, candidate in enumerate(candidates):
        groups.setdefault(passage_language(candidate.chunk.text), []).append(i)
    for passage_lang, indices in groups.items():
        judge = judges.get(passage_lang)
        if judge is None:
            continue
        chosen = [candidates[i] for i in indices]
        vectors = _sentence_vectors(chosen, judge.embedder, stored or {})
        candidate_terms = [set(content_words(c.text)) for c in chosen]
        for read in judge.readings:
            reading = np.zeros(len(chosen))
            for vector, weight in read.vectors:
                reading += weight * (vectors @ vector)
            overlap = np.array([len(terms & read.terms) / len(read.terms) if read.terms else 0.0
                                for terms in candidate_terms])
            scaled = (reading - judge.threshold) * judge.scale
            shared = [read.shares_enough(c.text, terms) for c, terms in zip(chosen, candidate_terms)]
            scaled = np.where(shared, scaled, -1.0)
            reading = np.where(scaled > -1.0, reading, -1.0)
            similarity[indices] = np.maximum(similarity[indices], reading)
            relevance[indices] = np.maximum(relevance[indices], scaled)
            ranking[indices] = np.maximum(ranking[indices], scaled + LEXICAL_WEIGHT * overlap)
    ranking += np.array([RANK_WEIGHT / (1 + c.passage_rank) for c in candidates])
    if language is not None:
        # An owner reads best in the language they asked in: when that language has a relevant
        # sentence, the other language's sentences are not quoted (they still count for refusal).
        other = np.array([passage_language(c.chunk.text) != language for c in candidates], dtype=bool)
        if len(candidates) and (relevance[~other] >= 0).any():
            ranking = np.where(other, -np.inf, ranking)
    return Scores(similarity, relevance, ranking)


def other_language_first(ranked: Sequence[ScoredChunk], candidates: Sequence[Candidate], scores: Scores,
                         language: str) -> list[ScoredChunk]:
    """The ranking, with passages in another language than the question's moved to the front when
    no sentence in the question's own language is relevant. Fused ranks cannot compare languages
    (a dictionary's words rank lower than the question itself), and an owner reads best in the
    language they asked in, so the other language leads only where the own language has nothing."""
    best: dict[str, float] = {}
    for candidate, score in zip(candidates, scores.ranking):
        best[candidate.chunk.chunk_id] = max(best.get(candidate.chunk.chunk_id, -9.0), float(score))
    own = max((relevance for c, relevance in zip(candidates, scores.relevance)
               if passage_language(c.chunk.text) == language), default=-1.0)
    if own >= 0:
        return list(ranked)  # the question's own language answers it: its ranking stands
    ahead = sorted((s for s in ranked if s.chunk.chunk_id in best and passage_language(s.chunk.text) != language),
                   key=lambda s: -best[s.chunk.chunk_id])
    moved = {s.chunk.chunk_id for s in ahead}
    return ahead + [s for s in ranked if s.chunk.chunk_id not in moved]


def _sentence_vectors(candidates: Sequence[Candidate], embedder: Embedder,
                      stored: Mapping[str, SentenceVectors]) -> np.ndarray:
    """Vectors stored at ingest by this model where there are some; the rest embedded now."""
    rows: list[np.ndarray | None] = []
    for candidate in candidates:
        known = stored.get(candidate.chunk.chunk_id)
        if known is not None and known.model != embedder.model_id:
            known = None
        index = known.spans.index((candidate.start, candidate.end)) \
            if known is not None and (candidate.start, candidate.end) in known.spans else None
        rows.append(known.vectors[index].astype(np.float32) if known is not None and index is not None else None)
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        fresh = embedder.embed([sentence_text(candidates[i].text) for i in missing])
        for i, vector in zip(missing, fresh):
            rows[i] = vector
    return np.vstack(rows)  # type: ignore[arg-type]


def select(candidates: Sequence[Candidate], scores: Scores, max_sentences: int,
           floor: float = SUPPORT_FLOOR) -> list[Candidate]:
    """The best sentence, and others nearly as good that are relevant in their own right."""
    if not candidates:
        return []
    order = np.argsort(-scores.ranking)
    best = float(scores.ranking[order[0]])
    chosen: list[Candidate] = []
    per_chunk: dict[str, int] = {}
    for index in (int(i) for i in order):
        candidate = candidates[index]
        margin = RELATIVE_MARGIN if not chosen or candidate.chunk.doc_id == chosen[0].chunk.doc_id \
            else OTHER_DOC_MARGIN
        if chosen and (scores.ranking[index] < best - margin or scores.relevance[index] < floor):
            continue
        if per_chunk.get(candidate.chunk.chunk_id, 0) >= MAX_PER_CHUNK:
            continue
        per_chunk[candidate.chunk.chunk_id] = per_chunk.get(candidate.chunk.chunk_id, 0) + 1
        chosen.append(candidate)
        if len(chosen) >= max_sentences:
            break
    # The best sentence's document first; within a document, in the order the text has them.
    doc_order = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(c.chunk.doc_id for c in chosen))}
    return sorted(chosen, key=lambda c: (doc_order[c.chunk.doc_id], c.chunk.position, c.start))


def compose(chosen: Sequence[Candidate]) -> ExtractiveAnswer:
    """Groups adjacent sentences of a chunk into one quote; numbers citations in reading order."""
    groups: list[list[Candidate]] = []
    for candidate in chosen:
        previous = groups[-1][-1] if groups else None
        if previous and previous.chunk.chunk_id == candidate.chunk.chunk_id and _adjacent(previous, candidate):
            groups[-1].append(candidate)
        else:
            groups.append([candidate])
    citations: list[Citation] = []
    paragraphs: list[list[str]] = []
    last_doc = None
    for group in groups:
        chunk = group[0].chunk
        quote = chunk.text[group[0].start : group[-1].end]
        if quote not in chunk.text:  # cannot happen by construction; never let it through
            log.error("dropping a non-verbatim quote from %s", chunk.chunk_id)
            continue
        citations.append(Citation(len(citations) + 1, chunk.doc_id, chunk.title, chunk.chunk_id, quote, chunk.location))
        statement = f"{' '.join(quote.split())} [{len(citations)}]"
        if chunk.doc_id == last_doc:
            paragraphs[-1].append(statement)
        else:
            paragraphs.append([statement])
        last_doc = chunk.doc_id
    return ExtractiveAnswer("\n\n".join(" ".join(p) for p in paragraphs), citations)


def _adjacent(first: Candidate, second: Candidate) -> bool:
    between = first.chunk.text[first.end : second.start]
    return second.start >= first.end and not any(ch.isalnum() for ch in between)


def verify_citations(citations: Sequence[Citation], chunks: dict[str, Chunk]) -> bool:
    """True when every quote is a verbatim substring of the stored text of its chunk."""
    return all(c.chunk_id in chunks and c.quote in chunks[c.chunk_id].text for c in citations)
