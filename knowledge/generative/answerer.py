"""The LangChain chains behind generative answers and condensed follow-ups.

`LLMAnswerer.generate` is `KnowledgeBase.generator`; `LLMAnswerer.condense` is
`KnowledgeBase.condenser`. Both raise `GenerationError` (with a short `reason`) on any failure, and
the knowledge base then falls back: to the extractive answer, or to the heuristic search query.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Sequence

import prompts
from knowledge.conversation import is_follow_up, is_instruction_attack, search_query
from knowledge.generative.errors import GenerationError, reason_for
from knowledge.generative.grounding import ground
from knowledge.text import content_words, sentence_spans
from knowledge.types import Citation, ScoredChunk, Turn

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

HISTORY_TURNS = 6
TURN_CHARS = 400
MAX_CONDENSED_CHARS = 300
_MARKER = re.compile(r"\s*\[\d{1,3}\]")
_PREFIX = re.compile(r"^\s*(?:standalone\s+question|question|rewritten(?:\s+question)?)\s*:\s*", re.IGNORECASE)


class LLMAnswerer:
    """Builds its chat model on first use (`model_factory`), then reuses it."""

    def __init__(self, model_factory: Callable[[], BaseChatModel], *, max_passages: int = 4,
                 passage_words: int | None = None, show_conversation: bool = True) -> None:
        self._model_factory = model_factory
        self.max_passages = max_passages
        self.passage_words = passage_words  # None: whole passages; else the most relevant sentences
        # False: an uncondensed follow-up is asked as the heuristic search query instead (small
        # models continue a transcript rather than answer from it).
        self.show_conversation = show_conversation
        self._lock = threading.Lock()
        self._chains: tuple[Runnable, Runnable] | None = None
        self._model: BaseChatModel | None = None
        self._condensed: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def chains(self) -> tuple[Runnable, Runnable]:
        with self._lock:
            if self._chains is None:
                from langchain_core.output_parsers import StrOutputParser

                model = self._model = self._model_factory()
                self._chains = (prompts.answer_prompt() | model | StrOutputParser(),
                                prompts.condense_prompt() | model | StrOutputParser())
            return self._chains

    def warm_up(self) -> None:
        """Builds the chat model now (the local one loads its weights) instead of on first use."""
        self.chains()
        warm = getattr(self._model, "warm_up", None)
        if callable(warm):
            warm()

    # --- answering -------------------------------------------------------------------------------
    def generate(self, question: str, history: Sequence[Turn], passages: Sequence[ScoredChunk]
                 ) -> tuple[str, list[Citation]]:
        shown = list(passages)[: self.max_passages]
        # A condensed follow-up stands alone; otherwise the model sees the conversation.
        standalone = self._condensed.get(_key(question, history))
        conversation = ""
        if standalone is None and self.show_conversation:
            conversation = render_conversation(history)
        elif standalone is None:
            standalone = search_query(question, history)
        asked = standalone or question
        variables = {"passages": render_passages(shown, asked, self.passage_words),
                     "conversation": conversation, "question": asked}
        try:
            raw = self.chains()[0].invoke(variables)
        except Exception as error:
            raise GenerationError(reason_for(error)) from error
        if not isinstance(raw, str):
            raise GenerationError("malformed response")
        grounded = ground(raw, shown)
        if grounded.dropped:
            log.info("generative answer: dropped %d unsupported sentence(s)", grounded.dropped)
        return grounded.text, grounded.citations

    __call__ = generate

    # --- follow-ups ------------------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up `question` rewritten to stand alone (used to search the library)."""
        try:
            raw = self.chains()[1].invoke({"history": render_history(history), "question": question})
        except Exception as error:
            raise GenerationError(reason_for(error)) from error
        if not isinstance(raw, str):
            raise GenerationError("malformed response")
        cleaned = (_PREFIX.sub("", line).strip(" \"'“”‘’`*") for line in raw.splitlines())
        lines = [line for line in cleaned if line]
        if not lines:
            raise GenerationError("empty condensed question")
        condensed = " ".join(lines[0].split())[:MAX_CONDENSED_CHARS]
        _check_condensed(condensed, question, history)
        key = _key(question, history)
        self._condensed[key] = condensed
        while len(self._condensed) > 256:
            self._condensed.popitem(last=False)
        return condensed


def _check_condensed(condensed: str, question: str, history: Sequence[Turn]) -> None:
    """Small models answer, chat on or echo instead of rewriting: such output is not used."""
    if not condensed.endswith(("?", "？")):
        raise GenerationError("condensed text is not a question")
    own = set(_stems(condensed))
    previous = " ".join(turn.content for turn in history[-HISTORY_TURNS:] if turn.role == "user")
    if not own & (set(_stems(question)) | set(_stems(previous))) or is_instruction_attack(condensed):
        raise GenerationError("condensed question off topic")
    if is_follow_up(question, history) and own <= set(_stems(question)):
        raise GenerationError("condensed question adds no context")


def render_passages(passages: Sequence[ScoredChunk], question: str, max_words: int | None) -> str:
    """Numbered passages; every sentence carries its passage's number, as the answer should."""
    blocks = []
    for n, passage in enumerate(passages, 1):
        sentences = [" ".join(passage.chunk.text[s:e].split()) for s, e in sentence_spans(passage.chunk.text)]
        if max_words is not None:
            sentences = _most_relevant(sentences, question, max_words)
        lines = "\n".join(_tag(sentence, n) for sentence in sentences)
        blocks.append(f"Passage [{n}] ({passage.chunk.title}):\n{lines}")
    return "\n\n".join(blocks)


def render_conversation(history: Sequence[Turn]) -> str:
    if not history:
        return ""
    return f"Conversation so far (context only):\n{render_history(history)}\n\n"


def render_history(history: Sequence[Turn]) -> str:
    lines = []
    for turn in list(history)[-HISTORY_TURNS:]:
        content = " ".join(_MARKER.sub("", turn.content).split())
        if len(content) > TURN_CHARS:
            content = content[:TURN_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {content}")
    return "\n".join(lines)


def _most_relevant(sentences: list[str], question: str, max_words: int) -> list[str]:
    """The sentences sharing most words with the question, in text order, within `max_words`."""
    asked = set(_stems(question))
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(asked & set(_stems(sentences[i]))), i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        size = len(sentences[i].split())
        if chosen and used + size > max_words:
            continue
        chosen.append(i)
        used += size
    return [sentences[i] for i in sorted(chosen)]


def _tag(sentence: str, n: int) -> str:
    if sentence.endswith("."):
        return f"{sentence[:-1]} [{n}]."
    return f"{sentence} [{n}]"


def _stems(text: str) -> list[str]:
    return [w[:5] if w.isalpha() else w for w in content_words(text)]


def _key(question: str, history: Sequence[Turn]) -> tuple[Any, ...]:
    return (question, tuple((t.role, t.content) for t in history))
