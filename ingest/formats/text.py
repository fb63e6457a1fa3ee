"""Plain text and Markdown (front matter becomes metadata, never body text)."""

from __future__ import annotations

import re

from ingest.document import Document, DocumentBuilder

_BULLET = re.compile(r"^\s*(?:[-*•·▪–]|\d{1,2}[.)])\s+")
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)\s+")
# "Email: …", "Opening hours: …" (a label of one or two words, then its value); a title such as
# "Digital Upgrade Grant: Guide for Applicants" has a longer lead and stays a heading.
_LABELLED_VALUE = re.compile(r"^[^\W\d][\w&/-]*(?: [\w&/-]+)?[:：]\s*\S")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# A line that stops mid-sentence and a next line that carries on in lower case: a hard wrap
# (e-mails, exported reports), not a paragraph or a heading.
_HARD_WRAP = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-z])")


def unwrap_lines(text: str) -> str:
    return _HARD_WRAP.sub(" ", text)


def load_plain_text(text: str) -> Document:
    """Paragraphs split at blank lines; bullets become list items; a short line without closing
    punctuation that more text follows is a heading (context for what comes under it)."""
    builder = DocumentBuilder("text")
    lines = [line.strip() for line in unwrap_lines(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")]
    seen_text = False
    for index, line in enumerate(lines):
        if not line:
            continue
        if _BULLET.match(line) and len(_BULLET.sub("", line)) > 0:
            builder.paragraph(_BULLET.sub("", line), list_item=True)
        elif _looks_like_heading(line) and any(lines[index + 1 :]):
            builder.heading(line, 1 if not seen_text else 2)
        else:
            builder.paragraph(line)
        seen_text = True
    return builder.document


def _looks_like_heading(line: str) -> bool:
    """Short, unpunctuated, capitalised, and no figures past a section number: a line that states a
    fact ("Smaller firms account for 70% of…") is a standfirst to quote, not a heading."""
    if len(line) > 80 or line.endswith((".", ",", ";", ":", "!", "?", "。", "，", "；", "：", "！", "？")):
        return False
    if _LABELLED_VALUE.match(line) or "@" in line or "://" in line:
        return False  # "Email: grants@…", a link: details to quote, not a heading over them
    first = line[0]
    unnumbered = _SECTION_NUMBER.sub("", line)
    return ((first.isupper() or first.isdigit() or not first.isascii()) and len(line.split()) <= 8
            and not any(ch.isdigit() for ch in unnumbered))


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter (between --- lines at the very top) and the rest of the text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text  # not front matter after all: leave it in the body
    if not isinstance(data, dict):
        return {}, text
    return {str(k).lower(): v for k, v in data.items()}, text[match.end() :]


def load_markdown(text: str) -> Document:
    from markdown_it import MarkdownIt

    metadata, body = split_front_matter(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    builder = DocumentBuilder("markdown")
    title = metadata.get("title") if isinstance(metadata.get("title"), str) else None
    in_list = 0
    heading_level = 0
    table: list[list[str]] | None = None
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            in_list += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            in_list -= 1
        elif kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "table_open":
            table = []
        elif kind == "tr_open" and table is not None:
            table.append([])
        elif kind == "table_close" and table is not None:
            builder.table(table)
            table = None
        elif kind == "inline":
            text_of = _inline_text(token)
            if table is not None and table:
                table[-1].append(text_of)
            elif heading_level:
                if title is None and heading_level == 1:
                    title = text_of
                builder.heading(text_of, heading_level)
            else:
                builder.paragraph(text_of, list_item=in_list > 0)
        elif kind == "heading_close":
            heading_level = 0
        # fences and code blocks are skipped: listings are not advice
    builder.document.metadata = metadata
    builder.document.title = title.strip() if isinstance(title, str) and title.strip() else None
    return builder.document


def _inline_text(token) -> str:  # type: ignore[no-untyped-def]
    return "".join(
        " " if child.type in ("softbreak", "hardbreak") else child.content
        for child in token.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak")
    ).strip()
