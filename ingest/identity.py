"""Which document a file is: the same one only when it comes from the same source path (or the
admin says `--replace`); otherwise a new id of its own, never a silent replacement.

- Same source path as a document in the library: an update of that document (or unchanged).
- `--replace`: the document with the file's own id (its name's slug) is replaced by this file.
- The same content as a document already in the library, under another name: a duplicate,
  skipped (unless `--force`, which adds it under a new id).
- Otherwise a new document: the slug of its name, or `slug-2`, `slug-3`… when that id is taken by
  another file ("Report 2024.txt" and "report_2024.md" are two documents: report-2024 and
  report-2024-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ingest.chunking import slugify
from ingest.safety import display_path
from knowledge.types import SourceInfo


@dataclass(frozen=True, slots=True)
class Identity:
    doc_id: str
    existing: SourceInfo | None = None  # the document this file updates
    duplicate_of: SourceInfo | None = None  # set when the file is skipped as a duplicate
    note: str | None = None  # what the admin should know about the id


def source_key(path: Path) -> str:
    """What identifies a file's source: its absolute, resolved path, printable."""
    return display_path(path.resolve())


def document_id_base(path: Path) -> str:
    return slugify(display_path(path.stem) if path.stem else "document")


def choose_identity(path: Path, sha256: str, library: Sequence[SourceInfo], replace: bool = False,
                    force: bool = False, key: str | None = None) -> Identity:
    """`key`: where the file comes from when that is not its path (a fetched page's web address)."""
    by_id = {source.doc_id: source for source in library}
    key = key or source_key(path)
    for source in library:
        if source.path == key:
            return Identity(source.doc_id, existing=source)
    base = document_id_base(path)
    if replace and base in by_id:
        previous = by_id[base]
        return Identity(base, existing=previous, note=f"replaces {base} (was {previous.path})")
    twin = next((source for source in library if source.sha256 == sha256), None)
    if twin is not None and not force:
        return Identity(twin.doc_id, duplicate_of=twin)
    doc_id, number = base, 1
    while doc_id in by_id:
        number += 1
        doc_id = f"{base[:76]}-{number}"
    note = None
    if doc_id != base:
        note = (f"the id {base} belongs to another file ({by_id[base].path}); added as {doc_id} "
                f"(use --replace to replace {base} instead)")
    elif twin is not None:
        note = f"same content as {twin.doc_id}; added anyway (--force)"
    return Identity(doc_id, note=note)
