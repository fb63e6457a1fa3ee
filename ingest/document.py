"""The one structured form every loader returns: headings, paragraphs, list items and tables, in
reading order, each with the heading path it sits under and the place it comes from (a PDF page,
a slide, a sheet).

Chunking works from this structure; `render` turns it into the document's text, and every chunk
is a slice of that text (`Chunk.text == text[start:end]`), so quotes stay verifiable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "table_row"]
PATH_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of a document. A table arrives as one `table_row` block per body row, each
    carrying the table's header, so a row can be read (and quoted) on its own."""

    kind: BlockKind
    text: str = ""                       # heading / paragraph / list item text (one line)
    level: int = 0                       # heading level (1 = top)
    cells: tuple[str, ...] = ()          # table_row: every cell, in order, repeated values too
    header: tuple[str, ...] = ()         # table_row: the table's header cells
    path: tuple[str, ...] = ()           # headings above this block, outermost first
    place: str | None = None             # "p. 3", "slide 4", "Sheet1, row 5", "row 5"

    def statement(self) -> str:
        """What the block says, as one line: a table row reads "Four-day week — Yearly cost per
        employee: EUR 2,750; Drop in resignations: 41%" (first cell, then header: value pairs)."""
        if self.kind != "table_row":
            return self.text
        return row_statement(self.header, self.cells)


def row_statement(header: tuple[str, ...], cells: tuple[str, ...]) -> str:
    cells = tuple(_one_line(c) for c in cells)
    header = tuple(_one_line(h) for h in header)
    if not any(cells):
        return ""
    if len(cells) == 1:
        return f"{header[0]}: {cells[0]}" if header and header[0] and cells[0] else cells[0]
    lead, rest = cells[0], cells[1:]
    if lead and header and header[0] and not any(ch.isalpha() for ch in lead):
        lead = f"{header[0]}: {lead}"  # "Week: 1" says what a bare number is
    pairs = []
    for index, value in enumerate(rest, start=1):
        if not value:
            continue  # an empty cell says nothing; its column's other rows still line up
        name = header[index] if index < len(header) else ""
        pairs.append(f"{name}: {value}" if name and name != value else value)
    if not lead:
        return "; ".join(pairs)
    return f"{lead} — {'; '.join(pairs)}" if pairs else lead


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(slots=True)
class Document:
    """A loaded document: `blocks` in reading order, `metadata` from the file (title, topics…)."""

    kind: str                                   # "text", "markdown", "html", "pdf", "docx", …
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def topics(self) -> list[str]:
        topics = self.metadata.get("topics") or self.metadata.get("tags") or []
        if isinstance(topics, str):
            topics = re.split(r"[,;]\s*", topics)
        return [str(t).strip().lower().replace(" ", "-") for t in topics if str(t).strip()]

    @property
    def text(self) -> str:
        return render(self).text

    def sections(self) -> Iterator[tuple[tuple[str, ...], list[Block]]]:
        """Consecutive non-heading blocks grouped under their heading path."""
        current: tuple[str, ...] | None = None
        group: list[Block] = []
        for block in self.blocks:
            if block.kind == "heading":
                continue
            if block.path != current and group:
                yield current or (), group
                group = []
            current = block.path
            group.append(block)
        if group:
            yield current or (), group


class DocumentBuilder:
    """Keeps the heading stack while a loader appends blocks in reading order."""

    def __init__(self, kind: str) -> None:
        self.document = Document(kind)
        self._stack: list[tuple[int, str]] = []
        self.place: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)

    def heading(self, text: str, level: int = 1) -> None:
        text = _one_line(text)
        if not text:
            return
        level = max(1, level)
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self.document.blocks.append(Block("heading", text, level, path=self.path, place=self.place))
        self._stack.append((level, text))

    def reset_headings(self) -> None:
        """A new slide or sheet starts a fresh heading path."""
        self._stack.clear()

    def paragraph(self, text: str, list_item: bool = False, place: str | None = None) -> None:
        text = _one_line(text)
        if text:
            kind: BlockKind = "list_item" if list_item else "paragraph"
            self.document.blocks.append(Block(kind, text, path=self.path, place=place or self.place))

    def table(self, rows: list[list[str]], header_rows: int = 1,
              places: list[str | None] | None = None) -> None:
        """Appends a table: its first `header_rows` rows name the columns, every other row becomes
        one `table_row` block. Rows are padded to one width, so no column shifts."""
        rows = [[_one_line(c or "") for c in row] for row in rows]
        keep = [i for i, row in enumerate(rows) if any(row)]
        rows = [rows[i] for i in keep]
        row_places = [places[i] for i in keep] if places else [None] * len(rows)
        if not rows:
            return
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        if len(rows) == 1:
            header_rows = 0  # a one-row table (a layout box) is data, not a header without rows
        header = tuple(rows[0]) if header_rows else ()
        for row, place in zip(rows[header_rows:], row_places[header_rows:]):
            if tuple(row) == header:
                continue  # a header repeated on each printed page
            self.document.blocks.append(Block("table_row", cells=tuple(row), header=header, path=self.path,
                                              place=place or self.place))


@dataclass(frozen=True, slots=True)
class Piece:
    """Where one block's statement sits in the rendered text."""

    block: Block
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    pieces: list[Piece]


def render(document: Document) -> Rendered:
    """The document as text, one block a line: blank lines between paragraphs, single line breaks
    inside a list or a table. Headings are lines too (readable), though never quoted."""
    parts: list[str] = []
    pieces: list[Piece] = []
    offset = 0
    previous: Block | None = None
    for block in document.blocks:
        line = block.statement()
        if not line:
            continue
        if previous is not None:
            tight = previous.kind == block.kind and block.kind in ("list_item", "table_row")
            separator = "\n" if tight else "\n\n"
            parts.append(separator)
            offset += len(separator)
        parts.append(line)
        pieces.append(Piece(block, offset, offset + len(line)))
        offset += len(line)
        previous = block
    return Rendered("".join(parts), pieces)


def map_blocks(document: Document, change) -> Document:  # type: ignore[no-untyped-def]
    """A copy with `change(block)` applied to each block (None drops it)."""
    blocks = [b for b in (change(block) for block in document.blocks) if b is not None]
    return Document(document.kind, blocks, document.title, dict(document.metadata))


def with_text(block: Block, text: str) -> Block:
    return replace(block, text=text)
