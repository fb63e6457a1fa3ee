"""Answers survive Telegram outages: the real Application against the fake Bot API while its
sendMessage answers 500, drops connections or asks to retry after a while.

The outages here last a few seconds and the outbox retries every half second (`OUTBOX_RETRY_S`);
`benchmarks/drill_outages.py` runs the issue's full-length outages (15 s, 30 s, 90 s).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import AsyncIterator

import pytest

from telegram import Bot as TelegramBot
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.outbox import MAX_UNSURE_SENDS, Outbox
from bot.storage import BotStore
from ingest.starter import ingest_starter
from tests.fake_bot_api import DROPPED, TOKEN, FakeBotApi, buttons, document_update, text_update
from tests.test_bot_e2e import Bot

_chats = itertools.count(300)
ADMIN = 7101
QUESTIONS = ("How many little giants are based in Shanghai?",
             "and how many of them are listed on the stock market?",
             "What mistakes do small firms make when they digitalise?")


@pytest.fixture(scope="module")
async def bot(open_kb, make_settings,  # type: ignore[no-untyped-def]
              tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:
    server = FakeBotApi()
    await server.start()
    data_dir = tmp_path_factory.mktemp("outages")
    kb = open_kb(data_dir)
    ingest_starter(kb)
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url, rate_limit_messages=50,
                             outbox_retry_s=0.5, admin_user_ids=[ADMIN])
    running = Bot(server, build_application(settings, kb), kb, settings)
    await running.start()
    yield running
    await running.stop()
    await server.stop()
    kb.close()


async def delivered(bot: Bot, mark: int, expected: dict[int, int], timeout: float = 90) -> None:
    """Until each chat got `expected` messages after `mark` and the outbox is empty, so that any
    duplicate would have been sent by now."""
    def arrived(_: object) -> bool:
        return all(len(bot.server.calls_of("sendMessage", after=mark, chat_id=chat)) >= count
                   for chat, count in expected.items())

    await bot.server.wait_for("sendMessage", after=mark, where=arrived, timeout=timeout)
    deadline = time.monotonic() + timeout
    while bot.services.store.outbox_size() or bot.services.outbox.down:
        assert time.monotonic() < deadline, "the outbox never emptied"
        await asyncio.sleep(0.1)


async def ask_during_outage(bot: Bot) -> tuple[int, int, int]:
    """Three questions in two chats (a follow-up in the first); returns the chats and the mark."""
    first, second = next(_chats), next(_chats)
    mark = bot.server.mark()
    await bot.server.push(text_update(first, first, QUESTIONS[0]))
    await bot.server.push(text_update(second, second, QUESTIONS[2]))
    await bot.server.push(text_update(first, first, QUESTIONS[1]))
    return first, second, mark


def assert_each_answered_once(bot: Bot, first: int, second: int, mark: int) -> None:
    to_first = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=first)]
    to_second = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=second)]
    assert len(to_first) == 2 and len(to_second) == 1, (to_first, to_second)  # exactly once each
    assert "262" in to_first[0] and "300" in to_first[1]  # in the order asked: the follow-up second
    assert "digital" in to_second[0].lower()
    assert not any("something went wrong" in text for text in to_first + to_second)


@pytest.mark.parametrize("status", [500, None], ids=["500", "dropped-connections"])
async def test_answers_asked_during_an_outage_arrive_once_in_order(bot: Bot, status: int | None) -> None:
    bot.server.fail_for("sendMessage", 4, status=status)
    first, second, mark = await ask_during_outage(bot)
    await delivered(bot, mark, {first: 2, second: 1})
    failed = [c for c in bot.server.calls_of("sendMessage", after=mark, include_failed=True) if c.failed is not None]
    assert failed and all(c.failed == (DROPPED if status is None else 500) for c in failed)
    assert_each_answered_once(bot, first, second, mark)
    answer = bot.server.calls_of("sendMessage", after=mark, chat_id=first)[0]
    assert answer.params["parse_mode"] == "HTML" and any(b.startswith("q:") for b in buttons(answer.params))


async def test_a_long_429_is_waited_out_as_told(bot: Bot) -> None:
    bot.server.fail_for("sendMessage", 6, status=429, retry_after=2)
    first, second, mark = await ask_during_outage(bot)
    await delivered(bot, mark, {first: 2, second: 1})
    assert_each_answered_once(bot, first, second, mark)
    for chat in (first, second):  # never tried again before the time Telegram asked for
        attempts = bot.server.calls_of("sendMessage", after=mark, chat_id=chat, include_failed=True)
        after_429 = [b.at - a.at for a, b in zip(attempts, attempts[1:]) if a.failed == 429]
        assert len(after_429) >= 2 and min(after_429) >= 1.9, after_429


async def test_each_part_is_sent_once_when_the_api_fails_halfway(bot: Bot) -> None:
    chat = next(_chats)
    bot.server.fail_next("sendMessage", 500, times=12, after=1)  # the first part goes, then an outage
    mark = bot.server.mark()
    await bot.services.outbox.send(chat, ["part one", "part two", "part three"], html=False)
    await delivered(bot, mark, {chat: 3})
    sent = bot.server.calls_of("sendMessage", after=mark, chat_id=chat)
    assert [c.text for c in sent] == ["part one", "part two", "part three"]


async def test_a_restart_during_an_outage_still_delivers_once(bot: Bot) -> None:
    chat = next(_chats)
    bot.server.fail_for("sendMessage", 600, status=None)
    mark = await bot.say(chat, chat, QUESTIONS[0])
    deadline = time.monotonic() + 60
    while not bot.services.store.outbox_size():  # answered, and waiting for Telegram
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    await bot.stop()
    bot.server.outages.clear()  # Telegram is back while the bot is down
    bot.application = build_application(bot.settings, bot.kb)  # same bot.sqlite3
    await bot.start()
    await delivered(bot, mark, {chat: 1})
    answers = bot.server.calls_of("sendMessage", after=mark, chat_id=chat)
    assert len(answers) == 1 and "262" in answers[0].text


async def test_command_replies_wait_out_an_outage_too(bot: Bot) -> None:
    """/help, /topics and the owners' other replies go through the outbox like answers."""
    chat = next(_chats)
    bot.server.fail_for("sendMessage", 10, status=500)  # longer than the handler's own retries (7.5 s)
    mark = bot.server.mark()
    for text in ("/help", "/topics", "/reset"):
        await bot.server.push(text_update(chat, chat, text))
    await delivered(bot, mark, {chat: 3})
    sent = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=chat)]
    assert len(sent) == 3 and "Ask me a question" in sent[0] and "forgotten" in sent[2], sent  # in order
    assert bot.server.calls_of("sendMessage", after=mark, chat_id=chat, include_failed=True)[0].failed == 500


async def test_an_upload_report_the_status_edit_cannot_carry_arrives_as_a_message(bot: Bot) -> None:
    """The library changed whatever Telegram does: the admin's report is not lost to an outage."""
    content = b"Cooperative cheese dairies\n\nThe alpine cooperative of 41 dairies shares one ripening cellar.\n"
    bot.server.add_file("f-dairy", "cheese-dairies.txt", content)
    bot.server.fail_for("editMessageText", 12, status=500)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, "f-dairy", "cheese-dairies.txt", len(content)))
    report = await bot.server.wait_for("sendMessage", chat_id=ADMIN, after=mark, timeout=90,
                                       where=lambda c: "cheese-dairies" in c.text and "Received" not in c.text)
    assert "Added" in report.text and bot.kb.source("cheese-dairies") is not None
    assert not bot.server.calls_of("editMessageText", after=mark)  # every edit failed


async def test_no_chat_is_tried_before_a_429s_retry_after_has_passed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found in the 90 s drill: the courier, queued behind a handler for a chat's lock, sent as soon
    as it got the lock, although the handler's last try had just been told to wait 20 s."""
    server = FakeBotApi()
    await server.start()
    telegram = TelegramBot(TOKEN, base_url=server.base_url)
    await telegram.initialize()
    store = BotStore(tmp_path / "bot.sqlite3")
    outbox = Outbox(store, telegram, max_age_s=600, retry_s=0.2)
    try:
        server.fail_for("sendMessage", 3, status=429, retry_after=3)
        store.outbox_add(1, ["first"], html=False)
        store.outbox_add(2, ["second"], html=False)
        assert not await outbox.flush_chat(1) and outbox.down  # told to wait 3 s
        assert not await outbox.flush_chat(2)
        assert [int(c.params["chat_id"]) for c in server.calls_of("sendMessage", include_failed=True)] == [1]
        await asyncio.sleep(3.1)
        assert await outbox.flush_all() and store.outbox_size() == 0
    finally:
        await telegram.shutdown()
        await server.stop()
        store.close()


async def test_a_slow_telegram_shows_a_part_at_most_twice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Telegram carries a send out but answers after the read time-out: the part is sent again
    (it may not have arrived), but not a third time; a slow answer within the time-out, once."""
    server = FakeBotApi()
    await server.start()
    telegram = TelegramBot(TOKEN, base_url=server.base_url, request=HTTPXRequest(read_timeout=1.0))
    await telegram.initialize()
    store = BotStore(tmp_path / "bot.sqlite3")
    outbox = Outbox(store, telegram, max_age_s=600, retry_s=0.2)
    try:
        server.slow_for("sendMessage", 60, delay=2.0)
        await outbox.send(1, ["one", "two"], html=False)
        assert [c.text for c in server.calls_of("sendMessage", chat_id=1)] == ["one"] * MAX_UNSURE_SENDS + \
            ["two"] * MAX_UNSURE_SENDS
        server.slow_for("sendMessage", 60, delay=0.5)
        await outbox.send(2, ["three", "four"], html=False)
        assert [c.text for c in server.calls_of("sendMessage", chat_id=2)] == ["three", "four"]
        assert not store.outbox_size()
    finally:
        await telegram.shutdown()
        store.close()
        await server.stop()


async def test_an_answer_older_than_the_bound_becomes_an_apology(bot: Bot) -> None:
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"outbox_max_age_s": 1.0})
    bot.application = build_application(bot.settings, bot.kb)
    await bot.start()
    chat, zh_chat = next(_chats), next(_chats)
    bot.server.fail_for("sendMessage", 10, status=500)  # longer than the handler's own retries (7.5 s)
    mark = bot.server.mark()
    await bot.server.push(text_update(chat, chat, QUESTIONS[0]))
    await bot.server.push(text_update(zh_chat, zh_chat, "上海有多少家小巨人企业？"))
    await delivered(bot, mark, {chat: 1, zh_chat: 1})
    sent = bot.server.calls_of("sendMessage", after=mark, chat_id=chat)
    assert len(sent) == 1 and "too late" in sent[0].text and QUESTIONS[0] in sent[0].text
    assert "262" not in sent[0].text and "reply_markup" not in sent[0].params
    chinese = bot.server.calls_of("sendMessage", after=mark, chat_id=zh_chat)
    assert len(chinese) == 1 and "上海有多少家小巨人企业" in chinese[0].text and "抱歉" in chinese[0].text
