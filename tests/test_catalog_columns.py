"""Catalogs written before chunks had `location` and `context` gain both columns on first open,
keep their chunks, and store both for new ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from knowledge.catalog import Catalog, now_iso
from knowledge.types import Chunk, SourceInfo

_OLD_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
                        topics TEXT NOT NULL DEFAULT '[]', ingested_at TEXT NOT NULL, chunk_count INTEGER NOT NULL);
CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
                     position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
INSERT INTO documents VALUES ('old', 'Old guide', '/docs/old.txt', 'abc', '[]', '2025-01-01T00:00:00Z', 1);
INSERT INTO chunks VALUES ('old:abc:0000', 'old', 0, 0, 20, 'Staff costs rose 4%.');
"""


def test_an_old_catalog_gains_location_and_context(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)
    catalog = Catalog(path)
    try:
        old = catalog.chunks(["old:abc:0000"])["old:abc:0000"]
        assert (old.text, old.location, old.context) == ("Staff costs rose 4%.", None, None)
        chunk = Chunk("new:def:0000", "new", "New guide", "Four-day week — Drop in resignations: 41%", 0, 0, 41,
                      location="Costs › Staff", context="Costs › Staff")
        source = SourceInfo("new", "New guide", "/docs/new.docx", 1, "def", (), now_iso())
        catalog.replace_document(source, [chunk], [])
        stored = catalog.chunks(["new:def:0000"])["new:def:0000"]
        assert (stored.location, stored.context) == ("Costs › Staff", "Costs › Staff")
        assert stored.indexed_text() == "New guide\nCosts › Staff\nFour-day week — Drop in resignations: 41%"
    finally:
        catalog.close()
