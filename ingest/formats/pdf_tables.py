"""Ruled tables in a PDF, found by pdfplumber from the lines drawn around their cells.

A table's text is taken out of the page's running text (otherwise each row would come back as a
line of words with the columns run together: "Norway EUR 410 5 0%") and returned as rows of
cells, so the PDF reader can add it as a table, where it stands on the page, whose rows become
"first cell — header: value; …" statements like a DOCX or XLSX table.

Only the "lines" strategy is used: tables without ruling are left as text, because guessing
columns from white space turns ordinary two-column prose into nonsense tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass(slots=True)
class PdfTable:
    rows: list[list[str]]
    bbox: BBox
    page: int

    @property
    def top(self) -> float:
        return self.bbox[1]

    @property
    def width(self) -> int:
        return max((len(row) for row in self.rows), default=0)


def find_tables(page: Any, number: int) -> tuple[list[PdfTable], Any]:
    """The page's tables, and the page without their characters (for the text lines)."""
    tables: list[PdfTable] = []
    for found in page.find_tables():
        rows = _filled(found)
        # One row or one column is a framed box of text, not a table: its lines stay prose.
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue
        tables.append(PdfTable(rows, tuple(found.bbox), number))
    if not tables:
        return [], page
    boxes = [table.bbox for table in tables]
    return tables, page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))


def _inside(obj: dict[str, Any], boxes: list[BBox]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _filled(table: Any) -> list[list[str]]:
    """The cell texts, a merged cell's text in every column and row it spans (pdfplumber gives
    None for the grid positions a merged cell covers), so no column shifts."""
    texts = [[cell for cell in row] for row in table.extract()]
    boxes = [list(row.cells) for row in table.rows]
    centres_x: dict[int, float] = {}
    for row in boxes:
        for c, box in enumerate(row):
            if box is not None and c not in centres_x and _spans_one(row, c):
                centres_x[c] = (box[0] + box[2]) / 2
    for r, row in enumerate(texts):
        present = [box for box in boxes[r] if box is not None]
        centre_y = (present[0][1] + present[0][3]) / 2 if present else None
        for c, value in enumerate(row):
            if value is not None:
                continue
            row[c] = _spanning(texts, boxes, r, c, centres_x.get(c), centre_y)
    return [[" ".join((cell or "").split()) for cell in row] for row in texts]


def _spans_one(row: list[BBox | None], c: int) -> bool:
    return c + 1 >= len(row) or row[c + 1] is not None


def _spanning(texts: list[list[str | None]], boxes: list[list[BBox | None]], r: int, c: int,
              centre_x: float | None, centre_y: float | None) -> str:
    if centre_x is not None:
        for left in range(c - 1, -1, -1):  # merged across columns: a cell to the left reaches here
            box = boxes[r][left]
            if box is not None:
                if box[2] > centre_x:
                    return texts[r][left] or ""
                break
    if centre_y is not None:
        for up in range(r - 1, -1, -1):  # merged across rows: a cell above reaches down here
            box = boxes[up][c] if c < len(boxes[up]) else None
            if box is not None:
                if box[3] > centre_y:
                    return texts[up][c] or ""
                break
    return ""


def continues(before: object, table: PdfTable) -> bool:
    """A table that opens a page right after a table of as many columns closed the previous one
    is that table carried over (a long table printed over pages)."""
    return isinstance(before, PdfTable) and before.page == table.page - 1 and before.width == table.width
