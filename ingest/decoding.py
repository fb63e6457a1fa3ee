"""Bytes of a text file (txt, md, html, csv) to str: by byte-order mark, then by evidence.

Order of evidence, most certain first:
1. A byte-order mark (UTF-32 before UTF-16, whose mark is a prefix of UTF-32 LE's).
2. UTF-16/32 without a mark: ASCII-range text has a zero byte in every second (fourth) position.
3. Strict UTF-8 (what nearly every file written today is).
4. GB18030 (a superset of GBK and GB2312) when the non-ASCII bytes come in pairs that decode to
   Chinese: Western legacy text has isolated accented letters, Chinese text runs of them.
5. cp1252 for mostly-ASCII Western text with a few accented letters (short texts fool detectors).
6. charset-normalizer's best guess for everything else.

NUL bytes are dropped and other control characters become spaces; a text that is mostly control
characters is refused as binary rather than indexed as noise.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 64 * 1024
# Control characters other than tab, line feed, form feed and carriage return.
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


class UndecodableText(ValueError):
    """The bytes are not text in any encoding we can recognise (the message says why)."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for the bytes of a text file; raises `UndecodableText`."""
    encoding = detect_encoding(data)
    try:
        text = data[_bom_length(data, encoding):].decode(encoding, errors="strict")
    except UnicodeDecodeError:
        text = data[_bom_length(data, encoding):].decode(encoding, errors="replace")
    return clean_controls(text), encoding


def clean_controls(text: str) -> str:
    """Drops NULs (padding, UTF-16 read as bytes) and turns other control characters into spaces."""
    sample = text[:_SAMPLE]
    controls = sample.count("\x00") + len(_CONTROLS.findall(sample))
    if controls > 0.02 * max(1, len(sample)):
        raise UndecodableText("binary content, not text (is the file extension right?)")
    return _CONTROLS.sub(" ", text.replace("\x00", ""))


def detect_encoding(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    wide = _wide_unicode(data[:_SAMPLE])
    if wide is not None:
        return wide
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            return "utf-8"  # a file cut inside its last character: still UTF-8
    if _looks_chinese(data):
        return "gb18030"
    if _looks_western(data):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _SAMPLE]).best()
    if best is None or best.encoding is None:
        raise UndecodableText("binary content or an unknown text encoding")
    return str(best.encoding)


def _bom_length(data: bytes, encoding: str) -> int:
    for bom, name in _BOMS:
        if name == encoding and data.startswith(bom):
            return len(bom)
    return 0


def _wide_unicode(sample: bytes) -> str | None:
    """UTF-16/UTF-32 without a byte-order mark, recognised by where the zero bytes fall."""
    if len(sample) < 8 or b"\x00" not in sample:
        return None
    quads = len(sample) // 4 * 4
    for offset, name in ((1, "utf-32-le"), (0, "utf-32-be")):
        # ASCII in UTF-32: three zero bytes per character.
        zeros = sum(sample[i + offset : i + offset + 3] == b"\x00\x00\x00" for i in range(0, quads, 4))
        if zeros > 0.6 * (quads // 4):
            return name
    pairs = len(sample) // 2
    odd_zeros = sample[1::2].count(0)
    even_zeros = sample[0::2].count(0)
    if odd_zeros > 0.3 * pairs and odd_zeros > 4 * even_zeros:
        return "utf-16-le"
    if even_zeros > 0.3 * pairs and even_zeros > 4 * odd_zeros:
        return "utf-16-be"
    return None


def _looks_chinese(data: bytes) -> bool:
    """GB18030 decodes the bytes and the non-ASCII characters are mostly Chinese."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text[:_SAMPLE] if not ch.isascii()]
    return bool(wide) and len(_CJK.findall("".join(wide))) >= 0.8 * len(wide) and _paired_high_bytes(data)


def _paired_high_bytes(data: bytes) -> bool:
    """In GBK every Chinese character is two high bytes in a row; accented Latin letters stand alone."""
    runs = re.findall(rb"[\x80-\xff]+", data[:_SAMPLE])
    if not runs:
        return False
    in_pairs = sum(len(run) for run in runs if len(run) >= 2)
    return in_pairs >= 0.8 * sum(len(run) for run in runs)


def _looks_western(data: bytes) -> bool:
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    letters = [ch for ch in western[:_SAMPLE] if ch.isalpha()]
    return bool(letters) and sum(not ch.isascii() for ch in letters) < 0.1 * len(letters)
