"""Extractive answers: the passages' own sentences that answer the question best, each cited.

Sentences are cut from the stored chunk text by offset, and every quote is checked to be a
verbatim substring of its chunk before it is returned: an answer never puts words in a source's
mouth.

A candidate is a sentence or two consecutive sentences of a passage: an answer often sits in the
sentence after the one that names its subject ("The initiative has emerged as a response… It
delivers monthly workshops…"). Each is scored on what it says (its own relevance, read alone and
with its neighbours), on how much of the question's rare terms it mentions, on whether it holds
the kind of answer asked for (a number for "how many"), and on its passage's rank; the weights are
fitted (knowledge/answer_model.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from knowledge.answer_model import Margins, SentenceWeights, margins, sentence_weights
from knowledge.embeddings import Embedder
from knowledge.evidence import AnswerType, QuestionTerms, has_type, mentioned
from knowledge.sentences import SentenceVectors, candidate_spans, sentence_text
from knowledge.text import sentence_spans
from knowledge.store import passage_language
from knowledge.types import Chunk, Citation, ScoredChunk

log = logging.getLogger(__name__)

MAX_PER_CHUNK = 2
# A sentence quoted beside the best one must itself come close to the refusal threshold: within
# 0.07 in relevance units (about 17 % of MiniLM's English threshold of 0.41).
SUPPORT_FLOOR = -0.07
# Two overlapping pairs this close in ranking are one three-sentence statement (see `_extension`).
NEAR_TIE = 0.05
# A sentence in the other language than the question's escapes that language's handicap when it is
# more relevant than the question's own language's best by this much (0: simply more relevant).
# Checked on the dev splits: en→zh and zh→en gain an item each, the rest is unchanged.
ACROSS_MARGIN = 0.0
NEIGHBOUR_WEIGHT = 0.5
CONTEXT_CHARS = 300  # of the text around a quote, shown with it
_DOCUMENT_MARKER = re.compile(r"\s*[\[【［]\s*\d{1,3}\s*[\]】］]")


@dataclass(frozen=True, slots=True)
class Candidate:
    passage_rank: int
    chunk: Chunk
    start: int
    end: int
    # The sentence spans it is made of: one, or two consecutive ones.
    parts: tuple[tuple[int, int], ...] = ()

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return self.parts or ((self.start, self.end),)

    def overlaps(self, other: Candidate) -> bool:
        return self.chunk.chunk_id == other.chunk.chunk_id and self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class ExtractiveAnswer:
    text: str
    citations: list[Citation]


def candidates_from(passages: Sequence[ScoredChunk], pairs: bool = True) -> list[Candidate]:
    """Each passage's quotable sentences, and each two consecutive ones as one candidate."""
    seen: set[str] = set()
    found: list[Candidate] = []
    for rank, passage in enumerate(passages):
        text = passage.chunk.text
        spans = candidate_spans(text)
        for start, end in spans:
            key = " ".join(text[start:end].lower().split())
            if key in seen:  # overlapping chunks repeat sentences
                continue
            seen.add(key)
            found.append(Candidate(rank, passage.chunk, start, end, ((start, end),)))
        if not pairs:
            continue
        for first, second in zip(spans, spans[1:]):
            key = " ".join(text[first[0] : second[1]].lower().split())
            if key not in seen and not _paragraph_break(text, first[1], second[0]):
                seen.add(key)
                found.append(Candidate(rank, passage.chunk, first[0], second[1], (first, second)))
    return found


def _paragraph_break(text: str, end: int, start: int) -> bool:
    """A pair never spans a paragraph, a list item or a heading: each is a statement of its own."""
    between = text[end:start]
    return "\n" in between or any(ch.isalnum() for ch in between)


@dataclass(frozen=True, slots=True)
class Scores:
    """Per candidate sentence: what each model measures, and the ranking made of it."""

    similarity: np.ndarray  # cosine to the question, as the passage's model measures it
    relevance: np.ndarray  # that cosine against its model's refusal threshold: >= 0 answers
    context: np.ndarray  # the same for the sentence read with its neighbours
    coverage: np.ndarray  # the question's rarity-weighted terms the sentence mentions (0..1)
    passage_coverage: np.ndarray  # ... that its passage (title, headings, text) mentions
    type_hit: np.ndarray  # 1: the question wants a number/date/name and the sentence has one; -1: has none
    other_language: np.ndarray  # 1: not in the question's language, which has a relevant sentence of its own
    ranking: np.ndarray  # what to say first: the features weighted (knowledge/answer_model.json)

    @property
    def best_relevance(self) -> float:
        return float(self.relevance.max()) if len(self.relevance) else -1.0

    @property
    def top(self) -> int | None:
        """The index of the sentence to say first."""
        return int(np.argmax(self.ranking)) if len(self.ranking) and np.isfinite(self.ranking.max()) else None


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of the question: weighted query vectors and its terms. A question read by a
    model both as itself and as dictionary words has two; each sentence takes the better one.
    A bag of dictionary words scores every passage of its language a little (an embedding of
    "天气 明天" is near any Chinese text), so a bridged reading counts only for sentences that share
    its words."""

    vectors: Sequence[tuple[np.ndarray, float]]
    terms: QuestionTerms
    bridged: bool = False

    def shares_enough(self, sentence: str) -> bool:
        """Chinese terms are looked for in the text itself (segmenters split compounds their own
        way: 研发 is inside 研发费用), English ones by their stem."""
        if not self.bridged:
            return True
        needed = 1 if len(self.terms.terms) <= 3 else 2
        return sum(mentioned(self.terms.terms, sentence)) >= needed


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
                     stored: Mapping[str, SentenceVectors] | None = None, language: str | None = None,
                     wanted: AnswerType | None = None, weights: SentenceWeights | None = None) -> Scores:
    """Scores every candidate with the judge of its passage's language (candidates of a language
    with no judge — no reading of the question reaches it — are never relevant). Each feature is
    the best any reading of the question gives it."""
    weights = weights or sentence_weights()
    n = len(candidates)
    similarity, relevance, context = np.full(n, -1.0), np.full(n, -1.0), np.full(n, -1.0)
    coverage, passage_coverage = np.zeros(n), np.zeros(n)
    groups: dict[str, list[int]] = {}
    for i, candidate in enumerate(candidates):
        groups.setdefault(passage_language(candidate.chunk.text), []).append(i)
    for passage_lang, indices in groups.items():
        judge = judges.get(passage_lang)
        if judge is None:
            continue
        chosen = [candidates[i] for i in indices]
        vectors, windows = _candidate_vectors(chosen, judge.embedder, stored or {})
        by_chunk: dict[tuple[int, str], float] = {}
        for number, read in enumerate(judge.readings):
            own, around = np.zeros(len(chosen)), np.zeros(len(chosen))
            for vector, weight in read.vectors:
                own += weight * (vectors @ vector)
                around += weight * (windows @ vector)
            shared = np.array([read.shares_enough(c.text) for c in chosen], dtype=bool)
            similarity[indices] = np.maximum(similarity[indices], np.where(shared, own, -1.0))
            relevance[indices] = np.maximum(relevance[indices],
                                            np.where(shared, (own - judge.threshold) * judge.scale, -1.0))
            context[indices] = np.maximum(context[indices],
                                          np.where(shared, (around - judge.threshold) * judge.scale, -1.0))
            for row, (i, c) in enumerate(zip(indices, chosen)):
                if not shared[row]:
                    continue
                coverage[i] = max(coverage[i], read.terms.coverage(c.text))
                key = (number, c.chunk.chunk_id)
                if key not in by_chunk:
                    by_chunk[key] = read.terms.coverage(c.chunk.indexed_text())
                passage_coverage[i] = max(passage_coverage[i], by_chunk[key])
    type_hit = np.zeros(n)
    if wanted is not None:
        type_hit = np.array([1.0 if has_type(c.text, wanted) else -1.0 for c in candidates])
    other = np.zeros(n)
    if language is not None and n:
        # An owner reads best in the language they asked in: when that language has a relevant
        # sentence, the other language's must do clearly better to be quoted first.
        foreign = np.array([passage_language(c.chunk.text) != language for c in candidates], dtype=bool)
        own_best = float(relevance[~foreign].max()) if (~foreign).any() else -1.0
        if own_best >= 0:
            # ...and one that does (relevance is calibrated per model and question language, so
            # the two compare) is not held back: the fact may be written only in the other one.
            other = (foreign & (relevance < own_best + ACROSS_MARGIN)).astype(float)
    pair = np.array([1.0 if len(c.spans) > 1 else 0.0 for c in candidates])
    ranking = (weights.relevance * relevance + weights.context * context + weights.coverage * coverage
               + weights.passage_coverage * passage_coverage + weights.type_hit * type_hit
               + weights.other_language * other + weights.pair * pair
               + np.array([weights.rank / (1 + c.passage_rank) for c in candidates]))
    ranking = np.where(relevance > -1.0, ranking, -np.inf)  # no reading reaches it: never quoted
    return Scores(similarity, relevance, context, coverage, passage_coverage, type_hit, other, ranking)


def _candidate_vectors(candidates: Sequence[Candidate], embedder: Embedder,
                       stored: Mapping[str, SentenceVectors]) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's vector (a pair's: the sum of its sentences', normalised) and the same with
    half of each neighbouring sentence of its passage added: a sentence that answers ("It must
    have a high market share") often leaves its subject to the one before."""
    sentences: dict[tuple[str, int, int], np.ndarray] = {}
    wanted: list[tuple[Chunk, int, int]] = []
    order: dict[str, list[tuple[int, int]]] = {}
    for candidate in candidates:
        chunk_spans = order.setdefault(candidate.chunk.chunk_id, [])
        for span in candidate.spans:
            if span not in chunk_spans:
                chunk_spans.append(span)
                wanted.append((candidate.chunk, *span))
    missing = []
    for chunk, start, end in wanted:
        vector = _stored_vector(stored.get(chunk.chunk_id), embedder.model_id, start, end)
        if vector is None:
            missing.append((chunk, start, end))
        else:
            sentences[(chunk.chunk_id, start, end)] = vector
    if missing:
        fresh = embedder.embed([sentence_text(chunk.text[start:end]) for chunk, start, end in missing])
        for (chunk, start, end), vector in zip(missing, fresh):
            sentences[(chunk.chunk_id, start, end)] = np.asarray(vector, dtype=np.float32)
    for spans in order.values():
        spans.sort()
    own_rows, window_rows = [], []
    for candidate in candidates:
        cid = candidate.chunk.chunk_id
        own = np.sum([sentences[(cid, *span)] for span in candidate.spans], axis=0).astype(np.float64)
        spans = order[cid]
        first, last = spans.index(candidate.spans[0]), spans.index(candidate.spans[-1])
        window = own.copy()
        for j in (first - 1, last + 1):
            if 0 <= j < len(spans):
                window += NEIGHBOUR_WEIGHT * sentences[(cid, *spans[j])]
        own_rows.append(own / max(np.linalg.norm(own), 1e-12))
        window_rows.append(window / max(np.linalg.norm(window), 1e-12))
    return np.vstack(own_rows), np.vstack(window_rows)


def _stored_vector(known: SentenceVectors | None, model: str, start: int, end: int) -> np.ndarray | None:
    if known is None or known.model != model or (start, end) not in known.spans:
        return None
    return known.vectors[known.spans.index((start, end))].astype(np.float32)


def other_language_first(ranked: Sequence[ScoredChunk], candidates: Sequence[Candidate], scores: Scores,
                         language: str) -> list[ScoredChunk]:
    """The ranking, with passages in another language than the question's moved to the front when
    no sentence in the question's own language is relevant, or the sentence quoted first is theirs.
    Fused ranks cannot compare languages (a dictionary's words rank lower than the question
    itself), and an owner reads best in the language they asked in, so the other language leads
    only where the own language has nothing better."""
    best: dict[str, float] = {}
    for candidate, score in zip(candidates, scores.ranking):
        best[candidate.chunk.chunk_id] = max(best.get(candidate.chunk.chunk_id, -9.0), float(score))
    own = max((relevance for c, relevance in zip(candidates, scores.relevance)
               if passage_language(c.chunk.text) == language), default=-1.0)
    top = scores.top
    if own >= 0 and (top is None or passage_language(candidates[top].chunk.text) == language):
        return list(ranked)  # the question's own language answers it: its ranking stands
    ahead = sorted((s for s in ranked if s.chunk.chunk_id in best and passage_language(s.chunk.text) != language),
                   key=lambda s: -best[s.chunk.chunk_id])
    moved = {s.chunk.chunk_id for s in ahead}
    return ahead + [s for s in ranked if s.chunk.chunk_id not in moved]


def select(candidates: Sequence[Candidate], scores: Scores, max_sentences: int,
           floor: float = SUPPORT_FLOOR, within: Margins | None = None) -> list[Candidate]:
    """The best candidate, and others nearly as good that are relevant in their own right (never
    overlapping one already chosen; a pair counts as two sentences). Another document must come
    closer than the best one's own: a second source is quoted when it answers nearly as well, not
    because it touches the subject."""
    if not candidates or scores.top is None:
        return []
    within = within or margins()
    order = np.argsort(-scores.ranking)
    best = float(scores.ranking[order[0]])
    chosen: list[Candidate] = []
    per_chunk: dict[str, int] = {}
    said = 0
    for index in (int(i) for i in order):
        candidate = candidates[index]
        if not np.isfinite(scores.ranking[index]):
            break
        margin = within.same_document if not chosen or candidate.chunk.doc_id == chosen[0].chunk.doc_id \
            else within.other_document
        if chosen and (scores.ranking[index] < best - margin or scores.relevance[index] < floor):
            continue
        size = len(candidate.spans)
        extended = _extension(chosen, candidate) if scores.ranking[index] >= best - NEAR_TIE else None
        if extended is not None and said + 1 <= max(max_sentences, 3):
            position, merged = extended
            chosen[position] = merged
            per_chunk[candidate.chunk.chunk_id] = per_chunk.get(candidate.chunk.chunk_id, 0) + 1
            said += 1
            continue
        if per_chunk.get(candidate.chunk.chunk_id, 0) + size > MAX_PER_CHUNK or said + size > max(max_sentences, size) \
                or any(candidate.overlaps(c) for c in chosen):
            continue
        per_chunk[candidate.chunk.chunk_id] = per_chunk.get(candidate.chunk.chunk_id, 0) + size
        chosen.append(candidate)
        said += size
        if said >= max_sentences:
            break
    # The best sentence's document first; within a document, in the order the text has them.
    doc_order = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(c.chunk.doc_id for c in chosen))}
    return sorted(chosen, key=lambda c: (doc_order[c.chunk.doc_id], c.chunk.position, c.start))


def _extension(chosen: Sequence[Candidate], candidate: Candidate) -> tuple[int, Candidate] | None:
    """A pair nearly as good as a chosen pair it shares one sentence with: the three sentences read
    as one statement (the best pair often stops one sentence short of the point)."""
    for position, other in enumerate(chosen):
        if len(other.spans) != 2 or len(candidate.spans) != 2 or not other.overlaps(candidate):
            continue
        if other.spans[1] == candidate.spans[0]:
            parts = other.spans + candidate.spans[1:]
        elif candidate.spans[1] == other.spans[0]:
            parts = candidate.spans + other.spans[1:]
        else:
            continue
        merged = Candidate(min(other.passage_rank, candidate.passage_rank), other.chunk, parts[0][0], parts[-1][1],
                           parts)
        return position, merged
    return None


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
        before, after = surroundings(chunk.text, group[0].start, group[-1].end)
        citations.append(Citation(len(citations) + 1, chunk.doc_id, chunk.title, chunk.chunk_id, quote, chunk.location,
                                  before, after))
        statement = f"{_unmarked(' '.join(quote.split()))} [{len(citations)}]"
        if chunk.doc_id == last_doc:
            paragraphs[-1].append(statement)
        else:
            paragraphs.append([statement])
        last_doc = chunk.doc_id
    return ExtractiveAnswer("\n\n".join(" ".join(p) for p in paragraphs), citations)


def _unmarked(text: str) -> str:
    """The quote as a statement without the document's own "[7]"-style markers (footnotes of web
    captures, or planted ones): in an answer, a bracketed number is a citation of ours. The
    citation keeps the verbatim quote."""
    return _DOCUMENT_MARKER.sub("", text)


def surroundings(text: str, start: int, end: int, limit: int = CONTEXT_CHARS) -> tuple[str, str]:
    """The sentence before `text[start:end]` and the one after, verbatim from the same text, each
    at most `limit` characters (cut at a word, from the far side)."""
    spans = sentence_spans(text)
    before = next((text[s:e] for s, e in reversed(spans) if e <= start), "")
    after = next((text[s:e] for s, e in spans if s >= end), "")
    if len(before) > limit:
        cut = before.find(" ", len(before) - limit)
        before = before[cut + 1 :] if cut >= 0 else before[-limit:]
    if len(after) > limit:
        cut = after.rfind(" ", 0, limit)
        after = after[:cut] if cut > 0 else after[:limit]
    return before, after


def _adjacent(first: Candidate, second: Candidate) -> bool:
    between = first.chunk.text[first.end : second.start]
    return second.start >= first.end and not any(ch.isalnum() for ch in between)


def verify_citations(citations: Sequence[Citation], chunks: dict[str, Chunk]) -> bool:
    """True when every quote is a verbatim substring of the stored text of its chunk."""
    return all(c.chunk_id in chunks and c.quote in chunks[c.chunk_id].text for c in citations)
