"""Answers as Telegram HTML: escaped, and split under the message limit without breaking markup.

A message is packed from *blocks*, each a complete, balanced HTML fragment (a paragraph, a source
line, a quote). Splitting happens only between blocks, so a tag can never be cut in half; a block
that alone exceeds the limit is cut in its plain text first and each piece wrapped again.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from knowledge.types import Answer

MESSAGE_LIMIT = 4096
# Keeps a margin under Telegram's hard limit for the separators added between blocks.
SAFE_LIMIT = MESSAGE_LIMIT - 96
_MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class Block:
    html: str


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def paragraph(text: str, tag: str | None = None, limit: int = SAFE_LIMIT) -> list[Block]:
    """Escapes `text` (optionally wrapped in `tag`), cut into blocks that each fit `limit`."""
    opening, closing = (f"<{tag}>", f"</{tag}>") if tag else ("", "")
    room = limit - len(opening) - len(closing)
    blocks = []
    for piece in _cut_plain(text, room):
        blocks.append(Block(f"{opening}{escape(piece)}{closing}"))
    return blocks


def _cut_plain(text: str, room: int) -> list[str]:
    """Cuts plain text so that each piece, once escaped, fits `room` (at spaces when possible)."""
    pieces: list[str] = []
    rest = text
    while len(escape(rest)) > room:
        # Escaping can grow a character to 5 ("&amp;"): measure the escaped prefix, not the raw one.
        end = room // 5
        while end < len(rest) and len(escape(rest[: end + 1])) <= room:
            end += 1
        space = rest.rfind(" ", 0, end)
        cut = space if space > end // 2 else end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def pack(blocks: list[Block], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Joins blocks into as few messages as possible, each at most `limit` characters."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block.html}" if current else block.html
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = block.html
    if current:
        messages.append(current)
    return messages


def answer_messages(answer: Answer) -> list[str]:
    """The answer with bold markers [n], then the numbered sources (titles)."""
    if answer.refused:
        return pack(paragraph(answer.answer))
    blocks: list[Block] = []
    for text in answer.answer.split("\n\n"):
        for block in paragraph(text):
            blocks.append(Block(_MARKER.sub(r"<b>[\1]</b>", block.html)))
    blocks.append(Block("<b>Sources</b>"))
    for citation in answer.citations:
        blocks.extend(paragraph(f"[{citation.n}] {citation.title}"))
    if answer.mode == "extractive" and answer.fallback_reason:
        blocks.extend(paragraph("(The language model was unavailable; these are the passages themselves.)", "i"))
    return pack(blocks)


def quote_messages(answer: Answer) -> list[str]:
    """The quoted passages behind an answer, one block per citation."""
    blocks: list[Block] = []
    for citation in answer.citations:
        blocks.append(Block(f"<b>[{citation.n}] {escape(citation.title)}</b>"))
        blocks.extend(paragraph(citation.quote, "blockquote"))
    return pack(blocks) or ["This answer has no quoted passages."]


def bullet_list(title: str, lines: list[str]) -> list[str]:
    blocks = [Block(f"<b>{escape(title)}</b>")]
    blocks.extend(block for line in lines for block in paragraph(f"• {line}"))
    return pack(blocks, separator="\n")
