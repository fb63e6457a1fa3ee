"""Ingest against the real model and a real embedded Chroma store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from knowledge.base import KnowledgeBase
from tests.documents import SUCCESSION_PARAGRAPHS, write_docx, write_pdf


def store_ids(kb: KnowledgeBase) -> set[str]:
    return set(kb.store.all_ids())


def catalog_ids(kb: KnowledgeBase) -> set[str]:
    return {c.chunk_id for c in kb.catalog.iter_chunks()}


@pytest.fixture
def kb(open_kb, tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = open_kb(tmp_path / "data")
    yield opened
    opened.close()


def write_note(folder: Path, name: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("Succession planning for family firms\n\n" + "\n\n".join(SUCCESSION_PARAGRAPHS) + extra)
    return path


def test_reingesting_an_unchanged_file_adds_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write_note(tmp_path / "docs", "handover-guide.txt")
    first = ingest_paths(kb, [path], topics=["succession"])
    assert first.added == ["handover-guide"] and first.chunks_added >= 1
    before = store_ids(kb)
    second = ingest_paths(kb, [path])
    assert second.unchanged == ["handover-guide"] and second.chunks_added == 0 and second.added == []
    assert store_ids(kb) == before == catalog_ids(kb)
    source = kb.source("handover-guide")
    assert source is not None and source.topics == ("succession",) and len(source.sha256) == 64


def test_a_changed_file_replaces_all_its_chunks(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write_note(tmp_path / "docs", "handover-guide.txt")
    ingest_paths(kb, [path])
    old = store_ids(kb)
    path.write_text("Succession planning, revised\n\nThe new edition recommends a family constitution signed "
                    "by every shareholder before the founder steps down.")
    report = ingest_paths(kb, [path])
    assert report.updated == ["handover-guide"] and report.chunks_removed == len(old)
    assert store_ids(kb) == catalog_ids(kb) and not (store_ids(kb) & old)
    assert "family constitution" in kb.chunks_of("handover-guide")[0].text


def test_remove_deletes_the_document_and_every_vector(kb: KnowledgeBase, tmp_path: Path) -> None:
    ingest_paths(kb, [write_note(tmp_path / "docs", "a-guide.txt"), write_note(tmp_path / "docs", "b-guide.txt", " More.")])
    assert kb.remove_source("a-guide")
    assert [s.doc_id for s in kb.sources()] == ["b-guide"]
    assert all(cid.startswith("b-guide:") for cid in store_ids(kb)) and store_ids(kb) == catalog_ids(kb)
    assert not kb.remove_source("a-guide")


def test_bad_files_are_reported_by_name_and_the_others_still_ingest(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "photo.txt").write_bytes(bytes(range(256)) * 40)
    (docs / "sheet.xlsx").write_bytes(b"x")  # now a supported type, but not a workbook
    (docs / "notes.odt").write_bytes(b"x")
    write_pdf(docs / "charter.pdf", SUCCESSION_PARAGRAPHS, title="Succession charter")
    write_docx(docs / "handover.docx", "Family handover", SUCCESSION_PARAGRAPHS)
    report = ingest_paths(kb, [docs, tmp_path / "missing.md"])
    assert sorted(report.added) == ["charter", "handover"]
    reasons = {Path(f.path).name: f.error for f in report.failed}
    assert set(reasons) == {"broken.pdf", "empty.txt", "photo.txt", "sheet.xlsx", "notes.odt", "missing.md"}
    assert "corrupt" in reasons["broken.pdf"] and "empty" in reasons["empty.txt"]
    assert "binary" in reasons["photo.txt"] and "unsupported" in reasons["notes.odt"]
    assert reasons["sheet.xlsx"].startswith("corrupt or not an Excel .xlsx file")
    assert kb.source("charter").title == "Succession charter"  # type: ignore[union-attr]


def test_an_exception_between_vector_write_and_catalog_leaves_no_half_document(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_note(tmp_path / "docs", "handover-guide.txt")

    def fail(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(kb.catalog, "replace_document", fail)
    report = ingest_paths(kb, [path])
    assert report.failed and "disk full" in report.failed[0].error
    assert kb.source("handover-guide") is None
    assert store_ids(kb) == catalog_ids(kb), "the vectors written before the failure are gone again"
    answer = kb.ask("What should a written succession charter name?")
    assert all(c.doc_id != "handover-guide" for c in answer.citations)  # orphans are never cited
    assert all(r.doc_id != "handover-guide" for r in answer.retrieved)
    monkeypatch.undo()
    again = ingest_paths(kb, [path])
    assert again.added == ["handover-guide"]
    assert store_ids(kb) == catalog_ids(kb)


def test_a_process_killed_midway_through_writing_converges_after_restart(
    make_settings, models_dir: Path, open_kb, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    data_dir = tmp_path / "data"
    folder = tmp_path / "docs"
    long_text = "\n\n".join(f"Paragraph {i}. " + " ".join(SUCCESSION_PARAGRAPHS) for i in range(12))
    folder.mkdir()
    (folder / "long-guide.txt").write_text("Long succession guide\n\n" + long_text)
    # A child process writes half of the vectors, then dies without any cleanup (like SIGKILL).
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from ingest.pipeline import ingest_paths
        from knowledge.base import KnowledgeBase
        from knowledge.store import VectorStore
        from sme_advisor.settings import Settings
        original = VectorStore.upsert
        def upsert_then_die(self, chunks, vectors):
            original(self, chunks[: len(chunks) // 2], vectors[: len(chunks) // 2])
            os._exit(9)
        VectorStore.upsert = upsert_then_die
        settings = Settings(_env_file=None, data_dir=Path({str(data_dir)!r}), models_dir_override=Path({str(models_dir)!r}))
        ingest_paths(KnowledgeBase.open(settings), [Path({str(folder / "long-guide.txt")!r})])
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent, env=env, timeout=300)
    assert child.returncode == 9
    kb = open_kb(data_dir)  # restart: recovery removes what the dead process left behind
    try:
        assert kb.source("long-guide") is None and store_ids(kb) == set()
        report = ingest_paths(kb, [folder])
        assert report.added == ["long-guide"] and report.chunks_added > 4
        assert store_ids(kb) == catalog_ids(kb) == set(kb.catalog.chunk_ids_of("long-guide"))
    finally:
        kb.close()


def test_ingest_cli_reports_json_and_fails_on_bad_files(tmp_path: Path, models_dir: Path) -> None:
    docs = tmp_path / "docs"
    write_note(docs, "handover-guide.md")
    (docs / "bad.pdf").write_bytes(b"not a pdf")
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(tmp_path / "data"), "SME_ADVISOR_MODELS_DIR": str(models_dir)}
    result = subprocess.run([sys.executable, "-m", "sme_advisor", "ingest", str(docs), "--topic", "succession", "--json"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"added", "updated", "unchanged", "repaired", "failed", "duplicates", "skipped", "notes",
                           "warnings", "documents", "chunks_added", "chunks_removed", "interrupted", "not_done"}
    assert report["interrupted"] is False and report["not_done"] == [] and report["repaired"] == []
    assert report["added"] == ["handover-guide"] and report["failed"][0]["path"].endswith("bad.pdf")
    listed = subprocess.run([sys.executable, "-m", "sme_advisor", "sources", "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=300)
    sources = json.loads(listed.stdout)
    assert [s["doc_id"] for s in sources] == ["handover-guide"]
    assert set(sources[0]) == {"doc_id", "title", "path", "chunks", "sha256", "topics", "ingested_at"}
    assert sources[0]["topics"] == ["succession"]


def test_a_document_repeating_one_paragraph_does_not_hide_the_rest_of_the_library(kb: KnowledgeBase,
                                                                                   tmp_path: Path) -> None:
    # Thousands of identical passages once filled Chroma's HNSW graph with identical vectors, and
    # dense search stopped finding every other document (a flaky bot test, then a reproducible one).
    ingest_paths(kb, [write_note(tmp_path / "docs", "handover-guide.txt")])
    repeated = tmp_path / "docs" / "workshop-log.txt"
    repeated.write_text("Workshop log\n\n" + "Owners train apprentices in workshops every week. " * 3000)
    report = ingest_paths(kb, [repeated])
    assert report.added == ["workshop-log"]
    chunks = kb.chunks_of("workshop-log")
    assert len({" ".join(c.text.split()) for c in chunks}) == len(chunks) <= 3
    dense = kb.store.for_language("en").query(
        kb.embedder.embed_queries(["When should a founder start planning the handover of a family firm?"])[0], 40)
    assert dense and dense[0].chunk_id.startswith("handover-guide:")
    answer = kb.ask("When should a founder start planning the handover of a family firm?")
    assert not answer.refused and "ten years" in answer.answer
