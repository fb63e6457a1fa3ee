"""Grounding enforced in code: a model's answer keeps only what the numbered passages back.

The model is asked to end every sentence with the number of its passage, `[n]`. Whatever it
writes, the answer shown to the user follows these rules:

1. Markers are normalised (`[1, 2]`, `[1][2]`, `[Passage 1]`, `【1】` → `[1] [2]`…); a marker after
   the full stop belongs to the sentence before it.
2. A marker that refers to no passage (`[9]` when four were given) is removed.
3. A marker is kept only when its passage supports the sentence: at least `MIN_SUPPORT` of the
   sentence's content words (crudely stemmed) occur in the passage, and, below `STRONG_SUPPORT`,
   the two share a phrase (two adjacent content words, in either order). A fragment with fewer than
   `MIN_CONTENT_WORDS` content words states nothing checkable and is dropped. A sentence that carried a
   marker but is a near-copy (`COPY_SUPPORT`) of another passage is re-pointed to that passage:
   small models copy the right sentence and then misnumber it.
4. A figure (any number) in a sentence must occur in one of the passages it cites.
5. A sentence left without a valid citation is dropped, not shown uncited: the contract of an
   answer is that every statement can be checked against a quote. Repeated sentences are dropped.
6. Citations are renumbered 1..m in order of first use. Each one quotes its passage verbatim: the
   passage sentence sharing most words with the answer sentences that cite it (its first
   sentence when none does), cut from the stored chunk text by offset.
7. If nothing remains, or the model says the passages do not answer (`NO_ANSWER`), a
   `GenerationError` is raised and the caller answers extractively.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from knowledge.generative.errors import GenerationError
from knowledge.text import content_words, sentence_spans
from knowledge.types import Chunk, Citation, ScoredChunk

MIN_SUPPORT = 0.5
STRONG_SUPPORT = 0.7
MIN_CONTENT_WORDS = 3
COPY_SUPPORT = 0.8
MAX_SENTENCES = 8
MIN_QUOTE_WORDS = 6
NO_ANSWER = re.compile(r"\bNO[_ ]ANSWER\b", re.IGNORECASE)

_MARKER = re.compile(r"\[(\d{1,3})\]")
_ANY_MARKER = re.compile(
    r"[\[【]\s*(?:(?:passages?|sources?|documents?|docs?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|&|and)\s*(?:(?:passages?|sources?)\s*)?\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_MARKERS_AFTER_STOP = re.compile(r"([.!?]+)((?:\s*\[\d{1,3}\])+)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKDOWN = re.compile(r"\*\*|__|`|^\s{0,3}#{1,6}\s+", re.MULTILINE)
_LABEL = re.compile(r"^\s*(?:answer|response)\s*:\s*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Grounded:
    text: str
    citations: list[Citation]
    dropped: int  # sentences of the model's answer that were not shown


def ground(raw: str, passages: Sequence[ScoredChunk]) -> Grounded:
    """The model's answer reduced to what `passages` (numbered from 1) back; raises GenerationError."""
    text = normalise(raw or "")
    if not text.strip():
        raise GenerationError("empty answer")
    chunks = [p.chunk for p in passages]
    stems = [_stems(c.text) for c in chunks]
    pairs = [_pairs(c.text) for c in chunks]
    numbers = [set(_numbers(c.text)) for c in chunks]
    kept: list[tuple[int, str, list[int]]] = []  # (line, sentence without markers, passage indexes)
    seen: set[str] = set()
    dropped = 0
    for line_no, line in enumerate(text.splitlines()):
        for start, end in sentence_spans(line):
            sentence = line[start:end]
            cited = [int(n) for n in _MARKER.findall(sentence)]
            body = _clean(_MARKER.sub(" ", sentence))
            sources = _supporting(body, [n - 1 for n in cited if 1 <= n <= len(chunks)], stems, pairs, numbers)
            key = " ".join(body.lower().split())
            if not sources or key in seen or len(kept) >= MAX_SENTENCES:
                dropped += bool(body)
                continue
            seen.add(key)
            kept.append((line_no, body, sources))
    if not kept:
        if NO_ANSWER.search(text):
            raise GenerationError("model found no answer")
        raise GenerationError("no cited sentence")
    return _compose(kept, chunks, dropped)


def normalise(raw: str) -> str:
    text = _LABEL.sub("", _MARKDOWN.sub("", raw.replace("\r\n", "\n")))
    text = NO_ANSWER.sub(" ", text) if _ANY_MARKER.search(text) else text
    text = _ANY_MARKER.sub(lambda m: " ".join(f"[{n}]" for n in _marker_numbers(m.group(1))), text)
    return _MARKERS_AFTER_STOP.sub(r"\2\1", text)


def _marker_numbers(group: str) -> list[int]:
    found: list[int] = []
    for part in re.split(r"\s*(?:,|;|&|and)\s*", group, flags=re.IGNORECASE):
        digits = [int(d) for d in re.findall(r"\d+", part)]
        if len(digits) == 2 and re.search(r"[-–]", part) and 0 < digits[1] - digits[0] < 10:
            found.extend(range(digits[0], digits[1] + 1))
        else:
            found.extend(digits)
    return found


def _supporting(body: str, cited: list[int], stems: list[set[str]], pairs: list[set[frozenset[str]]],
                numbers: list[set[str]]) -> list[int]:
    """The cited passages (0-based) that back `body`, in citation order; [] when none does."""
    own = _stems(body)
    if len(own) < MIN_CONTENT_WORDS or not cited:
        return []  # a fragment ("The Innovation Imperative") states nothing to check
    own_pairs = _pairs(body)
    support = [len(own & s) / len(own) for s in stems]
    backed = [support[i] >= STRONG_SUPPORT or (support[i] >= MIN_SUPPORT and bool(own_pairs & pairs[i]))
              for i in range(len(stems))]
    sources = list(dict.fromkeys(i for i in cited if backed[i]))
    if not sources:  # the right sentence under the wrong number
        best = max(range(len(stems)), key=lambda i: support[i])
        if support[best] >= COPY_SUPPORT:
            sources = [best]
    figures = set(_numbers(body))
    if sources and not figures <= set().union(*(numbers[i] for i in sources)):
        return []  # a figure no cited passage states
    return sources


def _compose(kept: list[tuple[int, str, list[int]]], chunks: list[Chunk], dropped: int) -> Grounded:
    order: dict[int, int] = {}  # passage index -> citation number, by first use
    for _, _, sources in kept:
        for i in sources:
            order.setdefault(i, len(order) + 1)
    lines: dict[int, list[str]] = {}
    for line_no, body, sources in kept:
        markers = "".join(f"[{order[i]}]" for i in sources)
        lines.setdefault(line_no, []).append(f"{body} {markers}")
    citations = []
    for i, n in order.items():
        target = set().union(*(_stems(body) for _, body, sources in kept if i in sources))
        chunk = chunks[i]
        quote = best_quote(chunk.text, target)
        citations.append(Citation(n, chunk.doc_id, chunk.title, chunk.chunk_id, quote, chunk.location))
    return Grounded("\n".join(" ".join(parts) for parts in lines.values()), citations, dropped)


def best_quote(text: str, target: set[str]) -> str:
    """A verbatim piece of `text`: its sentence closest to `target` stems (or its first one)."""
    spans = sentence_spans(text)
    if not spans:
        quote = text.strip()
        if not quote:
            raise GenerationError("empty passage")
        return quote
    best, best_score = 0, 0.0
    for index, (start, end) in enumerate(spans):
        own = _stems(text[start:end])
        score = len(own & target) / math.sqrt(len(own)) if own else 0.0
        if score > best_score:
            best, best_score = index, score
    start, end = spans[best]
    following = best
    while len(text[start:end].split()) < MIN_QUOTE_WORDS and following + 1 < len(spans):
        following += 1  # a heading or fragment says too little: take the next sentence along
        end = spans[following][1]
    quote = text[start:end]
    assert quote in text
    return quote


def _clean(body: str) -> str:
    body = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(body.split())).strip(" ,;:-–—")
    if body and body[-1].isalnum():
        body += "."
    return body


def _stems(text: str) -> set[str]:
    """Content words cut to five letters: a crude stemmer that is enough to compare wording."""
    return {w[:5] if w.isalpha() else w for w in content_words(text)}


def _pairs(text: str) -> set[frozenset[str]]:
    """Adjacent content words (stemmed, unordered): the phrases a text shares with another."""
    seq = [w[:5] if w.isalpha() else w for w in content_words(text)]
    return {frozenset(pair) for pair in zip(seq, seq[1:]) if pair[0] != pair[1]}


def _numbers(text: str) -> list[str]:
    return [n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)]
