"""Sentence spans and word helpers shared by chunking (ingest) and answering (knowledge).

Spans are character offsets into the original string, so anything cut out of a text with them is
a verbatim substring of it: the property every citation relies on.
"""

from __future__ import annotations

import re

from knowledge import chinese
from knowledge.language import HAN_PER_WORD, has_han

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "co", "corp", "inc", "ltd", "llc", "plc",
    "no", "nos", "vs", "etc", "e.g", "i.e", "approx", "dept", "est", "fig", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "gov", "rep",
}
# A sentence ends at . ! ? or a Chinese stop (。！？…), optionally followed by closing quotes or
# brackets, ASCII or full-width (” ’ 」 』 ） 】). The Chinese semicolon （；） is not a stop: it
# separates the items of one statement ("营收1亿元以上的不低于3%；5000万至1亿元的不低于6%。"),
# and a quote cut at it keeps the first item and loses the rest.
_END = re.compile(r"(?:[.!?]+|[。！？]+|…+)[\"'”’)\]」』）】]*")
_CJK_END = set("。！？…")
_LEADING_JUNK = " \t.,;:·•-–—*"
_LATIN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also may might must shall us many
    much one get got make made tell give know let like want need please could would""".split()
)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def readable(text: str) -> str:
    """`text` as valid Unicode: unpaired surrogates (invalid UTF-8 on a command line, broken JSON)
    become U+FFFD and control characters a space, so that no answer, log line or JSON output
    carries them."""
    if any("\ud800" <= char <= "\udfff" for char in text):
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        # A surrogate encodes as three bytes, which decode as three U+FFFD: one is enough.
        text = re.sub("\ufffd+", "\ufffd", text)
    return _CONTROL.sub(" ", text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        _split_line(text, line_start, line_start + len(line.rstrip("\r\n")), spans)
        line_start += len(line)
    return spans


def _split_line(text: str, start: int, stop: int, spans: list[tuple[int, int]]) -> None:
    cursor = start
    for match in _END.finditer(text, start, stop):
        end = match.end()
        follower = text[end:end + 2]
        if match.group()[0] not in _CJK_END:
            if end < stop and not follower[:1].isspace():
                continue  # "3.5", "e.g.x", "U.S.-made": not an end
            if _is_abbreviation(text, cursor, match.start()) or _continues_lowercase(text, end, stop):
                continue
        _add_span(text, cursor, end, spans)
        cursor = end
    _add_span(text, cursor, stop, spans)


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > sentence_start and not text[word_start - 1].isspace() and text[word_start - 1] != "(":
        word_start -= 1
    word = text[word_start:dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _continues_lowercase(text: str, end: int, stop: int) -> bool:
    """A lowercase word after the stop usually means the sentence goes on ("approx. five")."""
    rest = text[end:stop].lstrip()
    return bool(rest) and rest[0].islower()


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start] in _LEADING_JUNK:
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append((start, end))


def words(text: str) -> list[str]:
    """Lowercased words in order: Latin words as written, Chinese runs segmented into words
    (Traditional characters read as Simplified, so both spellings count as one word)."""
    if not has_han(text):
        return [w.lower() for w in _LATIN_WORD.findall(text)]
    found: list[str] = []
    cursor = 0
    for run in chinese.HAN_RUN.finditer(text):
        found.extend(w.lower() for w in _LATIN_WORD.findall(text, cursor, run.start()))
        found.extend(chinese.segment(chinese.to_simplified(run.group())))
        cursor = run.end()
    found.extend(w.lower() for w in _LATIN_WORD.findall(text, cursor))
    return found


def content_words(text: str) -> list[str]:
    """Words that carry the topic: no stop words of either language, no single letters or
    single Han characters (numbers stay)."""
    kept = []
    for word in words(text):
        if chinese.HAN_RUN.match(word):
            if chinese.is_content_word(word):
                kept.append(word)
        elif word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            kept.append(word)
    return kept


def length_in_words(text: str) -> float:
    """How long a text reads, in English-word equivalents: Latin words plus Han characters at
    HAN_PER_WORD characters a word — so length rules hold for Chinese, which has no spaces."""
    han = sum(len(run) for run in chinese.han_runs(text))
    latin = len(_LATIN_WORD.findall(chinese.HAN_RUN.sub(" ", text)))
    return latin + han / HAN_PER_WORD
