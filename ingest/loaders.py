"""Reads txt, md, html, pdf, docx, pptx, xlsx and csv files into one structured `Document`
(ingest/document.py); the per-format readers live in ingest/formats/.

Every failure becomes a `LoadError` whose message tells an admin, in plain words, what is wrong
with the file; nothing else escapes from here.
"""

from __future__ import annotations

from pathlib import Path

from ingest.decoding import UndecodableText, decode_bytes
from ingest.document import Document
from ingest.safety import DEFAULT_MAX_FILE_BYTES, ZIP_FORMATS, UnsafeInput, check_regular_file, check_zip_container
from ingest.safety import read_capped as _read_capped

SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                      ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx",
                      ".csv": "csv"}
MAX_FILE_BYTES = DEFAULT_MAX_FILE_BYTES


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason, fit to show an admin."""


def load_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Document:
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
    document = _LOADERS[kind](path)
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


def _load_text(path: Path) -> Document:
    from ingest.formats.text import load_plain_text

    return load_plain_text(decode_text(read_bytes(path)))


def _load_markdown(path: Path) -> Document:
    from ingest.formats.text import load_markdown

    return load_markdown(decode_text(read_bytes(path)))


def _load_html(path: Path) -> Document:
    from ingest.formats.html import load_html

    return load_html(decode_text(read_bytes(path)))


def _load_pdf(path: Path) -> Document:
    from ingest.formats.pdf import load_pdf

    return load_pdf(path)


def _load_docx(path: Path) -> Document:
    from ingest.formats.office import load_docx

    return load_docx(path)


def _load_pptx(path: Path) -> Document:
    from ingest.formats.office import load_pptx

    return load_pptx(path)


def _load_xlsx(path: Path) -> Document:
    from ingest.formats.sheets import load_xlsx

    return load_xlsx(path)


def _load_csv(path: Path) -> Document:
    from ingest.formats.sheets import load_csv

    return load_csv(decode_text(read_bytes(path)))


def unwrap_lines(text: str) -> str:
    from ingest.formats.text import unwrap_lines as unwrap

    return unwrap(text)


_LOADERS = {"text": _load_text, "markdown": _load_markdown, "html": _load_html, "pdf": _load_pdf,
            "docx": _load_docx, "pptx": _load_pptx, "xlsx": _load_xlsx, "csv": _load_csv}


# Exceptions whose name says more than their message (often none) to an admin, in words.
_ERROR_WORDS = {"NotImplementedError": "uses a feature the PDF reader does not support",
                "PDFNotImplementedError": "uses a feature the PDF reader does not support",
                "KeyError": "a required part is missing", "RecursionError": "its structure is nested too deeply",
                "MemoryError": "it needs too much memory to read", "PDFValueError": "a value in it is invalid",
                "PDFSyntaxError": "its structure is damaged", "PSEOF": "it ends before its structure does"}
# Messages that say nothing ("error", or the str() of a None argument).
_EMPTY_MESSAGES = {"", "none", "error", "exception", "unknown error"}


def describe_error(error: BaseException) -> str:
    """An exception in words: its message, or what kind of failure it was when it has none. Never a
    bare class name or "(error)": an admin reads this."""
    inner = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], BaseException) else None
    if inner is not None:  # pdfplumber wraps pdfminer's errors (PdfminerException(PDFValueError(None)))
        return describe_error(inner)
    name = type(error).__name__
    text = " ".join(str(error).split())[:200]
    if text.strip("'\" .").lower() in _EMPTY_MESSAGES or text.strip("'\"") == name:
        text = ""
    if name in _ERROR_WORDS:
        return f"{_ERROR_WORDS[name]} ({text})" if text else _ERROR_WORDS[name]
    return text or "the reader stopped without saying why"
