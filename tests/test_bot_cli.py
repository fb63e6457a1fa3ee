"""`sme-advisor bot` as a real process: start-up errors, long polling and webhook runs against the fake Bot API,
no token in its output."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fake_bot_api import TOKEN, FakeBotApi, text_update

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "ADMIN_", "LLM_", "SME_ADVISOR_"))}
    env.update({"SME_ADVISOR_DATA_DIR": str(data_dir), "AUTO_INGEST_STARTER": "false", "HF_HUB_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1", **extra})
    return env


async def _run(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "sme_advisor", "bot", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def test_missing_token_is_explained_with_exit_code_2(tmp_path: Path) -> None:
    process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=""))
    output = (await process.communicate())[0].decode()
    assert process.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in output and "BotFather" in output


async def test_a_rejected_token_is_explained_without_showing_it(tmp_path: Path) -> None:
    server = FakeBotApi()
    await server.start()
    wrong = "999:WRONG-token-must-stay-secret"
    try:
        process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_BASE_URL=server.base_url,
                                  TELEGRAM_BASE_FILE_URL=server.base_file_url))
        output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
    finally:
        await server.stop()
    assert process.returncode == 2 and "rejected TELEGRAM_BOT_TOKEN" in output
    assert wrong not in output and "WRONG" not in output
    # one line, before anything claims to be running, and no traceback
    assert output.strip().count("\n") == 0 and "running" not in output and "Traceback" not in output


async def test_the_command_serves_owners_and_stops_on_ctrl_c_without_logging_the_token(tmp_path: Path) -> None:
    server = FakeBotApi()
    await server.start()
    try:
        process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=server.base_url,
                                  TELEGRAM_BASE_FILE_URL=server.base_file_url, ADMIN_USER_IDS="1,2"))
        await server.push(text_update(5, 5, "/start"))
        reply = await server.wait_for("sendMessage", chat_id=5, timeout=120)
        assert "My library is empty" in reply.text
        process.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    finally:
        await server.stop()
    assert process.returncode == 0, output
    assert "SME Advisor bot @sme_advisor_test_bot running over 0 documents (long polling)" in output
    assert "Application started" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


async def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"http://127.0.0.1:{closed}/bot"))
    output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
    assert process.returncode == 1 and "cannot reach the Telegram Bot API" in output and "TELEGRAM_BASE_URL" in output
    assert "Traceback" not in output and TOKEN not in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_mode_end_to_end(tmp_path: Path) -> None:
    """Installed with the project: Telegram (the fake server) POSTs updates to the bot's webhook on
    127.0.0.1 with the secret token the bot registered; a forged update is turned away."""
    assert importlib.util.find_spec("tornado") is not None  # python-telegram-bot[webhooks] is a dependency
    server = FakeBotApi()
    await server.start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    try:
        process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=server.base_url,
                                  TELEGRAM_BASE_FILE_URL=server.base_file_url, WEBHOOK_URL=url,
                                  WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port)))
        registered = await server.wait_for("setWebhook", timeout=120)
        assert registered.params["url"] == url and len(registered.params["secret_token"]) >= 32
        assert set(registered.params["allowed_updates"]) == {"message", "callback_query"}
        status = await _deliver_when_listening(server, text_update(5, 5, "/start"))
        assert status == 200
        reply = await server.wait_for("sendMessage", chat_id=5, timeout=120)
        assert "My library is empty" in reply.text
        mark = server.mark()
        forged = await server.deliver(text_update(6, 6, "/start"), secret="not-the-secret")
        assert forged == 403
        mark_after = server.mark()
        assert await server.deliver(text_update(7, 7, "/help")) == 200  # still serving; the forgery was ignored
        await server.wait_for("sendMessage", chat_id=7, after=mark_after, timeout=60)
        assert not server.calls_of("sendMessage", chat_id=6, after=mark)
        assert not server.calls_of("getUpdates")  # no long polling beside the webhook
        process.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    finally:
        await server.stop()
    assert process.returncode == 0, output
    assert f"webhook at {url}, listening on 127.0.0.1:{port}" in output
    assert TOKEN not in output and registered.params["secret_token"] not in output


async def _deliver_when_listening(server: FakeBotApi, update: dict) -> int:
    """setWebhook comes just before the bot's web server listens: retry a refused connection."""
    from aiohttp import ClientConnectorError

    for _ in range(200):
        try:
            return await server.deliver(update)
        except ClientConnectorError:
            await asyncio.sleep(0.05)
    raise AssertionError("the bot's webhook never started listening")
