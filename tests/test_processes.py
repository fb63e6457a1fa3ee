"""Several processes on one library (issue 14): a reader open in this process while CLI processes
ingest, remove, reindex and get killed. Real processes, a real Chroma store on disk, the real model.
The slow, randomised version of these drills is benchmarks/drill_processes.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from knowledge.base import KnowledgeBase
from knowledge.check import check_library, repair_library
from tests.documents import SUCCESSION_PARAGRAPHS

GRANT = ("The Lantern Valley digital grant pays 40 percent of the cost of a first ERP system, "
         "up to 80,000 yuan per firm, for manufacturers with fewer than 200 staff.")
GRANT_QUESTION = "How much does the Lantern Valley digital grant pay for an ERP system?"
SUCCESSION_QUESTION = "How long does a family business handover take?"


def cli_env(data_dir: Path, models_dir: Path) -> dict[str, str]:
    return {**os.environ, "SME_ADVISOR_DATA_DIR": str(data_dir), "SME_ADVISOR_MODELS_DIR": str(models_dir),
            "HF_HUB_OFFLINE": "1"}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sme_advisor", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def write_library(folder: Path, documents: int) -> Path:
    """Distinct succession notes, enough of them that a write takes several seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        paragraphs = [f"Note {n}, part {i}: {p}" for i, p in enumerate(SUCCESSION_PARAGRAPHS * 3)]
        (folder / f"family-note-{n:02d}.txt").write_text(f"Succession note {n}\n\n" + "\n\n".join(paragraphs))
    return folder


def cited(answer) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.doc_id for c in answer.citations}


@pytest.fixture
def reader(open_kb, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A library with one document, held open here the way a running bot holds it."""
    kb: KnowledgeBase = open_kb(tmp_path / "data")
    assert ingest_paths(kb, [write_library(tmp_path / "base", 1)], topics=["succession"]).ok
    yield kb
    kb.close()


def test_a_running_reader_follows_ingest_remove_and_reindex_of_other_processes(
        reader: KnowledgeBase, tmp_path: Path, models_dir: Path) -> None:
    env = cli_env(reader.settings.data_dir, models_dir)
    assert reader.ask(GRANT_QUESTION).outcome == "refused"  # its caches are warm, without the grant
    grant = tmp_path / "new" / "lantern-valley-grant.txt"
    grant.parent.mkdir()
    grant.write_text("Lantern Valley digital grant\n\n" + GRANT)
    assert cli(env, "ingest", str(grant), "--json").returncode == 0

    answer = reader.ask(GRANT_QUESTION)
    assert answer.outcome == "answered" and "lantern-valley-grant" in cited(answer), answer.answer
    assert "40 percent" in answer.answer

    assert cli(env, "sources", "remove", "lantern-valley-grant").returncode == 0
    after_removal = reader.ask(GRANT_QUESTION)
    assert "lantern-valley-grant" not in cited(after_removal) and "Lantern Valley" not in after_removal.answer

    assert cli(env, "reindex").returncode == 0  # the collections this reader had open are gone now
    answer = reader.ask(SUCCESSION_QUESTION)
    assert answer.outcome in {"answered", "hedged"} and cited(answer) == {"family-note-00"}
    assert check_library(reader).ok


def test_a_reader_opening_the_library_during_an_ingest_loses_none_of_its_vectors(
        open_kb, tmp_path: Path, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    env = cli_env(data, models_dir)
    writer = subprocess.Popen([sys.executable, "-m", "sme_advisor", "ingest", str(write_library(tmp_path / "docs", 6)),
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    openings = 0
    while writer.poll() is None:  # each opening used to "recover" the writer's unfinished document away
        kb = open_kb(data)
        kb.sources()
        kb.close()
        openings += 1
        time.sleep(0.2)
    out, _ = writer.communicate()
    assert writer.returncode == 0 and len(json.loads(out)["added"]) == 6
    assert openings >= 3  # the ingest really ran beside the readers
    kb = open_kb(data)
    report = check_library(kb)
    kb.close()
    assert report.ok, report.problems
    assert report.chunks == report.vectors == report.keyword_entries > 0


def test_a_killed_reindex_leaves_the_old_library_whole(reader: KnowledgeBase, tmp_path: Path,
                                                     models_dir: Path) -> None:
    assert ingest_paths(reader, [write_library(tmp_path / "more", 6)]).ok
    before = check_library(reader)
    assert before.ok
    staging = reader.settings.data_dir / "reindex"
    killed = subprocess.Popen([sys.executable, "-m", "sme_advisor", "reindex"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=cli_env(reader.settings.data_dir, models_dir))
    deadline = time.monotonic() + 300
    while not staging.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # well into building the new vectors
    assert killed.poll() is None, "the reindex finished before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    answer = reader.ask(SUCCESSION_QUESTION)  # the reader goes on answering from the old vectors
    assert answer.outcome in {"answered", "hedged"} and answer.citations
    found = check_library(reader)
    assert not found.missing_vectors and found.vectors == before.vectors
    assert found.unfinished_reindex or found.unused_collections  # what the killed one half-built is seen
    repaired = repair_library(reader)
    assert repaired.ok and repaired.repaired, repaired.problems
    assert not staging.exists()


def test_check_finds_chunks_without_vectors_and_ingest_or_repair_embeds_them_again(
        reader: KnowledgeBase, tmp_path: Path, models_dir: Path) -> None:
    chunk_ids = [c.chunk_id for c in reader.chunks_of("family-note-00")]
    store = next(s for s in reader.store.stores.values() if set(chunk_ids) <= set(s.all_ids()))
    store.delete(chunk_ids[:3])  # what a killed reindex of an older version left behind

    env = cli_env(reader.settings.data_dir, models_dir)
    result = cli(env, "check", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and sorted(report["missing_vectors"]["family-note-00"]) == sorted(chunk_ids[:3])
    assert report["problems"][0].startswith("without a vector (vector search cannot find them): 3 chunks of 1 document")

    again = cli(env, "ingest", str(tmp_path / "base"), "--json")  # "unchanged" used to repair nothing
    assert again.returncode == 0 and json.loads(again.stdout)["repaired"] == ["family-note-00"]
    assert json.loads(cli(env, "check", "--json").stdout)["ok"] is True

    store.delete(chunk_ids[:2])
    repaired = cli(env, "check", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stdout
    assert json.loads(repaired.stdout)["repaired"] == ["embedded 2 chunks again"]
