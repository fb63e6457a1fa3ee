"""Answers and source lists rendered for the terminal (rich)."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from knowledge.types import Answer, SourceInfo
from sme_advisor.i18n import translator

# Columns beside the id a table needs to stay readable (title, count, topics, date).
TABLE_ROOM = 70


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
    """A table when the terminal is wide enough, else one block per document; either way each id
    stays whole on its line, so it can be copied."""
    tr = translator(language)
    if not sources:
        console.print(escape(tr.gettext("The library is empty. Add documents with `sme-advisor ingest PATH`.")))
        return
    heading = tr.ngettext("%(count)d document", "%(count)d documents", len(sources)) % {"count": len(sources)}
    widest = max(len(s.doc_id) for s in sources)
    if console.width >= widest + TABLE_ROOM:
        table = Table(title=heading)
        table.add_column("doc_id", no_wrap=True)
        table.add_column("title", ratio=3)
        table.add_column("chunks", justify="right", no_wrap=True)
        table.add_column("topics", ratio=2)
        table.add_column("ingested_at", no_wrap=True)
        for s in sources:
            table.add_row(escape(s.doc_id), escape(s.title), str(s.chunks), escape(", ".join(s.topics)),
                          s.ingested_at[:10])
        console.print(table)
        return
    console.print(f"[bold]{escape(heading)}[/]")
    for s in sources:
        passages = tr.ngettext("%(count)d passage", "%(count)d passages", s.chunks) % {"count": s.chunks}
        details = " · ".join(filter(None, [passages, ", ".join(s.topics), s.ingested_at[:10]]))
        console.print(f"[cyan]{escape(s.doc_id)}[/]", soft_wrap=True)
        console.print(f"    {escape(s.title)}\n    [dim]{escape(details)}[/]")
