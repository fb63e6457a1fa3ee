"""Sentence vectors computed once at ingest, so answering never embeds a library's text.

An extractive answer quotes the sentences of the best passages that come closest to the question;
scoring them needs a vector per sentence. Embedding 30–60 sentences per question is most of the
answer's time (and multilingual models are slower still), while the sentences never change between
questions. So ingest embeds each chunk's candidate sentences and the catalog keeps them (float16,
tagged with the model's name); a sentence without a stored vector — an older catalog, another
model — is embedded when asked, so the result is the same either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from knowledge.chinese import to_simplified
from knowledge.language import has_han
from knowledge.text import length_in_words, sentence_spans
from knowledge.types import Chunk

MIN_SENTENCE_WORDS = 5  # headings and fragments say too little to be an answer


class _Embeds(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    chunk_id: str
    model: str
    spans: list[tuple[int, int]]
    vectors: np.ndarray  # float16, one row per span

    def to_row(self) -> tuple[str, str, str, bytes]:
        spans = ";".join(f"{s},{e}" for s, e in self.spans)
        return self.chunk_id, self.model, spans, self.vectors.astype(np.float16).tobytes()

    @classmethod
    def from_row(cls, chunk_id: str, model: str, spans: str, blob: bytes) -> SentenceVectors:
        pairs = [tuple(int(n) for n in pair.split(",")) for pair in spans.split(";") if pair]
        vectors = np.frombuffer(blob, dtype=np.float16).reshape(len(pairs), -1) if pairs else np.zeros((0, 0))
        return cls(chunk_id, model, pairs, vectors)  # type: ignore[arg-type]


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a passage that can be quoted as an answer: long enough, not a question
    (a question never answers one), and for Chinese not a heading — a line of its own without a
    sentence stop, since Chinese headings are long enough to pass the length rule."""
    kept = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if length_in_words(sentence) < MIN_SENTENCE_WORDS or sentence.rstrip("”’\"'」』）) ").endswith(("?", "？")):
            continue
        if has_han(sentence) and _looks_like_heading(sentence) and _is_whole_line(text, start, end):
            continue
        kept.append((start, end))
    return kept


_CHINESE_STOPS = tuple("。！；…”’」』）.!;\"')")
# A table row as the structured document states it (ingest/document.py `row_statement`): "仓储管理软件 —
# 预算: 45万元", or "预算: 45万元" for a one-column table. It is a line of its own without a stop, like a
# heading, but it states a fact that answers ("what is the budget for the software?").
_TABLE_ROW = re.compile(r"(?: — |^)[^:\n]{1,40}: \S")


def _looks_like_heading(sentence: str) -> bool:
    return (not sentence.endswith(_CHINESE_STOPS) and "，" not in sentence and len(sentence) <= 40
            and not _TABLE_ROW.search(sentence))


def _is_whole_line(text: str, start: int, end: int) -> bool:
    before = text.rfind("\n", 0, start)
    return not text[before + 1 : start].strip() and not text[end : (text.find("\n", end) + 1 or len(text) + 1) - 1].strip()


def sentence_text(text: str) -> str:
    """What is embedded for a sentence (Traditional read as Simplified, like passages and queries)."""
    return to_simplified(text)


def embed_sentences(embedder: _Embeds, chunks: Sequence[Chunk]) -> list[SentenceVectors]:
    """Vectors for every candidate sentence of `chunks`; a sentence repeated by chunk overlap is
    embedded once."""
    spans = [candidate_spans(chunk.text) for chunk in chunks]
    unique: dict[str, int] = {}
    for chunk, chunk_spans in zip(chunks, spans):
        for start, end in chunk_spans:
            unique.setdefault(sentence_text(chunk.text[start:end]), len(unique))
    vectors = embedder.embed(list(unique)) if unique else np.zeros((0, 0), dtype=np.float32)
    found = []
    for chunk, chunk_spans in zip(chunks, spans):
        rows = [unique[sentence_text(chunk.text[s:e])] for s, e in chunk_spans]
        found.append(SentenceVectors(chunk.chunk_id, embedder.model_id, chunk_spans,
                                     vectors[rows].astype(np.float16) if rows else np.zeros((0, 0), np.float16)))
    return found
