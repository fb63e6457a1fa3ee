"""Issue 10's documents through the bot: an admin uploads each (real PTB Application, fake Bot API
file download), then owners' questions are answered with the right quote, and the reply shows
where it sits next to the title — a table row, the section after a "Comments" heading, page 3 of
a PDF, a slide, a spreadsheet row, a row of a table in a PDF.

One bot and one library (only these documents) serve the whole module. What ingest alone does
with the same documents is tested in test_structured_e2e.py; the bot's identity rules for uploads
(a name sent again is an update, another name with the same id gets `-2`) in test_bot_documents.py.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import re
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.app import build_application
from knowledge.base import KnowledgeBase
from tests.fake_bot_api import TOKEN, FakeBotApi, buttons, callback_update, document_update
from tests.input_documents import GRANT_GUIDE
from tests.structured_documents import (
    CLUTTERED_NEWS_PAGE, MARKDOWN_WITH_FRONT_MATTER, SUPPLIERS_CSV, write_export_pdf, write_freight_pdf,
    write_grants_xlsx, write_retention_docx, write_sales_pptx,
)
from tests.test_bot_e2e import ADMIN, Bot

_chats = itertools.count(300)
_QUOTE_BLOCK = re.compile(r"<b>\[(\d+)\] (.*?)</b>(?: · <i>(.*?)</i>)?\n<blockquote expandable>(.*?)</blockquote>",
                          re.S)


@contextlib.asynccontextmanager
async def running_bot(make_settings, kb: KnowledgeBase, data_dir: Path) -> AsyncIterator[Bot]:  # type: ignore[no-untyped-def]
    """The real Application long-polling a fresh fake Bot API, with `ADMIN` as its admin."""
    server = FakeBotApi()
    await server.start()
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=server.base_url,
                             telegram_base_file_url=server.base_file_url, admin_user_ids=[ADMIN],
                             rate_limit_messages=30, rate_limit_window_s=60)
    running = Bot(server, build_application(settings, kb), kb, settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        await server.stop()


def upload_files(folder: Path) -> dict[str, bytes]:
    """Issue 10's "Done when" documents, as an admin would send them."""
    (folder / "cash-flow.md").write_text(MARKDOWN_WITH_FRONT_MATTER)
    (folder / "succession-cliff.html").write_text(CLUTTERED_NEWS_PAGE)
    (folder / "grant-guide.txt").write_text(GRANT_GUIDE)
    (folder / "suppliers.csv").write_text(SUPPLIERS_CSV)
    write_retention_docx(folder / "staff-retention.docx")
    write_export_pdf(folder / "export-readiness.pdf")
    write_freight_pdf(folder / "freight-costs.pdf")
    write_sales_pptx(folder / "shop-launch.pptx")
    write_grants_xlsx(folder / "regional-grants.xlsx")
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
async def uploaded(open_kb, make_settings,  # type: ignore[no-untyped-def]
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Bot, dict[str, str]]]:
    """The bot after the admin uploaded every document; with each upload's final report."""
    data_dir = tmp_path_factory.mktemp("bot-structured")
    kb = open_kb(data_dir)
    async with running_bot(make_settings, kb, data_dir) as bot:
        reports = {}
        for number, (name, content) in enumerate(upload_files(tmp_path_factory.mktemp("uploads")).items()):
            file_id = f"doc-{number}"
            bot.server.add_file(file_id, name, content)
            mark = bot.server.mark()
            await bot.server.push(document_update(ADMIN, ADMIN, file_id, name, len(content)))
            done = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=180,
                                             where=lambda c: c.text.startswith(("✅", "❌", "“")))
            reports[name] = done.text
        yield bot, reports
    kb.close()


def test_every_upload_is_added_with_its_structure(uploaded: tuple[Bot, dict[str, str]]) -> None:
    bot, reports = uploaded
    assert len(reports) == 9 and all(text.startswith("✅ Added") for text in reports.values()), reports
    assert "as staff-retention" in reports["staff-retention.docx"]
    # Front matter is metadata: the title and topics, not body text.
    cash_flow = bot.kb.source("cash-flow")
    assert cash_flow is not None and cash_flow.title == "Cash-Flow Forecasting for Small Retailers"
    assert cash_flow.topics == ("finance", "retail")
    assert not any("title:" in c.text for c in bot.kb.chunks_of("cash-flow"))
    # The news page's clutter is gone; the guide's "Comments" section and its Contact section are kept.
    news = " ".join(c.text for c in bot.kb.chunks_of("succession-cliff"))
    assert "62 percent" in news and "office chairs" not in news and "Great article" not in news
    guide = " ".join(c.indexed_text() for c in bot.kb.chunks_of("grant-guide"))
    assert "Reviewers' comments" in guide and "grants@regional-office.example" in guide
    assert "Cleaned as a web page" not in reports["grant-guide.txt"]


def sources_listed(reply: dict[str, Any]) -> dict[str, str]:
    """The answer's list of sources, "[1] [2] Title · <i>p. 3</i>": citation number → what follows."""
    listed = {}
    for line in reply["text"].split("<b>Sources</b>")[1].strip().splitlines():
        numbers, rest = re.match(r"^((?:\[\d+\] )+)(.*)$", line).groups()  # type: ignore[union-attr]
        listed.update({number: rest for number in re.findall(r"\d+", numbers)})
    return listed


def quotes_shown(reply: dict[str, Any], shown: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(title, location, quote) of each citation in the "Show quoted passages" message, in order,
    each checked against the answer's own list of sources."""
    listed, found = sources_listed(reply), []
    for number, title, location, block in _QUOTE_BLOCK.findall(shown["text"]):
        assert listed[number] == (f"{title} · <i>{location}</i>" if location else title), (number, reply["text"])
        # The quote is in bold when context stands around it, plain when it stands alone.
        bold = re.findall(r"<b>(.*?)</b>", block, re.S)
        quote = " ".join(html.unescape(q) for q in bold) if bold else html.unescape(block)
        found.append((html.unescape(title), html.unescape(location) or None, quote))
    return found


@pytest.mark.parametrize(
    ("question", "doc_id", "quote", "location"),
    [
        ("Which retention measure reduces resignations the most?", "staff-retention",
         "Four-day week — Yearly cost per employee: EUR 2,750; Drop in resignations: 41%", "Costs"),
        ("Can a micro firm with under 10 employees get an export loan?", "staff-retention",
         "Micro (under 10) — Innovation grant: Yes; Export loan: Yes; Tax credit: No", "Public support › By firm size"),
        ("Can I apply in September if I missed March?", "grant-guide",
         "Firms that missed the March round can apply in the second round, which opens on 1 September",
         "The September round"),
        ("How much does a freight forwarder cut customs clearance delays?", "export-readiness",
         "cut clearance delays by 38 percent on average", "p. 3"),
        ("Do free returns help an online shop convert first-time visitors?", "shop-launch",
         "Shops that offered free returns converted 23 percent more first-time visitors in the pilot.", "slide 3"),
        ("What is the deadline for the green machinery grant?", "regional-grants",
         "Green machinery — Maximum amount: 25000; Own contribution: 60%; Deadline: 30 September", "Grants, row 5"),
        ("How much does freight per pallet to Norway cost?", "freight-costs",
         "Norway — Freight per pallet: EUR 410; Transit days: 5; Import duty: 0%", "p. 1"),
        ("How many firms without a written succession plan had a dispute among heirs?", "succession-cliff",
         "62 percent of firms without one reported a dispute among heirs", "Why handovers stall"),
        ("What is the lead time of Baltic Boxes?", "suppliers",
         "Baltic Boxes — Lead time (days): 5; Minimum order: 200 units; Payment terms: 14 days", "row 3"),
    ],
)
async def test_owner_gets_the_right_quote_with_its_location(uploaded: tuple[Bot, dict[str, str]], question: str,
                                                           doc_id: str, quote: str, location: str) -> None:
    bot, _ = uploaded
    chat = next(_chats)
    reply = await bot.ask(chat, question)
    source = bot.kb.source(doc_id)
    assert source is not None
    assert f"{html.escape(source.title, quote=False)} · <i>{html.escape(location, quote=False)}</i>" in reply["text"], \
        reply["text"]
    assert "doesn't cover" not in reply["text"]
    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, next(b for b in buttons(reply) if b.startswith("q:"))))
    shown = await bot.reply(chat, mark, contains="<blockquote")
    # The passage that answers is quoted, under the document's title and its place.
    assert any((title, where) == (source.title, location) and quote in shown_quote
               for title, where, shown_quote in quotes_shown(reply, shown)), shown["text"]
