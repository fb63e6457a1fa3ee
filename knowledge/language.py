"""The language seam: which language a text is in, asked once per text by every layer that splits,
tokenizes, scores or speaks.

The library and its owners write Chinese and English. Telling those two apart needs no model: Han
characters and Latin letters are different Unicode scripts, so counting them is exact, costs
microseconds and works on a two-word question, where statistical detectors (lingua, langdetect)
are least sure and cost tens of MB. Anything else (Japanese kana, Cyrillic…) counts as neither.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]
Detected = Literal["zh", "en", "mixed"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

# CJK Unified Ideographs (+ extension A and compatibility ideographs).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
# A Chinese word is about 1.5 characters, so this many Han characters weigh as much as one
# English word when deciding which language carries a text.
HAN_PER_WORD = 1.5
# A text is "mixed" when the minority language carries at least this share of it.
MIXED_SHARE = 0.3


def is_han(char: str) -> bool:
    return bool(_HAN.match(char))


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def _weights(text: str) -> tuple[float, float]:
    han = len(_HAN.findall(text)) / HAN_PER_WORD
    latin = float(len(_LATIN_WORD.findall(text)))
    return han, latin


def detect(text: str) -> Detected:
    """"zh", "en" or "mixed" (both carry at least MIXED_SHARE). Text with neither is "en"."""
    han, latin = _weights(text)
    total = han + latin
    if total == 0:
        return "en"
    share = han / total
    if share >= 1 - MIXED_SHARE:
        return "zh"
    if share <= MIXED_SHARE:
        return "en"
    return "mixed"


def primary(text: str, default: Language = "en") -> Language:
    """The one language to answer in: Chinese whenever Chinese carries at least as much as English
    (an owner writing "我们的ERP系统怎么选?" writes Chinese)."""
    han, latin = _weights(text)
    if han == 0 and latin == 0:
        return default
    return "zh" if han >= latin else "en"


def from_locale(code: str | None, default: Language = "en") -> Language:
    """A language from a locale tag such as Telegram's `language_code` ("zh-hans", "en-GB")."""
    if not code:
        return default
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else default  # type: ignore[return-value]
