"""Figures for the Telegram bot, through the real Application and the fake Bot API server.

    .venv/bin/python benchmarks/bench_bot.py [--owners 50] [--ingest-docs 20]

1. `--owners` simulated owners each send one question at the same moment; prints answers per
   second and reply latency (update pushed -> answer's sendMessage received) p50/p95/max.
2. An admin uploads `--ingest-docs` documents one after another while a 20 ms heartbeat task
   measures how late the event loop wakes it: the longest stall is what every owner would feel.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_core import QUESTIONS  # noqa: E402  (the same owners' questions; this script's folder is on sys.path)



async def main(owners: int, ingest_docs: int) -> None:
    from bot.application import build_application
    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings
    from tests.bot_api_server import TOKEN, FakeBotApi, document_update, text_update

    work = Path(tempfile.mkdtemp(prefix="sme-bench-bot-"))
    server = FakeBotApi()
    await server.start()
    try:
        settings = Settings(_env_file=None, data_dir=work, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                            telegram_base_file_url=server.base_file_url, admin_user_ids=[1])
        kb = KnowledgeBase.open(settings)
        ingest_starter(kb)
        kb.ask("warm up")
        application = build_application(settings, kb)
        await application.initialize()
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

        # 1. many owners at once
        mark = server.mark()
        pushed: dict[int, float] = {}
        for n in range(owners):
            user = 10_000 + n
            pushed[user] = time.monotonic()  # the server stamps calls with the same clock
            await server.push(text_update(user, user, QUESTIONS[n % len(QUESTIONS)]))
        started = min(pushed.values())
        latencies = []
        for user, at in pushed.items():
            call = await server.wait_for("sendMessage", chat_id=user, after=mark, timeout=600)
            latencies.append(call.at - at)
        wall = max(c.at for c in server.calls_of("sendMessage", after=mark)) - started
        latencies.sort()
        print(f"{owners} owners asking at once: {owners / wall:.1f} answers/s; reply latency p50 "
              f"{statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")

        # 2. event-loop stalls during an ingest
        stalls: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:
            while not stop.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.02)
                stalls.append(time.perf_counter() - before - 0.02)

        beat = asyncio.create_task(heartbeat())
        padding = sorted((ROOT / "tests" / "fixtures" / "padding").glob("*.md"))[:ingest_docs]
        mark = server.mark()
        ingest_started = time.perf_counter()
        for n, path in enumerate(padding):
            server.add_file(f"pad{n}", path.name, path.read_bytes())
            await server.push(document_update(1, 1, f"pad{n}", path.name, path.stat().st_size))
        await server.wait_for("editMessageText", chat_id=1, after=mark, timeout=900,
                              where=lambda c: len([x for x in server.calls_of("editMessageText", after=mark)
                                                   if "Added" in x.params["text"]]) >= len(padding))
        ingest_s = time.perf_counter() - ingest_started
        stop.set()
        await beat
        print(f"ingest of {len(padding)} uploaded documents: {ingest_s:.1f} s; longest event-loop stall "
              f"{max(stalls) * 1000:.1f} ms (p99 {sorted(stalls)[int(0.99 * (len(stalls) - 1))] * 1000:.1f} ms "
              f"over {len(stalls)} heartbeats)")

        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        kb.close()
    finally:
        await server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--ingest-docs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.owners, args.ingest_docs))
