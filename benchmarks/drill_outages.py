"""Drills for Telegram outages at the lengths of issue 14: the real PTB Application, by long polling,
against the fake Bot API (tests/fake_bot_api.py) over the starter library, with the shipped
outbox settings (OUTBOX_RETRY_S 5 s, OUTBOX_MAX_AGE_S 600 s).

    .venv/bin/python benchmarks/drill_outages.py [--only 500-15s] [--answers N] [--json] [--models DIR]

Each drill first asks its questions with Telegram up (the answers to expect, chat by chat), then
starts the outage of sendMessage and asks the same questions in fresh chats, two per chat. It counts
the answers delivered exactly once and in the order asked, the duplicates, the answers that never
came, apologies ("came too late"), "something went wrong", and calls made before a 429's
retry_after had passed ("early"), failed calls, and how long after the API came back the last answer
arrived ("late s"). Exit code 1 when any answer was lost, duplicated or out of order (for the slow
drills: lost, or any message shown more than twice).

The last two drills are not outages but a slow Telegram: every sendMessage is delivered at once
and answered only after a delay. A client whose read time-out passes first cannot know the message
arrived, and sending it again shows it twice: they count those copies. With an 8 s delay (PTB's
default read time-out is 5 s; the bot's TELEGRAM_READ_TIMEOUT_S is 30 s) and with a 35 s delay,
past even that (a part is then sent at most twice).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.app import build_application  # noqa: E402
from bot.outbox import MAX_UNSURE_SENDS  # noqa: E402
from ingest.starter import ingest_starter  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from sme_advisor.settings import Settings  # noqa: E402
from tests.fake_bot_api import TOKEN, FakeBotApi, text_update  # noqa: E402
from tests.test_bot_e2e import Bot  # noqa: E402

QUESTIONS = (
    "How many little giants are based in Shanghai?",
    "What mistakes do small firms make when they digitalise?",
    "Which specialized companies does China call little giants?",
    "What does it take for a company to be called a little giant?",
    "What share of revenue must a specialised SME spend on research and development?",
    "How many little giants are listed on the A-share market?",
    "What are the invisible champions of Zhejiang?",
    "How do small and micro enterprises innovate?",
    "Why do SMEs matter for the industrial economy?",
    "What do little giants do?",
)
APOLOGY = "came too late"
WENT_WRONG = "something went wrong"
SETTLE_S = 12.0  # after the last expected answer: longer than two courier rounds, so a duplicate shows


@dataclass(frozen=True)
class Outage:
    name: str
    seconds: float
    answers: int
    status: int | None = 500  # None: dropped connections
    retry_after: int | None = None
    slow_delay: float | None = None  # a slow Telegram instead of an outage
    before: str = ""  # the figures before the outbox


OUTAGES = (
    Outage("500-15s", 15, 10, 500, before="10/10 answers lost"),
    Outage("dropped-15s", 15, 10, None, before="10/10 answers lost"),
    Outage("429-30s-retry5", 30, 10, 429, retry_after=5, before="10/10 answers lost"),
    Outage("429-90s-retry20", 90, 5, 429, retry_after=20, before="5/5 answers lost"),
    Outage("slow-30s-8s", 30, 10, slow_delay=8.0, before="not in the issue"),
    Outage("slow-60s-35s", 60, 10, slow_delay=35.0, before="not in the issue"),
)


@dataclass
class Result:
    drill: str
    seconds: float
    answers: int
    exactly_once_in_order: int = 0
    lost: int = 0
    duplicates: int = 0
    most_copies: int = 0  # of any one message
    out_of_order_chats: int = 0
    apologies: int = 0
    went_wrong: int = 0
    early_retries: int = 0
    failed_calls: int = 0
    last_answer_after_outage_s: float = 0.0
    before: str = ""
    details: list[str] = field(default_factory=list)

    slow: bool = False

    @property
    def ok(self) -> bool:
        if self.slow:  # a send Telegram took but answered late may show twice (docs/bot.md), never more
            return not self.lost and not self.went_wrong and self.most_copies <= MAX_UNSURE_SENDS
        return self.exactly_once_in_order == self.answers and not (self.duplicates or self.went_wrong)


_chats = itertools.count(5000)


def plan(answers: int) -> list[tuple[int, list[str]]]:
    """Fresh chats, two questions each (the second must arrive after the first)."""
    questions = list(itertools.islice(itertools.cycle(QUESTIONS), answers))
    return [(next(_chats), questions[i:i + 2]) for i in range(0, len(questions), 2)]


async def ask(bot: Bot, chats: list[tuple[int, list[str]]]) -> None:
    for chat, questions in chats:
        for text in questions:
            await bot.server.push(text_update(chat, chat, text))


async def settled(bot: Bot, mark: int, chats: list[tuple[int, list[str]]], timeout: float) -> None:
    """Until each chat got as many messages as it asked questions, the outbox is empty and
    SETTLE_S has passed without another sendMessage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = all(len(bot.server.calls_of("sendMessage", after=mark, chat_id=chat)) >= len(asked)
                  for chat, asked in chats)
        sent = bot.server.calls_of("sendMessage", after=mark, include_failed=True)
        quiet = not sent or time.monotonic() - sent[-1].at > SETTLE_S
        if got and quiet and not bot.services.store.outbox_size() and not bot.services.outbox.down:
            return
        await asyncio.sleep(0.2)


async def expected_answers(bot: Bot, counts: set[int]) -> dict[tuple[str, ...], list[str]]:
    """With Telegram up: the messages each chat's questions (a pair, or the odd one out) get."""
    expected: dict[tuple[str, ...], list[str]] = {}
    for chat, questions in (pair for answers in sorted(counts) for pair in plan(answers)):
        if tuple(questions) in expected:
            continue
        mark = bot.server.mark()
        await ask(bot, [(chat, questions)])
        await settled(bot, mark, [(chat, questions)], timeout=120)
        expected[tuple(questions)] = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=chat)]
    return expected


async def drill(bot: Bot, outage: Outage, expected: dict[tuple[str, ...], list[str]]) -> Result:
    chats = plan(outage.answers)
    mark = bot.server.mark()
    started = time.monotonic()
    if outage.slow_delay is not None:
        bot.server.slow_for("sendMessage", outage.seconds, outage.slow_delay)
    else:
        bot.server.fail_for("sendMessage", outage.seconds, status=outage.status, retry_after=outage.retry_after)
    await ask(bot, chats)
    await settled(bot, mark, chats, timeout=outage.seconds + 300)
    ended = started + outage.seconds
    result = Result(outage.name, outage.seconds, outage.answers, before=outage.before,
                    slow=outage.slow_delay is not None)
    for chat, questions in chats:
        sent = [c.text for c in bot.server.calls_of("sendMessage", after=mark, chat_id=chat)]
        wanted = expected[tuple(questions)]
        result.apologies += sum(APOLOGY in text for text in sent)
        result.went_wrong += sum(WENT_WRONG in text.lower() for text in sent)
        # Each expected message once; an answer counts as delivered when all its messages were.
        copies = [sent.count(text) for text in wanted]
        result.most_copies = max([result.most_copies, *copies])
        result.duplicates += sum(max(0, n - 1) for n in copies) + sum(1 for t in sent if t not in wanted)
        result.lost += sum(1 for n in copies if n == 0)
        firsts = [sent.index(text) for text in wanted if text in sent]
        in_order = firsts == sorted(firsts)
        if not in_order:
            result.out_of_order_chats += 1
        if all(n == 1 for n in copies) and in_order:
            result.exactly_once_in_order += len(questions)
        elif len(result.details) < 3:
            result.details.append(f"chat {chat}: expected {len(wanted)} messages, got {len(sent)}: "
                                  f"{[t[:50] for t in sent]}")
    calls = bot.server.calls_of("sendMessage", after=mark, include_failed=True)
    result.failed_calls = sum(c.failed is not None for c in calls)
    if outage.retry_after:
        for chat, _ in chats:  # never tried again before the time Telegram asked for
            attempts = [c for c in calls if int(c.params.get("chat_id", 0)) == chat]
            result.early_retries += sum(1 for a, b in zip(attempts, attempts[1:])
                                        if a.failed == 429 and b.at - a.at < outage.retry_after - 0.05)
    delivered = [c.at for c in calls if c.failed is None]
    if not result.slow:  # how long after the API came back the last answer arrived
        result.last_answer_after_outage_s = round(max(delivered) - ended, 1) if delivered else -1.0
    return result


async def run(outages: list[Outage], models: Path, work: Path, answers: int | None,
              read_timeout: float | None) -> list[Result]:
    server = FakeBotApi()
    await server.start()
    settings = Settings(_env_file=None, data_dir=work / "data", models_dir_override=models,
                        telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                        telegram_base_file_url=server.base_file_url, rate_limit_messages=50,
                        **({"telegram_read_timeout_s": read_timeout} if read_timeout else {}))
    kb = KnowledgeBase.open(settings)
    if not kb.sources():
        ingest_starter(kb)
    bot = Bot(server, build_application(settings, kb), kb, settings)
    await bot.start()
    try:
        sized = [o if answers is None else Outage(**{**o.__dict__, "answers": answers}) for o in outages]
        expected = await expected_answers(bot, {o.answers for o in sized})
        results = []
        for outage in sized:
            print(f"{outage.name}: {outage.seconds:.0f} s, {outage.answers} answers …", file=sys.stderr, flush=True)
            results.append(await drill(bot, outage, expected))
            server.outages.clear()
            server.slowness.clear()
        return results
    finally:
        await bot.stop()
        await server.stop()
        kb.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[o.name for o in OUTAGES], action="append")
    parser.add_argument("--answers", type=int, help="answers per drill (default: the issue's 10, or 5)")
    parser.add_argument("--models", type=Path, help="compiled models, kept for a rerun")
    parser.add_argument("--read-timeout", type=float, help="TELEGRAM_READ_TIMEOUT_S (default: the setting's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    outages = [o for o in OUTAGES if not args.only or o.name in args.only]
    with tempfile.TemporaryDirectory(prefix="drill-outages-") as temporary:
        work = Path(temporary)
        results = asyncio.run(run(outages, args.models or work / "models", work, args.answers, args.read_timeout))
    if args.json:
        print(json.dumps([{**r.__dict__, "ok": r.ok} for r in results], indent=2))
    else:
        print(f"{'drill':<18}{'answers':>8}{'once+order':>11}{'lost':>6}{'dupes':>6}{'max':>4}{'apology':>8}"
              f"{'wrong':>6}{'early':>6}{'failed':>7}{'late s':>7}  before")
        for r in results:
            print(f"{r.drill:<18}{r.answers:>8}{r.exactly_once_in_order:>11}{r.lost:>6}{r.duplicates:>6}"
                  f"{r.most_copies:>4}{r.apologies:>8}{r.went_wrong:>6}{r.early_retries:>6}{r.failed_calls:>7}"
                  f"{'—' if r.slow else r.last_answer_after_outage_s:>7}  {r.before}")
            for detail in r.details:
                print(f"    {detail}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
