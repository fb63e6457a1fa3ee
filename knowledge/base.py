"""`KnowledgeBase`: the one object front ends use to ask, list and change the library."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence

import numpy as np

from knowledge import answering, bridge, smalltalk
from knowledge.catalog import Catalog
from knowledge.conversation import is_gibberish, is_instruction_attack, is_task_request, search_query
from knowledge.deliberation import ANSWER_PASSAGES, Deliberation, deliberate
from knowledge.embeddings import Embedder, LazyEmbedder, MemoEmbedder
from knowledge.keyword_cache import KeywordIndexCache
from knowledge.language import Language, primary
from knowledge.locking import LibraryLock, owner_description
from knowledge.refusal_texts import Refusal, across_text, hedge_text, join_sentences, library_overview, refusal_text
from knowledge.retrieval import HybridRetriever, RetrievalResult
from knowledge.sentences import SentenceVectors
from knowledge.store import PassageStores, drop_unused_collections, passage_language
from knowledge.text import readable
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


def make_embedders(settings: Settings, embedder: Embedder | None = None,
                   embedder_zh: Embedder | None = None) -> dict[Language, Embedder]:
    english = embedder or LazyEmbedder(settings)
    if embedder_zh is None:
        same = settings.embedding_model_zh == english.model_id
        embedder_zh = english if same else LazyEmbedder(settings, settings.embedding_model_zh)
    return {"en": english, "zh": embedder_zh}


class KnowledgeBase:
    def __init__(self, settings: Settings, catalog: Catalog, store: PassageStores,
                 embedders: Mapping[Language, Embedder], recover: bool = True) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedders = dict(embedders)
        self.embedder = self.embedders["en"]  # the default model: chunk sizes, English text
        self.keywords = KeywordIndexCache(settings.data_dir / "bm25", catalog)
        self.retriever = HybridRetriever(store, catalog, self.keywords, self.embedders, settings.dense_candidates,
                                         settings.keyword_candidates, settings.max_chunks_per_doc,
                                         bridge=self._bridge if settings.cross_language else None)
        # The Chinese model reads mixed passages, so it reads English too: it reads English
        # sentences for Chinese questions the English model cannot (knowledge/deliberation.py).
        zh = self.embedders["zh"]
        self.across_reader = MemoEmbedder(zh) if settings.cross_language and zh is not self.embedder else None
        self.lock = LibraryLock(settings.data_dir)
        self._seen = catalog.generation()  # what this process's caches of the library reflect
        self._refreshing = threading.Lock()
        self._sources: tuple[int, tuple[SourceInfo, ...]] | None = None
        self.generator: Generator | None = None
        self.condenser: Condenser | None = None
        if recover:  # not for a reindex's staging library, which shares Chroma with the live one
            self.recover()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None,
             embedder_zh: Embedder | None = None) -> KnowledgeBase:
        """`embedder` reads English (and everything when one model is configured for both);
        `embedder_zh` reads Chinese. Each is made from the settings when not given."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        embedders = make_embedders(settings, embedder, embedder_zh)
        catalog = Catalog(settings.catalog_path)
        store = PassageStores(settings, {lang: e.model_id for lang, e in embedders.items()}, catalog.collections())
        return cls(settings, catalog, store, embedders)

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

    # --- several processes on one library ----------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Reopens the Chroma handles when another process changed the library since this one last
        looked (the keyword index follows the catalog version by itself; chunks are read from the
        catalog each time). Returns whether it did."""
        if self.catalog.generation() == self._seen and not force:
            return False
        with self._refreshing:  # answer threads noticing the change together reopen it once
            seen = self.catalog.generation()
            if seen == self._seen and not force:
                return False
            self.store.reopen(self.catalog.collections())
            self._seen = seen
            return True

    @contextmanager
    def writing(self, purpose: str, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Holds the library's write lock (waiting for another process's write to finish) with this
        process's view of Chroma brought up to date first, so its write builds on the other's."""
        def waiting(owner: dict | None) -> None:  # type: ignore[type-arg]
            message = f"waiting for {owner_description(owner)} to finish writing to the library"
            log.warning(message)
            if on_wait is not None:
                on_wait(message)

        with self.lock.hold(purpose, on_wait=waiting):
            self.refresh()
            try:
                yield
            finally:
                self._seen = self.catalog.generation()  # this process's own writes are in its view

    def _bridge(self, query: str) -> tuple[Language, str]:
        return bridge.other_language(query, self.settings.models_dir)

    # --- reading the library -----------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        # Kept per library version: every refusal words what the library covers from the whole
        # listing, 60 ms at 7,400 documents (benchmarks/bench_scale.py), and it changes only with
        # the version (a new, updated or removed document, new topics).
        version = self.catalog.version()
        cached = self._sources
        if cached is None or cached[0] != version:
            cached = self._sources = (version, tuple(self.catalog.documents()))
        return list(cached[1])

    def source(self, doc_id: str) -> SourceInfo | None:
        return self.catalog.document(doc_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.catalog.chunks([chunk_id]).get(chunk_id)

    def missing_chunks(self, chunk_ids: Sequence[str]) -> set[str]:
        """Those of `chunk_ids` the library no longer holds (their document removed or changed)."""
        return set(chunk_ids) - set(self.catalog.chunks(list(chunk_ids)))

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
        k = k if k is not None else self.settings.retrieval_top_k
        self.refresh()
        try:
            with self.store.gate.shared():
                return self.retriever.search(query, k)
        except Exception as error:
            if not type(error).__module__.startswith("chromadb"):
                raise
            # Another process switched or changed a collection between our check and our search
            # (a reindex dropping the old one): look again once, with fresh handles.
            log.warning("the vector store changed under a search, reopening it: %s", error)
            self.refresh(force=True)
            with self.store.gate.shared():
                return self.retriever.search(query, k)

    def ask(self, question: str, history: Sequence[Turn] = (), language: Language = "en") -> Answer:
        """Answers `question`; a refusal is worded in the question's language, or in `language`
        (e.g. the owner's Telegram language) when the question has no letters to tell by."""
        started = time.perf_counter()
        question = " ".join(readable(question).split())[: self.settings.max_question_chars]
        history = [Turn(turn.role, readable(turn.content)) for turn in history]
        answer = self._answer(question, history)
        answer.language = primary(question, default=language)
        if answer.refusal is not None:
            answer.answer = refusal_text(answer.refusal, answer.language, self.sources())
        elif answer.outcome == "conversation" and answer.intent is not None:
            answer.answer = smalltalk.reply(answer.intent, answer.language)
            if answer.intent == "about_library":
                answer.answer = join_sentences(answer.answer, self.library_overview(answer.language), answer.language)
        elif answer.outcome == "hedged":
            answer.answer = f"{hedge_text(answer.language)}\n\n{answer.answer}"
        elif answer.mode == "extractive" and answer.citations:
            quoted = {passage_language(c.quote) for c in answer.citations}
            if len(quoted) == 1 and answer.language not in quoted:  # told why the quotes are in the other language
                answer.answer = f"{across_text(quoted.pop(), answer.language)}\n\n{answer.answer}"
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
        if is_task_request(question):
            return self._refusal(question, "task")
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
        return deliberate(self.settings, self.catalog, self.embedders, self.keywords.get(), question, query, result,
                          self.across_reader)

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
        with self.writing("ingest"):
            old_ids = set(self.catalog.chunk_ids_of(source.doc_id))
            new_ids = [c.chunk_id for c in chunks]
            pending = self.catalog.add_pending(source.doc_id, new_ids)
            try:
                self.store.upsert(chunks, vectors)
                self.catalog.replace_document(source, chunks, sentences)
            except Exception:
                self._recover_pending()  # the old version stays live; the new vectors go
                raise
            stale = sorted(old_ids - set(new_ids))
            self.store.delete(stale)
            self.catalog.clear_pending(pending)
            return len(stale)

    def add_vectors(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray],
                    sentences: Sequence[SentenceVectors] = ()) -> None:
        """Gives live chunks that lost their vectors (a killed reindex of old) their vectors back."""
        with self.writing("repair"):
            live = self.catalog.chunks([c.chunk_id for c in chunks])
            kept = [(c, v) for c, v in zip(chunks, vectors) if c.chunk_id in live]
            self.store.upsert([c for c, _ in kept], [v for _, v in kept])
            self.catalog.store_sentences(sentences)
            self.catalog.bump_vectors()

    def missing_vectors(self, doc_id: str) -> list[str]:
        """The document's live chunks that vector search cannot find (no vector in Chroma)."""
        stored = set(self.store.ids_of_document(doc_id))
        return [cid for cid in self.catalog.chunk_ids_of(doc_id) if cid not in stored]

    def remove_source(self, doc_id: str) -> bool:
        with self.writing("remove"):
            ids = self.catalog.chunk_ids_of(doc_id)
            pending = self.catalog.add_pending(doc_id, ids)
            removed = self.catalog.remove_document(doc_id)
            self.store.delete(self.store.ids_of_document(doc_id))
            self.catalog.clear_pending(pending)
            for copy in (self.settings.data_dir / "files").glob(f"{doc_id}.*"):
                copy.unlink(missing_ok=True)
            return removed

    def recover(self) -> None:
        """Cleans up after writes whose process died: vectors without a catalog row, a reindex's
        unfinished collections. Only when no process is writing (the lock is free): an unfinished
        write of a live process is not a dead one's."""
        with self.lock.try_hold("recover") as held:
            if not held:
                log.info("%s is writing: recovery is left for later", owner_description(self.lock.owner()))
                return
            self.refresh()
            self._recover_pending()
            self._drop_unused_collections()
            self._seen = self.catalog.generation()

    def _recover_pending(self) -> None:
        for pending_id, doc_id, chunk_ids in self.catalog.pending():
            live = set(self.catalog.chunk_ids_of(doc_id))
            orphans = [cid for cid in set(chunk_ids) | set(self.store.ids_of_document(doc_id)) if cid not in live]
            self.store.delete(orphans)
            self.catalog.clear_pending(pending_id)
            log.info("recovered %s: removed %d orphaned vectors", doc_id, len(orphans))

    def _drop_unused_collections(self) -> None:
        """A killed reindex leaves its half-built collections (and, killed after switching, the old
        ones) and its staging catalog; the catalog names the live collections."""
        switched = self.catalog.collections()  # every collection the catalog names is live, configured or not
        drop_unused_collections(self.settings, self.store.client, set(self.store.names().values()) | set(switched.values()),
                                switched=bool(switched))
        if self.catalog.get_meta("reindex") is not None:
            self.catalog.delete_meta("reindex")
        shutil.rmtree(self.settings.data_dir / "reindex", ignore_errors=True)
