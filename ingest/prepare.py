"""A loaded document made ready for the index: cleaned, rendered to text, chunked by structure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ingest.chunking import chunk_document, derive_title, humanize_stem
from ingest.cleaning import clean_text, normalize
from ingest.document import Document, render
from ingest.loaders import LoadError
from knowledge.types import Chunk

# Web-boilerplate rules are for web captures; office documents and spreadsheets never go through them.
WEB_CAPTURE_KINDS = frozenset({"text", "markdown", "html"})


@dataclass(frozen=True, slots=True)
class Prepared:
    title: str
    text: str          # the cleaned text every chunk is a slice of
    chunks: list[Chunk]
    topics: list[str]  # from the document itself (Markdown front matter)
    document: Document


def prepare_document(document: Document, doc_id: str, stem: str, sha256: str,
                     count_tokens: Callable[[str], int], max_tokens: int = 200,
                     overlap_sentences: int = 1) -> Prepared:
    cleaned = clean_document(document)
    rendered = render(cleaned)
    if not rendered.text.strip():
        raise LoadError("no text left after removing web boilerplate")
    if cleaned.title is None and cleaned.kind in ("xlsx", "csv"):
        cleaned.title = humanize_stem(stem)  # a first row is data, never a title
    title = derive_title(rendered.text, stem, cleaned.title)
    chunks = chunk_document(doc_id, title, rendered, sha256, count_tokens, max_tokens, overlap_sentences)
    if not chunks:
        raise LoadError("no sentences found in the document")
    return Prepared(title, rendered.text, chunks, cleaned.topics, cleaned)


def clean_document(document: Document) -> Document:
    """Every block's text made uniform (Unicode, white space); web captures also lose their
    boilerplate, judged by `clean_text` on the document read as one paragraph per block."""
    blocks = [replace(b, text=normalize(b.text), cells=tuple(normalize(c) for c in b.cells),
                      header=tuple(normalize(h) for h in b.header)) for b in document.blocks]
    blocks = [b for b in blocks if b.statement()]
    if document.kind in WEB_CAPTURE_KINDS and blocks:
        kept = clean_text("\n\n".join(b.statement() for b in blocks)).split("\n\n")
        survivors, cursor = [], 0
        for block in blocks:  # clean_text only removes whole lines, in order
            if cursor < len(kept) and block.statement() == kept[cursor]:
                survivors.append(block)
                cursor += 1
        blocks = survivors
    return Document(document.kind, blocks, document.title, dict(document.metadata))
