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
from knowledge.generative import terms
from knowledge.generative.grounding import ground
from knowledge.language import Language, primary
from knowledge.text import sentence_spans
from knowledge.types import Citation, ScoredChunk, Turn

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

HISTORY_TURNS = 6
TURN_CHARS = 400
MAX_CONDENSED_CHARS = 300
_MARKER = re.compile(r"\s*\[\d{1,3}\]")
_PREFIX = re.compile(r"^\s*(?:standalone\s+question|question|rewritten(?:\s+question)?|独立问题|改写后的问题|问题)"
                     r"\s*[:：]\s*", re.IGNORECASE)


class LLMAnswerer:
    """Builds its chat model on first use (`model_factory`), then reuses it."""

    def __init__(self, model_factory: Callable[[], BaseChatModel], *, max_passages: int = 4,
                 passage_words: int | None = None, show_conversation: bool = True, style: str = "json") -> None:
        self._model_factory = model_factory
        self.max_passages = max_passages
        self.passage_words = passage_words  # None: whole passages; else the most relevant sentences
        # "json": claims with quotes, in the question's language (capable models). "copy": passage
        # sentences copied with their [n] (small models, which copy well and paraphrase badly).
        self.style = style
        # False: an uncondensed follow-up is asked as the heuristic search query instead (small
        # models continue a transcript rather than answer from it).
        self.show_conversation = show_conversation
        self._lock = threading.Lock()
        self._chains: dict[str, Runnable] = {}
        self._model: BaseChatModel | None = None
        self._condensed: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def chain(self, name: str) -> Runnable:
        """"answer-<style>-<language>" (the prompt and its worked example) or "condense"."""
        with self._lock:
            if name not in self._chains:
                from langchain_core.output_parsers import StrOutputParser

                if self._model is None:
                    self._model = self._model_factory()
                kind, style, language = ([*name.split("-"), "", ""])[:3]
                prompt = prompts.condense_prompt() if kind == "condense" else prompts.answer_prompt(language, style)
                self._chains[name] = prompt | self._model | StrOutputParser()
            return self._chains[name]

    def warm_up(self) -> None:
        """Builds the chat model now (the local one loads its weights) instead of on first use."""
        self.chain("condense")
        warm = getattr(self._model, "warm_up", None)
        if callable(warm):
            warm()

    # --- answering -------------------------------------------------------------------------------
    def generate(self, question: str, history: Sequence[Turn], passages: Sequence[ScoredChunk]
                 ) -> tuple[str, list[Citation]]:
        shown = list(passages)[: self.max_passages]
        language = primary(question)  # the owner's language, whatever the passages are written in
        if self.style == "copy" and not any(primary(p.chunk.text) == language for p in shown):
            # Copied sentences are in their passage's language and would all be dropped: spare the wait.
            raise GenerationError("no passage in the question's language")
        # A condensed follow-up stands alone; otherwise the model sees the conversation.
        standalone = self._condensed.get(_key(question, history))
        conversation = ""
        if standalone is None and self.show_conversation:
            conversation = render_conversation(history)
        elif standalone is None:
            standalone = search_query(question, history)
        asked = standalone or question
        variables = {"passages": render_passages(shown, asked, self.passage_words, tagged=self.style == "copy"),
                     "conversation": conversation, "question": asked,
                     "language": prompts.language_name(language, question)}
        try:
            raw = self.chain(f"answer-{self.style}-{language}").invoke(variables)
        except Exception as error:
            raise GenerationError(reason_for(error)) from error
        if not isinstance(raw, str):
            raise GenerationError("malformed response")
        grounded = ground(raw, shown, language)
        if grounded.dropped:
            log.info("generative answer: dropped %d claim(s): %s", grounded.dropped, grounded.causes)
        return grounded.text, grounded.citations

    __call__ = generate

    # --- follow-ups ------------------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up `question` rewritten to stand alone (used to search the library)."""
        language = primary(question)
        variables = {"history": render_history(history), "question": question,
                     "language": prompts.language_name(language, question)}
        try:
            raw = self.chain("condense").invoke(variables)
        except Exception as error:
            raise GenerationError(reason_for(error)) from error
        if not isinstance(raw, str):
            raise GenerationError("malformed response")
        cleaned = (_PREFIX.sub("", line).strip(" \"'“”‘’「」`*") for line in raw.splitlines())
        lines = [line for line in cleaned if line]
        if not lines:
            raise GenerationError("empty condensed question")
        condensed = " ".join(lines[0].split())[:MAX_CONDENSED_CHARS]
        _check_condensed(condensed, question, history, language)
        key = _key(question, history)
        self._condensed[key] = condensed
        while len(self._condensed) > 256:
            self._condensed.popitem(last=False)
        return condensed


def _check_condensed(condensed: str, question: str, history: Sequence[Turn], language: Language) -> None:
    """Small models answer, chat on, echo or translate instead of rewriting: such output is not used."""
    if not condensed.endswith(("?", "？")):
        raise GenerationError("condensed text is not a question")
    if primary(condensed, default=language) != language:
        raise GenerationError("condensed question in another language")
    own = terms.terms(condensed)
    previous = " ".join(turn.content for turn in history[-HISTORY_TURNS:] if turn.role == "user")
    if not own & (terms.terms(question) | terms.terms(previous)) or is_instruction_attack(condensed):
        raise GenerationError("condensed question off topic")
    if is_follow_up(question, history) and own <= terms.terms(question):
        raise GenerationError("condensed question adds no context")


def render_passages(passages: Sequence[ScoredChunk], question: str, max_words: int | None,
                    tagged: bool = False) -> str:
    """Numbered passages, one sentence a line (a clean unit to quote). With `max_words`, only the
    sentences most relevant to the question, in text order (a small model reads short prompts best).
    `tagged` ends every sentence with its passage's number, so that a model that copies also copies
    the citation (the "copy" style)."""
    blocks = []
    for n, passage in enumerate(passages, 1):
        sentences = [" ".join(passage.chunk.text[s:e].split()) for s, e in sentence_spans(passage.chunk.text)]
        if max_words is not None:
            sentences = _most_relevant(sentences, question, max_words)
        lines = "\n".join(_tag(sentence, n) if tagged else sentence for sentence in sentences)
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
    """The sentences sharing most terms with the question, in text order, within `max_words`
    (English-word equivalents). Across languages nothing is shared: the first sentences win."""
    asked = terms.terms(question)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(asked & terms.terms(sentences[i])), i))
    chosen: list[int] = []
    used = 0.0
    for i in ranked:
        size = terms.size(sentences[i])
        if chosen and used + size > max_words:
            continue
        chosen.append(i)
        used += size
    return [sentences[i] for i in sorted(chosen)]


def _tag(sentence: str, n: int) -> str:
    if sentence.endswith((".", "。")):
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


def _key(question: str, history: Sequence[Turn]) -> tuple[Any, ...]:
    return (question, tuple((t.role, t.content) for t in history))
