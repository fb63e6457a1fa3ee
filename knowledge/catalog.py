"""The SQLite catalog: documents, their live chunks, and vector writes not yet confirmed.

A document changes in one SQLite transaction (its row and all its chunk rows), after its vectors
are in Chroma. Before touching Chroma, the chunk ids about to be written or deleted are recorded
as `pending`; whatever a crash leaves in Chroma is therefore known and cleaned up on the next
start, so the store converges to exactly the catalog's chunks. Each pending row names its writer
(pid, host); recovery runs only while holding the library's write lock (knowledge/locking.py), so
it never removes a live process's write.

Other processes read the same file: `generation()` (the library version, grown by every catalog
change, and the vector version, grown when a write's vectors are final) tells a reader that its
caches (keyword index, Chroma handles) are out of date. `meta.collections` names the Chroma
collection each logical collection lives in now: `reindex` builds new ones beside the old and
switches this name in the same transaction as the new chunks (`adopt`).

`chunk_log` records, in the transaction of each change, which chunk ids that library version
removed and added, so a keyword index made at an older version catches up by reading only what
changed (knowledge/keyword_cache.py). A reindex logs a reset (its whole library is new);
`chunk_log_floor` is the oldest version the log reaches back to (a catalog made before the log
existed starts it at its version then; the log is pruned behind the newest saved keyword index).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from knowledge.sentences import SentenceVectors
from knowledge.types import Chunk, SourceInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '[]',
    ingested_at TEXT NOT NULL,
    chunk_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    location TEXT,
    context TEXT
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, position);
CREATE INDEX IF NOT EXISTS documents_by_path ON documents(path);
CREATE INDEX IF NOT EXISTS documents_by_sha256 ON documents(sha256);
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    chunk_ids TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunk_log (
    version INTEGER NOT NULL,
    chunk_id TEXT NOT NULL,
    added INTEGER NOT NULL  -- 1 added, 0 removed, -1 everything replaced (chunk_id empty)
);
CREATE INDEX IF NOT EXISTS chunk_log_by_version ON chunk_log(version);
CREATE TABLE IF NOT EXISTS sentences (
    chunk_id TEXT PRIMARY KEY REFERENCES chunks(chunk_id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    spans TEXT NOT NULL,
    vectors BLOB NOT NULL
);
"""


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self.path = path
        logged = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunk_log'").fetchone() is not None
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._lock = threading.RLock()
        if not logged:  # the log starts now: changes before this version were never logged
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) SELECT 'chunk_log_floor', "
                             "COALESCE((SELECT value FROM meta WHERE key = 'library_version'), '0')")

    def _migrate(self) -> None:
        """Catalogs written before a column existed get it (empty) on first open."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "location" not in columns:
            self._db.execute("ALTER TABLE chunks ADD COLUMN location TEXT")
        if "context" not in columns:
            self._db.execute("ALTER TABLE chunks ADD COLUMN context TEXT")
        if "owner" not in {row[1] for row in self._db.execute("PRAGMA table_info(pending)")}:
            self._db.execute("ALTER TABLE pending ADD COLUMN owner TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- reads -------------------------------------------------------------------------------
    def version(self) -> int:
        """Grows with every change to the library; caches derived from it compare against it."""
        return int(self.get_meta("library_version") or 0)

    def generation(self) -> tuple[int, int]:
        """(library version, vector version): a reader whose caches were made at another
        generation refreshes them. One small query, cheap enough before every answer."""
        with self._lock:
            rows = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN "
                                         "('library_version', 'vectors_version')").fetchall())
        return int(rows.get("library_version") or 0), int(rows.get("vectors_version") or 0)

    def collections(self) -> dict[str, str]:
        """Logical collection name -> the Chroma collection holding it now (after a reindex)."""
        value = self.get_meta("collections")
        return json.loads(value) if value else {}

    def all_chunk_ids(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks ORDER BY doc_id, position")]

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def store_sentences(self, sentences: Sequence[SentenceVectors]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO sentences(chunk_id, model, spans, vectors) VALUES (?, ?, ?, ?)",
                                 [s.to_row() for s in sentences])

    def document(self, doc_id: str) -> SourceInfo | None:
        with self._lock:
            row = self._db.execute(_SOURCE_SELECT + " WHERE doc_id = ?", (doc_id,)).fetchone()
        return _source(row) if row else None

    def documents(self) -> list[SourceInfo]:
        with self._lock:
            rows = self._db.execute(_SOURCE_SELECT + " ORDER BY doc_id").fetchall()
        return [_source(row) for row in rows]

    def documents_like(self, path: str, sha256: str, id_prefix: str) -> list[SourceInfo]:
        """The documents a file could be (what ingest.identity decides among): from `path`, with the
        same content, or with an id starting with `id_prefix`; three index lookups (one query with
        OR scanned the whole table: 3 ms a file at 7,400 documents), not a listing of the library."""
        with self._lock:
            rows = self._db.execute(_SOURCE_SELECT + " WHERE path = ?", (path,)).fetchall()
            rows += self._db.execute(_SOURCE_SELECT + " WHERE sha256 = ?", (sha256,)).fetchall()
            rows += self._db.execute(_SOURCE_SELECT + " WHERE doc_id >= ? AND doc_id < ?",
                                     (id_prefix, id_prefix + "\U0010ffff")).fetchall()
        unique = {row[0]: row for row in rows}
        return [_source(unique[doc_id]) for doc_id in sorted(unique)]

    def document_from(self, path: str) -> SourceInfo | None:
        """The document whose source is `path` (a file's resolved path or a page's address)."""
        with self._lock:
            row = self._db.execute(_SOURCE_SELECT + " WHERE path = ? ORDER BY doc_id LIMIT 1", (path,)).fetchone()
        return _source(row) if row else None

    def document_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY position",
                                    (doc_id,)).fetchall()
        return [row[0] for row in rows]

    def chunk_ids_by_document(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """The live chunk ids of each of `doc_ids` (those without chunks are left out)."""
        found: dict[str, list[str]] = {}
        with self._lock:
            for start in range(0, len(doc_ids), 500):
                batch = list(doc_ids[start : start + 500])
                rows = self._db.execute(f"SELECT doc_id, chunk_id FROM chunks WHERE doc_id IN ({','.join('?' * len(batch))}) "
                                        "ORDER BY doc_id, position", batch).fetchall()
                for doc_id, chunk_id in rows:
                    found.setdefault(doc_id, []).append(chunk_id)
        return found

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The live chunks among `chunk_ids` (ids the catalog does not know are left out)."""
        found: dict[str, Chunk] = {}
        with self._lock:
            for start in range(0, len(chunk_ids), 500):
                batch = list(chunk_ids[start : start + 500])
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(_CHUNK_SELECT + f" WHERE c.chunk_id IN ({marks})", batch).fetchall()
                found.update((row[0], _chunk(row)) for row in rows)
        return found

    def iter_chunks(self) -> Iterator[Chunk]:
        with self._lock:
            rows = self._db.execute(_CHUNK_SELECT + " ORDER BY c.doc_id, c.position").fetchall()
        return (_chunk(row) for row in rows)

    def pending(self) -> list[tuple[int, str, list[str]]]:
        with self._lock:
            rows = self._db.execute("SELECT id, doc_id, chunk_ids FROM pending ORDER BY id").fetchall()
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def pending_owners(self) -> list[dict]:  # type: ignore[type-arg]
        """Each unfinished write's doc_id, chunk count and writer (for `check`)."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id, chunk_ids, owner FROM pending ORDER BY id").fetchall()
        return [{"doc_id": row[0], "chunks": len(json.loads(row[1])), **json.loads(row[2] or "{}")} for row in rows]

    # --- writes ------------------------------------------------------------------------------
    def add_pending(self, doc_id: str, chunk_ids: Iterable[str]) -> int:
        with self._lock:
            owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
            cursor = self._db.execute("INSERT INTO pending(doc_id, chunk_ids, owner) VALUES (?, ?, ?)",
                                      (doc_id, json.dumps(list(chunk_ids)), owner))
            return int(cursor.lastrowid or 0)

    def clear_pending(self, pending_id: int) -> None:
        """The write's vectors are final: readers in other processes reopen their Chroma handles."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM pending WHERE id = ?", (pending_id,))
            self._bump("vectors_version")

    def bump_vectors(self) -> None:
        with self._lock, self._transaction():
            self._bump("vectors_version")

    def adopt(self, staging: Path, collections: dict[str, str]) -> None:
        """Makes a reindex's staging catalog the library, with its collections, in one transaction:
        a reader sees the old chunks with the old vectors or the new with the new, never a mix."""
        with self._lock:
            self._db.execute("ATTACH DATABASE ? AS staging", (str(staging),))
            try:
                with self._transaction():
                    for table in ("sentences", "chunks", "documents"):
                        self._db.execute(f"DELETE FROM main.{table}")
                    for table, columns in _COLUMNS.items():  # named: a migrated catalog orders them its own way
                        self._db.execute(f"INSERT INTO main.{table}({columns}) SELECT {columns} FROM staging.{table}")
                    self._db.execute("INSERT OR REPLACE INTO main.meta SELECT key, value FROM staging.meta "
                                     "WHERE key LIKE 'cleaning:%'")
                    self._db.execute("INSERT OR REPLACE INTO main.meta(key, value) VALUES ('collections', ?)",
                                     (json.dumps(collections),))
                    self._db.execute("DELETE FROM main.meta WHERE key = 'reindex'")
                    self._bump_version()
                    self._db.execute("INSERT INTO main.chunk_log(version, chunk_id, added) VALUES (?, '', -1)",
                                     (self._current_version(),))
                    self._bump("vectors_version")
            finally:
                self._db.execute("DETACH DATABASE staging")

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """Stored sentence vectors of `chunk_ids` (callers check the model that made them)."""
        found: dict[str, SentenceVectors] = {}
        with self._lock:
            for start in range(0, len(chunk_ids), 500):
                batch = list(chunk_ids[start : start + 500])
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(f"SELECT chunk_id, model, spans, vectors FROM sentences WHERE "
                                        f"chunk_id IN ({marks})", batch).fetchall()
                found.update((row[0], SentenceVectors.from_row(*row)) for row in rows)
        return found

    def replace_document(self, source: SourceInfo, chunks: Sequence[Chunk],
                         sentences: Sequence[SentenceVectors] = ()) -> None:
        with self._lock, self._transaction():
            old_ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?",
                                                          (source.doc_id,))]
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (source.doc_id,))
            self._db.execute(
                "INSERT OR REPLACE INTO documents(doc_id, title, path, sha256, topics, ingested_at, chunk_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source.doc_id, source.title, source.path, source.sha256, json.dumps(list(source.topics)),
                 source.ingested_at, len(chunks)),
            )
            self._db.executemany(
                'INSERT INTO chunks(chunk_id, doc_id, position, start, "end", text, location, context)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(c.chunk_id, c.doc_id, c.position, c.start, c.end, c.text, c.location, c.context) for c in chunks],
            )
            self._db.executemany("INSERT OR REPLACE INTO sentences(chunk_id, model, spans, vectors) VALUES (?, ?, ?, ?)",
                                 [s.to_row() for s in sentences])
            self._bump_version()
            self._log_chunks(old_ids, [c.chunk_id for c in chunks])

    def set_topics(self, doc_id: str, topics: Sequence[str]) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE documents SET topics = ? WHERE doc_id = ?", (json.dumps(list(topics)), doc_id))
            self._bump_version()

    def recount_chunks(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE documents SET chunk_count = (SELECT COUNT(*) FROM chunks c "
                             "WHERE c.doc_id = documents.doc_id)")
            self._bump_version()

    def remove_document(self, doc_id: str) -> bool:
        with self._lock, self._transaction():
            old_ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            removed = self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount > 0
            self._bump_version()
            self._log_chunks(old_ids, [])
        return removed

    def _bump_version(self) -> None:
        self._bump("library_version")

    def _current_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'library_version'").fetchone()
        return int(row[0]) if row else 0

    def _log_chunks(self, removed: Sequence[str], added: Sequence[str]) -> None:
        """In the change's transaction, after its version bump."""
        version = self._current_version()
        self._db.executemany("INSERT INTO chunk_log(version, chunk_id, added) VALUES (?, ?, ?)",
                             [(version, cid, 0) for cid in removed] + [(version, cid, 1) for cid in added])

    # --- the change log, read in a snapshot of its own ------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A consistent read of the library on a connection of its own (a long read, such as
        indexing every chunk, never holds up this catalog's other users)."""
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            db.execute("BEGIN")  # deferred: the snapshot is taken at the first read
            try:
                yield Snapshot(db)
            finally:
                db.execute("COMMIT")
        finally:
            db.close()

    def prune_chunk_log(self, version: int) -> None:
        """Forgets the log up to `version` (a keyword index of that version is saved): readers
        behind it start again from the saved index."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM chunk_log WHERE version <= ?", (version,))
            self._db.execute("INSERT INTO meta(key, value) VALUES ('chunk_log_floor', ?) ON CONFLICT(key) DO UPDATE "
                             "SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", (str(version),))

    def _bump(self, key: str) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1", (key,)
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


@dataclass(frozen=True, slots=True)
class ChunkChanges:
    """What the library versions after `since` up to `version` did to the live chunks (the net
    effect: a chunk added then removed is only removed). Not `complete` when the log does not
    reach back to `since`, or a reindex replaced everything: the reader builds afresh."""

    version: int
    complete: bool
    removed: frozenset[str] = frozenset()
    added: tuple[Chunk, ...] = ()


class Snapshot:
    """Reads of one moment of the catalog (see `Catalog.snapshot`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.version = int((db.execute("SELECT value FROM meta WHERE key = 'library_version'").fetchone() or [0])[0])

    def chunks(self, batch: int = 1000) -> Iterator[Chunk]:
        """Every live chunk, a page at a time (the whole library's text is never held at once)."""
        last = ""
        while True:
            rows = self._db.execute(_CHUNK_SELECT + " WHERE c.chunk_id > ? ORDER BY c.chunk_id LIMIT ?",
                                    (last, batch)).fetchall()
            if not rows:
                return
            yield from (_chunk(row) for row in rows)
            last = rows[-1][0]

    def changes_since(self, since: int, limit: int) -> ChunkChanges:
        """The net change from version `since` to this snapshot's; not complete past `limit`
        chunks added (building afresh costs no more then)."""
        floor = int((self._db.execute("SELECT value FROM meta WHERE key = 'chunk_log_floor'").fetchone() or [0])[0])
        if since < floor:
            return ChunkChanges(self.version, complete=False)
        state: dict[str, bool] = {}
        # Within one version, removals first: a document rewritten with some of its old ids keeps them.
        for chunk_id, added in self._db.execute("SELECT chunk_id, added FROM chunk_log WHERE version > ? AND "
                                                "version <= ? ORDER BY version, added", (since, self.version)):
            if added < 0:
                return ChunkChanges(self.version, complete=False)
            state[chunk_id] = bool(added)
        added_ids = [cid for cid, is_added in state.items() if is_added]
        if len(added_ids) > limit:
            return ChunkChanges(self.version, complete=False)
        found: dict[str, Chunk] = {}
        for start in range(0, len(added_ids), 500):
            batch = added_ids[start : start + 500]
            rows = self._db.execute(_CHUNK_SELECT + f" WHERE c.chunk_id IN ({','.join('?' * len(batch))})",
                                    batch).fetchall()
            found.update((row[0], _chunk(row)) for row in rows)
        # An id added again was removed first: the index drops its old row and takes the new one.
        return ChunkChanges(self.version, True, frozenset(state), tuple(found[c] for c in added_ids if c in found))


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


_COLUMNS = {"documents": "doc_id, title, path, sha256, topics, ingested_at, chunk_count",
            "chunks": 'chunk_id, doc_id, position, start, "end", text, location, context',
            "sentences": "chunk_id, model, spans, vectors"}
_SOURCE_SELECT = "SELECT doc_id, title, path, chunk_count, sha256, topics, ingested_at FROM documents"
_CHUNK_SELECT = (
    'SELECT c.chunk_id, c.doc_id, d.title, c.text, c.position, c.start, c."end", c.location, c.context '
    "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
)


def _source(row: tuple) -> SourceInfo:
    return SourceInfo(row[0], row[1], row[2], int(row[3]), row[4], tuple(json.loads(row[5])), row[6])


def _chunk(row: tuple) -> Chunk:
    return Chunk(row[0], row[1], row[2], row[3], int(row[4]), int(row[5]), int(row[6]), row[7], row[8])
