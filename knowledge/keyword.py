"""BM25 keyword search (bm25s) over the live chunks, cached on disk per library version."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Literal

from knowledge import chinese
from knowledge.language import detect
from knowledge.text import STOPWORDS
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


ChineseMode = Literal["jieba", "bigram"]
_LATIN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tokens(text: str, stemmer, chinese_mode: ChineseMode = "bigram") -> list[str]:  # type: ignore[no-untyped-def]
    """Keyword terms of a text in either language: English words stemmed without stop words;
    Chinese runs (read as Simplified) segmented by jieba's search mode, or as character bigrams."""
    text = chinese.to_simplified(text.lower())
    found: list[str] = []
    cursor = 0
    for run in chinese.HAN_RUN.finditer(text):
        found.extend(_latin_terms(text[cursor : run.start()], stemmer))
        words = chinese.segment_for_search(run.group()) if chinese_mode == "jieba" else chinese.char_bigrams(run.group())
        found.extend(w for w in words if w not in chinese.STOPWORDS)
        cursor = run.end()
    found.extend(_latin_terms(text[cursor:], stemmer))
    return found


def _latin_terms(text: str, stemmer) -> list[str]:  # type: ignore[no-untyped-def]
    words = [w for w in _LATIN.findall(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return stemmer.stemWords(words) if words else []


_shared_lock = threading.Lock()  # PyStemmer objects are not thread-safe


@lru_cache(maxsize=1)
def _shared_stemmer():  # type: ignore[no-untyped-def]
    return _stemmer()


def latin_stems(text: str) -> list[str]:
    """The English keyword terms of `text` (lowercased), exactly as the index makes them."""
    with _shared_lock:
        return _latin_terms(text.lower(), _shared_stemmer())


def _tokenize(texts: list[str], stemmer, chinese_mode: ChineseMode = "bigram") -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [tokens(text, stemmer, chinese_mode) for text in texts]


class KeywordIndex:
    def __init__(self, chunk_ids: list[str], retriever, stemmer, chinese_mode: ChineseMode = "bigram",  # type: ignore[no-untyped-def]
                 languages: frozenset[str] = frozenset()) -> None:
        self.chunk_ids = chunk_ids
        self.languages = languages  # which languages the indexed passages are written in
        self._retriever = retriever
        self._stemmer = stemmer
        self.chinese_mode = chinese_mode
        self._search_lock = threading.Lock()  # PyStemmer objects are not thread-safe

    @classmethod
    def build(cls, chunks: Iterable[Chunk], chinese_mode: ChineseMode = "bigram") -> KeywordIndex:
        bm25s = _bm25s()
        stemmer = _stemmer()
        chunk_list = list(chunks)
        retriever = bm25s.BM25()
        if chunk_list:
            corpus = _tokenize([c.indexed_text() for c in chunk_list], stemmer, chinese_mode)
            retriever.index(corpus, show_progress=False)
        languages = {detect(c.text) for c in chunk_list}
        if "mixed" in languages:
            languages |= {"zh", "en"}
        return cls([c.chunk_id for c in chunk_list], retriever, stemmer, chinese_mode,
                   frozenset(languages & {"zh", "en"}))

    @property
    def document_count(self) -> int:
        return len(self.chunk_ids)

    def document_frequency(self, term: str) -> int:
        """How many indexed passages hold `term` (a stem or a character pair)."""
        if not self.chunk_ids:
            return 0
        token = self._retriever.vocab_dict.get(term)
        if token is None:
            return 0
        indptr = self._retriever.scores["indptr"]
        return int(indptr[token + 1] - indptr[token])

    def search(self, query: str, n: int) -> list[KeywordHit]:
        if not self.chunk_ids or n <= 0:
            return []
        with self._search_lock:
            tokens = _tokenize([query], self._stemmer, self.chinese_mode)
        if not tokens[0]:
            return []
        vocab = self._retriever.vocab_dict
        tokens = [[t for t in tokens[0] if t in vocab]]
        if not tokens[0]:
            return []
        indices, scores = self._retriever.retrieve(tokens, k=min(n, len(self.chunk_ids)), show_progress=False,
                                                   n_threads=1)
        return [KeywordHit(self.chunk_ids[int(i)], float(s)) for i, s in zip(indices[0], scores[0]) if s > 0]

    def save(self, directory: Path) -> None:
        # Named per process: two processes may save the same version at once.
        staging = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self.chunk_ids:  # bm25s cannot save an index of nothing
            self._retriever.save(str(staging))
        (staging / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))
        (staging / "tokenizer.json").write_text(json.dumps({"chinese_mode": self.chinese_mode,
                                                               "languages": sorted(self.languages)}))
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        bm25s = _bm25s()
        chunk_ids = json.loads((directory / "chunk_ids.json").read_text())
        retriever = bm25s.BM25.load(str(directory)) if chunk_ids else bm25s.BM25()
        # An index cached before Chinese tokenization existed has no tokenizer.json: rebuild it.
        tokenizer = json.loads((directory / "tokenizer.json").read_text())
        return cls(chunk_ids, retriever, _stemmer(), tokenizer["chinese_mode"], frozenset(tokenizer["languages"]))


class KeywordIndexCache:
    """Keeps the index of the current library version in memory and on disk."""

    def __init__(self, directory: Path, version: Callable[[], int], chunks: Callable[[], Iterable[Chunk]]) -> None:
        self._directory = directory
        self._version = version
        self._chunks = chunks
        self._lock = threading.Lock()
        self._loaded: tuple[int, KeywordIndex] | None = None

    def invalidate(self) -> None:
        """Forgets the index in memory (`check --repair` rebuilds a damaged one)."""
        with self._lock:
            self._loaded = None

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
                # Only older versions: a newer one is another process's, in use or being written.
                number = old.name[1:].split(".")[0]
                if number.isdigit() and int(number) < version and "tmp" not in old.name:
                    shutil.rmtree(old, ignore_errors=True)
            index.save(path)
        except OSError as error:
            log.warning("could not cache the keyword index: %s", error)
        return index
