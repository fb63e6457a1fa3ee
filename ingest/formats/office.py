"""Word (.docx) and PowerPoint (.pptx) files, read in document order with python-docx and
python-pptx: tables stay under their heading and keep every cell, merged ones included."""

from __future__ import annotations

import re
import zipfile

from ingest.document import Document, DocumentBuilder
from ingest.loaders import LoadError, describe_error

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|标题|überschrift|titre|título)\s*(\d)$", re.I)


def load_docx(path) -> Document:  # type: ignore[no-untyped-def]
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        source = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise LoadError("corrupt or not a Word .docx file") from error
    except Exception as error:
        raise LoadError(f"cannot open the Word file: {describe_error(error)}") from error
    builder = DocumentBuilder("docx")
    title = (source.core_properties.title or "").strip() or None
    for item in source.iter_inner_content():
        if hasattr(item, "rows"):  # a table, in its place among the paragraphs
            builder.table(_table_rows(item))
            continue
        text = item.text.strip()
        if not text:
            continue
        level, is_list = _paragraph_role(item)
        if level == 0 and title is None:
            title = text  # the "Title" style
        if level >= 0:
            builder.heading(text, max(1, level))
        else:
            builder.paragraph(text, list_item=is_list)
    builder.document.title = title or next((b.text for b in builder.document.blocks if b.kind == "heading"), None)
    return builder.document


def _paragraph_role(paragraph) -> tuple[int, bool]:  # type: ignore[no-untyped-def]
    """(heading level, or -1 for body text; 0 for the Title style) and whether it is a list item."""
    style = paragraph.style
    name = (style.name if style is not None else "") or ""
    if name.lower() == "title":
        return 0, False
    match = _HEADING_STYLE.match(name.strip())
    if match:
        return int(match.group(1)), False
    p_pr = paragraph._p.pPr
    outline = p_pr.find(_W + "outlineLvl") if p_pr is not None else None
    if outline is not None:
        value = outline.get(_W + "val")
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 1, False
    is_list = "list" in name.lower() or (p_pr is not None and p_pr.numPr is not None)
    return -1, is_list


def _table_rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    # `row.cells` gives one cell per grid column: a merged cell appears in every column it spans,
    # so a row never comes out shorter than its header and no value moves to another column.
    rows = []
    for row in table.rows:
        try:
            rows.append([cell.text for cell in row.cells])
        except (IndexError, ValueError):  # malformed grids: keep what the row's own cells say
            rows.append(["".join(t.text or "" for t in tc.iter(_W + "t")) for tc in row._tr.tc_lst])
    return rows


def load_pptx(path) -> Document:  # type: ignore[no-untyped-def]
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise LoadError("corrupt or not a PowerPoint .pptx file") from error
    except Exception as error:
        raise LoadError(f"cannot open the PowerPoint file: {describe_error(error)}") from error
    builder = DocumentBuilder("pptx")
    title = (deck.core_properties.title or "").strip() or None
    for number, slide in enumerate(deck.slides, start=1):
        builder.reset_headings()
        builder.place = f"slide {number}"
        title_shape = slide.shapes.title
        if title_shape is not None and title_shape.text_frame.text.strip():
            builder.heading(title_shape.text_frame.text, 1)
            if title is None and number == 1:
                title = " ".join(title_shape.text_frame.text.split())
        shapes = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
        for shape in _reading_order(shapes):
            _add_shape(shape, builder)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            for paragraph in slide.notes_slide.notes_text_frame.paragraphs:
                builder.paragraph(paragraph.text)
    builder.document.title = title
    return builder.document


def _reading_order(shapes):  # type: ignore[no-untyped-def]
    return sorted(shapes, key=lambda s: ((s.top or 0) // 100000, s.left or 0))


def _add_shape(shape, builder: DocumentBuilder) -> None:  # type: ignore[no-untyped-def]
    if shape.shape_type is not None and getattr(shape, "shapes", None) is not None:  # a group
        for inner in _reading_order(list(shape.shapes)):
            _add_shape(inner, builder)
    elif getattr(shape, "has_table", False) and shape.has_table:
        builder.table([[cell.text for cell in row.cells] for row in shape.table.rows])
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            builder.paragraph(paragraph.text, list_item=paragraph.level > 0)
