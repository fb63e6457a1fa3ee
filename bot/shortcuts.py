"""Document ids an admin can tap on a phone, and "did you mean" for the ones typed wrong.

A doc id ("sme-digital-transformation-misconceptions") is long and has hyphens, which end a
Telegram command; so each document also has a short id made of what a command may hold
(a-z, 0-9, _), and /sources lists `/show_<short id>` and `/remove_<short id>`: a tap sends the
command. The short id is computed from the doc id alone (no table to keep in step): the id with
"_" for "-" when that fits (lower-case letters, digits and "-" only), else its first letters and
five hex digits of its hash.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from knowledge.types import SourceInfo
from sme_advisor import doc_ids

COMMAND_LIMIT = 32  # Telegram's longest command name; "remove_" leaves 25 characters
SHORT_LIMIT = 24
SHORTCUT = re.compile(r"^/(show|remove)_([a-z0-9_]{1,32})(?:@(\w+))?\s*$", re.IGNORECASE)
SUGGESTIONS = 3


def short_id(doc_id: str) -> str:
    readable = doc_id.replace("-", "_")
    # Only when "_" can only have been "-": then no two ids share a short id.
    if len(readable) <= SHORT_LIMIT and re.fullmatch(r"[a-z0-9_]+", readable) and "_" not in doc_id:
        return readable
    digest = hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:5]
    stem = re.sub(r"[^a-z0-9]+", "_", doc_id.lower()).strip("_")[: SHORT_LIMIT - 6].strip("_") or "doc"
    return f"{stem}_{digest}"


def resolve(typed: str, sources: Sequence[SourceInfo]) -> SourceInfo | None:
    """The document `typed` names: its doc id or its short id (either in any case)."""
    wanted = typed.strip().lower()
    for source in sources:
        if source.doc_id.lower() == wanted or short_id(source.doc_id) == wanted:
            return source
    return None


def suggestions(typed: str, sources: Sequence[SourceInfo], limit: int = SUGGESTIONS) -> list[SourceInfo]:
    """Documents `typed` probably meant (spelling, words of the id or title, the short id)."""
    return doc_ids.suggestions(typed, sources, limit, also=lambda source: short_id(source.doc_id))


def shortcut(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """("remove", short id) for "/remove_abc" or "/remove_abc@this_bot"; None for anything else,
    and for "/remove_abc@another_bot" (in a group, meant for someone else)."""
    match = SHORTCUT.match(text or "")
    if match is None:
        return None
    addressed = match.group(3)
    if addressed and bot_username and addressed.lower() != bot_username.lower():
        return None
    return match.group(1).lower(), match.group(2).lower()
