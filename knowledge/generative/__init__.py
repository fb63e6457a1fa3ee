"""Generative (LLM) answers: a chat model writes the answer from the retrieved passages.

    from knowledge.generative import attach_llm
    attach_llm(kb, settings)     # no-op when settings.llm_provider == "none"

Retrieval and the refusal decision stay in `KnowledgeBase`: the model is asked only when the
library holds something relevant. The model writes in the question's language and returns claims,
each with a verbatim quote from the passage it cites; grounding (see `grounding`) keeps a claim
only when code finds its quote in the library, so it holds across languages (a Chinese claim citing
an English passage). Citations carry the matched quotes, and any failure falls back to the
extractive answer with `Answer.fallback_reason` saying why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from knowledge.generative.answerer import LLMAnswerer
from knowledge.generative.errors import GenerationError, reason_for
from knowledge.generative.grounding import Grounded, ground

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

# A 135M model reads short prompts best: fewer passages, only their most relevant sentences.
LOCAL_MAX_PASSAGES = 3
LOCAL_PASSAGE_WORDS = 60
# The default local model (SmolLM2-135M) cannot write JSON claims with quotes (measured: none of 5
# answers survived); it copies sentences well, and a copied sentence is its own verbatim quote. Its
# answers are in the passages' language. Another local model (`llm_model`) gets the JSON style.
DEFAULT_LOCAL_STYLE = "copy"

__all__ = ["GenerationError", "Grounded", "LLMAnswerer", "attach_llm", "build_answerer", "ground", "reason_for"]


def build_answerer(settings: Settings) -> LLMAnswerer:
    """An answerer for `settings.llm_provider` ("openai" or "local"); the model loads on first use."""
    from knowledge.generative.models import build_chat_model

    if settings.llm_provider not in ("openai", "local"):
        raise ValueError(f"no language model for llm_provider={settings.llm_provider!r}")
    if settings.llm_provider == "local":
        return LLMAnswerer(lambda: build_chat_model(settings), max_passages=LOCAL_MAX_PASSAGES,
                           passage_words=LOCAL_PASSAGE_WORDS, show_conversation=False,
                           style="json" if settings.llm_model else DEFAULT_LOCAL_STYLE)
    return LLMAnswerer(lambda: build_chat_model(settings))


def attach_llm(kb: KnowledgeBase, settings: Settings | None = None, warm_up: bool = False) -> None:
    """Sets `kb.generator` and `kb.condenser` from the settings (default: the kb's own).

    The model is built on the first answer; `warm_up=True` builds (loads) it now instead, for a
    long-running front end (the bot) that would rather pay the local model's load at start.
    """
    settings = settings or kb.settings
    if settings.llm_provider == "none":
        kb.generator = None
        kb.condenser = None
        return
    answerer = build_answerer(settings)
    if warm_up:
        try:
            answerer.warm_up()
        except Exception as error:  # each answer will fall back and say why; the app still starts
            log.warning("the language model could not be loaded: %s", reason_for(error))
    kb.generator = answerer.generate
    kb.condenser = answerer.condense
