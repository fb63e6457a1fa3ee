"""Strips web boilerplate from web captures, and reports every removal.

Web captures (HTML pages, and text files or PDFs that look like a saved web page) carry comment
prompts, "most viewed" lists, site footers with phone numbers and licences, and advertisements
glued to the end of an article. Office documents do not: a "Comments" heading or a contact
section in a grant guide is content. So the rules below run only on web captures
(`looks_like_web_capture`), and every removal is recorded with its kind and size.

The rules, for web captures:
1. A tail marker (a comment prompt, a "related / most viewed" list, "back to top") in the later
   part of a document ends the article: everything from it on goes.
2. Lines that are only contact details, copyright, licences, cookie or share prompts, bare links
   or time stamps go wherever they stand.
3. A trailing run of paragraphs that shares little vocabulary with the article and advertises
   (links, company names, sales language) goes too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from knowledge.text import content_words

# A removal taking more than this share of a document is a warning in the ingest report.
LARGE_REMOVAL_SHARE = 0.25

_TAIL_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(rf"^({pattern})[:.!]?$", re.IGNORECASE | re.VERBOSE)) for kind, pattern in [
        ("comments", r"leave\ (a|your)\ (reply|comment)s? | post\ a\ comment | (\d+\ )?comments?(\ \(\d+\))?"),
        ("related links", r"""(most|top)\ (viewed|read|popular|shared)\b.* | related\ (articles?|posts?|stories|news|reading)\b.* |
                              you\ (may|might)\ also\ like\b.* | recommended\ (for\ you|articles?|reading)\b.* |
                              (read|see)\ more\ (articles?|stories|news)\b.* | more\ from\b.* | 相关(文章|阅读|新闻) | 热门(文章|推荐)"""),
        ("share prompts", r"share\ this\b.*"),
        ("page navigation", r"""back\ to\ top | 回到顶部 | 返回顶部 | about\ the\ author | tags?:\ .* |
                                previous\ (post|article)\b.* | next\ (post|article)\b.*"""),
    ]
]
_BOILERPLATE_LINES: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(rf"^({pattern})$", re.IGNORECASE | re.VERBOSE)) for kind, pattern in [
        ("comments", r".*your\ email\ address\ will\ not\ be\ published.* | .*required\ fields\ are\ marked.*"),
        ("footer", r"""(tel|telephone|phone|fax|mobile|e-?mail|add|address|contact(\ us)?|hotline|wechat)\s*[:：].* |
                       .*(copyright|©|\(c\)\ \d{4}|all\ rights\ reserved).* | .*\b(icp|business\ license)\b.*\d.*"""),
        ("cookie and newsletter prompts", r""".*\bwe\ use\ cookies\b.* | (accept|reject)\ (all\ )?cookies |
                                             .*subscribe\ to\ (our|the)\ newsletter.*"""),
        ("share prompts", r"share\ (on|via)\b.* | (facebook|twitter|linkedin|whatsapp|wechat|weibo|email|print)(\s*[|·,/]\s*\w+)*"),
        ("page navigation", r"click\ here\b.* | read\ more\.? | (sign\ in|log\ in|register)(\ /\ (sign\ up|register))?"),
        ("links", r"(https?://|www\.)\S+ | [\w.+-]+@[\w-]+\.[\w.]+"),
        ("time stamps", r"""\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?(\s+\d+)? |
                            (posted|published|updated)\s+(on\s+)?\d.* | source:\s*\S+"""),
    ]
]
# Signs that a text was captured from a web page; one is enough. Deliberately absent: a bare
# "Comments" heading, contact lines and copyright notices, which office documents have too.
_WEB_SIGNS = re.compile(
    r"""^(
        leave\ (a|your)\ (reply|comment)s? | post\ a\ comment | .*your\ email\ address\ will\ not\ be\ published.* |
        .*required\ fields\ are\ marked.* | .*\bwe\ use\ cookies\b.* | (accept|reject)\ (all\ )?cookies |
        (most|top)\ (viewed|read|popular|shared)\b.* | related\ (articles|posts|stories|news)\b.* |
        you\ (may|might)\ also\ like\b.* | back\ to\ top | 回到顶部 | 返回顶部 | 相关(文章|阅读|新闻) | 热门(文章|推荐) |
        share\ (on|via)\ (facebook|twitter|linkedin|whatsapp|wechat|weibo|email)\b.* |
        (facebook|twitter|linkedin|whatsapp|wechat|weibo)(\s*[|·,/]\s*\w+){2,} |
        .*\bicp\b.*\d.* | .*subscribe\ to\ our\ newsletter.* | click\ here\ to\b.* |
        \d{4}[-/.]\d{1,2}[-/.]\d{1,2}\ \d{1,2}:\d{2}:\d{2}(\s+\d+)?
    )[:.!]?$""",
    re.IGNORECASE | re.VERBOSE,
)
_LINK = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_COMPANY = re.compile(r"\b(co\.,?\s*ltd|ltd\.|limited|inc\.|gmbh|llc|s\.a\.|corp\.)", re.IGNORECASE)
_SALES = re.compile(
    r"\b(manufacturers?|suppliers?|wholesale|factory|foctory|we offer|we are specialized|specialize in|"
    r"after-sale|after sales|inexpensive|best price|low price|free shipping|order now|buy now|"
    r"contact us|our products|request a quote|in stock|discount)\b",
    re.IGNORECASE,
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
Mode = Literal["web", "auto", "document"]


@dataclass(frozen=True, slots=True)
class Removal:
    kind: str  # "comments", "footer", "advert", "related links", …
    chars: int
    excerpt: str  # the start of what went, for the report


@dataclass(slots=True)
class Cleaned:
    text: str
    web_capture: bool
    original_chars: int
    removals: list[Removal] = field(default_factory=list)

    @property
    def removed_chars(self) -> int:
        return sum(r.chars for r in self.removals)

    @property
    def removed_share(self) -> float:
        return self.removed_chars / max(1, self.original_chars)

    def by_kind(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for removal in self.removals:
            kinds[removal.kind] = kinds.get(removal.kind, 0) + removal.chars
        return kinds

    def summary(self) -> str:
        """"comments 1,204 chars, footer 310 chars" (empty when nothing went)."""
        return ", ".join(f"{kind} {chars:,} chars" for kind, chars in self.by_kind().items())


def normalize(text: str) -> str:
    """Unicode, white space and line ends made uniform; paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def looks_like_web_capture(text: str) -> bool:
    """A line only web pages have, or an advertisement glued to the end (a link or a company
    name, and sales language: two different selling phrases besides "contact us")."""
    lines = normalize(text).split("\n")
    if any(_WEB_SIGNS.match(_strip_bullet(line)) for line in lines if line):
        return True
    paragraphs = _paragraphs(lines)
    kept = _drop_promotional_tail(paragraphs, [])
    tail = "\n".join(paragraphs[len(kept):])
    selling = {match.lower() for match in _SALES.findall(tail)} - {"contact us"}
    return bool(_LINK.search(tail) or _COMPANY.search(tail)) and len(selling) >= 2


def clean(text: str, mode: Mode = "auto") -> Cleaned:
    """The text without web boilerplate when it is a web capture ("web", or "auto" and it looks
    like one); office documents ("document") are only normalised. Every removal is recorded."""
    normalized = normalize(text)
    web = mode == "web" or (mode == "auto" and looks_like_web_capture(normalized))
    result = Cleaned(normalized, web, len(normalized))
    if not web:
        return result
    lines = _cut_at_tail_marker(normalized.split("\n"), result.removals)
    kept = []
    for line in lines:
        kind = _boilerplate_kind(_strip_bullet(line))
        if kind is None:
            kept.append(line)
        else:
            result.removals.append(Removal(kind, len(line), line[:80]))
    paragraphs = _drop_promotional_tail(_paragraphs(kept), result.removals)
    result.text = normalize("\n\n".join(paragraphs))
    return result


def clean_text(text: str) -> str:
    """A web capture's article without its boilerplate (see the module docstring for the rules)."""
    return clean(text, "web").text


def _strip_bullet(line: str) -> str:
    return line.lstrip("•·*-–— ").strip()


def _boilerplate_kind(line: str) -> str | None:
    return next((kind for kind, pattern in _BOILERPLATE_LINES if pattern.match(line)), None)


def _cut_at_tail_marker(lines: list[str], removals: list[Removal]) -> list[str]:
    total = sum(len(line) for line in lines) or 1
    seen = 0
    for index, line in enumerate(lines):
        # Only in the later part: an article may legitimately open with "Related reading: ...".
        if seen > 0.4 * total:
            kind = next((kind for kind, pattern in _TAIL_MARKERS if pattern.match(_strip_bullet(line))), None)
            if kind is not None:
                tail = "\n".join(lines[index:])
                removals.append(Removal(kind, len(tail.strip()), tail.strip()[:80]))
                return lines[:index]
        seen += len(line)
    return lines


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    return paragraphs


def _drop_promotional_tail(paragraphs: list[str], removals: list[Removal]) -> list[str]:
    """Removes trailing advertising paragraphs that have nothing to do with the article."""
    total = sum(len(p) for p in paragraphs) or 1
    core, seen = [], 0
    for paragraph in paragraphs:  # the article's vocabulary, from its first 60 %
        if seen > 0.6 * total:
            break
        core.append(paragraph)
        seen += len(paragraph)
    core_vocabulary = set(content_words(" ".join(core)))
    cut = len(paragraphs)
    while cut > len(core) and _is_foreign(paragraphs[cut - 1], core_vocabulary):
        cut -= 1
    tail = "\n".join(paragraphs[cut:])
    advertises = bool(_LINK.search(tail) or _COMPANY.search(tail)) or len(_SALES.findall(tail)) >= 2
    if tail and advertises and len(tail) < 0.35 * total:
        removals.append(Removal("advert", len(tail), tail[:80]))
        return paragraphs[:cut]
    return paragraphs


def _is_foreign(paragraph: str, core_vocabulary: set[str]) -> bool:
    vocabulary = set(content_words(_LINK.sub(" ", paragraph)))
    if not vocabulary:
        return True
    shared = len(vocabulary & core_vocabulary) / len(vocabulary)
    if _LINK.search(paragraph) or _COMPANY.search(paragraph) or _SALES.search(paragraph):
        return shared < 0.5
    return shared < 0.25
