"""Reading a model's answer as claims, each with the passage it cites and a quote from it.

The prompt asks for one JSON object per line:

    {"claim": "小巨人企业需掌握关键技术。", "passage": 2, "quote": "master basic technology"}

Models bend that format, and the parser forgives what it can without guessing content:
code fences and chatter around the objects, a JSON array or `{"claims": [...]}` instead of lines,
objects spread over several lines, trailing commas, single quotes, full-width braces, colons,
commas and quotation marks (“claim”：“…”), unescaped quotation marks inside a string, other key
names ("text", "source", "evidence"), passage numbers written "2", "[2]" or "Passage 2", and a last
object cut off by the token limit (kept when what survives is usable), a quote given in an
object of its own after its claim (small models do that). Output with no object at
all is read in the older tagged form: sentences ending with `[n]`, whose quote is a passage text
in quotation marks inside the sentence, or else the sentence itself (a copied sentence is its own
quote).
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from knowledge.generative.quotes import clean_quote
from knowledge.language import is_han
from knowledge.text import sentence_spans

NO_ANSWER = re.compile(r"\bNO[_ ]ANSWER\b", re.IGNORECASE)
MAX_CLAIMS = 12

_CLAIM_KEYS = ("claim", "text", "statement", "sentence", "answer", "content")
_PASSAGE_KEYS = ("passage", "source", "passage_id", "passage_number", "citation", "cite", "ref", "n")
_QUOTE_KEYS = ("quote", "evidence", "excerpt", "quotation", "support")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_OPEN = "{｛"
_CLOSE = "}｝"
_PAIRED = {'"': '"', "“": "”", "'": "'", "「": "」", "‘": "’"}

_MARKER = re.compile(r"\[(\d{1,3})\]")
_ANY_MARKER = re.compile(
    r"[\[【［]\s*(?:(?:passages?|sources?|documents?|docs?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|&|and|，|、)\s*(?:(?:passages?|sources?)\s*)?\d{1,3})*)\s*[\]】］]",
    re.IGNORECASE,
)
_MARKERS_AFTER_STOP = re.compile(r"([.!?。！？]+)((?:\s*\[\d{1,3}\])+)")
_MARKDOWN = re.compile(r"\*\*|__|`|^\s{0,3}#{1,6}\s+|^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.MULTILINE)
_LABEL = re.compile(r"^\s*(?:answer|response|回答|答案)\s*[:：]\s*", re.IGNORECASE | re.MULTILINE)
_INLINE_QUOTE = re.compile(r"[\"“「『]([^\"“”「」『』]{8,}?)[\"”」』]")


@dataclass(frozen=True, slots=True)
class Claim:
    text: str  # the sentence to show, without markers
    passages: tuple[int, ...]  # the passage numbers it cites (1-based, as the model wrote them)
    quote: str | None  # the model's verbatim quote, if it gave one


def parse(raw: str) -> list[Claim]:
    """The claims in a model's answer ([] when it holds none)."""
    text = _FENCE.sub("", raw.replace("\r\n", "\n"))
    claims: list[Claim] = []
    for obj in _objects(text):
        found = _claims_from(obj)
        quote = None if found else _quote_only(obj)
        if quote and claims and claims[-1].quote is None:  # {"claim": …} then {"quote": …}
            claims[-1] = Claim(claims[-1].text, claims[-1].passages, quote)
        claims.extend(found)
    if not claims:
        claims = _tagged(text)
    return claims[:MAX_CLAIMS]


def says_no_answer(raw: str) -> bool:
    return bool(NO_ANSWER.search(raw or ""))


# --- JSON-ish objects --------------------------------------------------------------------------
def _objects(text: str) -> list[dict[str, Any]]:
    found = []
    for candidate in _candidates(text):
        value = _decode(candidate)
        if value is not None:
            found.append(value)
    return found


def _candidates(text: str) -> list[str]:
    """Top-level {...} spans (braces inside strings ignored); an unclosed last one is closed."""
    spans: list[str] = []
    depth, start, in_string, escaped = 0, -1, False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"' and depth:
            in_string = True
        elif char in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif char in _CLOSE and depth:
            depth -= 1
            if depth == 0:
                spans.append(text[start:i + 1])
    if depth and start >= 0:  # cut off by the token limit: close what is open
        rest = text[start:]
        spans.append(rest + ('"' if in_string else "") + "}" * depth)
    return spans


def _decode(candidate: str) -> dict[str, Any] | None:
    attempts = (lambda: json.loads(candidate, strict=False),
                lambda: json.loads(_repair(candidate), strict=False),
                lambda: ast.literal_eval(candidate))
    for attempt in attempts:
        try:
            value = attempt()
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _repair(candidate: str) -> str:
    """Strict JSON from a near miss: full-width structure, other quotation marks, stray commas."""
    out: list[str] = []
    i, n = 0, len(candidate)
    while i < n:
        char = candidate[i]
        if char in _PAIRED:
            end = _string_end(candidate, i + 1, _PAIRED[char])
            out.append(json.dumps(_unescape(candidate[i + 1:end]), ensure_ascii=False))
            i = end + 1
            continue
        out.append(unicodedata.normalize("NFKC", char))  # full-width braces, colons, commas, digits
        i += 1
    repaired = "".join(out)
    return re.sub(r",\s*([}\]])", r"\1", repaired)


def _string_end(text: str, start: int, closer: str) -> int:
    """The index of the mark closing a string that starts at `start`. A closing mark is followed
    by the end of the object, by a colon (it closed a key), or by a comma and then the next key;
    any other `closer` belongs to the string: `"He said "yes" today"`, `“被称为“隐形冠军”，掌握…”`."""
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and closer == '"':
            i += 2
            continue
        if char == closer and _closes(text[i + 1:]):
            return i
        i += 1
    return len(text)


def _closes(after: str) -> bool:
    after = after.lstrip(" \t")
    if not after or after[0] in "}｝]］\n:：":
        return True
    if after[0] in ",，":
        following = after[1:].lstrip(" \t")
        return not following or following[0] in '"“\'「‘{｛}｝]］\n'
    return False


def _unescape(raw: str) -> str:
    try:
        return str(json.loads(f'"{raw}"', strict=False))
    except ValueError:
        return raw.replace('\\"', '"')


def _claims_from(obj: dict[str, Any]) -> list[Claim]:
    fields = {str(k).strip().lower(): v for k, v in obj.items()}
    text = _first_string(fields, _CLAIM_KEYS)
    if text is None:  # {"claims": [...]} or {"answer": [...]}
        return [claim for value in fields.values() if isinstance(value, list)
                for item in value if isinstance(item, dict) for claim in _claims_from(item)]
    cited = _passage_numbers(next((fields[k] for k in _PASSAGE_KEYS if k in fields), None))
    quote = _first_string(fields, _QUOTE_KEYS)
    claim_markers = [int(n) for n in _MARKER.findall(normalise_markers(text))]
    body = clean_sentence(_ANY_MARKER.sub(" ", text))
    if not body or NO_ANSWER.fullmatch(body.strip(" .。")):
        return []
    quote = _clean_quote(quote) if quote else None
    return [Claim(body, tuple(dict.fromkeys(cited + claim_markers)), quote or None)]


def _quote_only(obj: dict[str, Any]) -> str | None:
    fields = {str(k).strip().lower(): v for k, v in obj.items()}
    quote = _first_string(fields, _QUOTE_KEYS)
    return _clean_quote(quote) if quote else None


def _clean_quote(quote: str) -> str | None:
    return clean_quote(clean_sentence(_ANY_MARKER.sub(" ", quote), end=False)) or None


def _first_string(fields: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return " … ".join(value)  # several quotes for one claim: all must be found
    return None


def _passage_numbers(value: Any) -> list[int]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, float) and value.is_integer():
        return [int(value)]
    if isinstance(value, list):
        return [n for item in value for n in _passage_numbers(item)]
    return [int(d) for d in re.findall(r"\d{1,3}", str(value))]


# --- the tagged form: sentences ending with [n] ------------------------------------------------
def normalise_markers(text: str) -> str:
    """`[1, 2]`, `[1][2]`, `[Passage 1]`, `【1】`… → `[1] [2]`; a marker after the stop moves before it."""
    text = _ANY_MARKER.sub(lambda m: " ".join(f"[{n}]" for n in _marker_numbers(m.group(1))), text)
    return _MARKERS_AFTER_STOP.sub(r"\2\1", text)


def _marker_numbers(group: str) -> list[int]:
    found: list[int] = []
    for part in re.split(r"\s*(?:,|;|&|and|，|、)\s*", group, flags=re.IGNORECASE):
        digits = [int(d) for d in re.findall(r"\d+", part)]
        if len(digits) == 2 and re.search(r"[-–]", part) and 0 < digits[1] - digits[0] < 10:
            found.extend(range(digits[0], digits[1] + 1))
        else:
            found.extend(digits)
    return found


def _tagged(raw: str) -> list[Claim]:
    text = _LABEL.sub("", _MARKDOWN.sub("", raw))
    text = normalise_markers(NO_ANSWER.sub(" ", text) if _ANY_MARKER.search(text) else text)
    claims = []
    for line in text.splitlines():
        for start, end in sentence_spans(line):
            sentence = line[start:end]
            cited = tuple(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))
            body = clean_sentence(_MARKER.sub(" ", sentence))
            if not cited or not body:
                continue
            inline = _INLINE_QUOTE.search(body)
            claims.append(Claim(body, cited, inline.group(1) if inline else None))
    return claims


def clean_sentence(body: str, end: bool = True) -> str:
    """One line, no space before punctuation; with `end`, a closing stop in the sentence's script."""
    body = re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", " ".join(body.split())).strip(" ,;:-–—")
    if end and body and (body[-1].isalnum() or body[-1] in "\"'”’」』)）"):
        body += "。" if _ends_in_han(body) else "."
    return body


def _ends_in_han(body: str) -> bool:
    letters = [c for c in body if c.isalnum()]
    return bool(letters) and is_han(letters[-1])
