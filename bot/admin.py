"""What admins do: add documents by sending them, list and remove sources, see usage and gaps.

Only admins reach these handlers: `bot.app` registers them behind `filters.User(ADMIN_USER_IDS)`.
The removal button re-checks, since anyone in a group could press a button an admin was sent.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import render
from bot.delivery import edit_text, reply_html, reply_plain, with_retries
from bot.services import Services, services
from ingest.loaders import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from ingest.pipeline import IngestProgress, IngestReport

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.5  # Telegram limits edits; one every second or two still reads as live
SHOW_AS_MESSAGES = 2  # a longer document goes as a .txt file rather than a stream of messages
STAGES = {"reading": "reading", "embedding": "indexing passages", "writing": "saving",
          "done": "done", "failed": "failed", "unchanged": "unchanged"}


# --- adding documents --------------------------------------------------------------------------
async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    document = message.document
    name = upload_name(document.file_name)  # the stem becomes the doc_id
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES} - {"markdown"}))
        await reply_plain(message, f"I can't read “{name}”: I take {kinds} files. Nothing was added.")
        return
    limit = found.settings.max_upload_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        await reply_plain(message, f"“{name}” is {document.file_size / 1048576:.1f} MB; the limit is "
                                   f"{found.settings.max_upload_mb} MB. Nothing was added.")
        return
    topics = re.findall(r"#([\w-]+)", message.caption or "")  # "#succession" in the caption tags it
    status = await reply_plain(message, f"Received “{name}”. Downloading…")
    uploads = found.settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as folder:
        path = Path(folder) / name
        telegram_file = await with_retries(lambda: context.bot.get_file(document.file_id))
        await with_retries(lambda: telegram_file.download_to_drive(path))
        if path.stat().st_size > limit:  # file_size is optional in the update: check what arrived
            await edit_text(status, f"“{name}” is over the {found.settings.max_upload_mb} MB limit. "
                                    "Nothing was added.")
            return
        if found.ingest_lock.locked():
            await edit_text(status, f"Received “{name}”. Another document is being added; this one is next.")
        async with found.ingest_lock:  # one ingest at a time: they are heavy, and reports stay readable
            # The same name is the same document: an admin re-sending "prices.pdf" from a phone means
            # an update. Uploads therefore enter the library from one stable path per file name.
            stable = uploads / "by-name" / name
            stable.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, stable)
            try:
                report = await _ingest_with_progress(found, status, stable, topics)
            finally:
                stable.unlink(missing_ok=True)  # the library keeps its own copy
    await edit_text(status, report_text(name, report))


def upload_name(file_name: str | None) -> str:
    """A file name safe to store under: no folders, no leading dot, no control characters."""
    name = Path((file_name or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f]", "", name).strip() or "document.txt"
    return f"upload{name}" if name.startswith(".") else name


async def _ingest_with_progress(found: Services, status: Message, path: Path, topics: list[str]) -> IngestReport:
    """Ingests in a worker thread; its progress events become (throttled) edits of `status`."""
    from ingest.pipeline import ingest_paths

    loop = asyncio.get_running_loop()
    latest: list[IngestProgress] = []
    changed = asyncio.Event()

    def on_progress(event: IngestProgress) -> None:  # called in the ingest thread
        def publish() -> None:
            latest[:] = [event]
            changed.set()
        loop.call_soon_threadsafe(publish)

    async def show_progress() -> None:
        shown, last_edit = "", 0.0
        while True:
            await changed.wait()
            await asyncio.sleep(max(0.0, last_edit + PROGRESS_EVERY_S - time.monotonic()))
            changed.clear()
            text = progress_text(path.name, latest[0])
            if text != shown:
                await edit_text(status, text)
                shown, last_edit = text, time.monotonic()

    reporter = asyncio.create_task(show_progress())
    try:
        return await asyncio.to_thread(ingest_paths, found.kb, [path], topics, on_progress)
    finally:
        reporter.cancel()


def progress_text(name: str, event: IngestProgress) -> str:
    text = f"Adding “{name}”: {STAGES.get(event.stage, event.stage)}"
    if event.chunks_total:
        text += f" – {event.chunks_done}/{event.chunks_total} passages"
    return text + "…"


def report_text(name: str, report: IngestReport) -> str:
    """What happened to the upload, in the words an admin needs: added, updated, unchanged or why not."""
    lines = []
    for doc_id in report.added:
        lines.append(f"✅ Added “{name}” as {doc_id} ({report.chunks_added} passages). "
                     "Owners can ask about it now.")
    for doc_id in report.updated:
        lines.append(f"✅ Updated {doc_id} from “{name}”: {report.chunks_added} new passages, "
                     f"{report.chunks_removed} old ones removed.")
    for doc_id in report.unchanged:
        lines.append(f"“{name}” is already in the library as {doc_id}, unchanged – nothing to do.")
    for duplicate in report.duplicates:
        lines.append(f"“{name}” has the same content as {duplicate.doc_id}, which is already in the library – "
                     "nothing was added.")
    for note in report.notes:
        lines.append(f"ℹ️ {note.message.split(' (use --replace')[0]}. To update a document, send it again "
                     "under the same file name.")
    for document in report.documents:
        if document.removed_chars:
            kinds = ", ".join(f"{kind} {chars:,}" for kind, chars in document.removed.items())
            lines.append(f"Cleaned as a web page: removed {document.removed_chars:,} characters ({kinds}).")
    for warning in report.warnings:
        lines.append(f"⚠️ {warning.message.replace('`sme-advisor sources show', '`/show').replace('`', '')}")
    for failure in report.failed:
        lines.append(f"❌ “{name}” was not added: {failure.error}")
    return "\n".join(lines) or f"“{name}”: nothing was added."


# --- the library -------------------------------------------------------------------------------
async def list_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sources = await asyncio.to_thread(services(context).kb.sources)
    if not sources:
        await reply_plain(update.effective_message, "The library is empty. Send me a document to add one.")
        return
    lines = [f"{s.doc_id} – {s.title} ({s.chunks} passages{'; ' + ', '.join(s.topics) if s.topics else ''})"
             for s in sources]
    await reply_html(update.effective_message, render.titled_list(
        f"{len(sources)} documents in the library", lines, footer="Remove one with /remove DOC_ID."))


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
    request = await asyncio.to_thread(found.store.request_removal, doc_id, update.effective_user.id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes, remove it", callback_data=f"rm:{request}"),
                                      InlineKeyboardButton("Cancel", callback_data=f"rm-no:{request}")]])
    await reply_html(message, [f"Remove <b>{render.escape(source.title)}</b> ({render.escape(doc_id)}, "
                               f"{source.chunks} passages) from the library?"], keyboard)


async def confirm_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, found = update.callback_query, services(context)
    if not found.is_admin(update.effective_user.id):
        await with_retries(lambda: query.answer("Only admins can remove documents."))
        return
    await with_retries(lambda: query.answer())
    action, request = query.data.split(":")
    doc_id = await asyncio.to_thread(found.store.take_removal, int(request))
    if doc_id is None:
        text = "This request was already handled."
    elif action == "rm-no":
        text = f"Cancelled – {doc_id} stays in the library."
    else:
        removed = await asyncio.to_thread(found.kb.remove_source, doc_id)
        text = f"Removed {doc_id} and all its passages." if removed else f"{doc_id} was already gone."
    if isinstance(query.message, Message):
        await edit_text(query.message, text)  # also drops the buttons
    else:
        await with_retries(lambda: context.bot.send_message(update.effective_chat.id, text))


async def show_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The cleaned text of a document with its sections: messages when short, a .txt file when long."""
    from ingest.showing import document_text

    message, found = update.effective_message, services(context)
    if not context.args:
        await reply_plain(message, "Usage: /show DOC_ID (see /sources for the ids).")
        return
    doc_id = context.args[0]
    text = await asyncio.to_thread(document_text, found.kb, doc_id)
    if text is None:
        await reply_plain(message, f"There is no document “{doc_id}” in the library. See /sources.")
        return
    parts = render.split_html(render.escape(text))
    if len(parts) <= SHOW_AS_MESSAGES:
        await reply_html(message, parts)
        return
    safe_id = re.sub(r"[^\w.-]", "_", doc_id)
    await with_retries(lambda: message.reply_document(
        document=io.BytesIO(text.encode("utf-8")), filename=f"{safe_id}.txt",
        caption=f"{doc_id}: the cleaned text as the library holds it ({len(text):,} characters)."))


# --- usage -------------------------------------------------------------------------------------
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    usage = await asyncio.to_thread(found.store.stats)
    documents = len(await asyncio.to_thread(found.kb.sources))
    await reply_plain(update.effective_message,
                      f"Questions: {usage.questions}\n"
                      f"Answered from the library: {usage.answered} ({usage.answered_share:.0%})\n"
                      f"Not covered: {usage.refused} (see /unanswered)\n"
                      f"Feedback: 👍 {usage.thumbs_up} · 👎 {usage.thumbs_down}\n"
                      f"Documents: {documents}")


async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = await asyncio.to_thread(services(context).store.unanswered)
    if not rows:
        await reply_plain(update.effective_message, "No unanswered questions so far.")
        return
    lines = [f"{datetime.fromtimestamp(at).strftime('%Y-%m-%d %H:%M')} – {question}" for question, at in rows]
    await reply_html(update.effective_message, render.titled_list("Recent questions my library didn't cover", lines))
