"""BM25 keyword search over the live chunks, brought up to date by what changed, not rebuilt.

The index is a base segment (postings by term: the rows holding each term and how often) plus a
delta segment of the chunks added since, with the removed rows of either masked out. Scores are
computed at query time from term frequencies and the live chunks' own statistics (their count,
each term's document frequency, the average length), the way bm25s's "lucene" BM25 (the index the
library used before) computes them, so an index brought up to date by deltas ranks exactly as one
built afresh (ties go to the smaller chunk id, whatever the rows' order). Adding a document costs
its own chunks' tokens whatever the library's size; when the delta outgrows a share of the base,
the two are merged into a new base from their postings (no text is read or tokenized again).
`knowledge/keyword_cache.py` keeps the index in step with the catalog across processes and keeps
its base on disk.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from knowledge import chinese
from knowledge.language import detect
from knowledge.text import STOPWORDS
from knowledge.types import Chunk

log = logging.getLogger(__name__)

K1 = 1.5  # bm25s's defaults, so rankings are those of the index used before
B = 0.75
FORMAT = 2  # of the saved base; another format is rebuilt
# A delta larger than this share of the base (or than MERGE_MIN_ROWS) is merged into a new base;
# so is a base with this share of its rows removed. Small: the delta segment is rebuilt at every
# change, so its size is what one change costs.
MERGE_SHARE = 0.02
MERGE_MIN_ROWS = 1000
DEAD_SHARE = 0.2
_LANGUAGE_CODES = {"en": 0, "zh": 1, "mixed": 2}


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


class Vocabulary:
    """Term -> id, only ever appended to, so index versions of one lineage share it: an older
    version never holds postings for a newer term. Appends are serialised by the caller (the
    cache's lock); dict reads during an append are safe in CPython."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms = list(terms)
        self.ids = {term: i for i, term in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def add(self, words: Iterable[str]) -> np.ndarray:
        found = []
        for word in words:
            term = self.ids.get(word)
            if term is None:
                term = self.ids[word] = len(self.terms)
                self.terms.append(word)
            found.append(term)
        return np.asarray(found, dtype=np.int32)


@dataclass(frozen=True, slots=True)
class Row:
    """One chunk as the index holds it: its distinct terms and their counts."""

    chunk_id: str
    terms: np.ndarray  # int32, ascending
    counts: np.ndarray  # int32
    length: int  # tokens in all
    language: int  # _LANGUAGE_CODES

    @classmethod
    def of(cls, chunk: Chunk, vocabulary: Vocabulary, stemmer, chinese_mode: ChineseMode) -> Row:  # type: ignore[no-untyped-def]
        words = tokens(chunk.indexed_text(), stemmer, chinese_mode)
        terms, counts = np.unique(vocabulary.add(words), return_counts=True)
        return cls(chunk.chunk_id, terms.astype(np.int32), counts.astype(np.int32), len(words),
                   _LANGUAGE_CODES[detect(chunk.text)])


class Segment:
    """Immutable postings of some rows, by term: `rows[indptr[t]:indptr[t+1]]` hold term t
    `counts[…]` times. Terms past the end of `indptr` (newer than the segment) hold none."""

    def __init__(self, chunk_ids: list[str], lengths: np.ndarray, languages: np.ndarray, indptr: np.ndarray,
                 rows: np.ndarray, counts: np.ndarray) -> None:
        self.chunk_ids = chunk_ids
        self.lengths = lengths
        self.languages = languages
        self.indptr = indptr
        self.rows = rows
        self.counts = counts
        self._row_of: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def empty(cls) -> Segment:
        return cls([], np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(1, np.int64), np.zeros(0, np.int32),
                   np.zeros(0, np.int32))

    @classmethod
    def of_rows(cls, rows: Sequence[Row]) -> Segment:
        if not rows:
            return cls.empty()
        terms = np.concatenate([r.terms for r in rows])
        numbers = np.repeat(np.arange(len(rows), dtype=np.int32), [len(r.terms) for r in rows])
        counts = np.concatenate([r.counts for r in rows])
        return cls._from_postings([r.chunk_id for r in rows], np.asarray([r.length for r in rows], np.int32),
                                  np.asarray([r.language for r in rows], np.uint8), terms, numbers, counts)

    @classmethod
    def _from_postings(cls, chunk_ids: list[str], lengths: np.ndarray, languages: np.ndarray, terms: np.ndarray,
                       rows: np.ndarray, counts: np.ndarray) -> Segment:
        order = np.lexsort((rows, terms))
        terms = terms[order]
        width = int(terms[-1]) + 1 if len(terms) else 0
        indptr = np.zeros(width + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=width), out=indptr[1:])
        return cls(chunk_ids, lengths, languages, indptr, rows[order].astype(np.int32),
                   counts[order].astype(np.int32))

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if term + 1 >= len(self.indptr):
            return self.rows[:0], self.counts[:0]
        start, end = self.indptr[term], self.indptr[term + 1]
        return self.rows[start:end], self.counts[start:end]

    def row_of(self, chunk_id: str) -> int | None:
        if self._row_of is None:  # made on the first removal only; the base is shared by versions
            self._row_of = {cid: i for i, cid in enumerate(self.chunk_ids)}
        return self._row_of.get(chunk_id)

    def term_of_postings(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int32), np.diff(self.indptr))

    def save(self, directory: Path) -> None:
        for name in ("lengths", "languages", "indptr", "rows", "counts"):
            np.save(directory / f"{name}.npy", np.ascontiguousarray(getattr(self, name)))
        (directory / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))

    @classmethod
    def load(cls, directory: Path) -> Segment:
        # Memory-mapped: the pages of terms no question asks for are never read.
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r")
                  for name in ("lengths", "languages", "indptr", "rows", "counts")}
        return cls(json.loads((directory / "chunk_ids.json").read_text()), **arrays)


class KeywordIndex:
    """One version of the index: a base, a delta and which rows of each are live. Never changed
    in place: `apply` returns the next version, so searches in other threads carry on meanwhile."""

    def __init__(self, vocabulary: Vocabulary, base: Segment, delta_rows: Sequence[Row] = (),
                 base_alive: np.ndarray | None = None, chinese_mode: ChineseMode = "bigram",
                 delta: Segment | None = None) -> None:
        self.vocabulary = vocabulary
        self.base = base
        self.base_alive = base_alive if base_alive is not None else np.ones(len(base), dtype=bool)
        self._base_whole = bool(self.base_alive.all())  # no row to mask out: postings used as they are
        self.delta_rows = list(delta_rows)  # live rows only: a removed delta row is dropped
        self.delta = delta if delta is not None else Segment.of_rows(self.delta_rows)
        self.chinese_mode = chinese_mode
        self._stemmer = _stemmer()
        self._search_lock = threading.Lock()  # PyStemmer objects are not thread-safe
        live_lengths = np.asarray(base.lengths)[self.base_alive]
        self.document_count = int(len(live_lengths)) + len(self.delta)
        self._total_length = int(live_lengths.sum(dtype=np.int64)) + int(self.delta.lengths.sum(dtype=np.int64))
        counts = np.bincount(np.asarray(base.languages)[self.base_alive], minlength=3)[:3] + \
            np.bincount(self.delta.languages, minlength=3)[:3]
        found = {name for name, code in _LANGUAGE_CODES.items() if counts[code]}
        if "mixed" in found:
            found |= {"zh", "en"}
        self.languages = frozenset(found & {"zh", "en"})  # which languages the indexed passages are written in

    # --- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Iterable[Chunk], chinese_mode: ChineseMode = "bigram") -> KeywordIndex:
        """A fresh index of `chunks`, all in its base (an iterator is read once, chunk by chunk)."""
        vocabulary, stemmer = Vocabulary(), _stemmer()
        rows = [Row.of(chunk, vocabulary, stemmer, chinese_mode) for chunk in chunks]
        return cls(vocabulary, Segment.of_rows(rows), chinese_mode=chinese_mode)

    def apply(self, removed: Iterable[str], added: Sequence[Chunk]) -> KeywordIndex:
        """The next version: `removed` chunk ids gone, `added` chunks in (an added id that is
        already indexed replaces its row). Costs the change's own rows, plus the delta's."""
        added_ids = {c.chunk_id for c in added}
        gone = set(removed) | added_ids
        alive = self.base_alive
        dead_rows = [row for cid in gone if (row := self.base.row_of(cid)) is not None and alive[row]]
        if dead_rows:
            alive = alive.copy()
            alive[dead_rows] = False
        rows = [r for r in self.delta_rows if r.chunk_id not in gone]
        rows += [Row.of(chunk, self.vocabulary, self._stemmer, self.chinese_mode) for chunk in added]
        return KeywordIndex(self.vocabulary, self.base, rows, alive, self.chinese_mode)

    def needs_merge(self) -> bool:
        dead = len(self.base) - int(self.base_alive.sum())
        return len(self.delta) > max(MERGE_MIN_ROWS, MERGE_SHARE * len(self.base)) or \
            dead > max(MERGE_MIN_ROWS, DEAD_SHARE * len(self.base))

    def merged(self) -> KeywordIndex:
        """The same live rows, all in one base, from the postings (linear in the library)."""
        alive = self.base_alive
        renumber = np.cumsum(alive, dtype=np.int64) - 1
        rows, counts = np.asarray(self.base.rows), np.asarray(self.base.counts)
        keep = alive[rows]
        offset = int(alive.sum())
        terms = np.concatenate([self.base.term_of_postings()[keep], self.delta.term_of_postings()])
        numbers = np.concatenate([renumber[rows[keep]], np.asarray(self.delta.rows, np.int64) + offset])
        chunk_ids = [cid for cid, live in zip(self.base.chunk_ids, alive) if live] + self.delta.chunk_ids
        lengths = np.concatenate([np.asarray(self.base.lengths)[alive], self.delta.lengths]).astype(np.int32)
        languages = np.concatenate([np.asarray(self.base.languages)[alive], self.delta.languages]).astype(np.uint8)
        counts = np.concatenate([counts[keep], self.delta.counts])
        base = Segment._from_postings(chunk_ids, lengths, languages, terms, numbers, counts)
        return KeywordIndex(self.vocabulary, base, chinese_mode=self.chinese_mode)

    # --- reading -------------------------------------------------------------------------------
    @property
    def chunk_ids(self) -> list[str]:
        """Every indexed (live) chunk id (for `check`; linear in the library)."""
        return [cid for cid, live in zip(self.base.chunk_ids, self.base_alive) if live] + self.delta.chunk_ids

    def _live_postings(self, term: int) -> list[tuple[Segment, np.ndarray, np.ndarray]]:
        found = []
        for segment, alive in ((self.base, None if self._base_whole else self.base_alive), (self.delta, None)):
            rows, counts = segment.postings(term)
            if alive is not None and len(rows):
                live = alive[rows]
                rows, counts = rows[live], counts[live]
            if len(rows):
                found.append((segment, rows, counts))
        return found

    def document_frequency(self, term: str) -> int:
        """How many indexed passages hold `term` (a stem or a character pair)."""
        number = self.vocabulary.ids.get(term)
        if number is None:
            return 0
        return sum(len(rows) for _, rows, _ in self._live_postings(number))

    def search(self, query: str, n: int) -> list[KeywordHit]:
        if not self.document_count or n <= 0:
            return []
        with self._search_lock:
            words = tokens(query, self._stemmer, self.chinese_mode)
        # A repeated query term counts as often as it is repeated (as bm25s summed it).
        asked = Counter(number for w in words if (number := self.vocabulary.ids.get(w)) is not None)
        if not asked:
            return []
        total = self.document_count
        average = self._total_length / total
        scores = {id(s): np.zeros(len(s)) for s in (self.base, self.delta)}
        for term, repeats in asked.items():
            postings = self._live_postings(term)
            df = sum(len(rows) for _, rows, _ in postings)
            if not df:
                continue
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for segment, rows, counts in postings:
                tf = counts.astype(np.float64)
                norm = K1 * ((1 - B) + B * np.asarray(segment.lengths)[rows] / average)
                scores[id(segment)][rows] += repeats * idf * tf / (norm + tf)  # rows are distinct per term
        return self._top([(self.base, scores[id(self.base)]), (self.delta, scores[id(self.delta)])], n)

    @staticmethod
    def _top(scored: list[tuple[Segment, np.ndarray]], n: int) -> list[KeywordHit]:
        """The n best (score, then chunk id) of positive score across the segments."""
        candidates: list[tuple[float, str]] = []
        for segment, scores in scored:
            rows = np.flatnonzero(scores > 0)
            if len(rows) > n:  # keep the n best and whatever ties the n-th
                kth = np.partition(scores[rows], len(rows) - n)[len(rows) - n]
                rows = rows[scores[rows] >= kth]
            candidates += [(float(scores[r]), segment.chunk_ids[int(r)]) for r in rows]
        candidates.sort(key=lambda c: (-c[0], c[1]))
        return [KeywordHit(cid, score) for score, cid in candidates[:n]]

    # --- on disk (a merged base only: the delta is read again from the catalog's change log) ---
    def save(self, directory: Path, version: int) -> None:
        """Saves a merged index as the base of library version `version`."""
        if len(self.delta) or not self.base_alive.all():
            raise ValueError("only a merged index is saved")
        # Named per process: two processes may save the same version at once.
        staging = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.base.save(staging)
        (staging / "vocabulary.json").write_text(json.dumps(self.vocabulary.terms, ensure_ascii=False))
        (staging / "index.json").write_text(json.dumps({"format": FORMAT, "version": version,
                                                        "chinese_mode": self.chinese_mode}))
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> tuple[int, KeywordIndex]:
        """(library version, index) of a saved base; raises on anything unexpected."""
        meta = json.loads((directory / "index.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"keyword index format {meta.get('format')}, expected {FORMAT}")
        vocabulary = Vocabulary(json.loads((directory / "vocabulary.json").read_text()))
        return int(meta["version"]), cls(vocabulary, Segment.load(directory), chinese_mode=meta["chinese_mode"])
