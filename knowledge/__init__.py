"""The knowledge core: Chroma store, embeddings, hybrid retrieval and grounded answering.

This package never imports `telegram`; front ends (CLI, bot, evaluation) call `KnowledgeBase`.
"""

from __future__ import annotations

from knowledge.types import Answer, Chunk, Citation, Retrieved, SourceInfo, Turn

__all__ = ["Answer", "Chunk", "Citation", "Retrieved", "SourceInfo", "Turn"]
