"""From a retrieved set of passages to a decision: which sentences could answer, how well, and
whether to answer, hedge or refuse.

The sentences of the best passages (and of the passages right before and after the two best, where
an answer often continues) are scored as `knowledge/answering.py` describes. The decision then
weighs the evidence with the fitted model of `knowledge/answer_model.py`: how close the best
sentences come, how much of the question's rare terms the best passage mentions, and whether the
question leans on terms the library never mentions ("VAT", "UK").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Mapping, Sequence

import numpy as np

from knowledge import answering, refusal
from knowledge.answer_model import decision_model
from knowledge.chinese import to_simplified
from knowledge.evidence import QuestionTerms, question_terms, wanted_type
from knowledge.retrieval import RetrievalResult
from knowledge.store import passage_language
from knowledge.text import sentence_spans
from knowledge.types import Chunk, ScoredChunk

if TYPE_CHECKING:
    from knowledge.catalog import Catalog
    from knowledge.embeddings import Embedder
    from knowledge.keyword import KeywordIndex
    from sme_advisor.settings import Settings

ANSWER_PASSAGES = 6  # the most relevant passages whose sentences may answer (plus neighbours)
NEIGHBOURS_OF = 2  # the passages whose neighbours in their document are read too
# A Chinese question whose Chinese passages say little (no sentence there reaches this relevance)
# has its best English passages read by the Chinese model, which is multilingual, sentence by
# sentence at question time (English sentences are stored with the English model's vectors):
# E5 takes ~25 ms a sentence here, so only when needed and only two passages. On the dev split,
# the best Chinese sentence of Chinese questions over English articles reached 0.18 at most, of
# questions over Chinese documents 0.19 or more for 16 of 29 (0.15 found the same key facts but
# quoted one fewer right article first). One passage instead of two: zh→en key facts 4/8 → 3/8.
ACROSS_BELOW = 0.19
ACROSS_PASSAGES = 2
Outcome = Literal["answered", "hedged", "refused"]


@dataclass(slots=True)
class Deliberation:
    query: str
    result: RetrievalResult
    passages: list[ScoredChunk]
    candidates: list[answering.Candidate]
    scores: answering.Scores
    terms: list[QuestionTerms] = field(default_factory=list)  # each reading's (own, follow-up, bridged)
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0
    outcome: Outcome = "refused"


def deliberate(settings: Settings, catalog: Catalog, embedders: Mapping[str, Embedder], index: KeywordIndex,
               question: str, query: str, result: RetrievalResult,
               across_reader: Embedder | None = None) -> Deliberation:
    passages = answer_passages(result, catalog)
    candidates = answering.candidates_from(passages)
    judges, readings = _judges(settings, embedders, index, question, query, result)
    stored = catalog.sentence_vectors([p.chunk.chunk_id for p in passages])
    wanted = wanted_type(question)
    scores = answering.score_candidates(candidates, judges, stored, result.language, wanted)
    if across_reader is not None and _reads_across(candidates, scores, result):
        judges["en"] = _across_judge(settings, across_reader, index, question, query, result)
        read = list(dict.fromkeys(p.chunk.chunk_id for p in passages if passage_language(p.chunk.text) == "en"))
        chosen = set(read[:ACROSS_PASSAGES])
        candidates = [c for c in candidates if passage_language(c.chunk.text) != "en" or c.chunk.chunk_id in chosen]
        scores = answering.score_candidates(candidates, judges, stored, result.language, wanted)
    terms = [r.terms for r in readings]
    features = decision_features(candidates, scores, terms, passages, result.language)
    model = decision_model()
    probability = model.probability(features) if candidates else 0.0
    outcome: Outcome = "refused"
    if candidates and scores.best_relevance > -1.0:
        outcome = model.outcome(features)  # type: ignore[assignment]
    return Deliberation(query, result, passages, candidates, scores, terms, features, probability, outcome)


def _reads_across(candidates: Sequence[answering.Candidate], scores: answering.Scores,
                  result: RetrievalResult) -> bool:
    """A Chinese question whose Chinese passages say little, over a library with English ones."""
    if result.language != "zh" or "en" not in result.query_vectors:
        return False
    own = [scores.relevance[i] for i, c in enumerate(candidates) if passage_language(c.chunk.text) == "zh"]
    return max(own, default=-1.0) < ACROSS_BELOW


def answer_passages(result: RetrievalResult, catalog: Catalog, n: int = ANSWER_PASSAGES) -> list[ScoredChunk]:
    """The retrieval's passages to answer from, and the chunks just before and after the best
    `NEIGHBOURS_OF` (same document, by position), ranked after them."""
    chosen = result.passages(n)
    known = {p.chunk.chunk_id for p in chosen}
    wanted: list[str] = []
    for passage in result.by_relevance[:NEIGHBOURS_OF]:
        prefix, _, position = passage.chunk.chunk_id.rpartition(":")
        if position.isdigit():
            for step in (-1, 1):
                neighbour = f"{prefix}:{int(position) + step:0{len(position)}d}"
                if int(position) + step >= 0 and neighbour not in known:
                    wanted.append(neighbour)
    found: dict[str, Chunk] = catalog.chunks(list(dict.fromkeys(wanted))) if wanted else {}
    floor = min((p.score for p in chosen), default=0.0)
    extra = [ScoredChunk(found[cid], floor * 0.5) for cid in dict.fromkeys(wanted) if cid in found]
    return chosen + extra


def _judges(settings: Settings, embedders: Mapping[str, Embedder], index: KeywordIndex, question: str,
            query: str, result: RetrievalResult) -> tuple[dict[str, answering.Judge], list[answering.Reading]]:
    own_terms = question_terms(question, index)
    searched_terms = own_terms if query == question else question_terms(query, index)
    follow_terms = own_terms if own_terms.terms else searched_terms
    focus = asked_sentence(question)
    focus_terms = question_terms(focus, index) if focus is not None else None
    judges: dict[str, answering.Judge] = {}
    every: list[answering.Reading] = []
    for passage_lang, query_vectors in result.query_vectors.items():
        embedder = embedders[passage_lang]
        readings: list[answering.Reading] = []
        for qv in query_vectors:
            if qv.bridged:
                readings.append(answering.Reading([(qv.vector, 1.0)], question_terms(qv.text, index), bridged=True))
            elif query == question:
                readings.append(answering.Reading([(qv.vector, 1.0)], own_terms))
                if focus is not None and focus_terms is not None and len(focus_terms.terms) >= 2:
                    # "My son wants to sell online and I'm against it. Do other family firms
                    # fight about this?": the question asked is the last sentence, the rest is
                    # its background.
                    asked = embedder.embed_queries([to_simplified(focus)])[0]
                    readings.append(answering.Reading([(asked, 0.6), (qv.vector, 0.4)], own_terms))
            else:
                own = embedder.embed_queries([to_simplified(question)])[0]
                readings.extend(_follow_up_readings(own, qv.vector, follow_terms, searched_terms))
        calibrated = refusal.calibration(settings, embedder.model_id, result.language)
        judges[passage_lang] = answering.Judge(embedder, readings, calibrated.threshold, calibrated.scale)
        every.extend(readings)
    return judges, every


def _follow_up_readings(asked: np.ndarray, searched: np.ndarray, asked_terms: QuestionTerms,
                        searched_terms: QuestionTerms) -> list[answering.Reading]:
    """A follow-up read twice: its own words matter most and the previous question sets the scene;
    and whole, as searched: "how many of them are listed?" after "what are the little giants?" is
    a question about little giants."""
    return [answering.Reading([(asked, 0.65), (searched, 0.35)], asked_terms),
            answering.Reading([(searched, 1.0)], searched_terms)]


def _across_judge(settings: Settings, reader: Embedder, index: KeywordIndex, question: str, query: str,
                  result: RetrievalResult) -> answering.Judge:
    """A judge of English sentences by the Chinese (multilingual) model reading a Chinese question
    itself. The English model cannot read Chinese: through dictionary words alone it ranked the
    English sentence holding the fact first for a quarter of the dev split's Chinese questions over
    English articles; E5 reading the question, for half."""
    known = {qv.text: qv.vector for qv in result.query_vectors.get("zh", []) if not qv.bridged}

    def vector(text: str) -> np.ndarray:
        return known[text] if text in known else reader.embed_queries([to_simplified(text)])[0]

    bridged = [qv.text for qv in result.query_vectors["en"] if qv.bridged]
    terms = question_terms(bridged[0] if bridged else question, index)
    if query == question:
        readings = [answering.Reading([(vector(question), 1.0)], terms)]
    else:
        readings = _follow_up_readings(vector(question), vector(query), terms, terms)
    calibrated = refusal.across_calibration(settings, reader.model_id, result.language)
    return answering.Judge(reader, readings, calibrated.threshold, calibrated.scale)


def asked_sentence(question: str) -> str | None:
    """The last sentence of a question of several sentences, when it is the one that asks."""
    spans = sentence_spans(question)
    if len(spans) < 2:
        return None
    last = question[spans[-1][0] : spans[-1][1]]
    return last if last.rstrip().endswith(("?", "？")) else None


def decision_features(candidates: Sequence[answering.Candidate], scores: answering.Scores,
                      terms: Sequence[QuestionTerms], passages: Sequence[ScoredChunk],
                      question_language: str) -> dict[str, float]:
    """The question-level evidence the decision model weighs (knowledge/answer_model.py)."""
    top = scores.top
    if top is None:
        return {}
    best_passages = [p.chunk.indexed_text() for p in passages[:4]]
    readings = [t for t in terms if t.terms] or [QuestionTerms(())]
    top_language = passage_language(candidates[top].chunk.text)
    return {
        "best_relevance": float(scores.best_relevance),
        "top_relevance": float(scores.relevance[top]),
        "top_context": float(scores.context[top]),
        "top_coverage": float(scores.coverage[top]),
        "top_passage_coverage": float(scores.passage_coverage[top]),
        "best_passage_coverage": float(np.max(scores.passage_coverage)),
        "unknown_terms": min(r.unknown_share() for r in readings),
        "uncovered_terms": min(1.0 - r.coverage("\n".join(best_passages)) for r in readings),
        "cross_language": float(top_language != question_language),
    }
