"""A document as the library holds it: its cleaned text, its sections, and what cleaning removed.

The text is put back together from the stored chunks (each is `cleaned_text[start:end]`; chunks
overlap by a sentence), so what is shown is exactly what can be retrieved and quoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from knowledge.types import Chunk
from sme_advisor.i18n import plural

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


def document_text(kb: KnowledgeBase, doc_id: str) -> str | None:
    """The printable document, or None when the library has no such document."""
    from ingest.pipeline import cleaning_record

    source = kb.source(doc_id)
    if source is None:
        return None
    chunks = kb.chunks_of(doc_id)
    header = [source.title, f"doc_id: {source.doc_id} · source: {source.path}",
              f"{plural(len(chunks), 'passage')} · topics: {', '.join(source.topics) or 'none'} · ingested {source.ingested_at}"]
    header.append(_cleaning_lines(cleaning_record(kb, doc_id)))
    return "\n".join(header) + "\n\n" + rebuild_text(chunks)


def _cleaning_lines(record: dict | None) -> str:
    if record is None:
        return "cleaning: not recorded (ingested before this was kept)"
    if not record.get("web_capture"):
        return "cleaning: not a web capture; nothing removed"
    removed = record.get("removed") or []
    if not removed:
        return "cleaning: web capture; nothing removed"
    total = sum(item["chars"] for item in removed)
    share = total / max(1, int(record.get("original_chars") or 0))
    lines = [f"cleaning: web capture; removed {total:,} characters ({share:.0%}):"]
    lines += [f"  - {item['kind']}, {item['chars']:,} characters: “{' '.join(item['excerpt'].split())}…”"
              for item in removed]
    return "\n".join(lines)


def rebuild_text(chunks: Sequence[Chunk]) -> str:
    """The chunks' text without their overlaps, with a heading line wherever the section or place changes."""
    parts: list[str] = []
    location: str | None = None
    covered = -1  # the end offset already printed
    for chunk in sorted(chunks, key=lambda c: c.position):
        # The heading path and the place ("Costs › Staff · p. 3"), each once.
        label = " · ".join(dict.fromkeys(part for part in (chunk.context, chunk.location) if part)) or None
        if label and label != location:
            location = label
            parts.append(f"\n── {location} ──\n")
            covered = -1  # a new section starts its text afresh
        if covered <= chunk.start or chunk.end - chunk.start != len(chunk.text):
            piece = chunk.text
            if parts and covered >= 0:
                parts.append("\n\n" if covered < chunk.start else "\n")
        elif covered >= chunk.end:
            continue
        else:
            piece = chunk.text[covered - chunk.start :]  # starts with the white space that stood there
        parts.append(piece)
        covered = max(covered, chunk.end)
    return "".join(parts).strip()
