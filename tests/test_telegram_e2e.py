"""End to end: the real PTB Application, long polling a fake Bot API server, the real knowledge base."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import pytest

from bot.application import build_application
from ingest.starter import ingest_starter
from tests.bot_api_server import (BOT_USER, TOKEN, FakeBotApi, callback_update, document_update, message_update,
                                  text_update)

ADMIN, OWNER, OTHER = 7001, 7002, 7003
_chats = itertools.count(100)
NEW_DOCUMENT = """Apprenticeship vouchers for bakeries

The regional chamber of crafts runs an apprenticeship voucher scheme for family bakeries. Each voucher is
worth 4,800 euros and pays for the first year of a baker apprentice's vocational school fees and tools.
A bakery may claim at most two vouchers a year, and the application must be filed before the
apprentice's first working day. The chamber reports that 312 bakeries used the vouchers last year.
"""


@dataclass
class Harness:
    server: FakeBotApi
    application: object
    kb: object

    async def say(self, user_id: int, chat_id: int, text: str, **extra: object) -> int:
        mark = self.server.mark()
        await self.server.push(text_update(user_id, chat_id, text, **extra))
        return mark

    async def reply_to(self, chat_id: int, after: int, contains: str = "", timeout: float = 60) -> dict:
        call = await self.server.wait_for("sendMessage", chat_id=chat_id, after=after, timeout=timeout,
                                          where=lambda c: contains in c.params.get("text", ""))
        return call.params


@pytest.fixture(scope="module")
async def harness(open_kb, make_settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    server = FakeBotApi()
    await server.start()
    data_dir = tmp_path_factory.mktemp("bot")
    kb = open_kb(data_dir)
    ingest_starter(kb)
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url, admin_user_ids=[ADMIN],
                             rate_limit_messages=5, rate_limit_window_s=60)
    application = build_application(settings, kb)
    await application.initialize()
    await application.post_init(application)  # what run_polling does before polling
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    yield Harness(server, application, kb)
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    await server.stop()
    kb.close()


def _buttons(params: dict) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


def _store(harness: Harness):  # type: ignore[no-untyped-def]
    return harness.application.bot_data["services"].store


async def test_start_and_registered_commands(harness: Harness) -> None:
    commands = harness.server.calls_of("setMyCommands")
    assert {c["command"] for c in commands[0].params["commands"]} == {"start", "help", "topics", "reset"}
    chat = next(_chats)
    mark = await harness.say(chat, chat, "/start")
    reply = await harness.reply_to(chat, mark)
    assert "SME Advisor" in reply["text"] and "5 documents" in reply["text"]
    assert reply["parse_mode"] == "HTML"


async def test_question_gets_typing_then_cited_answer_with_buttons(harness: Harness) -> None:
    chat = next(_chats)
    mark = await harness.say(chat, chat, "What mistakes do small firms make when they digitalise?")
    reply = await harness.reply_to(chat, mark)
    typing = harness.server.calls_of("sendChatAction", after=mark, chat_id=chat)
    assert typing and typing[0].params["action"] == "typing"
    assert typing[0].index < harness.server.calls_of("sendMessage", after=mark, chat_id=chat)[0].index
    assert "<b>[1]</b>" in reply["text"] and "<b>Sources</b>" in reply["text"]
    assert "digital" in reply["text"].lower()
    buttons = _buttons(reply)
    assert any(b.startswith("q:") for b in buttons) and any(b.endswith(":1") for b in buttons)


async def test_follow_up_uses_the_conversation(harness: Harness) -> None:
    chat = next(_chats)
    mark = await harness.say(chat, chat, "Which companies does China call little giants?")
    await harness.reply_to(chat, mark)
    mark = await harness.say(chat, chat, "and how many of them are listed on the stock market?")
    reply = await harness.reply_to(chat, mark)
    assert "300" in reply["text"]


async def test_quotes_button_and_feedback_are_stored(harness: Harness) -> None:
    chat = next(_chats)
    mark = await harness.say(chat, chat, "How many little giants are based in Shanghai?")
    reply = await harness.reply_to(chat, mark)
    buttons = _buttons(reply)
    quotes = next(b for b in buttons if b.startswith("q:"))
    answer_id = int(quotes.split(":")[1])
    mark = harness.server.mark()
    await harness.server.push(callback_update(chat, chat, 1, quotes))
    shown = await harness.reply_to(chat, mark)
    assert "<blockquote>" in shown["text"] and "262" in shown["text"]
    mark = harness.server.mark()
    await harness.server.push(callback_update(chat, chat, 1, f"f:{answer_id}:1"))
    ack = await harness.server.wait_for("answerCallbackQuery", after=mark)
    assert "Thanks" in ack.params["text"]
    votes = [v for v in _store(harness).feedback() if v["answer_id"] == answer_id]
    assert votes and votes[0]["vote"] == 1 and "Shanghai" in votes[0]["question"]
    assert votes[0]["sources"] == ["little-giants-growing"] or "little-giants-growing" in votes[0]["sources"]


async def test_out_of_scope_is_refused_and_logged_for_admins(harness: Harness) -> None:
    chat = next(_chats)
    mark = await harness.say(chat, chat, "What's the weather in Paris tomorrow?")
    reply = await harness.reply_to(chat, mark)
    assert "doesn't cover" in reply["text"] and "[1]" not in reply["text"]
    assert not any(b.startswith("q:") for b in _buttons(reply))
    admin_chat = ADMIN
    mark = await harness.say(ADMIN, admin_chat, "/unanswered")
    listing = await harness.reply_to(admin_chat, mark)
    assert "weather in Paris" in listing["text"]


async def test_admin_upload_is_ingested_and_then_answered(harness: Harness) -> None:
    content = NEW_DOCUMENT.encode()
    harness.server.add_file("f-bakery", "bakery-apprenticeship-vouchers.txt", content)
    mark = harness.server.mark()
    await harness.server.push(document_update(ADMIN, ADMIN, "f-bakery", "bakery-apprenticeship-vouchers.txt",
                                              len(content), caption="#succession"))
    await harness.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=120,
                                  where=lambda c: "Added" in c.params["text"])
    assert harness.server.calls_of("getFile", after=mark)
    source = harness.kb.source("bakery-apprenticeship-vouchers")
    assert source is not None and source.topics == ("succession",)
    chat = next(_chats)
    mark = await harness.say(chat, chat, "How much is an apprenticeship voucher for a bakery worth?")
    reply = await harness.reply_to(chat, mark)
    assert "4,800" in reply["text"] and "Apprenticeship vouchers for bakeries" in reply["text"]


async def test_non_admin_upload_is_refused_and_nothing_ingested(harness: Harness) -> None:
    harness.server.add_file("f-sneaky", "sneaky-notes.txt", b"Sneaky notes that must never be ingested.")
    chat = OTHER
    mark = harness.server.mark()
    await harness.server.push(document_update(OTHER, chat, "f-sneaky", "sneaky-notes.txt", 40))
    reply = await harness.reply_to(chat, mark)
    assert "Only admins" in reply["text"]
    assert not harness.server.calls_of("getFile", after=mark)
    assert harness.kb.source("sneaky-notes") is None
    mark = await harness.say(OTHER, chat, "/remove little-giants-growing")
    refusal = await harness.reply_to(chat, mark)
    assert "admins only" in refusal["text"] and harness.kb.source("little-giants-growing") is not None


async def test_429_and_500_are_retried_not_dropped(harness: Harness) -> None:
    chat = next(_chats)
    harness.server.fail_next("sendMessage", 429, times=1, retry_after=1)
    mark = await harness.say(chat, chat, "How many little giants are based in Shanghai?")
    reply = await harness.reply_to(chat, mark)
    assert "262" in reply["text"]
    failed = [c for c in harness.server.calls_of("sendMessage", after=mark, chat_id=chat) if "_failed" in c.params]
    assert failed and failed[0].params["_failed"] == 429
    harness.server.fail_next("sendMessage", 500, times=2)
    mark = await harness.say(chat, chat, "/help")
    assert "Ask me a question" in (await harness.reply_to(chat, mark))["text"]


async def test_flood_from_one_user_gets_one_notice_and_does_not_starve_another(harness: Harness) -> None:
    flooder, patient = 7100, 7101
    mark = harness.server.mark()
    for n in range(15):
        await harness.server.push(text_update(flooder, flooder, f"How many little giants are in Shanghai? ({n})"))
    await harness.server.push(text_update(patient, patient, "What does the SME Service Innovation Initiative offer?"))
    reply = await harness.reply_to(patient, mark)
    assert "[1]" in reply["text"]
    await asyncio.sleep(2)
    to_flooder = [c.params["text"] for c in harness.server.calls_of("sendMessage", after=mark, chat_id=flooder)
                  if "_failed" not in c.params]
    notices = [t for t in to_flooder if "faster than I can answer" in t]
    assert len(notices) == 1
    assert len(to_flooder) == 5 + 1  # five answers within the limit, one notice, then silence


async def test_stickers_empty_long_and_group_messages(harness: Harness) -> None:
    chat = next(_chats)
    mark = harness.server.mark()
    await harness.server.push(message_update(chat, chat, sticker={
        "file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512,
        "is_animated": False, "is_video": False}))
    assert "only read text" in (await harness.reply_to(chat, mark))["text"]
    mark = await harness.say(chat, chat, "x" * 1500)
    assert "under 1000 characters" in (await harness.reply_to(chat, mark))["text"]
    group = -5001
    mark = await harness.say(7200, group, "How many little giants are based in Shanghai?")
    await asyncio.sleep(1.5)
    assert not harness.server.calls_of("sendMessage", after=mark, chat_id=group)  # not addressed to the bot
    mention = f"@{BOT_USER['username']}"
    mark = await harness.say(7200, group, f"{mention} how many little giants are based in Shanghai?",
                             entities=[{"type": "mention", "offset": 0, "length": len(mention)}])
    assert "262" in (await harness.reply_to(group, mark))["text"]


async def test_start_answers_while_a_long_ingest_runs(harness: Harness, tmp_path: Path) -> None:
    big = ("Long report on apprenticeship schemes. " + "Owners train apprentices in workshops every week. " * 3000)
    harness.server.add_file("f-big", "long-apprenticeship-report.txt", big.encode())
    mark = harness.server.mark()
    await harness.server.push(document_update(ADMIN, ADMIN, "f-big", "long-apprenticeship-report.txt", len(big)))
    await harness.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=60,
                                  where=lambda c: "passages" in c.params["text"])  # ingest under way
    chat = next(_chats)
    started = asyncio.get_running_loop().time()
    start_mark = await harness.say(chat, chat, "/start")
    await harness.reply_to(chat, start_mark)
    answered_in = asyncio.get_running_loop().time() - started
    done = await harness.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=300,
                                         where=lambda c: "Added" in c.params["text"])
    assert harness.server.calls_of("sendMessage", after=start_mark, chat_id=chat)[0].index < done.index
    assert answered_in < 5
