"""End to end: the real PTB Application long-polling a fake Bot API server, over a real knowledge base.

One module-scoped bot (its own data dir: the starter library, then the tests' uploads) serves every
test; each test talks from its own chat, so their conversations and rate limits don't mix.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.logs import REDACTED, TokenFilter
from bot.services import Services
from ingest.starter import ingest_starter, starter_files
from knowledge.base import KnowledgeBase
from sme_advisor.settings import Settings
from tests.fake_bot_api import (BOT_USER, TOKEN, Call, FakeBotApi, buttons, callback_update, document_update,
                                message_update, text_update)

ADMIN, OTHER = 7001, 7003
_chats = itertools.count(100)
BAKERY_DOCUMENT = """Apprenticeship vouchers for bakeries

The regional chamber of crafts runs an apprenticeship voucher scheme for family bakeries. Each voucher is
worth 4,800 euros and pays for the first year of a baker apprentice's vocational school fees and tools.
A bakery may claim at most two vouchers a year, and the application must be filed before the
apprentice's first working day. The chamber reports that 312 bakeries used the vouchers last year.
"""


@dataclass
class Bot:
    server: FakeBotApi
    application: Application
    kb: KnowledgeBase
    settings: Settings

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    async def say(self, user_id: int, chat_id: int, text: str, **extra: Any) -> int:
        """Sends `text` as `user_id` in `chat_id`; returns the call-log mark to wait from."""
        mark = self.server.mark()
        await self.server.push(text_update(user_id, chat_id, text, **extra))
        return mark

    async def reply(self, chat_id: int, after: int, contains: str = "", timeout: float = 60) -> dict[str, Any]:
        call = await self.server.wait_for("sendMessage", chat_id=chat_id, after=after, timeout=timeout,
                                          where=lambda c: contains in c.text)
        return call.params

    async def ask(self, chat_id: int, text: str) -> dict[str, Any]:
        return await self.reply(chat_id, await self.say(chat_id, chat_id, text))

    async def start(self) -> None:
        await self.application.initialize()
        await self.application.post_init(self.application)  # what run_polling does before polling
        await self.application.start()
        await self.application.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.post_stop(self.application)  # what run_polling does after stopping
        await self.application.shutdown()


@pytest.fixture(scope="module")
async def bot(open_kb, make_settings,  # type: ignore[no-untyped-def]
              tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:
    server = FakeBotApi()
    await server.start()
    data_dir = tmp_path_factory.mktemp("bot")
    kb = open_kb(data_dir)
    ingest_starter(kb)
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url, admin_user_ids=[ADMIN],
                             rate_limit_messages=5, rate_limit_window_s=60)
    running = Bot(server, build_application(settings, kb), kb, settings)
    await running.start()
    yield running
    await running.stop()
    await server.stop()
    kb.close()


async def test_start_and_registered_commands(bot: Bot) -> None:
    menus = bot.server.calls_of("setMyCommands")
    owner_menu = next(c for c in menus if "scope" not in c.params)
    admin_menu = next(c for c in menus if c.params.get("scope", {}).get("chat_id") == ADMIN)
    assert {c["command"] for c in owner_menu.params["commands"]} == {"start", "help", "topics", "reset"}
    assert {"sources", "remove", "stats", "unanswered"} < {c["command"] for c in admin_menu.params["commands"]}
    chat = next(_chats)
    reply = await bot.ask(chat, "/start")
    assert "SME Advisor" in reply["text"] and f"{len(starter_files())} documents" in reply["text"] and "Try asking" in reply["text"]
    assert reply["parse_mode"] == "HTML"
    topics = await bot.ask(chat, "/topics")
    assert "<b>" in topics["text"] and "•" in topics["text"]
    assert "Ask me a question" in (await bot.ask(chat, "/help"))["text"]
    assert "Ask me a question" in (await bot.ask(chat, "/nonsense"))["text"]  # unknown commands get help


async def test_question_gets_typing_then_a_cited_answer_with_buttons(bot: Bot) -> None:
    chat = next(_chats)
    mark = await bot.say(chat, chat, "What mistakes do small firms make when they digitalise?")
    reply = await bot.reply(chat, mark)
    typing = bot.server.calls_of("sendChatAction", after=mark, chat_id=chat)
    assert typing and typing[0].params["action"] == "typing"
    assert typing[0].index < bot.server.calls_of("sendMessage", after=mark, chat_id=chat)[0].index
    text = reply["text"]
    assert reply["parse_mode"] == "HTML" and "<b>[1]</b>" in text and "<b>Sources</b>" in text
    assert "digital" in text.lower() and "[1] " in text.split("<b>Sources</b>")[1]  # a numbered source title
    data = buttons(reply)
    assert any(b.startswith("q:") for b in data) and {b[-2:] for b in data if b.startswith("f:")} == {":1", "-1"}
    assert all(len(b.encode()) <= 64 for b in data)


async def test_follow_up_uses_the_conversation(bot: Bot) -> None:
    chat = next(_chats)
    first = await bot.ask(chat, "Which specialized companies does China call little giants?")
    assert "little giant" in first["text"].lower()
    follow_up = await bot.ask(chat, "and how many of them are listed on the stock market?")
    assert "300" in follow_up["text"] and "[1]" in follow_up["text"]


async def test_a_burst_of_messages_is_answered_in_the_order_sent(bot: Bot) -> None:
    """A question, a command and small talk sent at once: the slow answer does not fall behind."""
    chat = next(_chats)
    mark = bot.server.mark()
    for text in ("How many little giants are based in Shanghai?", "/help", "thanks!"):
        await bot.server.push(text_update(chat, chat, text))
    await bot.server.wait_for("sendMessage", chat_id=chat, after=mark, where=lambda c: "welcome" in c.text)
    sent = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=chat)]
    assert len(sent) == 3 and "262" in sent[0] and "Ask me a question" in sent[1] and "welcome" in sent[2], sent


async def test_a_question_sent_right_after_an_upload_is_answered_from_the_new_document(bot: Bot) -> None:
    content = (b"Shared cold stores for fishmongers\n\nIn the harbour town, 27 independent fishmongers rent one "
               b"shared cold store. Each pays a flat fee of 95 euros a month for a pallet space and round-the-clock "
               b"temperature logging.\n")
    bot.server.add_file("f-cold", "fishmonger-cold-stores.txt", content)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-cold", "fishmonger-cold-stores.txt", len(content)))
    await bot.server.push(text_update(ADMIN, ADMIN, "How much does a fishmonger pay a month for the shared cold store?"))
    answer = await bot.server.wait_for("sendMessage", chat_id=ADMIN, after=mark, timeout=90,
                                       where=lambda c: "cold store" in c.text.lower() and "Received" not in c.text
                                       and "Added" not in c.text)
    assert "95 euros" in answer.text, answer.text
    assert bot.kb.remove_source("fishmonger-cold-stores")  # the other tests count the library's documents


async def test_quotes_button_shows_passages_and_feedback_is_stored(bot: Bot) -> None:
    chat = next(_chats)
    reply = await bot.ask(chat, "How many little giants are based in Shanghai?")
    quotes = next(b for b in buttons(reply) if b.startswith("q:"))
    answer_id = int(quotes.split(":")[1])
    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, quotes))
    shown = await bot.reply(chat, mark)
    assert "<blockquote expandable>" in shown["text"] and "262" in shown["text"]
    # The passage in its context, the quote in bold: not the answer again.
    quoted = shown["text"].split("<blockquote expandable>")[1].split("</blockquote>")[0]
    assert "<b>" in quoted and "262" in quoted.split("<b>")[1].split("</b>")[0]
    assert quoted.replace("<b>", "").replace("</b>", "") != quoted.split("<b>")[1].split("</b>")[0]
    assert "more than 300 giant small companies" in quoted or "Patrick Liang" in quoted or "MIIT data" in quoted
    edited = await bot.server.wait_for("editMessageReplyMarkup", chat_id=chat, after=mark)
    assert not any(b.startswith("q:") for b in buttons(edited.params))  # shown once; the votes stay
    assert await bot.server.wait_for("answerCallbackQuery", after=mark)

    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, f"f:{answer_id}:1"))
    ack = await bot.server.wait_for("answerCallbackQuery", after=mark)
    assert "Thanks" in ack.params["text"]
    votes = [v for v in bot.services.store.feedback() if v["answer_id"] == answer_id]
    assert votes and votes[0]["vote"] == 1 and "Shanghai" in votes[0]["question"]
    assert "262" in votes[0]["answer"] and "little-giants-growing" in votes[0]["sources"]


async def test_buttons_are_bound_to_their_chat_and_forged_data_is_answered_politely(bot: Bot) -> None:
    chat, stranger = next(_chats), next(_chats)
    reply = await bot.ask(chat, "How many little giants are based in Shanghai?")
    answer_id = int(next(b for b in buttons(reply) if b.startswith("q:")).split(":")[1])
    for data in (f"q:{answer_id}", f"f:{answer_id}:1", "q:999999999999999999999999", "f:1:7", "q:-1", "q:١", "zz"):
        mark = bot.server.mark()
        await bot.server.push(callback_update(stranger, stranger, 1, data))
        ack = await bot.server.wait_for("answerCallbackQuery", after=mark)
        assert "no longer" in ack.params["text"], data  # nothing of the other chat, no traceback
        assert not bot.server.calls_of("sendMessage", mark, chat_id=stranger), data
    assert not [v for v in bot.services.store.feedback() if v["answer_id"] == answer_id]


async def test_out_of_scope_is_refused_and_logged_for_admins(bot: Bot) -> None:
    chat = next(_chats)
    reply = await bot.ask(chat, "What's the weather in Paris tomorrow?")
    assert "doesn't cover" in reply["text"] and "My library holds" in reply["text"] and "[1]" not in reply["text"]
    assert not any(b.startswith("q:") for b in buttons(reply))
    listing = await bot.ask(ADMIN, "/unanswered")
    assert "weather in Paris" in listing["text"]
    stats = await bot.ask(ADMIN, "/stats")
    assert "Questions: " in stats["text"] and "Not covered: " in stats["text"] and "👍 1" in stats["text"]


async def test_small_talk_gets_a_short_reply_and_is_not_counted_as_unanswered(bot: Bot) -> None:
    chat = next(_chats)
    before = bot.services.store.stats()
    for message, expected in (("hi", "Ask me anything"), ("thanks!", "welcome"), ("who are you?", "SME Advisor"),
                              ("https://example.com/some-article", "can't open links")):
        reply = await bot.ask(chat, message)
        assert expected in reply["text"] and "[1]" not in reply["text"] and "reply_markup" not in reply
    assert "您好" in (await bot.ask(chat, "你好"))["text"]
    after = bot.services.store.stats()
    assert (after.questions, after.refused) == (before.questions, before.refused)
    listing = await bot.ask(ADMIN, "/unanswered")
    assert "example.com" not in listing["text"] and "who are you" not in listing["text"]


async def test_admin_upload_is_ingested_then_answered_listed_and_removable(bot: Bot) -> None:
    content = BAKERY_DOCUMENT.encode()
    bot.server.add_file("f-bakery", "bakery-apprenticeship-vouchers.txt", content)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-bakery", "bakery-apprenticeship-vouchers.txt",
                                          len(content), caption="#apprenticeships"))
    done = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=120,
                                     where=lambda c: "Added" in c.text)
    assert "bakery-apprenticeship-vouchers" in done.text and bot.server.calls_of("getFile", after=mark)
    source = bot.kb.source("bakery-apprenticeship-vouchers")
    assert source is not None and source.topics == ("apprenticeships",)

    chat = next(_chats)
    reply = await bot.ask(chat, "How much is an apprenticeship voucher for a bakery worth?")
    assert "4,800" in reply["text"] and "Apprenticeship vouchers for bakeries" in reply["text"]
    quotes = next(b for b in buttons(reply) if b.startswith("q:"))

    listing = await bot.ask(ADMIN, "/sources")
    assert "bakery-apprenticeship-vouchers" in listing["text"] and f"{len(starter_files()) + 1} documents" in listing["text"]
    confirm = await bot.ask(ADMIN, "/remove bakery-apprenticeship-vouchers")
    assert "Remove <b>Apprenticeship vouchers for bakeries</b>" in confirm["text"]
    yes = next(b for b in buttons(confirm) if b.startswith("rm:"))
    assert bot.kb.source("bakery-apprenticeship-vouchers") is not None  # nothing happens before the button
    mark = bot.server.mark()
    await bot.server.push(callback_update(ADMIN, ADMIN, 5, yes))
    removed = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark)
    assert "Removed bakery-apprenticeship-vouchers" in removed.text
    assert bot.kb.source("bakery-apprenticeship-vouchers") is None

    # The owner opens the earlier answer's passages after the removal: shown, and said to be gone.
    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, quotes))
    shown = await bot.reply(chat, mark, contains="<blockquote")
    assert "4,800" in shown["text"] and "<i>This passage is no longer in the library" in shown["text"]


async def test_admin_upload_of_an_unreadable_file_reports_why(bot: Bot) -> None:
    bot.server.add_file("f-empty", "empty-notes.txt", b"   \n")
    bot.server.add_file("f-zip", "archive.zip", b"PK\x03\x04")
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-empty", "empty-notes.txt", 4))
    failed = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=60,
                                       where=lambda c: "not added" in c.text)
    assert "empty-notes.txt" in failed.text and bot.kb.source("empty-notes") is None
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-zip", "archive.zip", 4, mime_type="application/zip"))
    assert "I take" in (await bot.reply(ADMIN, mark))["text"]
    too_big = bot.settings.max_upload_mb * 1024 * 1024 + 1
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-zip", "huge.pdf", too_big))
    assert "the limit is" in (await bot.reply(ADMIN, mark))["text"]
    assert not bot.server.calls_of("getFile", after=mark)


async def test_non_admin_upload_and_admin_commands_are_refused(bot: Bot) -> None:
    bot.server.add_file("f-sneaky", "sneaky-notes.txt", b"Sneaky notes that must never be ingested.")
    mark = bot.server.mark()
    await bot.server.push(document_update(OTHER, OTHER, "f-sneaky", "sneaky-notes.txt", 40))
    assert "Only admins" in (await bot.reply(OTHER, mark))["text"]
    for command in ("/remove little-giants-growing", "/sources", "/stats", "/unanswered"):
        assert "admins only" in (await bot.ask(OTHER, command))["text"]
    assert not bot.server.calls_of("getFile", after=mark)
    assert bot.kb.source("sneaky-notes") is None and bot.kb.source("little-giants-growing") is not None
    # A removal button pressed by someone else does nothing either.
    request = bot.services.store.request_removal("little-giants-growing", ADMIN)
    mark = bot.server.mark()
    await bot.server.push(callback_update(OTHER, OTHER, 9, f"rm:{request}"))
    ack = await bot.server.wait_for("answerCallbackQuery", after=mark)
    assert "Only admins" in ack.params["text"] and bot.kb.source("little-giants-growing") is not None


async def test_429_and_500_are_retried_not_dropped(bot: Bot) -> None:
    chat = next(_chats)
    bot.server.fail_next("sendMessage", 429, times=1, retry_after=1)
    mark = await bot.say(chat, chat, "How many little giants are based in Shanghai?")
    reply = await bot.reply(chat, mark)
    assert "262" in reply["text"]
    failed = bot.server.calls_of("sendMessage", after=mark, chat_id=chat, include_failed=True)[0]
    assert failed.failed == 429
    assert bot.server.calls_of("sendMessage", after=mark, chat_id=chat)[0].at - failed.at >= 0.9  # waited as told
    bot.server.fail_next("sendMessage", 500, times=2)
    assert "Ask me a question" in (await bot.ask(chat, "/help"))["text"]


async def test_a_flood_gets_one_notice_and_does_not_starve_another_user(bot: Bot) -> None:
    flooder, patient = 7100, 7101
    mark = bot.server.mark()
    for n in range(15):
        await bot.server.push(text_update(flooder, flooder, f"How many little giants are in Shanghai? ({n})"))
    await bot.server.push(text_update(patient, patient, "What does the SME Service Innovation Initiative offer?"))
    reply = await bot.server.wait_for("sendMessage", chat_id=patient, after=mark)
    assert "[1]" in reply.text

    def answers() -> list[Call]:
        return [c for c in bot.server.calls_of("sendMessage", after=mark, chat_id=flooder) if "[1]" in c.text]

    await bot.server.wait_for("sendMessage", chat_id=flooder, after=mark, where=lambda c: len(answers()) == 5)
    await asyncio.sleep(1)  # nothing more may come
    to_flooder = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=flooder)]
    assert len([t for t in to_flooder if "faster than I can answer" in t]) == 1
    assert len(to_flooder) == 5 + 1  # five answers within the limit, one notice, then silence
    assert reply.index < answers()[-1].index  # the other owner did not wait for the whole flood


async def test_stickers_empty_long_and_group_messages(bot: Bot) -> None:
    chat = next(_chats)
    mark = bot.server.mark()
    await bot.server.push(message_update(chat, chat, sticker={
        "file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512,
        "is_animated": False, "is_video": False}))
    assert "only read text" in (await bot.reply(chat, mark))["text"]
    mark = bot.server.mark()
    await bot.server.push(message_update(chat, chat, voice={"file_id": "v1", "file_unique_id": "v1u", "duration": 3}))
    assert "only read text" in (await bot.reply(chat, mark))["text"]
    assert "under 1000 characters" in (await bot.ask(chat, "x" * 1500))["text"]

    group, member = -5001, 7200
    mark = await bot.say(member, group, "How many little giants are based in Shanghai?")
    await bot.server.push(message_update(member, group, sticker={
        "file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512,
        "is_animated": False, "is_video": False}))
    await asyncio.sleep(1.5)
    assert not bot.server.calls_of("sendMessage", after=mark, chat_id=group)  # not addressed to the bot
    mention = f"@{BOT_USER['username']}"
    # Offsets count UTF-16 units: the emoji before the mention counts twice.
    mark = await bot.say(member, group, f"👋 {mention} how many little giants are based in Shanghai?",
                         entities=[{"type": "mention", "offset": 3, "length": len(mention)}])
    assert "262" in (await bot.reply(group, mark))["text"]
    mark = await bot.say(member, group, mention, entities=[{"type": "mention", "offset": 0, "length": len(mention)}])
    assert "type your question" in (await bot.reply(group, mark))["text"]
    bot_message = {"message_id": 42, "date": 0, "from": BOT_USER, "chat": {"id": group, "type": "group",
                                                                            "title": "Owners' circle"}, "text": "…"}
    mark = await bot.say(member, group, "and how many of them are listed on the stock market?",
                         reply_to_message=bot_message)
    assert "300" in (await bot.reply(group, mark))["text"]


async def test_an_error_is_logged_without_the_token_and_the_user_told(bot: Bot, caplog: pytest.LogCaptureFixture,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(question: str, history: object = (), language: str = "en") -> object:
        raise RuntimeError(f"disk on fire (while using {TOKEN})")

    monkeypatch.setattr(bot.kb, "ask", broken)
    caplog.handler.addFilter(TokenFilter(TOKEN))  # what `sme-advisor bot` puts on its log handlers
    chat = next(_chats)
    with caplog.at_level(logging.INFO):
        reply = await bot.ask(chat, "What do little giants do?")
    assert "something went wrong" in reply["text"]
    assert "error while handling an update" in caplog.text and "disk on fire" in caplog.text
    assert TOKEN not in caplog.text and REDACTED in caplog.text


async def test_start_answers_while_a_long_ingest_runs(bot: Bot) -> None:
    big = "Long report on apprenticeship schemes. " + " ".join(  # distinct passages: repeated ones are stored once
        f"Workshop {n} trains {n % 7 + 2} apprentices every week." for n in range(3000))
    bot.server.add_file("f-big", "long-apprenticeship-report.txt", big.encode())
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-big", "long-apprenticeship-report.txt", len(big)))
    await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=60,
                              where=lambda c: "passages" in c.text)  # the ingest is under way
    chat = next(_chats)
    loop = asyncio.get_running_loop()
    started = loop.time()
    start_mark = await bot.say(chat, chat, "/start")
    await bot.reply(chat, start_mark)
    answered_in = loop.time() - started
    done = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=300,
                                     where=lambda c: "Added" in c.text)
    assert bot.server.calls_of("sendMessage", after=start_mark, chat_id=chat)[0].index < done.index
    assert answered_in < 3
    edits = bot.server.calls_of("editMessageText", after=mark, chat_id=ADMIN)
    assert all(b.at - a.at >= 1.0 for a, b in zip(edits[1:-1], edits[2:-1]))  # progress edits are throttled


async def test_a_restart_keeps_the_conversation(bot: Bot) -> None:
    chat = next(_chats)
    await bot.ask(chat, "Which specialized companies does China call little giants?")
    await bot.stop()
    bot.application = build_application(bot.settings, bot.kb)  # same data dir, same bot.sqlite3
    await bot.start()
    follow_up = await bot.ask(chat, "and how many of them are listed on the stock market?")
    assert "300" in follow_up["text"]
