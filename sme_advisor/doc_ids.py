"""Document ids typed by people: "did you mean" for the ones that are not in the library."""

from __future__ import annotations

import difflib
from typing import Callable, Sequence

from knowledge.types import SourceInfo

SUGGESTIONS = 3
CUTOFF = 0.6
PREFIX_PENALTY = 0.1  # a close start of a long id counts a little less than a close whole id


def suggestions(typed: str, sources: Sequence[SourceInfo], limit: int = SUGGESTIONS,
                also: Callable[[SourceInfo], str] | None = None) -> list[SourceInfo]:
    """Documents `typed` probably meant, best first: close in spelling to the id (or to its start,
    since people type the beginning of a long id), or named in the id or title (or in `also(source)`,
    e.g. the bot's short id)."""
    wanted = typed.strip().lower()
    if not wanted:
        return []
    scored: list[tuple[float, str, SourceInfo]] = []
    for source in sources:
        doc_id, title = source.doc_id.lower(), source.title.lower()
        score = max(_ratio(wanted, doc_id), _ratio(wanted, doc_id[: len(wanted)]) - PREFIX_PENALTY)
        if len(wanted) >= 3 and (wanted in doc_id or wanted in title or (also is not None and wanted in also(source))):
            score = max(score, 0.9)
        if score >= CUTOFF:
            scored.append((score, source.doc_id, source))
    return [source for _, _, source in sorted(scored, key=lambda found: (-found[0], found[1]))[:limit]]


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio() if b else 0.0
