"""What the handlers share: settings, the knowledge base, the bot's store, flood control, locks."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.outbox import Outbox
from bot.ratelimit import RateLimiter
from bot.storage import BotStore
from sme_advisor.welcome import TextsSource

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.language import Language
    from knowledge.types import Answer
    from sme_advisor.settings import Settings

# Measured with benchmarks/bench_bot.py on 2 cores: more threads than cores only add contention.
ANSWER_WORKERS = min(4, os.cpu_count() or 2)
REMOTE_LLM_WORKERS = 8


@dataclass(slots=True)
class Services:
    settings: Settings
    kb: KnowledgeBase
    store: BotStore
    limiter: RateLimiter
    # Answers on their way: kept until delivered, so a Telegram outage delays them, never loses them.
    outbox: Outbox
    # One ingest at a time: ingests are heavy, and their progress reports must not interleave.
    ingest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Answering is CPU-bound and the embedder already uses the cores: a pool the size of the machine
    # serves a crowd first come, first served, instead of dozens of threads slowing each other down.
    # (This is `asyncio.to_thread` with its own bounded executor, so ingests and /start never queue
    # behind fifty questions in the default one.)
    answer_pool: ThreadPoolExecutor = field(init=False)
    # How the bot presents itself: the admin's texts file, read again when it changes.
    texts: TextsSource = field(init=False)

    def __post_init__(self) -> None:
        self.texts = TextsSource(self.settings.texts_path)
        # A remote model spends its time waiting on the network: then more owners may wait at once.
        workers = REMOTE_LLM_WORKERS if self.settings.llm_provider == "openai" else ANSWER_WORKERS
        self.answer_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="answer")

    async def answer(self, chat_id: int, user_id: int | None, text: str, language: Language = "en",
                     remember_language: bool = False) -> tuple[int, Answer]:
        """History, answer and bookkeeping for one question, off the event loop. `language` words a
        refusal of a question without letters; `remember_language` keeps the answer's language as
        the chat's (for its commands and buttons)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.answer_pool, self._answer, chat_id, user_id, text, language, remember_language)

    def _answer(self, chat_id: int, user_id: int | None, text: str, language: Language,
                remember_language: bool) -> tuple[int, Answer]:
        answer = self.kb.ask(text, self.store.history(chat_id), language=language)
        if remember_language:
            self.store.set_language(chat_id, answer.language)
        if answer.outcome == "conversation":
            # "hi", "thanks": not a question for the library, so neither logged among the
            # questions (nor the unanswered ones) nor something a follow-up could lean on.
            return 0, answer
        answer_id = self.store.save_answer(chat_id, user_id, answer)
        if not answer.refused:  # a refusal adds nothing a follow-up could lean on
            self.store.add_exchange(chat_id, text, answer.answer)
        return answer_id, answer

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_user_ids

    def close(self) -> None:
        self.answer_pool.shutdown(wait=True)
        self.store.close()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.application.bot_data["services"]
    assert isinstance(found, Services)
    return found
