"""Reads txt, md, html, pdf and docx files into plain text and a title.

Every failure becomes a `LoadError` whose message tells an admin, in plain words, what is wrong
with the file; nothing else escapes from here.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                      ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason, fit to show an admin."""


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    text: str
    title: str | None


def load_document(path: Path) -> LoadedDocument:
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted({s for s in SUPPORTED_SUFFIXES if s != ".markdown"}))
        raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {supported}")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise LoadError(f"cannot read the file: {error.strerror or error}") from error
    if size == 0:
        raise LoadError("the file is empty")
    if size > MAX_FILE_BYTES:
        raise LoadError(f"the file is too large ({size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB)")
    loader = {"text": _load_text, "markdown": _load_markdown, "html": _load_html,
              "pdf": _load_pdf, "docx": _load_docx}[kind]
    document = loader(path)
    if not document.text.strip():
        raise LoadError("no text found in the document")
    return document


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str; binary content is refused rather than indexed as noise."""
    sample = data[:8192]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content, not text (is the file extension right?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.02 * max(1, len(text[:8192])):
        raise LoadError("binary content, not text (is the file extension right?)")
    return text


def _decode_legacy(data: bytes) -> str:
    # Short texts fool encoding detectors; Western text in cp1252 is by far the common case, and
    # is recognisable: mostly ASCII with a few accented letters.
    try:
        western = data.decode("cp1252")
        letters = [ch for ch in western if ch.isalpha()]
        if letters and sum(not ch.isascii() for ch in letters) < 0.1 * len(letters):
            return western
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LoadError("binary content or an unknown text encoding")
    return str(best)


def _load_text(path: Path) -> LoadedDocument:
    return LoadedDocument(unwrap_lines(decode_text(path.read_bytes())), None)


# A line that stops mid-sentence and a next line that carries on in lower case: a hard wrap
# (e-mails, exported reports), not a paragraph or a heading.
_HARD_WRAP = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-z])")


def unwrap_lines(text: str) -> str:
    return _HARD_WRAP.sub(" ", text)


def _load_markdown(path: Path) -> LoadedDocument:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(decode_text(path.read_bytes()))
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

    html = decode_text(path.read_bytes())
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True,
                               deduplicate=True)
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata is not None else None
    if not text:  # pages too short for trafilatura's main-text heuristics
        from selectolax.parser import HTMLParser

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
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as error:
        raise LoadError(f"corrupt or unreadable PDF ({type(error).__name__}: {error})") from error
    except Exception as error:  # pypdf raises assorted errors on damaged files
        raise LoadError(f"corrupt or unreadable PDF ({type(error).__name__})") from error
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
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise LoadError("corrupt or not a Word .docx file") from error
    except Exception as error:
        raise LoadError(f"cannot open the Word file ({type(error).__name__})") from error
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
