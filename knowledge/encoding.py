"""A document's vectors, made at ingest: each passage by the model that reads its language, and the
candidate sentences of every passage (knowledge/sentences.py) by the same model."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from knowledge.chinese import to_simplified
from knowledge.embeddings import Embedder
from knowledge.language import Language
from knowledge.sentences import SentenceVectors, embed_sentences
from knowledge.store import passage_language
from knowledge.types import Chunk

EMBED_BATCH = 32  # passages per progress step

# (passages done, passages in all)
Progress = Callable[[int, int], None]


def passage_text(chunk: Chunk) -> str:
    """What is embedded for a passage: the title and the headings above it give it its context
    ("what is this about"); see `Chunk.indexed_text`."""
    return to_simplified(chunk.indexed_text())


def encode_document(embedders: Mapping[Language, Embedder], chunks: Sequence[Chunk],
                    on_progress: Progress | None = None) -> tuple[list[np.ndarray], list[SentenceVectors]]:
    """Passage vectors aligned with `chunks`, and their sentences' vectors."""
    groups: dict[Language, list[int]] = {}
    for i, chunk in enumerate(chunks):
        groups.setdefault(passage_language(chunk.text), []).append(i)
    vectors: list[np.ndarray | None] = [None] * len(chunks)
    sentences: list[SentenceVectors] = []
    done = 0
    for language, indices in groups.items():
        embedder = embedders[language]
        for start in range(0, len(indices), EMBED_BATCH):
            if on_progress is not None:
                on_progress(done, len(chunks))
            batch = indices[start : start + EMBED_BATCH]
            for i, vector in zip(batch, embedder.embed([passage_text(chunks[i]) for i in batch])):
                vectors[i] = vector
            done += len(batch)
        sentences.extend(embed_sentences(embedder, [chunks[i] for i in indices]))
    return vectors, sentences  # type: ignore[return-value]
