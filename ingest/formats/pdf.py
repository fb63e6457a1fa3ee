"""PDF with pdfplumber: lines with their font sizes become headings and paragraphs, each tagged
with its page ("p. 3"). Running headers and footers (the same line at the top or bottom of most
pages) and page numbers are removed; lines are rejoined into sentences and hyphenation undone.
Ruled tables become tables where they stand (`ingest.formats.pdf_tables`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.document import Document, DocumentBuilder
from ingest.formats.pdf_tables import PdfTable, continues, find_tables
from ingest.loaders import LoadError, describe_error

_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?$|^第\s*\d+\s*页", re.I)
_SENTENCE_END = (".", "!", "?", ":", "。", "！", "？", "：", "”", '"')
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(slots=True)
class Line:
    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    bold: bool
    page: int


def load_pdf(path) -> Document:  # type: ignore[no-untyped-def]
    pages, tables, title = _read_lines(path)
    if not any(pages) and not any(tables):
        raise LoadError("the PDF has no extractable text (scanned images need OCR first)")
    pages = _drop_running_lines(pages)
    builder = DocumentBuilder("pdf")
    builder.document.title = title
    lines = [line for page in pages for line in page]
    body_size = _body_size(lines)
    _assemble(_in_reading_order(pages, tables), lines, body_size, builder)
    if builder.document.title is None:
        first = next((b for b in builder.document.blocks if b.kind == "heading"), None)
        builder.document.title = first.text if first is not None and first.level == 1 else None
    return builder.document


def _read_lines(path) -> tuple[list[list[Line]], list[list[PdfTable]], str | None]:  # type: ignore[no-untyped-def]
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            title = pdf.metadata.get("Title") if pdf.metadata else None
            pages, tables = [], []
            for number, page in enumerate(pdf.pages, start=1):
                found, rest = find_tables(page, number)  # table cells leave the running text
                tables.append(found)
                pages.append(_page_lines(rest, number))
    except LoadError:
        raise
    except Exception as error:  # pdfminer raises assorted errors on damaged or locked files
        name = type(error).__name__
        if "Password" in name or "password" in str(error).lower() or "Encrypt" in name:
            raise LoadError("the PDF is password-protected") from error
        raise LoadError(f"corrupt or unreadable PDF: {describe_error(error)}") from error
    if isinstance(title, bytes):
        title = title.decode("utf-8", "ignore")
    title = title.strip() if isinstance(title, str) and title.strip() else None
    return pages, tables, title


def _page_lines(page, number: int) -> list[Line]:  # type: ignore[no-untyped-def]
    lines = []
    for raw in page.extract_text_lines(return_chars=True, keep_blank_chars=False):
        text = " ".join(raw["text"].split())
        if not text:
            continue
        chars = [c for c in raw.get("chars", []) if not c["text"].isspace()]
        sizes = Counter(round(c.get("size", 0.0), 1) for c in chars)
        size = sizes.most_common(1)[0][0] if sizes else 0.0
        bold = bool(chars) and all("bold" in str(c.get("fontname", "")).lower() for c in chars)
        lines.append(Line(text, raw["top"], raw["bottom"], raw["x0"], raw["x1"], size, bold, number))
    return lines


def _normalized(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Lines repeated at the top or bottom of most pages (digits ignored) and page numbers go."""
    edge = Counter()
    for page in pages:
        for line in {_normalized(l.text) for l in page[:2] + page[-2:]}:
            edge[line] += 1
    threshold = max(2, 0.5 * len(pages))
    running = {text for text, count in edge.items() if count >= threshold} if len(pages) > 1 else set()
    kept = []
    for page in pages:
        edges = set(range(min(2, len(page)))) | set(range(max(0, len(page) - 2), len(page)))
        kept.append([line for index, line in enumerate(page)
                     if not (index in edges and (_normalized(line.text) in running or _PAGE_NUMBER.match(line.text)))])
    return kept


def _body_size(lines: list[Line]) -> float:
    weights = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _heading_level(line: Line, body_size: float, sizes: list[float]) -> int:
    """0 for body text; 1, 2… for lines set larger than the body (or bold and short)."""
    if len(line.text) > 120 or line.text.endswith((".", ",", ";")):
        return 0
    if body_size and line.size >= body_size * 1.15:
        return 1 + sizes.index(line.size) if line.size in sizes else 1
    if line.bold and len(line.text) < 80 and not line.text.endswith(_SENTENCE_END):
        return len(sizes) + 1
    return 0


def _in_reading_order(pages: list[list[Line]], tables: list[list[PdfTable]]) -> list[Line | PdfTable]:
    """Each page's lines with its tables put in before the first line below them."""
    items: list[Line | PdfTable] = []
    for page_lines, page_tables in zip(pages, tables):
        waiting = sorted(page_tables, key=lambda t: t.top)
        for line in page_lines:
            while waiting and waiting[0].top <= line.top:
                items.append(waiting.pop(0))
            items.append(line)
        items += waiting
    return items


def _assemble(items: list[Line | PdfTable], lines: list[Line], body_size: float, builder: DocumentBuilder) -> None:
    sizes = sorted({l.size for l in lines if body_size and l.size >= body_size * 1.15}, reverse=True)[:3]
    pitch = _line_pitch(lines, body_size)
    paragraph: list[Line] = []
    heading: list[Line] = []
    heading_level = 0

    def flush_paragraph() -> None:
        if paragraph:
            first, last = paragraph[0].page, paragraph[-1].page
            place = f"p. {first}" if first == last else f"pp. {first}–{last}"
            builder.paragraph(_join([l.text for l in paragraph]), place=place)
            paragraph.clear()

    def flush_heading() -> None:
        if heading:
            builder.place = f"p. {heading[0].page}"
            builder.heading(_join([l.text for l in heading]), heading_level)
            heading.clear()

    previous: Line | None = None
    before: Line | PdfTable | None = None  # the item before this one, pages apart or not
    header: tuple[str, ...] = ()
    for line in items:
        if isinstance(line, PdfTable):
            flush_heading()
            flush_paragraph()
            header = _add_table(builder, line, header if continues(before, line) else ())
            before, previous = line, None
            continue
        before = line
        level = _heading_level(line, body_size, sizes)
        if level:
            flush_paragraph()
            # A title set over two lines is one heading ("… for Small" / "Businesses").
            if heading and (level != heading_level or line.page != heading[-1].page
                            or line.top - heading[-1].bottom > 1.2 * (line.bottom - line.top)):
                flush_heading()
            heading.append(line)
            heading_level = level
        else:
            flush_heading()
            if paragraph and _starts_new_paragraph(previous, line, pitch):
                flush_paragraph()
            paragraph.append(line)
        previous = line
    flush_heading()
    flush_paragraph()


def _add_table(builder: DocumentBuilder, table: PdfTable, continued_header: tuple[str, ...]) -> tuple[str, ...]:
    """Adds the table's rows (each "p. N"); a table carried over from the previous page keeps that
    page's header, whether or not the printer repeated it. Returns the header in force."""
    rows = table.rows
    if continued_header:
        rows = [list(continued_header)] + [row for row in rows if tuple(row) != continued_header]
    builder.table(rows, places=[f"p. {table.page}"] * len(rows))
    return tuple(rows[0])


def _line_pitch(lines: list[Line], body_size: float) -> float:
    """The usual distance from one body line to the next: more than that is a paragraph break."""
    steps = sorted(b.top - a.top for a, b in zip(lines, lines[1:])
                   if a.page == b.page and a.size == b.size == body_size and b.top > a.top)
    if not steps:
        return 0.0
    # Short paragraphs make paragraph breaks common: take a low percentile, and never more than
    # generous single spacing for the body size.
    return min(steps[len(steps) // 5], 1.6 * body_size)


def _starts_new_paragraph(previous: Line | None, line: Line, pitch: float) -> bool:
    if previous is None:
        return True
    height = max(1.0, previous.bottom - previous.top)
    if line.page != previous.page:
        # A sentence running over a page break carries on; a finished one ends the paragraph.
        return previous.text.endswith(_SENTENCE_END) and not line.text[:1].islower()
    step = line.top - previous.top
    if step > (1.3 * pitch if pitch else 2.0 * height):
        return True
    return previous.text.endswith(_SENTENCE_END) and previous.x1 < line.x1 - 6 * height and not line.text[:1].islower()


def _join(parts: list[str]) -> str:
    """Lines into running text: "busi-" + "ness" → "business"; CJK lines join without a space."""
    text = ""
    for part in parts:
        if not text:
            text = part
        elif re.search(r"[A-Za-z]-$", text) and part[:1].islower():
            text = text[:-1] + part
        elif _CJK.match(text[-1]) and _CJK.match(part[0]):
            text += part
        else:
            text += " " + part
    return text
