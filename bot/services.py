"""What the handlers share: settings, the knowledge base, the bot's store, flood control."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.delivery import with_retries
from bot.flood import FloodGuard
from bot.storage import BotStore

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.types import Answer
    from sme_advisor.settings import Settings

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ANSWER_WORKERS = 2
REMOTE_LLM_WORKERS = 8


@dataclass(slots=True)
class Services:
    settings: Settings
    kb: KnowledgeBase
    store: BotStore
    guard: FloodGuard
    # One ingest at a time: ingests are heavy, and their reports must not interleave.
    ingest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    chat_locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    # Answering is CPU-bound and the model already uses every core: a small pool serves a crowd
    # first come, first served, instead of dozens of threads slowing each other down.
    answer_pool: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        # A remote model spends its time waiting on the network: then more owners may wait at once.
        workers = REMOTE_LLM_WORKERS if self.settings.llm_provider == "openai" else ANSWER_WORKERS
        self.answer_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="answer")

    async def answer(self, chat_id: int, user_id: int | None, text: str) -> tuple[int, Answer]:
        """History, answer and bookkeeping for one question, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.answer_pool, self._answer, chat_id, user_id, text)

    def _answer(self, chat_id: int, user_id: int | None, text: str) -> tuple[int, Answer]:
        answer = self.kb.ask(text, self.store.history(chat_id))
        answer_id = self.store.save_answer(chat_id, user_id, answer)
        if not answer.refused:  # a refusal adds nothing a follow-up could lean on
            self.store.add_exchange(chat_id, text, answer.answer)
        return answer_id, answer

    def chat_lock(self, chat_id: int) -> asyncio.Lock:
        return self.chat_locks.setdefault(chat_id, asyncio.Lock())

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_user_ids


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.application.bot_data["services"]
    assert isinstance(found, Services)
    return found


async def reply_html(message: Message, parts: Sequence[str],
                     markup: InlineKeyboardMarkup | None = None) -> Message:
    """Sends `parts` as consecutive HTML messages; the keyboard goes under the last one."""
    sent = message
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await with_retries(lambda part=part, last=last: message.reply_text(
            part, parse_mode=ParseMode.HTML, reply_markup=markup if last else None,
            link_preview_options=NO_PREVIEW))
    return sent


async def reply_plain(message: Message, text: str) -> Message:
    return await with_retries(lambda: message.reply_text(text))
