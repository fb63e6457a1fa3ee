"""Answers and source lists rendered for the terminal (rich)."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from knowledge.types import Answer, SourceInfo


def print_answer(console: Console, answer: Answer) -> None:
    style = "yellow" if answer.refused else "green"
    title = "Not in my library" if answer.refused else "Answer"
    console.print(Panel(escape(answer.answer), title=title, title_align="left", border_style=style))
    for citation in answer.citations:
        where = f" · {escape(citation.location)}" if citation.location else ""
        console.print(f"[bold][{citation.n}][/] [cyan]{escape(citation.title)}[/]{where} [dim]({citation.doc_id})[/]")
        console.print(f"    [italic]“{escape(' '.join(citation.quote.split()))}”[/]")
    note = f"{answer.latency_ms:.0f} ms · {answer.mode}"
    if answer.fallback_reason:
        note += f" (fallback: {escape(answer.fallback_reason)})"
    console.print(f"[dim]{note}[/]")


def print_sources(console: Console, sources: Sequence[SourceInfo]) -> None:
    if not sources:
        console.print("The library is empty. Add documents with `sme-advisor ingest PATH`.")
        return
    table = Table(title=f"{len(sources)} documents")
    for column in ("doc_id", "title", "chunks", "topics", "ingested_at"):
        table.add_column(column, overflow="fold")
    for s in sources:
        table.add_row(s.doc_id, s.title, str(s.chunks), ", ".join(s.topics), s.ingested_at)
    console.print(table)
