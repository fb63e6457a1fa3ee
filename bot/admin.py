"""What admins do: add documents by sending them, list and remove sources, see usage and gaps.

Only admins reach these handlers: `bot.app` registers them behind `filters.User(ADMIN_USER_IDS)`.
The removal button re-checks, since anyone in a group could press a button an admin was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import gettext
import logging
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import handlers, render, shortcuts
from bot.delivery import edit_text, is_transient, reply_html, reply_plain, with_retries
from bot.languages import chat_language, texts
from bot.links import web_address
from bot.services import Services, services
from bot.shortcuts import short_id
from ingest.loaders import SUPPORTED_SUFFIXES
from knowledge.types import SourceInfo
from sme_advisor.i18n import N_

if TYPE_CHECKING:
    from ingest.pipeline import IngestProgress, IngestReport

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.5  # Telegram limits edits; one every second or two still reads as live
SHOW_AS_MESSAGES = 2  # a longer document goes as a .txt file rather than a stream of messages
STAGES = {"reading": N_("reading"), "embedding": N_("indexing passages"), "writing": N_("saving"),
          "done": N_("done"), "failed": N_("failed"), "unchanged": N_("unchanged")}


# --- adding documents --------------------------------------------------------------------------
async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    tr = await texts(update, context)  # the admin's language, not the caption's ("#succession")
    document = message.document
    name = upload_name(document.file_name)  # the stem becomes the doc_id
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES} - {"markdown"}))
        await reply_plain(message, tr.gettext("I can't read “%(name)s”: I take %(kinds)s files. Nothing was added.")
                          % {"name": name, "kinds": kinds})
        return
    max_mb = found.settings.max_upload_mb
    limit = max_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        await reply_plain(message, tr.gettext("“%(name)s” is %(size).1f MB; the limit is %(limit)d MB. Nothing was "
                                              "added.") % {"name": name, "size": document.file_size / 1048576,
                                                           "limit": max_mb})
        return
    topics = re.findall(r"#([\w-]+)", message.caption or "")  # "#succession" in the caption tags it
    status = await reply_plain(message, tr.gettext("Received “%(name)s”. Downloading…") % {"name": name})
    uploads = found.settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as folder:
        path = Path(folder) / name
        telegram_file = await with_retries(lambda: context.bot.get_file(document.file_id))
        await with_retries(lambda: telegram_file.download_to_drive(path))
        if path.stat().st_size > limit:  # file_size is optional in the update: check what arrived
            await edit_text(status, tr.gettext("“%(name)s” is over the %(limit)d MB limit. Nothing was added.")
                            % {"name": name, "limit": max_mb})
            return
        async with _in_turn(found, status, name, tr):
            # The same name is the same document: an admin re-sending "prices.pdf" from a phone means
            # an update. Uploads therefore enter the library from one stable path per file name.
            stable = uploads / "by-name" / name
            stable.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, stable)
            try:
                report = await _ingest_with_progress(found, status, stable, name, topics, tr)
            finally:
                stable.unlink(missing_ok=True)  # the library keeps its own copy
    await final_word(update, context, status, report_text(name, report, tr), name)


async def receive_web_address(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A web address from an admin (`bot.links`): fetched and added like an uploaded file, with the
    same progress and report; a fetch that fails says why in the report's one line."""
    message, found = update.effective_message, services(context)
    tr = await texts(update, context)
    link = web_address(message.text or "")
    if link is None:
        return
    if not link.complete:  # "www.example.org/guide": which scheme is the admin's to say
        await reply_plain(message, tr.gettext("To add a web page, send its whole address, e.g. https://%(url)s")
                          % {"url": link.url})
        return
    status = await reply_plain(message, tr.gettext("Received “%(name)s”. Fetching the page…") % {"name": link.url})
    async with _in_turn(found, status, link.url, tr):
        report = await _ingest_with_progress(found, status, link.url, link.url, link.topics, tr)
    await final_word(update, context, status, report_text(link.url, report, tr), link.url)


async def final_word(update: Update, context: ContextTypes.DEFAULT_TYPE, status: Message, text: str,
                     about: str) -> None:
    """What became of an admin's change (added, failed, removed), edited into its status message.
    The library has changed whatever Telegram does, so this one must not be lost to an outage:
    when the edit cannot get through, it goes through the outbox as a new message instead."""
    try:
        await edit_text(status, text)
    except TelegramError as error:
        if not is_transient(error):
            raise
        log.warning("the status message could not be edited (%s); the report waits in the outbox",
                    type(error).__name__)
        await _report_through_outbox(update, context, status.chat_id, text, about)


async def _report_through_outbox(update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                                 about: str) -> None:
    await services(context).outbox.send(chat_id, [text], html=False, question=about,
                                        language=await chat_language(update, context))


@contextlib.asynccontextmanager
async def _in_turn(found: Services, status: Message, name: str, tr: gettext.NullTranslations) -> AsyncIterator[None]:
    """One ingest at a time: they are heavy, and reports stay readable. A waiting one says so."""
    if found.ingest_lock.locked():
        await edit_text(status, tr.gettext("Received “%(name)s”. Another document is being added; this one is "
                                           "next.") % {"name": name})
    async with found.ingest_lock:
        yield


def upload_name(file_name: str | None) -> str:
    """A file name safe to store under: no folders, no leading dot, no control characters."""
    name = Path((file_name or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f]", "", name).strip() or "document.txt"
    return f"upload{name}" if name.startswith(".") else name


async def _ingest_with_progress(found: Services, status: Message, source: Path | str, name: str, topics: list[str],
                                tr: gettext.NullTranslations) -> IngestReport:
    """Ingests a file or a web address (str) in a worker thread; its progress events become
    (throttled) edits of `status`."""
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
            text = progress_text(name, latest[0], tr)
            if text != shown:
                try:
                    await edit_text(status, text)
                except TelegramError as error:  # progress is a courtesy: an outage skips it, the ingest goes on
                    if not is_transient(error):
                        raise
                    continue
                shown, last_edit = text, time.monotonic()

    reporter = asyncio.create_task(show_progress())
    try:
        return await asyncio.to_thread(ingest_paths, found.kb, [source], topics, on_progress)
    finally:
        reporter.cancel()


def progress_text(name: str, event: IngestProgress, tr: gettext.NullTranslations) -> str:
    stage = tr.gettext(STAGES[event.stage]) if event.stage in STAGES else event.stage
    if event.chunks_total:
        return tr.ngettext("Adding “%(name)s”: %(stage)s – %(done)d/%(total)d passage…",
                           "Adding “%(name)s”: %(stage)s – %(done)d/%(total)d passages…", event.chunks_total) % {
            "name": name, "stage": stage, "done": event.chunks_done, "total": event.chunks_total}
    return tr.gettext("Adding “%(name)s”: %(stage)s…") % {"name": name, "stage": stage}


def report_text(name: str, report: IngestReport, tr: gettext.NullTranslations) -> str:
    """What happened to the upload, in the words an admin needs: added, updated, unchanged or why not.
    (A failure's reason comes from the ingest layer, in English.)"""
    lines = []
    for doc_id in report.added:
        lines.append(tr.ngettext("✅ Added “%(name)s” as %(doc_id)s (%(count)d passage). Owners can ask about it now.",
                                 "✅ Added “%(name)s” as %(doc_id)s (%(count)d passages). Owners can ask about it now.",
                                 report.chunks_added) % {"name": name, "doc_id": doc_id, "count": report.chunks_added})
    for doc_id in report.updated:
        added = tr.ngettext("%(count)d new passage", "%(count)d new passages", report.chunks_added) % {
            "count": report.chunks_added}
        removed = tr.ngettext("%(count)d old one removed", "%(count)d old ones removed", report.chunks_removed) % {
            "count": report.chunks_removed}
        lines.append(tr.gettext("✅ Updated %(doc_id)s from “%(name)s”: %(added)s, %(removed)s.")
                     % {"doc_id": doc_id, "name": name, "added": added, "removed": removed})
    for doc_id in report.unchanged:
        lines.append(tr.gettext("“%(name)s” is already in the library as %(doc_id)s, unchanged – nothing to do.")
                     % {"name": name, "doc_id": doc_id})
    for duplicate in report.duplicates:
        lines.append(tr.gettext("“%(name)s” has the same content as %(doc_id)s, which is already in the library – "
                                "nothing was added.") % {"name": name, "doc_id": duplicate.doc_id})
    for note in report.notes:
        lines.append("ℹ️ " + tr.gettext("%(note)s. To update a document, send it again under the same file name.")
                     % {"note": note.message.split(" (use --replace")[0]})
    for document in report.documents:
        if document.removed_chars:
            kinds = ", ".join(f"{kind} {chars:,}" for kind, chars in document.removed.items())
            lines.append(tr.gettext("Cleaned as a web page: removed %(count)s characters (%(kinds)s).")
                         % {"count": f"{document.removed_chars:,}", "kinds": kinds})
    for warning in report.warnings:
        # The ingest layer's warning (English) names the CLI command; in Telegram it is /show.
        lines.append("⚠️ " + warning.message.replace("`sme-advisor sources show", "/show").replace("`", ""))
    for failure in report.failed:
        lines.append(tr.gettext("❌ “%(name)s” was not added: %(error)s") % {"name": name, "error": failure.error})
    return "\n".join(lines) or tr.gettext("“%(name)s”: nothing was added.") % {"name": name}


# --- the library -------------------------------------------------------------------------------
async def list_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every document with its id (a tap copies it) and the commands to read or remove it (a tap sends them)."""
    tr = await texts(update, context)
    sources = await asyncio.to_thread(services(context).kb.sources)
    if not sources:
        await reply_plain(update.effective_message, tr.gettext("The library is empty. Send me a document to add one."))
        return
    title = tr.ngettext("%(count)d document in the library", "%(count)d documents in the library",
                        len(sources)) % {"count": len(sources)}
    footer = tr.gettext("Tap a command under a document to read or remove it, or tap an id to copy it. You can "
                        "also type /remove DOC_ID.")
    entries = [f"• {source_html(s, tr)}\n    {shortcut_commands(s.doc_id)}" for s in sources]
    await reply_html(update.effective_message, render.split_html(
        f"<b>{render.escape(title)}</b>\n" + "\n".join(entries) + f"\n\n{render.escape(footer)}"))


def source_html(source: SourceInfo, tr: gettext.NullTranslations) -> str:
    """"doc-id – Title (3 passages; topics)" as HTML, the id in <code> (Telegram copies it on a tap)."""
    return render.escape(tr.gettext("%(doc_id)s – %(title)s (%(details)s)")) % {
        "doc_id": f"<code>{render.escape(source.doc_id)}</code>", "title": render.escape(source.title),
        "details": render.escape(_details(source.chunks, source.topics, tr))}


def _details(chunks: int, topics: tuple[str, ...], tr: gettext.NullTranslations) -> str:
    passages = tr.ngettext("%(count)d passage", "%(count)d passages", chunks) % {"count": chunks}
    if not topics:
        return passages
    return tr.pgettext("a passage count, then topics", "%(passages)s; %(topics)s") % {
        "passages": passages, "topics": tr.pgettext("list of topics", ", ").join(topics)}


def shortcut_commands(doc_id: str) -> str:
    short = short_id(doc_id)
    return f"/show_{short} · /remove_{short}"


async def _named_document(update: Update, context: ContextTypes.DEFAULT_TYPE, typed: str, command: str,
                          tr: gettext.NullTranslations) -> SourceInfo | None:
    """The document `typed` names (doc id or short id), or None after saying what it may have meant."""
    sources = await asyncio.to_thread(services(context).kb.sources)
    found = shortcuts.resolve(typed, sources)
    if found is not None:
        return found
    missing = tr.gettext("There is no document “%(doc_id)s” in the library. See /sources.") % {"doc_id": typed}
    close = shortcuts.suggestions(typed, sources)
    if not close:
        await reply_plain(update.effective_message, missing)
        return None
    lines = [f"• {source_html(s, tr)}\n    /{command}_{short_id(s.doc_id)}" for s in close]
    await reply_html(update.effective_message, render.split_html(
        render.escape(missing) + "\n\n<b>" + render.escape(tr.gettext("Did you mean:")) + "</b>\n" + "\n".join(lines)))
    return None


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, found = update.effective_message, services(context)
    tr = await texts(update, context)
    if not context.args:
        await reply_plain(message, tr.gettext("Usage: /remove DOC_ID (see /sources for the ids)."))
        return
    source = await _named_document(update, context, context.args[0], "remove", tr)
    if source is None:
        return
    doc_id = source.doc_id
    request = await asyncio.to_thread(found.store.request_removal, doc_id, update.effective_user.id)
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(tr.gettext("Yes, remove it"), callback_data=f"rm:{request}"),
        InlineKeyboardButton(tr.gettext("Cancel"), callback_data=f"rm-no:{request}")]])
    # The catalog's text is escaped as a whole; only then does the title get its bold tags.
    question = tr.ngettext("Remove %(title)s (%(doc_id)s, %(count)d passage) from the library?",
                           "Remove %(title)s (%(doc_id)s, %(count)d passages) from the library?", source.chunks)
    await reply_html(message, [render.escape(question) % {
        "title": f"<b>{render.escape(source.title)}</b>", "doc_id": render.escape(doc_id), "count": source.chunks}],
        keyboard)


async def shortcut(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tapped `/show_<short id>` or `/remove_<short id>`: the same as the command with that id."""
    tapped = shortcuts.shortcut(update.effective_message.text or "", context.bot.username)
    if tapped is None:
        return
    command, short = tapped
    context.args = [short]
    await (remove if command == "remove" else show_document)(update, context)


async def confirm_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, found = update.callback_query, services(context)
    tr = await texts(update, context)
    if not found.is_admin(update.effective_user.id):
        await with_retries(lambda: query.answer(tr.gettext("Only admins can remove documents.")))
        return
    await handlers.acknowledge(query)  # a courtesy: an outage must not stop the removal asked for
    action, request = query.data.split(":")
    doc_id = await asyncio.to_thread(found.store.take_removal, int(request))
    if doc_id is None:
        text = tr.gettext("This request was already handled.")
    elif action == "rm-no":
        text = tr.gettext("Cancelled – %(doc_id)s stays in the library.") % {"doc_id": doc_id}
    else:
        removed = await asyncio.to_thread(found.kb.remove_source, doc_id)
        text = (tr.gettext("Removed %(doc_id)s and all its passages.") if removed
                else tr.gettext("%(doc_id)s was already gone.")) % {"doc_id": doc_id}
    if isinstance(query.message, Message):
        await final_word(update, context, query.message, text, doc_id or "")  # the edit also drops the buttons
    else:
        await _report_through_outbox(update, context, update.effective_chat.id, text, doc_id or "")


async def show_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The cleaned text of a document with its sections: messages when short, a .txt file when long."""
    from ingest.showing import document_text

    message, found = update.effective_message, services(context)
    tr = await texts(update, context)
    if not context.args:
        await reply_plain(message, tr.gettext("Usage: /show DOC_ID (see /sources for the ids)."))
        return
    source = await _named_document(update, context, context.args[0], "show", tr)
    if source is None:
        return
    doc_id = source.doc_id
    text = await asyncio.to_thread(document_text, found.kb, doc_id)
    if text is None:  # removed meanwhile
        await reply_plain(message, tr.gettext("There is no document “%(doc_id)s” in the library. See /sources.")
                          % {"doc_id": doc_id})
        return
    parts = render.split_html(render.escape(text))
    if len(parts) <= SHOW_AS_MESSAGES:
        await reply_html(message, parts)
        return
    safe_id = re.sub(r"[^\w.-]", "_", doc_id)
    await with_retries(lambda: message.reply_document(
        document=io.BytesIO(text.encode("utf-8")), filename=f"{safe_id}.txt",
        caption=tr.gettext("%(doc_id)s: the cleaned text as the library holds it (%(count)s characters).")
        % {"doc_id": doc_id, "count": f"{len(text):,}"}))


# --- usage -------------------------------------------------------------------------------------
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    tr = await texts(update, context)
    usage = await asyncio.to_thread(found.store.stats)
    documents = len(await asyncio.to_thread(found.kb.sources))
    await reply_plain(update.effective_message, tr.gettext(
        "Questions: %(questions)d\n"
        "Answered from the library: %(answered)d (%(share)s)\n"
        "Not covered: %(refused)d (see /unanswered)\n"
        "Feedback: 👍 %(up)d · 👎 %(down)d\n"
        "Documents: %(documents)d") % {
            "questions": usage.questions, "answered": usage.answered, "share": f"{usage.answered_share:.0%}",
            "refused": usage.refused, "up": usage.thumbs_up, "down": usage.thumbs_down, "documents": documents})


async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = await texts(update, context)
    rows = await asyncio.to_thread(services(context).store.unanswered)
    if not rows:
        await reply_plain(update.effective_message, tr.gettext("No unanswered questions so far."))
        return
    lines = [f"{datetime.fromtimestamp(at).strftime('%Y-%m-%d %H:%M')} – {question}" for question, at in rows]
    await reply_html(update.effective_message, render.titled_list(
        tr.gettext("Recent questions my library didn't cover"), lines,
        footer=tr.gettext("All of them, and the feedback, as spreadsheet files: /export")))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Feedback and unanswered questions as files: CSV (opens in a spreadsheet), or JSON Lines with
    `/export jsonl`."""
    from bot.export import export_files

    message, found = update.effective_message, services(context)
    tr = await texts(update, context)
    fmt = "jsonl" if context.args and context.args[0].lower().lstrip(".") in ("jsonl", "json") else "csv"
    files = await asyncio.to_thread(export_files, found.store, fmt)
    if not any(file.rows for file in files):
        await reply_plain(message, tr.gettext("Nothing to export yet: no feedback and no unanswered questions."))
        return
    usage = await asyncio.to_thread(found.store.stats)
    for file in files:
        if file.kind == "feedback":
            caption = tr.ngettext("%(count)d vote (👍 %(up)d · 👎 %(down)d), with question, answer and sources.",
                                  "%(count)d votes (👍 %(up)d · 👎 %(down)d), with question, answer and sources.",
                                  file.rows) % {"count": file.rows, "up": usage.thumbs_up, "down": usage.thumbs_down}
            empty = tr.gettext("No feedback so far.")
        else:
            caption = tr.ngettext("%(count)d question my library didn't cover.",
                                  "%(count)d questions my library didn't cover.", file.rows) % {"count": file.rows}
            empty = tr.gettext("No unanswered questions so far.")
        if not file.rows:
            await reply_plain(message, empty)
            continue
        await with_retries(lambda file=file, caption=caption: message.reply_document(
            document=io.BytesIO(file.data), filename=file.name, caption=caption))
