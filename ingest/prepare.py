"""A loaded document made ready for the index: cleaned, rendered to text, chunked by structure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ingest.chunking import chunk_document, derive_title, humanize_stem
from ingest.cleaning import Cleaned, Mode, clean, normalize
from ingest.document import Document, render
from ingest.loaders import LoadError
from knowledge.types import Chunk

# Web pages get the boilerplate rules; text, Markdown and PDF only when they look like a saved
# web page; office documents and spreadsheets never.
CLEANING_MODES: dict[str, Mode] = {"html": "web", "text": "auto", "markdown": "auto", "pdf": "auto"}


@dataclass(frozen=True, slots=True)
class Prepared:
    title: str
    text: str          # the cleaned text every chunk is a slice of
    chunks: list[Chunk]
    topics: list[str]  # from the document itself (Markdown front matter)
    document: Document
    cleaned: Cleaned   # what cleaning removed (kinds, characters), for the report and `sources show`


def cleaning_mode(document: Document) -> Mode:
    return CLEANING_MODES.get(document.kind, "document")


def prepare_document(document: Document, doc_id: str, stem: str, sha256: str,
                     count_tokens: Callable[[str], int], max_tokens: int = 200,
                     overlap_sentences: int = 1, mode: Mode | None = None) -> Prepared:
    """`mode` overrides the cleaning mode of the document's kind (a fetched web page is "web")."""
    cleaned, record = clean_document(document, mode or cleaning_mode(document))
    rendered = render(cleaned)
    if not rendered.text.strip():
        raise LoadError(f"no text left after removing web boilerplate ({record.summary()})")
    if cleaned.title is None and cleaned.kind in ("xlsx", "csv"):
        cleaned.title = humanize_stem(stem)  # a first row is data, never a title
    title = derive_title(rendered.text, stem, cleaned.title)
    chunks = chunk_document(doc_id, title, rendered, sha256, count_tokens, max_tokens, overlap_sentences)
    if not chunks:
        raise LoadError("no sentences found in the document")
    return Prepared(title, rendered.text, chunks, cleaned.topics, cleaned, record)


def clean_document(document: Document, mode: Mode) -> tuple[Document, Cleaned]:
    """Every block's text made uniform (Unicode, white space); web captures also lose their
    boilerplate, judged by `clean` on the document read as one paragraph per block (blocks are
    single lines, and `clean` removes only whole lines and paragraphs, in order, so each kept
    paragraph is one surviving block). Every removal is recorded in the returned `Cleaned`."""
    blocks = [replace(b, text=normalize(b.text), cells=tuple(normalize(c) for c in b.cells),
                      header=tuple(normalize(h) for h in b.header)) for b in document.blocks]
    blocks = [b for b in blocks if b.statement()]
    record = clean("\n\n".join(b.statement() for b in blocks), mode)
    if record.web_capture and blocks:
        kept = record.text.split("\n\n") if record.text else []
        survivors, cursor = [], 0
        for block in blocks:
            if cursor < len(kept) and block.statement() == kept[cursor]:
                survivors.append(block)
                cursor += 1
        blocks = survivors
    return Document(document.kind, blocks, document.title, dict(document.metadata)), record
