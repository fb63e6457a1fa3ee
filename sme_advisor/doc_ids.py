"""Document ids typed by people: "did you mean" for the ones that are not in the library."""

from __future__ import annotations

import difflib
from typing import Callable, Sequence

from knowledge.types import SourceInfo

SUGGESTIONS = 3


def suggestions(typed: str, sources: Sequence[SourceInfo], limit: int = SUGGESTIONS,
                also: Callable[[SourceInfo], str] | None = None) -> list[SourceInfo]:
    """Documents `typed` probably meant: close in spelling to the id, or named in the id or title
    (or in `also(source)`, e.g. the bot's short id)."""
    wanted = typed.strip().lower()
    if not wanted:
        return []
    by_id = {source.doc_id.lower(): source for source in sources}
    found = [by_id[match] for match in difflib.get_close_matches(wanted, list(by_id), n=limit, cutoff=0.6)]
    if len(wanted) >= 3:
        found += [s for s in sources if wanted in s.doc_id.lower() or wanted in s.title.lower()
                  or (also is not None and wanted in also(s))]
    return list({source.doc_id: source for source in found}.values())[:limit]
