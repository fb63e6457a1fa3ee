"""The knowledge base as a LangChain retriever, so it plugs into LangChain chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.base import KnowledgeBase


class KnowledgeBaseRetriever(BaseRetriever):
    """Hybrid retrieval results as `Document`s; metadata carries ids, offsets and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge_base: Any
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        kb: KnowledgeBase = self.knowledge_base
        result = kb.retrieve(query, self.k)
        return [
            Document(
                page_content=hit.chunk.text,
                id=hit.chunk.chunk_id,
                metadata={"doc_id": hit.chunk.doc_id, "title": hit.chunk.title, "chunk_id": hit.chunk.chunk_id,
                          "position": hit.chunk.position, "start": hit.chunk.start, "end": hit.chunk.end,
                          "score": hit.score, "similarity": hit.dense_similarity},
            )
            for hit in result.ranked
        ]
