"""`KnowledgeBase`: the one object front ends use to ask, list and change the library."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from knowledge import answering, bridge, smalltalk
from knowledge.catalog import Catalog
from knowledge.conversation import is_gibberish, is_instruction_attack, search_query
from knowledge.deliberation import ANSWER_PASSAGES, Deliberation, deliberate
from knowledge.embeddings import Embedder, LazyEmbedder
from knowledge.keyword import KeywordIndexCache
from knowledge.language import Language, primary
from knowledge.refusal_texts import Refusal, hedge_text, join_sentences, library_overview, refusal_text
from knowledge.retrieval import HybridRetriever, RetrievalResult
from knowledge.sentences import SentenceVectors
from knowledge.store import PassageStores, passage_language
from knowledge.types import Answer, Chunk, Citation, Retrieved, ScoredChunk, SourceInfo, Turn

if TYPE_CHECKING:
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

# A generative answerer (issue: LLM mode) plugs in here; it returns (text, citations) or raises.
Generator = Callable[[str, Sequence[Turn], Sequence[ScoredChunk]], tuple[str, list[Citation]]]
# Rewrites a follow-up (question, history) as a standalone search query, or raises.
Condenser = Callable[[str, Sequence[Turn]], str]


def _failure_reason(error: Exception) -> str:
    """A generator's short reason ("timeout", "http 500"…) when it gives one, else the error."""
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) and reason else f"{type(error).__name__}: {error}"[:300]


class KnowledgeBase:
    def __init__(self, settings: Settings, catalog: Catalog, store: PassageStores,
                 embedders: Mapping[Language, Embedder]) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedders = dict(embedders)
        self.embedder = self.embedders["en"]  # the default model: chunk sizes, English text
        self.keywords = KeywordIndexCache(settings.data_dir / "bm25", catalog.version, catalog.iter_chunks)
        self.retriever = HybridRetriever(store, catalog, self.keywords, self.embedders, settings.dense_candidates,
                                         settings.keyword_candidates, settings.max_chunks_per_doc,
                                         bridge=self._bridge if settings.cross_language else None)
        self.write_lock = threading.RLock()
        self.generator: Generator | None = None
        self.condenser: Condenser | None = None
        self.recover()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None,
             embedder_zh: Embedder | None = None) -> KnowledgeBase:
        """`embedder` reads English (and everything when one model is configured for both);
        `embedder_zh` reads Chinese. Each is made from the settings when not given."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        english = embedder or LazyEmbedder(settings)
        if embedder_zh is None:
            same = settings.embedding_model_zh == english.model_id
            embedder_zh = english if same else LazyEmbedder(settings, settings.embedding_model_zh)
        embedders: dict[Language, Embedder] = {"en": english, "zh": embedder_zh}
        catalog = Catalog(settings.catalog_path)
        store = PassageStores(settings, {lang: e.model_id for lang, e in embedders.items()})
        return cls(settings, catalog, store, embedders)

    def close(self) -> None:
        self.catalog.close()

    def _bridge(self, query: str) -> tuple[Language, str]:
        return bridge.other_language(query, self.settings.models_dir)

    # --- reading the library -----------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        return self.catalog.documents()

    def source(self, doc_id: str) -> SourceInfo | None:
        return self.catalog.document(doc_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.catalog.chunks([chunk_id]).get(chunk_id)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        found = self.catalog.chunks(self.catalog.chunk_ids_of(doc_id))
        return sorted(found.values(), key=lambda c: c.position)

    def is_empty(self) -> bool:
        return self.catalog.document_count() == 0

    def topics(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for source in self.sources():
            for topic in source.topics or ("general",):
                grouped.setdefault(topic, []).append(source.title)
        return dict(sorted(grouped.items()))

    def library_overview(self, language: str = "en") -> str:
        """What the library holds, in `language` ("en" or "zh"); titles stay as they are."""
        return library_overview(self.sources(), language)

    # --- asking ------------------------------------------------------------------------------
    def retrieve(self, query: str, k: int | None = None) -> RetrievalResult:
        return self.retriever.search(query, k if k is not None else self.settings.retrieval_top_k)

    def ask(self, question: str, history: Sequence[Turn] = (), language: Language = "en") -> Answer:
        """Answers `question`; a refusal is worded in the question's language, or in `language`
        (e.g. the owner's Telegram language) when the question has no letters to tell by."""
        started = time.perf_counter()
        question = " ".join(question.split())[: self.settings.max_question_chars]
        answer = self._answer(question, list(history))
        answer.language = primary(question, default=language)
        if answer.refusal is not None:
            answer.answer = refusal_text(answer.refusal, answer.language, self.sources())
        elif answer.outcome == "conversation" and answer.intent is not None:
            answer.answer = smalltalk.reply(answer.intent, answer.language)
            if answer.intent == "about_library":
                answer.answer = join_sentences(answer.answer, self.library_overview(answer.language), answer.language)
        elif answer.outcome == "hedged":
            answer.answer = f"{hedge_text(answer.language)}\n\n{answer.answer}"
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def _answer(self, question: str, history: list[Turn]) -> Answer:
        if not question or is_gibberish(question):
            return self._refusal(question, "unclear")
        intent = smalltalk.intent_of(question)
        if intent is not None:
            return Answer(question=question, answer="", refused=False, outcome="conversation", intent=intent)
        if is_instruction_attack(question):
            return self._refusal(question, "instructions")
        asked = smalltalk.without_pleasantries(question)
        query, condense_failure = search_query(asked, history), None
        if self.condenser is not None and history:
            try:
                query = self.condenser(asked, history)
            except Exception as error:  # the heuristic query stands
                condense_failure = f"condense: {_failure_reason(error)}"
                log.warning("condensing the follow-up failed, searching heuristically: %s", condense_failure)
        thought = self.deliberate(asked, query)
        result, passages, candidates, scores = thought.result, thought.passages, thought.candidates, thought.scores
        answer = Answer(question=question, answer="", refused=False, search_query=query,
                        retrieved=[Retrieved(s.chunk.doc_id, s.chunk.chunk_id, s.score)
                                   for s in answering.other_language_first(result.ranked, candidates, scores,
                                                                           result.language)],
                        fallback_reason=condense_failure)
        if thought.outcome == "refused":
            return self._refuse(answer, "not_covered")
        answer.outcome = thought.outcome
        if self.generator is not None and thought.outcome == "answered":
            try:
                answer.answer, answer.citations = self.generator(question, history, passages)
                answer.mode = "generative"
                return answer
            except Exception as error:  # any failure falls back to the extractive answer
                answer.fallback_reason = "; ".join(filter(None, [condense_failure, _failure_reason(error)]))
                log.warning("generative answer failed, answering extractively: %s", answer.fallback_reason)
        chosen = answering.select(candidates, scores, self.settings.answer_max_sentences)
        composed = answering.compose(chosen)
        if not answering.verify_citations(composed.citations, {p.chunk.chunk_id: p.chunk for p in passages}):
            raise AssertionError("an extractive quote is not verbatim")  # a bug, never a user's problem
        if not composed.citations:
            return self._refuse(answer, "no_answer_sentence")
        answer.answer, answer.citations = composed.text, composed.citations
        return answer

    def deliberate(self, question: str, query: str | None = None) -> Deliberation:
        """The evidence and the decision for `question` searched as `query` (evaluation and
        calibration read it too)."""
        query = query or question
        result = self.retrieve(query, max(self.settings.retrieval_top_k, ANSWER_PASSAGES))
        return deliberate(self.settings, self.catalog, self.embedders, self.keywords.get(), question, query, result)

    def relevance(self, question: str, history: Sequence[Turn] = ()) -> dict[str, float]:
        """The refusal evidence for `question` (calibration uses it): per passage language, the
        best cosine of a sentence there, as that language's model measures it."""
        thought = self.deliberate(question, search_query(question, list(history)))
        best: dict[str, float] = {}
        for candidate, similarity in zip(thought.candidates, thought.scores.similarity):
            language = passage_language(candidate.chunk.text)
            best[language] = max(best.get(language, -1.0), float(similarity))
        return best

    def _refuse(self, answer: Answer, reason: Refusal) -> Answer:
        """Marks `answer` refused; `ask` words the reason in the question's language."""
        answer.refused, answer.citations, answer.mode, answer.refusal = True, [], "extractive", reason
        answer.outcome = "refused"
        return answer

    def _refusal(self, question: str, reason: Refusal) -> Answer:
        return self._refuse(Answer(question=question, answer="", refused=True), reason)

    # --- changing the library (used by ingest/) ----------------------------------------------
    def write_document(self, source: SourceInfo, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray],
                       sentences: Sequence[SentenceVectors] = ()) -> int:
        """Makes `chunks` the document's live chunks; returns how many old chunks were removed."""
        with self.write_lock:
            old_ids = set(self.catalog.chunk_ids_of(source.doc_id))
            new_ids = [c.chunk_id for c in chunks]
            pending = self.catalog.add_pending(source.doc_id, new_ids)
            try:
                self.store.upsert(chunks, vectors)
                self.catalog.replace_document(source, chunks, sentences)
            except Exception:
                self.recover()  # the old version stays live; the new vectors go
                raise
            stale = sorted(old_ids - set(new_ids))
            self.store.delete(stale)
            self.catalog.clear_pending(pending)
            return len(stale)

    def remove_source(self, doc_id: str) -> bool:
        with self.write_lock:
            ids = self.catalog.chunk_ids_of(doc_id)
            pending = self.catalog.add_pending(doc_id, ids)
            removed = self.catalog.remove_document(doc_id)
            self.store.delete(self.store.ids_of_document(doc_id))
            self.catalog.clear_pending(pending)
            for copy in (self.settings.data_dir / "files").glob(f"{doc_id}.*"):
                copy.unlink(missing_ok=True)
            return removed

    def recover(self) -> None:
        """Deletes vectors that an interrupted write left without a catalog row."""
        with self.write_lock:
            for pending_id, doc_id, chunk_ids in self.catalog.pending():
                live = set(self.catalog.chunk_ids_of(doc_id))
                orphans = [cid for cid in set(chunk_ids) | set(self.store.ids_of_document(doc_id)) if cid not in live]
                self.store.delete(orphans)
                self.catalog.clear_pending(pending_id)
                log.info("recovered %s: removed %d orphaned vectors", doc_id, len(orphans))
