"""Word-overlap measures for two texts in the same language, English or Chinese.

Latin text: content words cut to five letters (a crude stemmer that is enough to compare wording).
Chinese text: Han character bigrams, taken from the raw text, so the measure needs no segmenter
and does not change when the tokenizer in `knowledge.text` does. Overlap between an English and a
Chinese text is always empty: these measures never judge across languages.
"""

from __future__ import annotations

import re

from knowledge.chinese import to_simplified
from knowledge.language import HAN_PER_WORD, has_han
from knowledge.text import content_words

_LATIN_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def latin_stems(text: str) -> list[str]:
    """Content words outside Han script, in order, cut to five letters."""
    return [w[:5] if w.isalpha() else w for w in content_words(text) if not has_han(w)]


def han_bigrams(text: str) -> list[str]:
    """Character bigrams of the Han runs, Traditional folded to Simplified."""
    grams: list[str] = []
    for run in _HAN_RUN.findall(to_simplified(text)):
        grams.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    return grams


def terms(text: str) -> set[str]:
    return set(latin_stems(text)) | set(han_bigrams(text))


def pairs(text: str) -> set[frozenset[str]]:
    """Adjacent Latin stems (unordered): a phrase two English texts share. Han bigrams are
    already phrases, so Chinese needs no pairs."""
    seq = latin_stems(text)
    return {frozenset(pair) for pair in zip(seq, seq[1:]) if pair[0] != pair[1]}


def size(text: str) -> float:
    """Length in English-word equivalents (a Chinese word is about 1.5 characters)."""
    return len(_LATIN_WORD.findall(text)) + sum(len(run) for run in _HAN_RUN.findall(text)) / HAN_PER_WORD
