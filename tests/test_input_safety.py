"""Bad inputs get a clear message and lose nothing else: oversize, zip bombs, hanging loads,
symlinks, pipes, hidden files and file names that are not UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from ingest.chunking import MAX_CHUNK_CHARS, make_chunks
from ingest.loaders import LoadError, describe_error, load_document
from ingest.pipeline import ingest_paths
from ingest.walking import collect_files
from ingest.worker import LoadTimeout, LoadWorker, WorkerDied
from tests.input_documents import annual_report, filtered_pdf, write_zip_bomb_docx

SUPPORTED = {".txt", ".md", ".docx", ".pdf", ".html"}


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "one-letter.txt"
    with open(path, "wb") as handle:  # sparse: 52.4 MB that were never written, and are never read
        handle.truncate(50 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"^the file is too large \(52\.4 MB; the limit is 50 MB\)$"):
        load_document(path)
    assert time.monotonic() - started < 0.5


def test_a_file_just_over_the_limit_reads_as_over_it(tmp_path: Path) -> None:
    path = tmp_path / "letters.txt"
    with open(path, "wb") as handle:  # not "50.0 MB; the limit is 50 MB"
        handle.truncate(50_000_001)
    with pytest.raises(LoadError, match=r"^the file is too large \(50\.000001 MB; the limit is 50 MB\)$"):
        load_document(path)


@pytest.mark.parametrize(("filter_name", "expected"), [
    ("CCITTFaxDecode", "corrupt or unreadable PDF: a value in it is invalid"),  # PdfminerException(PDFValueError(None))
    ("FooDecode", "corrupt or unreadable PDF: uses a feature the PDF reader does not support "
                  "(Unsupported filter: /'FooDecode')"),
])
def test_pdf_reader_failures_are_said_in_words(tmp_path: Path, filter_name: str, expected: str) -> None:
    (tmp_path / "page.pdf").write_bytes(filtered_pdf(filter_name))
    with pytest.raises(LoadError) as failure:
        load_document(tmp_path / "page.pdf")
    assert str(failure.value) == expected


def test_errors_without_a_message_are_never_a_bare_class_name() -> None:
    assert describe_error(NotImplementedError()) == "uses a feature the PDF reader does not support"
    assert describe_error(Exception("error")) == describe_error(RuntimeError()) == \
        "the reader stopped without saying why"
    assert describe_error(KeyError("word/document.xml")) == "a required part is missing ('word/document.xml')"


def test_a_zip_bomb_docx_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = write_zip_bomb_docx(tmp_path / "bomb.docx", inflated_mb=150)
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match="possible zip bomb"):
            load_document(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_one_long_run_of_a_letter_never_becomes_one_chunk(embedder) -> None:  # type: ignore[no-untyped-def]
    text = "a" * 1_000_000  # the real tokenizer counts a word over 100 characters as one token
    chunks = make_chunks("letters", "Letters", text, "0" * 64, embedder.count_tokens, 200, 1)
    assert max(len(c.text) for c in chunks) <= MAX_CHUNK_CHARS
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_a_hanging_load_is_given_up_and_the_worker_replaced(tmp_path: Path) -> None:
    (tmp_path / "slow.txt").write_text("slow")
    (tmp_path / "quick.txt").write_text("quick")
    with LoadWorker(1.0, function="tests.slow_loader:sleep_then_load") as worker:
        started = time.monotonic()
        with pytest.raises(LoadTimeout, match=r"longer than 1 s; gave up"):
            worker.load(tmp_path / "slow.txt")
        assert time.monotonic() - started < 10
        assert worker.load(tmp_path / "quick.txt") == "quick"  # a fresh worker carries on
    with LoadWorker(10.0, function="tests.slow_loader:die") as worker:
        with pytest.raises(WorkerDied, match="stopped while reading"):
            worker.load(tmp_path / "quick.txt")


def test_load_errors_come_back_from_the_worker(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF")
    with LoadWorker(30.0) as worker:
        with pytest.raises(LoadError, match="^corrupt or unreadable PDF: "):
            worker.load(tmp_path / "broken.pdf", 50_000_000)


def make_awkward_folder(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "report.txt").write_text(annual_report(2023, "4.1 million euros", 37))
    (docs / ".hidden.txt").write_text("hidden")
    (docs / "..txt").write_text("dots")
    (docs / ".git").mkdir()
    (docs / ".git" / "config.txt").write_text("x")
    (root / "outside.txt").write_text("Outside the folder: must never be read.")
    (docs / "to-outside.txt").symlink_to(root / "outside.txt")
    (docs / "dangling.txt").symlink_to(root / "missing.txt")
    (docs / "loop-a.txt").symlink_to(docs / "loop-b.txt")
    (docs / "loop-b.txt").symlink_to(docs / "loop-a.txt")
    (docs / "inside-link.txt").symlink_to(docs / "report.txt")
    os.mkfifo(docs / "pipe.txt")
    bad_name = os.fsdecode(b"caf\xe9-plan.txt")  # Latin-1 bytes: not UTF-8
    (docs / bad_name).write_text(annual_report(2022, "3.8 million euros", 35))
    return docs


def test_every_skipped_path_is_reported_and_symlinks_stay_inside(tmp_path: Path) -> None:
    docs = make_awkward_folder(tmp_path)
    walk = collect_files([docs], SUPPORTED)
    names = sorted(p.name for p in walk.files)
    assert names == sorted(["report.txt", os.fsdecode(b"caf\xe9-plan.txt")])
    reasons = {Path(p.path).name: p.reason for p in walk.skipped}
    assert "hidden file" in reasons[".hidden.txt"] and "hidden file" in reasons["..txt"]
    assert "hidden folder" in reasons[".git"] and "config.txt" not in reasons
    assert "outside the given folders" in reasons["to-outside.txt"]
    assert "broken symbolic link" in reasons["dangling.txt"] and "read itself" in reasons["inside-link.txt"]
    assert reasons["loop-a.txt"] == reasons["loop-b.txt"] == "symbolic link loop"
    assert "FIFO" in reasons["pipe.txt"]


def test_ingest_json_is_valid_utf8_with_readable_names(tmp_path: Path, models_dir: Path) -> None:
    docs = make_awkward_folder(tmp_path)
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(tmp_path / "data"), "SME_ADVISOR_MODELS_DIR": str(models_dir)}
    result = subprocess.run([sys.executable, "-m", "sme_advisor", "ingest", str(docs), "--json"],
                            capture_output=True, env=env, timeout=300)
    report = json.loads(result.stdout.decode("utf-8"))  # strict: raw 0xFF bytes would fail here
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert sorted(report["added"]) == ["caf-plan", "report"]
    assert any(d["path"].endswith("caf\ufffd-plan.txt") for d in report["documents"])
    skipped = {Path(s["path"]).name for s in report["skipped"]}
    assert {".hidden.txt", "..txt", ".git", "to-outside.txt", "dangling.txt", "loop-a.txt", "pipe.txt",
            "inside-link.txt"} <= skipped
    listed = subprocess.run([sys.executable, "-m", "sme_advisor", "ask", "--json", "What is outside the folder?"],
                            capture_output=True, env=env, timeout=300)
    assert "must never be read" not in listed.stdout.decode("utf-8")


def test_a_fifo_named_explicitly_fails_clearly_without_blocking(open_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    os.mkfifo(tmp_path / "pipe.txt")
    kb = open_kb(tmp_path / "data")
    try:
        report = ingest_paths(kb, [tmp_path / "pipe.txt"])
    finally:
        kb.close()
    assert report.failed[0].error == "not a regular file (a named pipe (FIFO))"
