"""Reads txt, md, html, pdf and docx files into plain text and a title.

Every failure becomes a `LoadError` whose message tells an admin, in plain words, what is wrong
with the file; nothing else escapes from here.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.decoding import UndecodableText, decode_bytes
from ingest.safety import DEFAULT_MAX_FILE_BYTES, ZIP_FORMATS, UnsafeInput, check_regular_file, check_zip_container
from ingest.safety import read_capped as _read_capped

SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                      ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
MAX_FILE_BYTES = DEFAULT_MAX_FILE_BYTES


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason, fit to show an admin."""


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    text: str
    title: str | None


def load_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> LoadedDocument:
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted({s for s in SUPPORTED_SUFFIXES if s != ".markdown"}))
        raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {supported}")
    try:
        size = check_regular_file(path, max_bytes)  # before anything reads the file whole
        if size == 0:
            raise LoadError("the file is empty")
        if path.suffix.lower() in ZIP_FORMATS:
            check_zip_container(path)  # before anything inflates it
    except UnsafeInput as error:
        raise LoadError(str(error)) from error
    loader = {"text": _load_text, "markdown": _load_markdown, "html": _load_html,
              "pdf": _load_pdf, "docx": _load_docx}[kind]
    document = loader(path)
    if not document.text.strip():
        raise LoadError("no text found in the document")
    return document


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str (BOM, UTF-16/32, UTF-8, GB18030, cp1252, detection; NULs
    dropped); binary content is refused rather than indexed as noise."""
    try:
        return decode_bytes(data)[0]
    except UndecodableText as error:
        raise LoadError(str(error)) from error


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    try:
        return _read_capped(path, max_bytes)
    except UnsafeInput as error:
        raise LoadError(str(error)) from error
    except OSError as error:
        raise LoadError(f"cannot read the file: {error.strerror or error}") from error


def _load_text(path: Path) -> LoadedDocument:
    return LoadedDocument(unwrap_lines(decode_text(read_bytes(path))), None)


# A line that stops mid-sentence and a next line that carries on in lower case: a hard wrap
# (e-mails, exported reports), not a paragraph or a heading.
_HARD_WRAP = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-z])")


def unwrap_lines(text: str) -> str:
    return _HARD_WRAP.sub(" ", text)


def _load_markdown(path: Path) -> LoadedDocument:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(decode_text(read_bytes(path)))
    blocks: list[str] = []
    title = None
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue  # code blocks are skipped: listings are not advice
        text = "".join(
            "\n" if child.type in ("softbreak", "hardbreak") else child.content
            for child in token.children or []
            if child.type in ("text", "code_inline", "softbreak", "hardbreak")
        ).strip()
        if not text:
            continue
        if title is None and index > 0 and tokens[index - 1].type == "heading_open" and tokens[index - 1].tag == "h1":
            title = text
        blocks.append(text)
    return LoadedDocument("\n\n".join(blocks), title)


def _load_html(path: Path) -> LoadedDocument:
    import trafilatura

    html = decode_text(read_bytes(path))
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True,
                               deduplicate=True)
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata is not None else None
    if not text:  # pages too short for trafilatura's main-text heuristics
        from selectolax.lexbor import LexborHTMLParser as HTMLParser  # Modest (selectolax.parser) is gone

        tree = HTMLParser(html)
        for node in tree.css("script, style, nav, footer, header, aside, form"):
            node.decompose()
        body = tree.body
        text = body.text(separator="\n") if body is not None else ""
        if title is None and tree.css_first("title") is not None:
            title = tree.css_first("title").text(strip=True)
    return LoadedDocument(text or "", title or None)


def _load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except LoadError:
        raise
    except Exception as error:  # pypdf raises assorted errors on damaged files
        raise LoadError(f"corrupt or unreadable PDF: {_reason(error)}") from error
    text = "\n\n".join(_join_pdf_lines(page) for page in pages if page.strip())
    if not text.strip():
        raise LoadError("the PDF has no extractable text (scanned images need OCR first)")
    return LoadedDocument(text, title.strip() if isinstance(title, str) and title.strip() else None)


def _join_pdf_lines(page: str) -> str:
    """PDF text breaks lines mid-sentence; rejoin them, keeping paragraph-looking breaks."""
    page = re.sub(r"(\w)-\n(\w)", r"\1\2", page)
    out: list[str] = []
    for line in (line.strip() for line in page.split("\n")):
        if not line:
            out.append("")
        elif out and out[-1] and not out[-1].endswith((".", "!", "?", ":")) and (line[0].islower() or len(out[-1]) > 50):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def _load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError) as error:
        raise LoadError(f"corrupt or not a Word .docx file: {_reason(error)}") from error
    except Exception as error:
        raise LoadError(f"cannot open the Word file: {_reason(error)}") from error
    blocks: list[str] = []
    title = (document.core_properties.title or "").strip() or None
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if title is None and (style == "Title" or style.startswith("Heading")):
            title = text
        blocks.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                blocks.append(" | ".join(dict.fromkeys(cells)))
    return LoadedDocument("\n\n".join(blocks), title)


def _reason(error: BaseException) -> str:
    """An exception in words: its message, or what kind of failure it was when it has none."""
    text = " ".join(str(error).split())[:200]
    names = {"NotImplementedError": "uses a feature the PDF reader does not support",
             "KeyError": "a required part is missing", "RecursionError": "its structure is nested too deeply",
             "MemoryError": "it needs too much memory to read"}
    plain = names.get(type(error).__name__, type(error).__name__)
    return f"{plain} ({text})" if text and type(error).__name__ in names else (text or plain)
