"""BM25 keyword search (bm25s) over the live chunks, cached on disk per library version."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from knowledge.types import Chunk

log = logging.getLogger(__name__)


def _bm25s():  # type: ignore[no-untyped-def]
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
    return bm25s


@dataclass(frozen=True, slots=True)
class KeywordHit:
    chunk_id: str
    score: float


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: list[str], stemmer) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return _bm25s().tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


class KeywordIndex:
    def __init__(self, chunk_ids: list[str], retriever, stemmer) -> None:  # type: ignore[no-untyped-def]
        self.chunk_ids = chunk_ids
        self._retriever = retriever
        self._stemmer = stemmer

    @classmethod
    def build(cls, chunks: Iterable[Chunk]) -> KeywordIndex:
        bm25s = _bm25s()
        stemmer = _stemmer()
        chunk_list = list(chunks)
        retriever = bm25s.BM25()
        if chunk_list:
            retriever.index(_tokenize([f"{c.title}\n{c.text}" for c in chunk_list], stemmer), show_progress=False)
        return cls([c.chunk_id for c in chunk_list], retriever, stemmer)

    def search(self, query: str, n: int) -> list[KeywordHit]:
        if not self.chunk_ids or n <= 0:
            return []
        tokens = _tokenize([query], self._stemmer)
        if not tokens[0]:
            return []
        indices, scores = self._retriever.retrieve(tokens, k=min(n, len(self.chunk_ids)), show_progress=False,
                                                   n_threads=1)
        return [KeywordHit(self.chunk_ids[int(i)], float(s)) for i, s in zip(indices[0], scores[0]) if s > 0]

    def save(self, directory: Path) -> None:
        staging = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self.chunk_ids:  # bm25s cannot save an index of nothing
            self._retriever.save(str(staging))
        (staging / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        bm25s = _bm25s()
        chunk_ids = json.loads((directory / "chunk_ids.json").read_text())
        retriever = bm25s.BM25.load(str(directory)) if chunk_ids else bm25s.BM25()
        return cls(chunk_ids, retriever, _stemmer())


class KeywordIndexCache:
    """Keeps the index of the current library version in memory and on disk."""

    def __init__(self, directory: Path, version: Callable[[], int], chunks: Callable[[], Iterable[Chunk]]) -> None:
        self._directory = directory
        self._version = version
        self._chunks = chunks
        self._lock = threading.Lock()
        self._loaded: tuple[int, KeywordIndex] | None = None

    def get(self) -> KeywordIndex:
        version = self._version()
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1]
        with self._lock:
            if self._loaded is not None and self._loaded[0] == version:
                return self._loaded[1]
            index = self._load_or_build(version)
            self._loaded = (version, index)
            return index

    def _load_or_build(self, version: int) -> KeywordIndex:
        path = self._directory / f"v{version}"
        if path.is_dir():
            try:
                return KeywordIndex.load(path)
            except Exception as error:  # a damaged cache is rebuilt, never trusted
                log.warning("rebuilding the keyword index: %s", error)
        index = KeywordIndex.build(self._chunks())
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            for old in self._directory.glob("v*"):
                shutil.rmtree(old, ignore_errors=True)
            index.save(path)
        except OSError as error:
            log.warning("could not cache the keyword index: %s", error)
        return index
