"""Sentence-aware chunks sized for the embedding model, with overlap and exact offsets, built from
a document's structure (sections, pages, slides, table rows)."""

from __future__ import annotations

import re
from typing import Callable

from ingest.document import PATH_SEPARATOR, Block, Piece, Rendered
from knowledge.text import content_words, sentence_spans
from knowledge.types import Chunk

# No chunk is longer than this, whatever the tokenizer says: a 200-token chunk of prose is about
# 1,200 characters, and a run without spaces (50 MB of one letter) must not become one chunk or
# be handed to the tokenizer whole.
MAX_CHUNK_CHARS = 4000
_ACRONYMS = {"sme", "smes", "ai", "esg", "hr", "it", "ceo", "eu", "uk", "us", "b2b", "nps", "vat", "r&d"}


def chunk_id(doc_id: str, sha256: str, position: int) -> str:
    """Content-addressed ids: a changed document gets new ids, so old and new never collide."""
    return f"{doc_id}:{sha256[:10]}:{position:04d}"


def make_chunks(
    doc_id: str,
    title: str,
    text: str,
    sha256: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 200,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Chunks of plain text with no structure (one section)."""
    spans = _first_occurrences(text, [(s, e, None) for s, e in pack_sentences(text, 0, len(text), count_tokens,
                                                                             max_tokens, overlap_sentences)])
    return [Chunk(chunk_id(doc_id, sha256, n), doc_id, title, text[s:e], n, s, e)
            for n, (s, e, _) in enumerate(spans)]


def chunk_document(
    doc_id: str,
    title: str,
    rendered: Rendered,
    sha256: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 200,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Chunks that follow the document's structure: prose is packed within its section (and page
    or slide), never across a heading; each table row is a chunk of its own. Headings are never
    chunk text: they travel as each chunk's `context`, which is embedded and keyword-indexed."""
    text = rendered.text
    spans: list[tuple[int, int, Block]] = []
    run: list[Piece] = []

    def close_run() -> None:
        if run:
            for start, end in pack_sentences(text, run[0].start, run[-1].end, count_tokens, max_tokens,
                                             overlap_sentences):
                spans.append((start, end, _block_at(run, start)))
            run.clear()

    for piece in rendered.pieces:
        block = piece.block
        if block.kind == "heading":
            close_run()
        elif block.kind == "table_row":
            close_run()
            for start, end in pack_sentences(text, piece.start, piece.end, count_tokens, max_tokens, 0):
                spans.append((start, end, block))
        else:
            if run and (run[-1].block.path != block.path or run[-1].block.place != block.place):
                close_run()
            run.append(piece)
    close_run()
    return [Chunk(chunk_id(doc_id, sha256, n), doc_id, title, text[start:end], n, start, end,
                  location=location_of(block, title), context=context_of(block, title))
            for n, (start, end, block) in enumerate(_first_occurrences(text, spans, title))]


def _first_occurrences(text: str, spans: list[tuple[int, int, Block | None]],
                       title: str = "") -> list[tuple[int, int, Block | None]]:
    """Drops a chunk that repeats an earlier one word for word (under the same heading): it adds
    nothing to quote, and many identical vectors break the HNSW graph of the vector store — a
    document repeating one paragraph 3,000 times made Chroma miss every other document's chunks."""
    seen: set[tuple[str, str | None]] = set()
    kept = []
    for start, end, block in spans:
        key = (" ".join(text[start:end].split()), context_of(block, title) if block is not None else None)
        if key not in seen:
            seen.add(key)
            kept.append((start, end, block))
    return kept


def _block_at(run: list[Piece], offset: int) -> Block:
    for piece in run:
        if piece.end >= offset:
            return piece.block
    return run[-1].block


def _section_path(block: Block, title: str) -> tuple[str, ...]:
    path = block.path
    if path and path[0].casefold() == title.casefold():
        path = path[1:]  # the document's own title heading says nothing the title doesn't
    return path


def location_of(block: Block, title: str) -> str | None:
    """"p. 3", "slide 4", "Sheet1, row 5" where the format has places, else the heading path."""
    if block.place:
        return block.place
    return PATH_SEPARATOR.join(_section_path(block, title)) or None


def context_of(block: Block, title: str) -> str | None:
    return PATH_SEPARATOR.join(_section_path(block, title)) or None


def pack_sentences(text: str, range_start: int, range_end: int, count_tokens: Callable[[str], int],
                   max_tokens: int = 200, overlap_sentences: int = 1) -> list[tuple[int, int]]:
    """Greedy packing of whole sentences of `text[range_start:range_end]` up to `max_tokens`, each
    chunk repeating the previous chunk's last `overlap_sentences` sentences so a fact spanning a
    boundary stays retrievable. Returns (start, end) offsets into `text`."""
    spans = [(range_start + s, range_start + e) for s, e in sentence_spans(text[range_start:range_end])]
    spans = _fit_spans(text, _capped(text, spans), count_tokens, max_tokens)
    sizes = [count_tokens(text[s:e]) for s, e in spans]
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last, used = first, sizes[first]
        while (last + 1 < len(spans) and used + sizes[last + 1] <= max_tokens
               and spans[last + 1][1] - spans[first][0] <= MAX_CHUNK_CHARS):  # a word piece may hide 100s of chars
            # Close early at a paragraph break once the chunk is reasonably full.
            if used >= 0.6 * max_tokens and "\n\n" in text[spans[last][1] : spans[last + 1][0]]:
                break
            last += 1
            used += sizes[last]
        # Text between sentences (bullets, dashes) also costs tokens: check the real slice.
        while last > first and count_tokens(text[spans[first][0] : spans[last][1]]) > max_tokens:
            last -= 1
        chunks.append((spans[first][0], spans[last][1]))
        if last + 1 >= len(spans):
            break
        first = max(first + 1, last + 1 - overlap_sentences)
    return chunks


def _capped(text: str, spans: list[tuple[int, int]], limit: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Cuts spans longer than `limit` characters, at the last white space before it when there is one."""
    capped: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > limit:
            cut = text.rfind(" ", start + limit // 2, start + limit)
            cut = cut if cut > start else start + limit
            capped.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            capped.append((start, end))
    return capped


def _fit_spans(text: str, spans: list[tuple[int, int]], count_tokens: Callable[[str], int],
               max_tokens: int) -> list[tuple[int, int]]:
    """Splits any sentence longer than the model's window at word boundaries."""
    fitted: list[tuple[int, int]] = []
    for start, end in spans:
        if count_tokens(text[start:end]) <= max_tokens:
            fitted.append((start, end))
            continue
        words = [m.span() for m in re.finditer(r"\S+", text[start:end])]
        piece_start = 0
        while piece_start < len(words):
            piece_end = piece_start + 1
            while piece_end < len(words):
                candidate = text[start + words[piece_start][0] : start + words[piece_end][1]]
                if count_tokens(candidate) > max_tokens:
                    break
                piece_end += 1
            fitted.append((start + words[piece_start][0], start + words[piece_end - 1][1]))
            piece_start = piece_end
    return fitted


def derive_title(text: str, stem: str, declared: str | None) -> str:
    """The declared title (metadata, first heading), else a short opening line resembling the file
    name, else the first short line, else the file name made readable."""
    if declared and declared.strip():
        return declared.strip()[:200]
    stem_words = set(content_words(stem.replace("-", " ").replace("_", " ")))
    candidates = [line.strip() for line in text.split("\n")[:12] if line.strip()][:4]
    short = [line for line in candidates if len(line) <= 150 and not line.endswith((".", ",", ";", ":"))]
    if stem_words:
        for line in short:
            if len(set(content_words(line)) & stem_words) >= max(1, len(stem_words) // 2):
                return line
    if short and candidates and short[0] == candidates[0]:
        return short[0]
    return humanize_stem(stem)


def humanize_stem(stem: str) -> str:
    words = re.split(r"[-_\s]+", stem.strip())
    shown = [w.upper() if w.lower() in _ACRONYMS else w for w in words if w]
    if shown and shown[0] == shown[0].lower():
        shown[0] = shown[0].capitalize()
    return " ".join(shown) or stem


def slugify(stem: str) -> str:
    """A doc_id from a file stem: lowercase ASCII letters, digits and dashes, stable across runs."""
    import unicodedata

    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")
    if len(slug) < 3:  # non-Latin names: keep them distinct and stable
        import hashlib

        slug = (slug + "-" if slug else "doc-") + hashlib.sha1(stem.encode()).hexdigest()[:8]
    return slug[:80]
