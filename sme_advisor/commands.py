"""The core commands: ask, chat, ingest, sources, reindex."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape

from sme_advisor.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from knowledge.base import KnowledgeBase

out = Console()
err = Console(stderr=True)


def _settings(ctx: typer.Context) -> Settings:
    from sme_advisor.cli import settings_of

    return settings_of(ctx)


@contextmanager
def open_knowledge_base(settings: Settings, quiet: bool = False, auto_ingest: bool = True,
                        warm_llm: bool = False) -> Iterator[KnowledgeBase]:
    """Opens the library; on first use of an empty store, ingests the starter library."""
    from knowledge.base import KnowledgeBase
    from knowledge.store import StoreMismatch

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        kb = KnowledgeBase.open(settings)
    except StoreMismatch as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(2) from error
    try:
        if auto_ingest and kb.is_empty() and settings.auto_ingest_starter:
            from ingest.starter import ingest_starter, starter_files

            if not quiet:
                err.print(f"[dim]First use: adding the starter library ({len(starter_files())} documents)…[/]")
            with ingest_progress(quiet) as progress:
                ingest_starter(kb, on_progress=progress)
        if settings.llm_provider != "none":  # keeps langchain off the extractive path's start-up
            from knowledge.generative import attach_llm

            attach_llm(kb, settings, warm_up=warm_llm)
        yield kb
    finally:
        kb.close()


@contextmanager
def ingest_progress(quiet: bool):  # type: ignore[no-untyped-def]
    """A rich progress bar (documents and chunks) on stderr, or nothing when quiet."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        docs = progress.add_task("documents", total=None)
        chunks = progress.add_task("chunks of current", total=None)

        def on_progress(event) -> None:  # type: ignore[no-untyped-def]
            finished = event.stage in ("done", "failed", "unchanged", "duplicate")
            progress.update(docs, total=event.doc_count, completed=event.doc_index + finished,
                            description=f"documents · {Path(event.path).name[:40]}")
            progress.update(chunks, total=event.chunks_total or None, completed=event.chunks_done,
                            description=f"chunks · {event.stage}")

        yield on_progress


def ask(ctx: typer.Context, question: Annotated[str, typer.Argument(help="The question, in plain words.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False) -> None:
    """Answer one question from the library, with cited passages."""
    from sme_advisor.render import print_answer

    with open_knowledge_base(_settings(ctx), quiet=as_json) as kb:
        answer = kb.ask(question)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_answer(out, answer)


def chat(ctx: typer.Context,
         language: Annotated[Optional[str], typer.Option(
             "--language", "-l", help="Language of the banner and commands: en or zh "
                                      "(default: from LANGUAGE / LC_ALL / LC_MESSAGES / LANG).")] = None) -> None:
    """A conversation in the terminal: follow-ups use the previous turns. /reset, /sources, Ctrl-D."""
    from rich.markup import escape

    from knowledge.language import from_locale
    from knowledge.types import Turn
    from sme_advisor.i18n import translator
    from sme_advisor.render import print_answer, print_sources

    settings = _settings(ctx)
    # The banner speaks the terminal's language; after that, each answer speaks its question's.
    speaking = from_locale(language) if language else settings.interface_language
    with open_knowledge_base(settings) as kb:
        tr = translator(speaking)
        out.print("[bold]SME Advisor[/] — " + escape(tr.gettext(
            "ask about innovation, succession and digital transformation.")))
        out.print(f"[dim]{escape(kb.library_overview(speaking))}[/]")
        out.print("[dim]" + escape(tr.gettext(
            "Commands: /reset forgets the conversation, /sources lists the library, Ctrl-D leaves.")) + "[/]")
        history: list[Turn] = []
        while True:
            tr = translator(speaking)
            try:
                line = out.input("\n[bold cyan]" + escape(tr.gettext("You ›")) + "[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                out.print("\n[dim]" + escape(tr.gettext("Goodbye.")) + "[/]")
                return
            if not line:
                continue
            if line in ("/reset", "/new"):
                history.clear()
                out.print("[dim]" + escape(tr.gettext("Conversation forgotten.")) + "[/]")
                continue
            if line == "/sources":
                print_sources(out, kb.sources(), speaking)
                continue
            if line in ("/quit", "/exit"):
                return
            answer = kb.ask(line, history=history, language=speaking)
            print_answer(out, answer)
            speaking = answer.language  # the commands and prompt follow the owner's last question
            history += [Turn("user", line), Turn("assistant", answer.answer)]
            del history[:-8]


def ingest(ctx: typer.Context,
           paths: Annotated[list[str], typer.Argument(
               help="Files, folders or web addresses (txt, md, html, pdf, docx, pptx, xlsx, csv; https://…).")],
           topic: Annotated[Optional[list[str]], typer.Option("--topic", "-t", help="Tag the documents (repeatable).")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
           force: Annotated[bool, typer.Option("--force", help="Re-index unchanged files; add duplicates anyway.")] = False,
           replace: Annotated[bool, typer.Option("--replace", help="A file replaces the document with its name's id, "
                                                               "even when that came from another path.")] = False) -> None:
    """Add or update documents in the library (admin)."""
    from ingest.pipeline import ingest_paths
    from ingest.web import is_web_address

    # Web addresses stay strings: a Path would fold "https://" into "https:/".
    sources: list[Path | str] = [p if is_web_address(p) else Path(p) for p in paths]
    with open_knowledge_base(_settings(ctx), quiet=as_json, auto_ingest=False) as kb:
        with ingest_progress(as_json) as progress:
            report = ingest_paths(kb, sources, topics=topic or (), on_progress=progress, force=force,
                                  replace=replace)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: IngestReport) -> None:
    for label, ids, style in (("added", report.added, "green"), ("updated", report.updated, "yellow"),
                              ("unchanged", report.unchanged, "dim")):
        if ids:
            out.print(f"[{style}]{label}[/] ({len(ids)}): {', '.join(ids)}")
    for note in report.notes:
        out.print(f"[cyan]note[/] {escape(note.path)}: {escape(note.message)}")
    for document in report.documents:
        if document.removed_chars:
            kinds = ", ".join(f"{kind} {chars:,}" for kind, chars in document.removed.items())
            out.print(f"[dim]cleaned {document.doc_id}: removed {document.removed_chars:,} characters ({kinds})[/]")
    for warning in report.warnings:
        out.print(f"[yellow]warning[/] {escape(warning.path)}: {escape(warning.message)}")
    for duplicate in report.duplicates:
        out.print(f"[yellow]duplicate[/] {escape(duplicate.path)}: {escape(duplicate.message)}")
    for skipped in report.skipped:
        out.print(f"[dim]skipped {escape(skipped.path)}: {escape(skipped.reason)}[/]")
    for failed in report.failed:
        out.print(f"[red]failed[/] {escape(failed.path)}: {escape(failed.error)}")
    out.print(f"chunks added {report.chunks_added}, removed {report.chunks_removed}")


def sources_list(ctx: typer.Context,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False) -> None:
    """List the documents in the library."""
    from sme_advisor.render import print_sources

    settings = _settings(ctx)
    with open_knowledge_base(settings, quiet=as_json, auto_ingest=False) as kb:
        sources = kb.sources()
    if as_json:
        sys.stdout.write(json.dumps([s.to_dict() for s in sources], ensure_ascii=False) + "\n")
    else:
        print_sources(out, sources, settings.interface_language)


def sources_remove(ctx: typer.Context, doc_id: Annotated[str, typer.Argument(help="The document's id.")]) -> None:
    """Remove a document and every vector of it from the library."""
    with open_knowledge_base(_settings(ctx), auto_ingest=False) as kb:
        removed = kb.remove_source(doc_id)
    if not removed:
        err.print(f"[red]No document with id {doc_id!r}.[/] See `sme-advisor sources list`.")
        raise typer.Exit(1)
    out.print(f"Removed {doc_id}.")


def sources_show(ctx: typer.Context, doc_id: Annotated[str, typer.Argument(help="The document's id.")]) -> None:
    """Print a document's cleaned text as stored, with its sections, and what cleaning removed."""
    from ingest.showing import document_text

    with open_knowledge_base(_settings(ctx), quiet=True, auto_ingest=False) as kb:
        text = document_text(kb, doc_id)
    if text is None:
        err.print(f"[red]No document with id {escape(doc_id)!r}.[/] See `sme-advisor sources list`.")
        raise typer.Exit(1)
    sys.stdout.write(text + "\n")


def reindex(ctx: typer.Context) -> None:
    """Rebuild every vector from the kept copies of the documents (after changing the embedding model)."""
    from ingest.pipeline import IngestReport, ingest_paths
    from knowledge.base import KnowledgeBase
    from knowledge.catalog import Catalog
    from knowledge.store import VectorStore

    settings = _settings(ctx)
    catalog = Catalog(settings.catalog_path)
    sources = catalog.documents()
    catalog.close()
    VectorStore.drop_collection(settings)  # it may hold another model's vectors: start afresh
    kb = KnowledgeBase.open(settings)
    report = IngestReport()
    try:
        with ingest_progress(False) as progress:
            for source in sources:
                copies = sorted((settings.data_dir / "files").glob(f"{source.doc_id}.*"))
                if not copies:
                    err.print(f"[yellow]{source.doc_id}: no kept copy; ingest it again from its file[/]")
                    continue
                report.merge(ingest_paths(kb, copies[:1], topics=source.topics, on_progress=progress, force=True,
                                          known={copies[0]: source}))
    finally:
        kb.close()
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer, sources_app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(chat)
    app.command()(ingest)
    app.command()(reindex)
    sources_app.command("list")(sources_list)
    sources_app.command("remove")(sources_remove)
    sources_app.command("show")(sources_show)
