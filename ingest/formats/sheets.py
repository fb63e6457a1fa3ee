"""Spreadsheets (.xlsx with openpyxl in read-only mode) and .csv files: each sheet is a table whose
first non-empty row names the columns; every other row becomes one statement, placed by its sheet
and row number ("Sheet1, row 5"), as the admin sees it in the spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from ingest.document import Document, DocumentBuilder
from ingest.loaders import LoadError, describe_error


def load_xlsx(path) -> Document:  # type: ignore[no-untyped-def]
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise LoadError("corrupt or not an Excel .xlsx file") from error
    except Exception as error:
        raise LoadError(f"cannot open the Excel file: {describe_error(error)}") from error
    builder = DocumentBuilder("xlsx")
    try:
        builder.document.title = (workbook.properties.title or "").strip() or None
        for sheet in workbook.worksheets:
            rows: list[list[str]] = []
            places: list[str | None] = []
            for row in sheet.iter_rows():
                values = [_cell_text(cell) for cell in row]
                if any(values):
                    rows.append(values)
                    places.append(f"{sheet.title}, row {row[0].row}" if row and hasattr(row[0], "row") else sheet.title)
            if not rows:
                continue
            builder.reset_headings()
            builder.place = sheet.title
            builder.heading(sheet.title, 1)
            # Caption lines above the table (one filled cell while the table has several) are prose.
            widest = max(sum(1 for v in row if v) for row in rows)
            while len(rows) > 1 and widest > 1 and sum(1 for v in rows[0] if v) == 1:
                builder.paragraph(next(v for v in rows[0] if v), place=places[0])
                rows, places = rows[1:], places[1:]
            builder.table(_trim_columns(rows), places=places)
    finally:
        workbook.close()
    return builder.document


def _cell_text(cell) -> str:  # type: ignore[no-untyped-def]
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        number_format = getattr(cell, "number_format", "") or ""
        if "%" in number_format:
            return f"{value * 100:.{_decimals(number_format)}f}%"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f"{value:,}" if "," in number_format else str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return " ".join(str(value).split())


def _decimals(number_format: str) -> int:
    head = number_format.split("%")[0]
    return len(head.split(".")[1]) if "." in head else 0


def _trim_columns(rows: list[list[str]]) -> list[list[str]]:
    width = max((max((i + 1 for i, v in enumerate(row) if v), default=0) for row in rows), default=0)
    return [row[:width] for row in rows]


def load_csv(text: str) -> Document:
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    builder = DocumentBuilder("csv")
    rows: list[list[str]] = []
    places: list[str | None] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            if any(cell.strip() for cell in row):
                rows.append(row)
                places.append(f"row {number}")
    except csv.Error as error:
        raise LoadError(f"malformed CSV ({error})") from error
    if rows:
        builder.table(_trim_columns([[" ".join(c.split()) for c in row] for row in rows]), places=places)
    return builder.document
