"""The keyword index of the library's current version, in memory and on disk, for every process.

Each process holds one `KeywordIndex` and the library version it reflects. When the catalog's
version has moved (this process's write or another's), it reads from the catalog's change log
only what changed since (knowledge/catalog.py `changes_since`) and applies it: the cost of an
upload is its own chunks, not the library's. A delta grown past its share is merged into a new
base, which is saved under `<data dir>/bm25/base-v<version>` so that a process starting later
loads it and replays only the log after it; the log behind the newest saved base is pruned. A
reindex (everything replaced), a log that does not reach back far enough, or a change larger
than the merge threshold builds the index afresh from a snapshot of the catalog.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from knowledge.catalog import Catalog
from knowledge.keyword import MERGE_MIN_ROWS, MERGE_SHARE, KeywordIndex

log = logging.getLogger(__name__)
_PREFIX = "base-v"


class KeywordIndexCache:
    def __init__(self, directory: Path, catalog: Catalog) -> None:
        self._directory = directory
        self._catalog = catalog
        self._lock = threading.Lock()
        self._loaded: tuple[int, KeywordIndex] | None = None

    def invalidate(self) -> None:
        """Forgets the index in memory (`check --repair` rebuilds a damaged one)."""
        with self._lock:
            self._loaded = None

    def get(self) -> KeywordIndex:
        version = self._catalog.version()
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1]
        with self._lock:
            loaded = self._loaded
            if loaded is not None and loaded[0] == self._catalog.version():
                return loaded[1]
            self._loaded = self._catch_up(loaded) if loaded is not None else None
            if self._loaded is None:
                self._loaded = self._from_disk() or self._build()
            return self._loaded[1]

    # --- the ways to the current version -----------------------------------------------------
    def _catch_up(self, loaded: tuple[int, KeywordIndex]) -> tuple[int, KeywordIndex] | None:
        """`loaded` brought to the catalog's version by its change log, or None when the log
        cannot say (the caller loads or builds instead)."""
        version, index = loaded
        with self._catalog.snapshot() as snapshot:
            changes = snapshot.changes_since(version, self._limit(index))
        if not changes.complete:
            return None
        index = index.apply(changes.removed, changes.added)
        if index.needs_merge():
            index = index.merged()
            self._save(changes.version, index)
        return changes.version, index

    def _from_disk(self) -> tuple[int, KeywordIndex] | None:
        """The newest saved base, caught up by the log."""
        for path in sorted(self._bases(), key=_version_of, reverse=True):
            try:
                loaded = KeywordIndex.load(path)
            except Exception as error:  # a damaged or older index is rebuilt, never trusted
                log.warning("not using the saved keyword index %s: %s", path.name, error)
                continue
            return self._catch_up(loaded)
        return None

    def _build(self) -> tuple[int, KeywordIndex]:
        with self._catalog.snapshot() as snapshot:
            version = snapshot.version
            index = KeywordIndex.build(snapshot.chunks())
        self._save(version, index)
        return version, index

    def _limit(self, index: KeywordIndex) -> int:
        # A change as large as a merge would be: building afresh costs about the same.
        return int(max(MERGE_MIN_ROWS, MERGE_SHARE * index.document_count) * 4)

    # --- on disk -------------------------------------------------------------------------------
    def _bases(self) -> list[Path]:
        if not self._directory.is_dir():
            return []
        return [p for p in self._directory.iterdir() if p.is_dir() and _version_of(p) >= 0]

    def _save(self, version: int, index: KeywordIndex) -> None:
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            index.save(self._directory / f"{_PREFIX}{version}", version)
            for old in self._directory.iterdir():
                # Only older ones (and indexes of the format before): a newer one is another
                # process's, in use or being written.
                number = _version_of(old)
                if "tmp" not in old.name and (number < version if number >= 0 else old.name.startswith("v")):
                    shutil.rmtree(old, ignore_errors=True)
            self._catalog.prune_chunk_log(version)
        except OSError as error:
            log.warning("could not save the keyword index: %s", error)


def _version_of(path: Path) -> int:
    """The library version of a saved base directory, or -1 for anything else."""
    name = path.name
    if not name.startswith(_PREFIX) or not name[len(_PREFIX):].isdigit():
        return -1
    return int(name[len(_PREFIX):])
