"""Finding a model's quote in a passage, whatever small liberties the model took while copying.

A quote counts when it is a substring of the passage after both are normalised the same way:
Unicode NFKC (full-width letters, digits and punctuation become their ASCII forms), case folded,
curly and CJK quotation marks unified, dashes unified, runs of white space collapsed, and white
space next to a CJK character removed (extracted PDFs put spaces between Han characters;
Chinese has none), and Traditional characters folded to Simplified (OpenCC, `knowledge.chinese`).

Every normalised character remembers the index of the original character it came from, so a match
maps back to the exact stored text: the quote shown to the user is a verbatim slice of the chunk.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge.chinese import to_simplified
from knowledge.language import has_han, is_han

# A quote long enough to state something: 4 Latin words, or 6 Han characters (mixed: in proportion).
MIN_QUOTE_WORDS = 4
MIN_QUOTE_HAN = 6
# A "short quote" that is in fact half the passage would make the check vacuous.
MAX_QUOTE_WORDS = 80
MAX_QUOTE_HAN = 160

_QUOTE_MARKS = str.maketrans({c: '"' for c in "“”„‟«»「」『』″〝〞＂"} | {c: "'" for c in "‘’‚‛′"}
                             | {c: "-" for c in "‐‑‒–—―−"})
_LATIN_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
# Leading/trailing characters a model adds or drops around a quote (marks, stops, ellipses).
_EDGE = " \"'.,;:!?()[]-*。，、；：！？…"
_ELLIPSIS = re.compile(r"\s*(?:\.{3,}|…+)\s*")
# Punctuation that closes a sentence: a match ending just before it takes it along.
_CLOSERS = ".!?。！？\"'”’」』)）"


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original text of the char behind text[i]


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def _cjk(char: str) -> bool:
    """Han characters and CJK punctuation: scripts written without spaces between them."""
    return ("\u3000" <= char <= "\u303f" or "\u3400" <= char <= "\u4dbf" or "\u4e00" <= char <= "\u9fff"
            or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef")


def _joined(before: str, after: str) -> bool:
    """A space beside a Chinese character is not part of the text: Chinese is written without
    spaces, and where typesetters or PDF extractors put some ("约有 60% 的", "新 「小巨人」",
    "小 巨 人") a model copying the sentence leaves them out."""
    return _cjk(before) or _cjk(after)


def normalise(text: str) -> Normalised:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():  # NFKC leaves ASCII alone: the common case, kept cheap
            chars.append(" " if char.isspace() else char.lower())
            origin.append(index)
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold().translate(_QUOTE_MARKS):
            chars.append(" " if folded.isspace() else folded)
            origin.append(index)
    chars = _fold_traditional(chars)
    following = [""] * len(chars)  # the next non-space character after each position
    upcoming = ""
    for i in range(len(chars) - 1, -1, -1):
        following[i] = upcoming
        if chars[i] != " ":
            upcoming = chars[i]
    kept: list[str] = []
    kept_origin: list[int] = []
    for i, char in enumerate(chars):
        if char == " ":
            if not kept or kept[-1] == " ":
                continue
            if _joined(kept[-1], following[i]):
                continue  # "小 巨 人" is "小巨人"
        kept.append(char)
        kept_origin.append(origin[i])
    while kept and kept[-1] == " ":
        kept.pop()
        kept_origin.pop()
    return Normalised("".join(kept), tuple(kept_origin))


def _fold_traditional(chars: list[str]) -> list[str]:
    joined = "".join(chars)
    if not has_han(joined):
        return chars
    converted = to_simplified(joined)
    if len(converted) == len(chars):
        return list(converted)
    # A phrase conversion changed the length: convert character by character to keep the map.
    single = ((c, to_simplified(c)) for c in chars)
    return [folded if len(folded) == 1 else c for c, folded in single]


def clean_quote(quote: str) -> str:
    """The quote without the marks, stops and ellipses a model puts around it."""
    return quote.strip().strip(_EDGE).strip()


def find(quote: str, passage: str, normalised_passage: Normalised | None = None) -> Span | None:
    """Where `quote` occurs in `passage` (original offsets), or None.

    An ellipsis inside the quote ("A ... B") elides words: every piece must occur, in order; the
    span then runs from the first piece to the last (still a verbatim slice of the passage).
    """
    haystack = normalised_passage or normalise(passage)
    pieces = [normalise(clean_quote(p)).text for p in _ELLIPSIS.split(clean_quote(quote))]
    pieces = [p for p in pieces if p]
    if not pieces:
        return None
    first_start = cursor = -1
    for piece in pieces:
        found = haystack.text.find(piece, cursor + 1 if cursor >= 0 else 0)
        if found < 0:
            return None
        if first_start < 0:
            first_start = found
        cursor = found + len(piece) - 1
    start = haystack.origin[first_start]
    end = haystack.origin[cursor] + 1
    while end < len(passage) and passage[end] in _CLOSERS and end - start < len(passage):
        end += 1  # "…a market niche" quoted without its full stop: show the stop too
    return Span(start, end)


def size(text: str) -> tuple[int, int]:
    """(Latin words and numbers, Han characters) in `text`."""
    han = sum(1 for c in text if is_han(c))
    return len(_LATIN_WORD.findall(text)), han


def long_enough(text: str) -> bool:
    words, han = size(text)
    return words / MIN_QUOTE_WORDS + han / MIN_QUOTE_HAN >= 1


def too_long(text: str) -> bool:
    words, han = size(text)
    return words / MAX_QUOTE_WORDS + han / MAX_QUOTE_HAN > 1
