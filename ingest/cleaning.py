"""Strips web boilerplate so that it is never retrieved or cited.

Documents arrive as web captures: comment prompts, "most viewed" lists, site footers with phone
numbers and licences, and advertisements glued to the end of an article. Three general rules:

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

from knowledge.text import content_words

_TAIL_MARKERS = re.compile(
    r"""^(
        leave\ (a|your)\ (reply|comment)s? | post\ a\ comment | (\d+\ )?comments?(\ \(\d+\))? |
        (most|top)\ (viewed|read|popular|shared)\b.* | related\ (articles?|posts?|stories|news|reading)\b.* |
        you\ (may|might)\ also\ like\b.* | recommended\ (for\ you|articles?|reading)\b.* |
        (read|see)\ more\ (articles?|stories|news)\b.* | more\ from\b.* | share\ this\b.* |
        back\ to\ top | 回到顶部 | 返回顶部 | 相关(文章|阅读|新闻) | 热门(文章|推荐) |
        about\ the\ author | tags?: .* | previous\ (post|article)\b.* | next\ (post|article)\b.*
    )[:.!]?$""",
    re.IGNORECASE | re.VERBOSE,
)
_BOILERPLATE_LINE = re.compile(
    r"""^(
        (tel|telephone|phone|fax|mobile|e-?mail|add|address|contact(\ us)?|hotline|wechat)\s*[:：].* |
        .*(copyright|©|\(c\)\ \d{4}|all\ rights\ reserved).* |
        .*\b(icp|business\ license)\b.*\d.* |
        .*your\ email\ address\ will\ not\ be\ published.* | .*required\ fields\ are\ marked.* |
        .*\bwe\ use\ cookies\b.* | (accept|reject)\ (all\ )?cookies | .*subscribe\ to\ (our|the)\ newsletter.* |
        share\ (on|via)\b.* | (facebook|twitter|linkedin|whatsapp|wechat|weibo|email|print)(\s*[|·,/]\s*\w+)* |
        click\ here\b.* | read\ more\.?|(sign\ in|log\ in|register)(\ /\ (sign\ up|register))? |
        (https?://|www\.)\S+ | [\w.+-]+@[\w-]+\.[\w.]+ |
        \d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?(\s+\d+)? |
        (posted|published|updated)\s+(on\s+)?\d.* | source:\s*\S+
    )$""",
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


def normalize(text: str) -> str:
    """Unicode, white space and line ends made uniform; paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_text(text: str) -> str:
    """The article without its boilerplate (see the module docstring for the rules)."""
    lines = normalize(text).split("\n")
    lines = _cut_at_tail_marker(lines)
    lines = [line for line in lines if not _BOILERPLATE_LINE.match(_strip_bullet(line))]
    paragraphs = _paragraphs(lines)
    paragraphs = _drop_promotional_tail(paragraphs)
    return normalize("\n\n".join(paragraphs))


def _strip_bullet(line: str) -> str:
    return line.lstrip("•·*-–— ").strip()


def _cut_at_tail_marker(lines: list[str]) -> list[str]:
    total = sum(len(line) for line in lines) or 1
    seen = 0
    for index, line in enumerate(lines):
        # Only in the later part: an article may legitimately open with "Related reading: ...".
        if seen > 0.4 * total and _TAIL_MARKERS.match(_strip_bullet(line)):
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


def _drop_promotional_tail(paragraphs: list[str]) -> list[str]:
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
    if advertises and len(tail) < 0.35 * total:
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
