"""The core commands: ask, chat, ingest, sources, reindex, check."""

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

from sme_advisor.context import settings_of
from sme_advisor.i18n import plural
from sme_advisor.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from knowledge.base import KnowledgeBase

out = Console()
err = Console(stderr=True)
app = typer.Typer(help="The library: ask, chat, ingest, sources, reindex, check.")
sources_app = typer.Typer(help="List, show and remove the documents in the library.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@contextmanager
def open_knowledge_base(settings: Settings, quiet: bool = False, auto_ingest: bool = True,
                        warm_llm: bool = False) -> Iterator[KnowledgeBase]:
    """Opens the library; on first use (a library that never held a document), ingests the starter
    library. A library an admin emptied stays empty: it is said so, with how to add the starter back."""
    from knowledge.base import KnowledgeBase
    from knowledge.store import StoreMismatch

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        kb = KnowledgeBase.open(settings)
    except StoreMismatch as error:
        err.print(f"[red]Error:[/] {error}")
        raise typer.Exit(2) from error
    except ValueError as error:
        if not (settings.chroma_host and "connect" in str(error).lower()):
            raise
        # chromadb's HttpClient says only "Could not connect to a Chroma server": name the settings.
        # Exit 1, not 2: the server may just be starting (a service manager tries again).
        err.print(f"[red]Error:[/] cannot reach the Chroma server at CHROMA_HOST={escape(settings.chroma_host)} "
                  f"CHROMA_PORT={settings.chroma_port}: is `chroma run` running there?", soft_wrap=True)
        raise typer.Exit(1) from None
    try:
        if auto_ingest and kb.is_empty():
            from ingest.starter import ingest_starter, is_first_use, starter_files

            if settings.auto_ingest_starter and is_first_use(kb):
                if not quiet:
                    err.print(f"[dim]First use: adding the starter library "
                              f"({plural(len(starter_files()), 'document')})…[/]")
                with ingest_progress(quiet) as progress:
                    ingest_starter(kb, on_progress=progress)
            elif not quiet:
                err.print("[yellow]The library is empty.[/] Add documents with `sme-advisor ingest PATH`, or the "
                          "starter library with `sme-advisor ingest --starter`.")
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

    with open_knowledge_base(settings_of(ctx), quiet=as_json) as kb:
        answer = kb.ask(question)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_answer(out, answer)


def chat(ctx: typer.Context,
         language: Annotated[Optional[str], typer.Option(
             "--language", "-l", help="Language of the banner and commands: en or zh "
                                      "(default: from LANGUAGE / LC_ALL / LC_MESSAGES / LANG).")] = None) -> None:
    """A conversation in the terminal: follow-ups use the previous turns. /help, /reset, /sources, Ctrl-D."""
    from knowledge.language import from_locale
    from sme_advisor.chat import line_reader, run_chat
    from sme_advisor.welcome import TextsSource

    settings = settings_of(ctx)
    # The banner speaks the terminal's language; after that, each answer speaks its question's.
    speaking = from_locale(language) if language else settings.interface_language
    texts = TextsSource(settings.texts_path)
    with open_knowledge_base(settings) as kb:
        run_chat(kb, out, line_reader(out, settings.data_dir), speaking,
                 lambda language: texts.welcome(kb.sources(), language))


def ingest(ctx: typer.Context,
           paths: Annotated[Optional[list[str]], typer.Argument(
               help="Files, folders or web addresses (txt, md, html, pdf, docx, pptx, xlsx, csv; https://…).",
               show_default=False)] = None,
           topic: Annotated[Optional[list[str]], typer.Option("--topic", "-t", help="Tag the documents (repeatable).")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
           force: Annotated[bool, typer.Option("--force", help="Re-index unchanged files; add duplicates anyway.")] = False,
           replace: Annotated[bool, typer.Option("--replace", help="A file replaces the document with its name's id, "
                                                               "even when that came from another path.")] = False,
           starter: Annotated[bool, typer.Option("--starter", help="Add the starter library shipped with SME Advisor "
                                                               "(it is added by itself only on first use).")] = False) -> None:
    """Add or update documents in the library (admin)."""
    from ingest.pipeline import IngestReport, ingest_paths
    from ingest.web import is_web_address

    if not paths and not starter:
        err.print("[red]Error:[/] give files, folders or web addresses to ingest (or --starter for the starter "
                  "library). See `sme-advisor ingest --help`.")
        raise typer.Exit(2)
    # Web addresses stay strings: a Path would fold "https://" into "https:/".
    sources: list[Path | str] = [p if is_web_address(p) else Path(p) for p in paths or ()]
    report = IngestReport()
    with open_knowledge_base(settings_of(ctx), quiet=as_json, auto_ingest=False) as kb:
        with ingest_progress(as_json) as progress:
            try:
                if starter:
                    from ingest.starter import ingest_starter

                    report.merge(ingest_starter(kb, on_progress=progress))
                if sources and not report.interrupted:
                    report.merge(ingest_paths(kb, sources, topics=topic or (), on_progress=progress, force=force,
                                              replace=replace))
                if (report.added or report.updated) and not report.interrupted:
                    # The keyword index caught up here (and saved, after a bulk ingest: 30 s at
                    # 100,000 passages) spares the bot's next question the wait.
                    kb.keywords.get()
            except KeyboardInterrupt:  # between documents (walking folders, fetching pages)
                report.interrupted = True
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        _print_report(report)
    if report.interrupted:
        raise typer.Exit(130)  # the shell's code for "stopped by Ctrl-C"
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: IngestReport) -> None:
    for label, ids, style in (("added", report.added, "green"), ("updated", report.updated, "yellow"),
                              ("unchanged", report.unchanged, "dim")):
        if ids:
            out.print(f"[{style}]{label}[/] ({len(ids)}): {', '.join(ids)}")
    if report.repaired:
        out.print(f"[yellow]repaired[/] ({len(report.repaired)}): {', '.join(report.repaired)} "
                  "[dim](unchanged, but some passages had no vector; they were embedded again)[/]")
    for note in report.notes:
        out.print(f"[cyan]note[/] {escape(note.path)}: {escape(note.message)}")
    for document in report.documents:
        if document.removed_chars:
            kinds = ", ".join(f"{kind} {chars:,}" for kind, chars in document.removed.items())
            out.print(f"[dim]cleaned {document.doc_id}: removed {plural(document.removed_chars, 'character')} "
                      f"({kinds})[/]")
    for warning in report.warnings:
        out.print(f"[yellow]warning[/] {escape(warning.path)}: {escape(warning.message)}")
    for duplicate in report.duplicates:
        out.print(f"[yellow]duplicate[/] {escape(duplicate.path)}: {escape(duplicate.message)}")
    for skipped in report.skipped:
        out.print(f"[dim]skipped {escape(skipped.path)}: {escape(skipped.reason)}[/]")
    for failed in report.failed:
        out.print(f"[red]failed[/] {escape(failed.path)}: {escape(failed.error)}")
    out.print(f"{plural(report.chunks_added, 'passage')} added, {report.chunks_removed:,} removed")
    if report.interrupted:
        finished = len(report.added) + len(report.updated) + len(report.unchanged)
        out.print(f"[yellow]Interrupted (Ctrl-C).[/] {plural(finished, 'document')} finished and kept in the library"
                  + (f"; not done: {plural(len(report.not_done), 'file')}" if report.not_done else "") + ".")
        for path in report.not_done[:10]:
            out.print(f"[dim]  not done: {escape(path)}[/]")
        if len(report.not_done) > 10:
            out.print(f"[dim]  … and {len(report.not_done) - 10:,} more[/]")
        out.print("Run the same command again to finish: documents already in the library are skipped as unchanged.")


def sources_list(ctx: typer.Context,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False) -> None:
    """List the documents in the library."""
    from sme_advisor.render import print_sources

    settings = settings_of(ctx)
    with open_knowledge_base(settings, quiet=as_json, auto_ingest=False) as kb:
        sources = kb.sources()
    if as_json:
        sys.stdout.write(json.dumps([s.to_dict() for s in sources], ensure_ascii=False) + "\n")
    else:
        print_sources(out, sources, settings.interface_language)


def sources_remove(ctx: typer.Context, doc_id: Annotated[str, typer.Argument(help="The document's id.")]) -> None:
    """Remove a document and every vector of it from the library."""
    with open_knowledge_base(settings_of(ctx), auto_ingest=False) as kb:
        removed = kb.remove_source(doc_id)
        if not removed:
            _no_such_document(doc_id, kb.sources())
    out.print(f"Removed {doc_id}.")


def _no_such_document(doc_id: str, sources: list) -> None:  # type: ignore[type-arg]
    """Says so, with the ids the admin probably meant (never acted on: they are only suggested)."""
    from sme_advisor.doc_ids import suggestions

    err.print(f"[red]No document with id {escape(doc_id)!r}.[/] See `sme-advisor sources list`.", soft_wrap=True)
    for source in suggestions(doc_id, sources):
        err.print(f"  did you mean {source.doc_id}  [dim]({escape(source.title)})[/]", soft_wrap=True)
    raise typer.Exit(1)


def sources_show(ctx: typer.Context, doc_id: Annotated[str, typer.Argument(help="The document's id.")]) -> None:
    """Print a document's cleaned text as stored, with its sections, and what cleaning removed."""
    from ingest.showing import document_text

    with open_knowledge_base(settings_of(ctx), quiet=True, auto_ingest=False) as kb:
        text = document_text(kb, doc_id)
        if text is None:
            _no_such_document(doc_id, kb.sources())
    sys.stdout.write(text + "\n")


def reindex(ctx: typer.Context) -> None:
    """Rebuild every vector from the kept copies of the documents (after changing the embedding model).
    The library keeps answering from the old vectors until the new ones are all in."""
    from ingest.reindex import reindex_library

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with ingest_progress(False) as progress:
        report = reindex_library(settings_of(ctx), on_progress=progress,
                                 on_wait=lambda message: err.print(f"[dim]{escape(message)}…[/]"))
    if report.interrupted:
        out.print("[yellow]Interrupted (Ctrl-C).[/] The library is as it was before the reindex.")
        raise typer.Exit(130)
    _print_report(report)
    out.print("The library now answers from the new vectors.")
    if not report.ok:
        raise typer.Exit(1)


def check(ctx: typer.Context,
          repair: Annotated[bool, typer.Option("--repair", help="Repair what is wrong (vectors embedded again, "
                                                                "leftovers removed, keyword index rebuilt).")] = False,
          as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Check that the catalog, the vector store and the keyword index agree (exit 1 when not)."""
    from knowledge.check import check_library, repair_library

    with open_knowledge_base(settings_of(ctx), quiet=True, auto_ingest=False) as kb:
        report = repair_library(kb) if repair else check_library(kb)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_check(report) -> None:  # type: ignore[no-untyped-def]
    out.print(f"{plural(report.documents, 'document')}, {plural(report.chunks, 'passage')} in the catalog")
    for name, count in report.collections.items():
        out.print(f"  {plural(count, 'vector')} in collection {escape(name)}")
    out.print(f"  {plural(report.keyword_entries, 'passage')} in the keyword index")
    for action in report.repaired:
        out.print(f"[green]repaired[/] {escape(action)}")
    for problem in report.problems:
        out.print(f"[red]problem[/] {escape(problem)}", soft_wrap=True)
    if report.ok:
        out.print("[green]OK[/]: every passage has its vector and its keyword entry; nothing else is stored.")
    elif not report.repaired:
        out.print("Run `sme-advisor check --repair` to repair it.")


app.command()(ask)
app.command()(chat)
app.command()(ingest)
app.command()(reindex)
app.command()(check)
sources_app.command("list")(sources_list)
sources_app.command("remove")(sources_remove)
sources_app.command("show")(sources_show)
