"""Figures for the Telegram bot, through the real Application and the fake Bot API server.

    .venv/bin/python benchmarks/bench_bot.py [--owners 50] [--ingest-docs 10]

1. Baseline: the same questions asked of the knowledge base directly, one after another.
2. `--owners` simulated owners each send one question at the same moment, through the fake Bot
   API and the real PTB Application; prints answers per second and reply latency (update pushed ->
   the answer's sendMessage arriving at the server) p50/p95/max.
3. An admin uploads `--ingest-docs` sizeable documents at once (the upload path: getFile, download,
   ingest in a worker thread, progress edits) while a 20 ms heartbeat task measures how late the
   event loop wakes it, and an owner sends /start every half second: the longest stall and the
   slowest /start are what every owner would feel during an ingest.
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

ADMIN = 1
QUESTIONS = [
    "What does it take for a company to be recognised as a little giant?",
    "How many little giants are listed on the stock market?",
    "Why do my employees quit and set up competing businesses?",
    "What mistakes do small firms make when they go digital?",
    "How do family firms deal with conflicts between generations?",
    "What share of China's technical innovation comes from SMEs?",
    "What does specialized and special mean for Zhejiang companies?",
    "Is innovation only about patents and new technology?",
    "How many little giants are based in Shanghai?",
    "What's the weather in Paris tomorrow?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def upload_documents(count: int) -> list[tuple[str, bytes]]:
    """Sizeable reports (~55 kB, ~80 passages each): the starter library and the padding, per edition."""
    from ingest.starter import starter_files

    sources = starter_files() + sorted((ROOT / "tests" / "fixtures" / "padding").glob("*.md"))
    body = "\n\n".join(path.read_text() for path in sources)
    return [(f"sector-report-edition-{n}.md", f"# Sector report, edition {n}\n\n{body}".encode()) for n in range(count)]


async def main(owners: int, ingest_docs: int) -> None:
    from bot.app import build_application
    from ingest.starter import ingest_starter
    from knowledge.base import KnowledgeBase
    from sme_advisor.settings import Settings
    from tests.fake_bot_api import TOKEN, FakeBotApi, document_update, text_update

    work = Path(tempfile.mkdtemp(prefix="sme-bench-bot-"))
    server = FakeBotApi()
    await server.start()
    try:
        settings = Settings(_env_file=None, data_dir=work, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                            telegram_base_file_url=server.base_file_url, admin_user_ids=[ADMIN])
        kb = KnowledgeBase.open(settings)
        ingest_starter(kb)
        kb.ask("warm up")
        print(f"machine: {os.cpu_count()} cores; library: {len(kb.sources())} documents")

        # 1. the knowledge base alone
        started = time.perf_counter()
        for n in range(owners):
            kb.ask(QUESTIONS[n % len(QUESTIONS)])
        direct = owners / (time.perf_counter() - started)
        print(f"kb.ask directly, one after another: {direct:.1f} answers/s")

        application = build_application(settings, kb)
        await application.initialize()
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

        # 2. many owners at once
        mark = server.mark()
        pushed: dict[int, float] = {}
        for n in range(owners):
            user = 10_000 + n
            pushed[user] = time.monotonic()  # the server stamps calls with the same clock
            await server.push(text_update(user, user, QUESTIONS[n % len(QUESTIONS)]))
        latencies = []
        for user, at in pushed.items():
            call = await server.wait_for("sendMessage", chat_id=user, after=mark, timeout=600)
            latencies.append(call.at - at)
        wall = max(c.at for c in server.calls_of("sendMessage", after=mark)) - min(pushed.values())
        print(f"{owners} owners asking at once through the bot: {owners / wall:.1f} answers/s; reply latency "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")

        # 3. event-loop stalls and /start latency during an ingest
        stalls: list[float] = []
        start_latencies: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:
            while not stop.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.02)
                stalls.append(time.perf_counter() - before - 0.02)

        async def owner_pinging_start() -> None:
            chat = 20_000
            while not stop.is_set():
                chat += 1  # a new owner each time: one owner this eager would meet the rate limit
                at, from_mark = time.monotonic(), server.mark()
                await server.push(text_update(chat, chat, "/start"))
                reply = await server.wait_for("sendMessage", chat_id=chat, after=from_mark, timeout=60)
                start_latencies.append(reply.at - at)
                await asyncio.sleep(0.5)

        documents = upload_documents(ingest_docs)
        for n, (name, content) in enumerate(documents):
            server.add_file(f"doc{n}", name, content)
        beat, pinger = asyncio.create_task(heartbeat()), asyncio.create_task(owner_pinging_start())
        await asyncio.sleep(0.5)  # the quiet loop's baseline first
        mark = server.mark()
        ingest_started = time.perf_counter()
        for n, (name, content) in enumerate(documents):
            await server.push(document_update(ADMIN, ADMIN, f"doc{n}", name, len(content)))

        def finished() -> int:
            return len([c for c in server.calls_of("editMessageText", chat_id=ADMIN, after=mark)
                        if c.text.startswith(("✅", "❌"))])

        await server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=1800,
                              where=lambda c: finished() >= len(documents))
        ingest_s = time.perf_counter() - ingest_started
        stop.set()
        await asyncio.gather(beat, pinger)
        passages = sum(s.chunks for s in kb.sources() if s.doc_id.startswith("sector-report"))
        edits = len(server.calls_of("editMessageText", chat_id=ADMIN, after=mark))
        print(f"admin upload of {len(documents)} documents ({passages} passages): {ingest_s:.1f} s, "
              f"{edits} status edits")
        print(f"  event loop meanwhile: longest stall {max(stalls) * 1000:.1f} ms, p99 "
              f"{percentile(stalls, 0.99) * 1000:.1f} ms over {len(stalls)} heartbeats of 20 ms")
        print(f"  /start meanwhile: {len(start_latencies)} replies, median "
              f"{statistics.median(start_latencies) * 1000:.0f} ms, max {max(start_latencies) * 1000:.0f} ms")

        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        kb.close()
    finally:
        await server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--ingest-docs", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.owners, args.ingest_docs))
