"""Admin document handling end to end (real PTB Application, fake Bot API server): uploads follow
the identity rules, /show sends the cleaned text, and quotes show where they are in a document."""

from __future__ import annotations

import dataclasses

from ingest.chunking import make_chunks
from knowledge.catalog import now_iso
from knowledge.encoding import encode_document
from knowledge.types import SourceInfo
from tests.fake_bot_api import buttons, callback_update, document_update, text_update
from tests.input_documents import GRANT_GUIDE, WEB_CAPTURE, annual_report
from tests.test_bot_e2e import ADMIN, Bot, _chats, bot  # noqa: F401  (the module's bot fixture)


async def upload(bot: Bot, file_id: str, name: str, content: bytes, expect: str) -> str:
    bot.server.add_file(file_id, name, content)
    mark = bot.server.mark()
    await bot.server.push(document_update(ADMIN, ADMIN, file_id, name, len(content)))
    done = await bot.server.wait_for("editMessageText", chat_id=ADMIN, after=mark, timeout=120,
                                     where=lambda c: expect in c.text)
    return done.text


async def test_resending_a_name_updates_and_a_copy_under_another_name_is_a_duplicate(bot: Bot) -> None:
    first = await upload(bot, "r1", "coop-report.txt", annual_report(2023, "4.1 million euros", 37).encode(), "Added")
    assert "as coop-report" in first
    update = await upload(bot, "r2", "coop-report.txt", annual_report(2023, "4.3 million euros", 38).encode(),
                          "Updated")
    assert "Updated coop-report" in update and len([s for s in bot.kb.sources() if "coop" in s.doc_id]) == 1
    assert "4.3 million" in bot.kb.chunks_of("coop-report")[0].text
    copy = await upload(bot, "r3", "copy.txt", annual_report(2023, "4.3 million euros", 38).encode(), "same content")
    assert "same content as coop-report" in copy and bot.kb.source("copy") is None
    other = await upload(bot, "r4", "Coop Report.md", annual_report(2024, "4.6 million euros", 41).encode(), "Added")
    assert "coop-report-2" in other and "belongs to another file" in other and "--replace" not in other
    assert not list((bot.settings.data_dir / "uploads" / "by-name").iterdir())  # nothing left behind


async def test_show_sends_short_documents_as_messages_and_long_ones_as_a_file(bot: Bot) -> None:
    await upload(bot, "g1", "grant-guide.txt", GRANT_GUIDE.encode(), "Added")
    shown = await bot.ask(ADMIN, "/show grant-guide")
    assert shown["text"].startswith("Digital Upgrade Grant: Guide for Applicants\ndoc_id: grant-guide")
    assert "The September round" in shown["text"] and "not a web capture" in shown["text"]
    web = await upload(bot, "w1", "bakery-news.txt", WEB_CAPTURE.encode(), "Added")
    assert "removed" in web and "comments" in web and "/show bakery-news" in web
    long_text = "Long handbook on apprenticeships\n\n" + "\n\n".join(
        f"Section {n}. Owners who train apprentices in workshop {n} pay the trainer's wage for twelve months."
        for n in range(120))
    await upload(bot, "l1", "handbook.txt", long_text.encode(), "Added")
    mark = bot.server.mark()
    await bot.server.push(text_update(ADMIN, ADMIN, "/show handbook"))
    sent = await bot.server.wait_for("sendDocument", chat_id=ADMIN, after=mark)
    assert sent.params["document"]["filename"] == "handbook.txt"
    content = sent.params["document"]["content"].decode("utf-8")
    assert content.startswith("Long handbook on apprenticeships") and "workshop 119" in content
    assert "No document" not in content
    missing = await bot.ask(ADMIN, "/show nope")
    assert "no document “nope”" in missing["text"]


async def test_quotes_and_sources_show_the_location(bot: Bot) -> None:
    text = ("Export readiness checklist\n\nExporters should insure their receivables before shipping abroad. "
            "Credit insurers usually pay ninety percent of an unpaid invoice to a small exporter.")
    chunks = make_chunks("export-checklist", "Export readiness checklist", text, "e" * 64,
                         bot.kb.embedder.count_tokens, 40, 0)
    chunks = [dataclasses.replace(c, location=f"p. {3 + i}") for i, c in enumerate(chunks)]
    vectors, sentences = encode_document(bot.kb.embedders, chunks)
    bot.kb.write_document(SourceInfo("export-checklist", "Export readiness checklist", "/docs/export.pdf",
                                     len(chunks), "e" * 64, (), now_iso()), chunks, vectors, sentences)
    chat = next(_chats)
    reply = await bot.ask(chat, "How much of an unpaid invoice do credit insurers pay a small exporter?")
    assert "ninety percent" in reply["text"] and "Export readiness checklist · <i>p. " in reply["text"]
    quotes = next(b for b in buttons(reply) if b.startswith("q:"))
    mark = bot.server.mark()
    await bot.server.push(callback_update(chat, chat, 1, quotes))
    shown = await bot.reply(chat, mark)
    assert "Export readiness checklist</b> · <i>p. " in shown["text"]
