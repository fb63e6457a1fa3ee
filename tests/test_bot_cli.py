"""`sme-advisor bot` as a real process: start-up errors, a run against the fake Bot API, no token in its output."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

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
    assert "bot running" in output and "Application started" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


@pytest.mark.skipif(__import__("importlib").util.find_spec("tornado") is not None, reason="webhooks are installed")
async def test_webhook_mode_without_its_extra_is_explained(tmp_path: Path) -> None:
    process = await _run(_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN), "--webhook-url", "https://example.com/hook")
    output = (await process.communicate())[0].decode()
    assert process.returncode == 2 and "python-telegram-bot[webhooks]" in output
