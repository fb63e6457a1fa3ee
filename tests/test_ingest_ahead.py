"""Reading the next file while this one is embedded (ingest/ahead.py), with the real loaders."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ingest.ahead import ReadAhead
from ingest.document import Document
from ingest.loaders import MAX_FILE_BYTES, LoadError, load_document


def text_of(document: Document) -> str:
    return "\n".join(block.statement() for block in document.blocks)


def test_the_file_read_ahead_is_the_one_returned_and_a_changed_file_is_read_again(tmp_path: Path) -> None:
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("Succession plans name a successor early.\n")
    second.write_text("Export credit agencies insure foreign sales.\n")
    threads: list[str] = []

    def load(path: Path, max_bytes: int) -> Document:
        threads.append(threading.current_thread().name)
        return load_document(path, max_bytes)

    with ReadAhead(load, MAX_FILE_BYTES) as reader:
        reader.ahead(second)
        assert "successor" in text_of(reader.load(first))  # not the file read ahead: read now
        reader.ahead(second)
        assert "Export credit" in text_of(reader.load(second))
        reader.ahead(first)
        first.write_text("A family council meets twice a year.\n")
        os.utime(first, ns=(1, 1))  # a different modification time, whatever the clock's resolution
        assert "family council" in text_of(reader.load(first))  # changed since: read again
    assert all(name.startswith("sme-advisor-read-ahead") for name in threads), "one thread for every load"


def test_a_failed_read_ahead_fails_that_file_in_its_turn(tmp_path: Path) -> None:
    broken, good = tmp_path / "broken.xyz", tmp_path / "good.txt"
    broken.write_text("not a supported type")
    good.write_text("Working capital finances the gap between paying and being paid.\n")
    with ReadAhead(load_document, MAX_FILE_BYTES) as reader:
        reader.ahead(broken)
        assert "Working capital" in text_of(reader.load(good))  # the other file's failure is not this one's
        reader.ahead(broken)
        with pytest.raises(LoadError, match="unsupported file type"):
            reader.load(broken)
