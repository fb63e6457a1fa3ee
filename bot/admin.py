"""What admins do: add documents by sending them, list and remove sources, usage and gaps."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import rendering
from bot.delivery import with_retries
from bot.services import Services, reply_html, reply_plain, services
from ingest.loaders import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0  # edits are rate-limited by Telegram; one a second reads as live


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    document = message.document
    name = Path(document.file_name or "document").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES}))
        await reply_plain(message, f"I can't read “{name}”: I take {kinds} files. Nothing was added.")
        return
    limit_mb = found.settings.max_upload_mb
    if document.file_size and document.file_size > limit_mb * 1024 * 1024:
        await reply_plain(message, f"“{name}” is {document.file_size / 1048576:.1f} MB; the limit is {limit_mb} MB. "
                                   "Nothing was added.")
        return
    topics = re.findall(r"#([\w-]+)", message.caption or "")
    status = await reply_plain(message, f"Received “{name}”. Waiting for my turn to add it…"
                               if found.ingest_lock.locked() else f"Received “{name}”. Downloading…")
    async with found.ingest_lock:
        folder = found.settings.data_dir / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        try:
            telegram_file = await with_retries(lambda: context.bot.get_file(document.file_id))
            path = folder / name
            await with_retries(lambda: telegram_file.download_to_drive(path))
            report = await _ingest_with_progress(found, status, path, topics)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    await _edit(status, _report_text(name, report))


async def _ingest_with_progress(found: Services, status: Message, path: Path, topics: list[str]):  # type: ignore[no-untyped-def]
    from ingest.pipeline import IngestProgress, ingest_paths

    loop = asyncio.get_running_loop()
    latest: list[IngestProgress] = []
    changed = asyncio.Event()

    def on_progress(event: IngestProgress) -> None:  # runs in the ingest thread
        def publish() -> None:
            latest[:] = [event]
            changed.set()
        loop.call_soon_threadsafe(publish)

    async def show_progress() -> None:
        shown = ""
        while True:
            await changed.wait()
            changed.clear()
            event = latest[0]
            text = f"Adding “{path.name}”: {event.stage}"
            if event.chunks_total:
                text += f" – {event.chunks_done}/{event.chunks_total} passages"
            if text != shown:
                await _edit(status, text)
                shown = text
            await asyncio.sleep(PROGRESS_EVERY_S)

    reporter = asyncio.create_task(show_progress())
    try:
        return await asyncio.to_thread(ingest_paths, found.kb, [path], topics, on_progress)
    finally:
        reporter.cancel()


def _report_text(name: str, report) -> str:  # type: ignore[no-untyped-def]
    if report.failed:
        reasons = "; ".join(failure.error for failure in report.failed)
        return f"❌ “{name}” was not added: {reasons}"
    if report.added:
        return (f"✅ Added “{name}” as {report.added[0]} ({report.chunks_added} passages). "
                "Owners can ask about it now.")
    if report.updated:
        return (f"✅ Updated {report.updated[0]} from “{name}”: {report.chunks_added} new passages, "
                f"{report.chunks_removed} old ones removed.")
    return f"“{name}” is already in the library, unchanged – nothing to do."


async def _edit(status: Message, text: str) -> None:
    try:
        await with_retries(lambda: status.edit_text(text))
    except BadRequest as error:  # "message is not modified" and the like are harmless
        log.debug("progress edit skipped: %s", error)


async def list_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sources = await asyncio.to_thread(services(context).kb.sources)
    if not sources:
        await reply_plain(update.effective_message, "The library is empty. Send me a document to add one.")
        return
    lines = [f"{s.doc_id} – {s.title} ({s.chunks} passages{', ' + ', '.join(s.topics) if s.topics else ''})"
             for s in sources]
    parts = rendering.bullet_list(f"{len(sources)} documents in the library", lines)
    parts[-1] += "\n\n" + rendering.escape("Remove one with /remove DOC_ID.")
    await reply_html(update.effective_message, parts)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    if not context.args:
        await reply_plain(message, "Usage: /remove DOC_ID (see /sources for the ids).")
        return
    doc_id = context.args[0]
    source = await asyncio.to_thread(found.kb.source, doc_id)
    if source is None:
        await reply_plain(message, f"There is no document “{doc_id}” in the library. See /sources.")
        return
    if len(f"rm:{doc_id}".encode()) > 64:  # Telegram's limit on callback data
        await reply_plain(message, "That document id is too long to confirm with a button; use the CLI: "
                                   f"sme-advisor sources remove {doc_id}")
        return
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes, remove it", callback_data=f"rm:{doc_id}"),
                                      InlineKeyboardButton("Cancel", callback_data="rm-cancel")]])
    await with_retries(lambda: message.reply_text(
        f"Remove <b>{rendering.escape(source.title)}</b> ({rendering.escape(doc_id)}, {source.chunks} passages) "
        "from the library?", parse_mode=ParseMode.HTML, reply_markup=keyboard))


async def confirm_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, found = update.callback_query, services(context)
    if not found.is_admin(update.effective_user.id):
        await with_retries(lambda: query.answer("Only admins can remove documents."))
        return
    await with_retries(lambda: query.answer())
    if query.data == "rm-cancel":
        await _edit(query.message, "Cancelled – nothing was removed.")
        return
    doc_id = query.data.removeprefix("rm:")
    removed = await asyncio.to_thread(found.kb.remove_source, doc_id)
    await _edit(query.message, f"Removed {doc_id} and all its passages." if removed
                else f"{doc_id} was already gone.")


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    usage = await asyncio.to_thread(found.store.stats)
    documents = len(await asyncio.to_thread(found.kb.sources))
    await reply_plain(update.effective_message,
                      f"Questions: {usage.questions}\nAnswered from the library: {usage.answered} "
                      f"({usage.answered_share:.0%})\nNot covered: {usage.refused}\n"
                      f"Feedback: 👍 {usage.thumbs_up} · 👎 {usage.thumbs_down}\nDocuments: {documents}")


async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = await asyncio.to_thread(services(context).store.unanswered)
    if not rows:
        await reply_plain(update.effective_message, "No unanswered questions so far.")
        return
    lines = [f"{datetime.fromtimestamp(at).strftime('%Y-%m-%d %H:%M')} – {question}" for question, at in rows]
    await reply_html(update.effective_message, rendering.bullet_list("Recent questions my library didn't cover",
                                                                     lines))

