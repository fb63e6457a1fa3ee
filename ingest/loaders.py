"""Reads txt, md, html, pdf, docx, pptx, xlsx and csv files into one structured `Document`
(ingest/document.py); the per-format readers live in ingest/formats/.

Every failure becomes a `LoadError` whose message tells an admin, in plain words, what is wrong
with the file; nothing else escapes from here.
"""

from __future__ import annotations

from pathlib import Path

from ingest.document import Document

SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                      ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx",
                      ".csv": "csv"}
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason, fit to show an admin."""


def load_document(path: Path) -> Document:
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
    document = _LOADERS[kind](path)
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


def _load_text(path: Path) -> Document:
    from ingest.formats.text import load_plain_text

    return load_plain_text(decode_text(path.read_bytes()))


def _load_markdown(path: Path) -> Document:
    from ingest.formats.text import load_markdown

    return load_markdown(decode_text(path.read_bytes()))


def _load_html(path: Path) -> Document:
    from ingest.formats.html import load_html

    return load_html(decode_text(path.read_bytes()))


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

    return load_csv(decode_text(path.read_bytes()))


def unwrap_lines(text: str) -> str:
    from ingest.formats.text import unwrap_lines as unwrap

    return unwrap(text)


_LOADERS = {"text": _load_text, "markdown": _load_markdown, "html": _load_html, "pdf": _load_pdf,
            "docx": _load_docx, "pptx": _load_pptx, "xlsx": _load_xlsx, "csv": _load_csv}
