"""Which document a file is: same path = same document; otherwise a new id or a reported duplicate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from knowledge.base import KnowledgeBase
from tests.input_documents import GRANT_GUIDE, WEB_CAPTURE, annual_report


@pytest.fixture
def kb(open_kb, tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = open_kb(tmp_path / "data")
    yield opened
    opened.close()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def quoted(kb: KnowledgeBase, question: str) -> str:
    answer = kb.ask(question)
    assert not answer.refused, answer.answer
    return " ".join(c.quote for c in answer.citations)


def test_two_different_same_named_files_are_both_kept_and_answerable(kb: KnowledgeBase, tmp_path: Path) -> None:
    first = write(tmp_path / "2023" / "annual-report.txt", annual_report(2023, "4.1 million euros", 37))
    second = write(tmp_path / "2024" / "annual-report.txt", annual_report(2024, "4.6 million euros", 41))
    report = ingest_paths(kb, [tmp_path / "2023", tmp_path / "2024"])
    assert report.added == ["annual-report", "annual-report-2"] and report.ok
    assert report.notes[0].doc_id == "annual-report-2" and "belongs to another file" in report.notes[0].message
    assert "4.1 million" in quoted(kb, "What was the cooperative's revenue in 2023?")
    assert "4.6 million" in quoted(kb, "What was the cooperative's revenue in 2024?")
    # Each file is its own document from now on: re-ingesting both changes nothing, and editing the
    # second updates annual-report-2 only.
    again = ingest_paths(kb, [first, second])
    assert again.unchanged == ["annual-report", "annual-report-2"] and not again.added
    second.write_text(annual_report(2024, "4.7 million euros", 42))
    assert ingest_paths(kb, [second]).updated == ["annual-report-2"]
    assert "4.1 million" in kb.chunks_of("annual-report")[0].text


def test_copies_under_other_names_are_duplicates_unless_forced(kb: KnowledgeBase, tmp_path: Path) -> None:
    text = annual_report(2023, "4.1 million euros", 37)
    for name in ("annual-report.txt", "copy of annual report.txt", "report-final.txt"):
        write(tmp_path / "docs" / name, text)
    report = ingest_paths(kb, [tmp_path / "docs"])
    assert report.added == ["annual-report"] and len(report.duplicates) == 2 and report.ok
    assert {d.doc_id for d in report.duplicates} == {"annual-report"}
    assert all("same content as annual-report" in d.message for d in report.duplicates)
    assert [s.doc_id for s in kb.sources()] == ["annual-report"]
    forced = ingest_paths(kb, [tmp_path / "docs" / "report-final.txt"], force=True)
    assert forced.added == ["report-final"] and "added anyway" in forced.notes[0].message


def test_similar_names_do_not_replace_each_other_unless_replace(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path / "Report 2024.txt", annual_report(2024, "4.6 million euros", 41))
    write(tmp_path / "report_2024.md", annual_report(2024, "5.0 million euros", 44))
    assert ingest_paths(kb, [tmp_path / "Report 2024.txt"]).added == ["report-2024"]
    assert ingest_paths(kb, [tmp_path / "report_2024.md"]).added == ["report-2024-2"]
    assert len(kb.sources()) == 2
    write(tmp_path / "elsewhere" / "report-2024.txt", annual_report(2024, "4.9 million euros", 43))
    replaced = ingest_paths(kb, [tmp_path / "elsewhere" / "report-2024.txt"], replace=True)
    assert replaced.updated == ["report-2024"] and "replaces report-2024" in replaced.notes[0].message
    assert "4.9 million" in kb.chunks_of("report-2024")[0].text and len(kb.sources()) == 2


def test_a_comments_heading_in_a_guide_loses_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    report = ingest_paths(kb, [write(tmp_path / "grant-guide.txt", GRANT_GUIDE)])
    assert report.added == ["grant-guide"] and not report.warnings
    assert report.documents[0].removed_chars == 0 and not report.documents[0].web_capture
    stored = " ".join(c.indexed_text() for c in kb.chunks_of("grant-guide"))  # headings travel as context
    for kept in ("The September round", "grants@regional-office.example", "Tel: +49 30 1234 5678", "9 am to 4 pm"):
        assert kept in stored
    assert "opens on 1 September" in quoted(kb, "Can I apply in September if I missed March?")


def test_a_web_capture_loses_comments_footer_and_advert_and_says_so(kb: KnowledgeBase, tmp_path: Path) -> None:
    report = ingest_paths(kb, [write(tmp_path / "bakery-news.txt", WEB_CAPTURE)])
    document = report.documents[0]
    assert document.web_capture and document.removed_chars > 400 and "comments" in document.removed
    stored = " ".join(c.text for c in kb.chunks_of("bakery-news"))
    for gone in ("Maria", "Leave a Reply", "ACME", "All rights reserved", "Facebook"):
        assert gone not in stored
    assert "five weeks ahead" in stored
    assert report.warnings and "removed 5" in report.warnings[0].message  # over half of the page went


def test_sources_show_prints_the_cleaned_text_and_the_removals(kb: KnowledgeBase, tmp_path: Path,
                                                               models_dir: Path) -> None:
    ingest_paths(kb, [write(tmp_path / "bakery-news.txt", WEB_CAPTURE), write(tmp_path / "grant-guide.txt", GRANT_GUIDE)])
    env = {**os.environ, "SME_ADVISOR_DATA_DIR": str(kb.settings.data_dir), "SME_ADVISOR_MODELS_DIR": str(models_dir)}
    shown = subprocess.run([sys.executable, "-m", "sme_advisor", "sources", "show", "grant-guide"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Digital Upgrade Grant: Guide for Applicants\ndoc_id: grant-guide")
    assert "not a web capture; nothing removed" in shown.stdout
    assert "── Comments ──\nReviewers' comments" in shown.stdout
    assert "── The September round ──\nFirms that missed" in shown.stdout
    web = subprocess.run([sys.executable, "-m", "sme_advisor", "sources", "show", "bakery-news"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert "removed" in web.stdout and "- comments," in web.stdout and "“3 Comments" in web.stdout
    missing = subprocess.run([sys.executable, "-m", "sme_advisor", "sources", "show", "nope"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert missing.returncode == 1 and "No document" in missing.stderr


def test_reindex_keeps_ids_and_source_paths(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path / "a" / "annual-report.txt", annual_report(2023, "4.1 million euros", 37))
    write(tmp_path / "b" / "annual-report.txt", annual_report(2024, "4.6 million euros", 41))
    ingest_paths(kb, [tmp_path / "a", tmp_path / "b"])
    before = {s.doc_id: s.path for s in kb.sources()}
    for source in kb.sources():  # what `sme-advisor reindex` does for each kept copy
        copy = next((kb.settings.data_dir / "files").glob(f"{source.doc_id}.*"))
        report = ingest_paths(kb, [copy], force=True, known={copy: source})
        assert report.updated == [source.doc_id]
    assert {s.doc_id: s.path for s in kb.sources()} == before
    assert json.dumps(before)  # plain strings


def test_terminal_answers_show_the_location() -> None:
    from rich.console import Console

    from knowledge.types import Answer, Citation
    from sme_advisor.render import print_answer

    console = Console(record=True, width=120)
    print_answer(console, Answer(question="q", answer="Insure receivables [1]. [2]", refused=False, citations=[
        Citation(1, "guide", "Export guide", "guide:1", "Insure your receivables.", "Payments › Credit [x]"),
        Citation(2, "notes", "Notes", "notes:1", "Nothing to locate.")]))
    printed = console.export_text()
    assert "[1] Export guide · Payments › Credit [x] (guide)" in printed and "[2] Notes (notes)" in printed
