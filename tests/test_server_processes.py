"""Two `sme-advisor` processes sharing one `chroma run` server on loopback and one data dir (issue 12):
the bot, running as a real process against the fake Bot API, follows what an admin's CLI ingests,
removes and reindexes, without a restart. The embedded-store version is tests/test_processes.py.

In server mode Chroma's index lives in the server, so every process sees another's vectors at once;
the catalog (SQLite in the shared data dir) says which chunks are live, and a reindex's switch to new
collections reaches the bot through the catalog generation (KnowledgeBase.refresh)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from tests.fake_bot_api import TOKEN, FakeBotApi, text_update
from tests.test_processes import GRANT, GRANT_QUESTION, SUCCESSION_QUESTION, cli, write_library

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
OWNER = 4242
GRANT_ID = "lantern-valley-grant"


def server_env(data_dir: Path, models_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment both processes run in: one data dir, one Chroma server, the shared compiled model."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "ADMIN_", "LLM_", "SME_ADVISOR_", "CHROMA_"))}
    env.update({"SME_ADVISOR_DATA_DIR": str(data_dir), "SME_ADVISOR_MODELS_DIR": str(models_dir),
                "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port), "AUTO_INGEST_STARTER": "false",
                "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **extra})
    return env


async def ask(server: FakeBotApi, question: str) -> str:
    mark = server.mark()
    await server.push(text_update(OWNER, OWNER, question))
    return (await server.wait_for("sendMessage", chat_id=OWNER, after=mark, timeout=120)).text


async def test_the_running_bot_follows_ingest_and_remove_from_the_cli_through_a_chroma_server(
        open_kb, tmp_path: Path, models_dir: Path, chroma_server: int) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    kb = open_kb(data, chroma_host="127.0.0.1", chroma_port=chroma_server)  # compiles the shared model once
    try:
        assert ingest_paths(kb, [write_library(tmp_path / "base", 1)], topics=["succession"]).ok
    finally:
        kb.close()

    telegram = FakeBotApi()
    await telegram.start()
    env = server_env(data, models_dir, chroma_server)
    log = (tmp_path / "bot.log").open("w")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sme_advisor", "bot", cwd=ROOT, stdout=log, stderr=log,
        env={**env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": telegram.base_url,
             "TELEGRAM_BASE_FILE_URL": telegram.base_file_url})
    try:
        # the bot's caches are warm: it answers from the library it started with, and has no grant
        assert "Succession note 0" in (await ask(telegram, SUCCESSION_QUESTION)).split("Sources", 1)[-1]
        before = await ask(telegram, GRANT_QUESTION)
        assert "Lantern Valley" not in before and "40 percent" not in before

        grant = tmp_path / "new" / f"{GRANT_ID}.txt"
        grant.parent.mkdir()
        grant.write_text("Lantern Valley digital grant\n\n" + GRANT)
        added = await asyncio.to_thread(cli, env, "ingest", str(grant), "--json")
        assert added.returncode == 0, added.stdout + added.stderr

        answer = await ask(telegram, GRANT_QUESTION)  # the same bot process, never restarted
        text, sources = answer.split("Sources", 1) if "Sources" in answer else (answer, "")
        assert "40 percent" in text, answer
        assert "Lantern Valley digital grant" in sources, answer  # cited by its title

        removed = await asyncio.to_thread(cli, env, "sources", "remove", GRANT_ID)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        for _ in range(2):  # and stays unquoted (the chat's history holds the earlier answer)
            after = await ask(telegram, GRANT_QUESTION)
            assert "Lantern Valley" not in after and "40 percent" not in after, after

        reindexed = await asyncio.to_thread(cli, env, "reindex")  # the collections the bot had open are dropped
        assert reindexed.returncode == 0, reindexed.stdout + reindexed.stderr
        succession = await ask(telegram, SUCCESSION_QUESTION)
        assert "Succession note 0" in succession.split("Sources", 1)[-1], succession
        assert bot.returncode is None, "the bot stopped"
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGINT)
            await asyncio.wait_for(bot.wait(), 60)
        await telegram.stop()
        log.close()
    output = (tmp_path / "bot.log").read_text()
    assert bot.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "Error finding id" not in output, output[-3000:]
    # the reindex reached the bot through the catalog generation, not through a failed search
    assert "the vector store changed under a search" not in output, output[-3000:]
    assert not (data / "chroma").exists(), "server mode keeps no local vector store"
