"""The bot stays under Telegram's flood limits before Telegram has to say so: PTB's
`AIORateLimiter` spaces out what the real Application sends to the fake Bot API (a group chat gets
20 messages a minute), while a 429 that still comes is left to the outbox (max_retries=0)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.app import build_application
from tests.fake_bot_api import TOKEN, FakeBotApi

GROUP_PER_MINUTE = 20


@pytest.fixture
async def running(open_kb, make_settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    server = FakeBotApi()
    await server.start()
    kb = open_kb(tmp_path)
    settings = make_settings(tmp_path, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url)
    application = build_application(settings, kb)
    await application.initialize()
    yield application, server
    await application.shutdown()
    await server.stop()
    kb.close()


async def _send_at_once(application, chat_id: int, count: int) -> None:  # type: ignore[no-untyped-def]
    await asyncio.gather(*(application.bot.send_message(chat_id, f"message {n}") for n in range(count)))


async def test_a_group_chat_gets_at_most_twenty_messages_a_minute(running) -> None:  # type: ignore[no-untyped-def]
    application, server = running
    assert isinstance(application.bot.rate_limiter, AIORateLimiter)
    group, mark = -100500, server.mark()
    await _send_at_once(application, group, GROUP_PER_MINUTE + 1)
    times = sorted(call.at for call in server.calls_of("sendMessage", after=mark, chat_id=group))
    assert len(times) == GROUP_PER_MINUTE + 1
    # The bucket lets twenty through, then one every three seconds.
    assert times[-1] - times[0] >= 2.0, times


async def test_a_private_chat_is_not_held_to_the_group_limit(running) -> None:  # type: ignore[no-untyped-def]
    application, server = running
    owner, mark = 4242, server.mark()
    await _send_at_once(application, owner, GROUP_PER_MINUTE + 1)
    times = sorted(call.at for call in server.calls_of("sendMessage", after=mark, chat_id=owner))
    assert len(times) == GROUP_PER_MINUTE + 1
    assert times[-1] - times[0] < 2.0, times


async def test_a_429_is_not_retried_by_the_limiter(running) -> None:  # type: ignore[no-untyped-def]
    """Waiting out a flood wait is the outbox's job (it keeps the answer meanwhile)."""
    application, server = running
    server.fail_next("sendMessage", 429, retry_after=3)
    mark = server.mark()
    with pytest.raises(RetryAfter):
        await application.bot.send_message(4343, "hello")
    assert len(server.calls_of("sendMessage", after=mark, include_failed=True)) == 1
