"""Answers and source lists rendered for the terminal (rich)."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from knowledge.types import Answer, SourceInfo
from sme_advisor.i18n import translator


def print_answer(console: Console, answer: Answer) -> None:
    """The answer, its numbered quotes (verbatim, in their own language) and timing; the headings in
    the question's language."""
    tr = translator(answer.language)
    if answer.outcome == "conversation":
        console.print(escape(answer.answer))
        return
    style = "green" if answer.outcome == "answered" else "yellow"
    title = {"refused": tr.gettext("Not in my library"), "hedged": tr.gettext("Closest passages")}.get(
        answer.outcome, tr.gettext("Answer"))
    console.print(Panel(escape(answer.answer), title=title, title_align="left", border_style=style))
    for citation in answer.citations:
        where = f" · {escape(citation.location)}" if citation.location else ""
        console.print(f"[bold][{citation.n}][/] [cyan]{escape(citation.title)}[/]{where} [dim]({citation.doc_id})[/]")
        console.print(f"    [italic]“{escape(' '.join(citation.quote.split()))}”[/]")
    note = f"{answer.latency_ms:.0f} ms · {answer.mode}"
    if answer.fallback_reason:
        note += f" (fallback: {escape(answer.fallback_reason)})"
    console.print(f"[dim]{note}[/]")


def print_sources(console: Console, sources: Sequence[SourceInfo], language: str = "en") -> None:
    tr = translator(language)
    if not sources:
        console.print(escape(tr.gettext("The library is empty. Add documents with `sme-advisor ingest PATH`.")))
        return
    table = Table(title=tr.ngettext("%(count)d document", "%(count)d documents", len(sources)) % {"count": len(sources)})
    for column in ("doc_id", "title", "chunks", "topics", "ingested_at"):
        table.add_column(column, overflow="fold")
    for s in sources:
        table.add_row(s.doc_id, s.title, str(s.chunks), ", ".join(s.topics), s.ingested_at)
    console.print(table)
