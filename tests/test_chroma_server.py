"""Server mode against a real `chroma run` on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from ingest.starter import starter_files

pytestmark = pytest.mark.slow


def test_ingest_and_ask_through_a_chroma_server(open_kb, tmp_path: Path, chroma_server: int) -> None:  # type: ignore[no-untyped-def]
    kb = open_kb(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server)
    try:
        assert kb.store.count() == 0
        report = ingest_paths(kb, starter_files()[:2])
        assert report.ok and kb.store.count() == report.chunks_added
        answer = kb.ask("How many little giants are listed on the A-share market?")
        assert not answer.refused and answer.citations[0].doc_id == "little-giants-growing"
        assert kb.remove_source("little-giants-growing")
        assert kb.store.count() == len(list(kb.catalog.iter_chunks()))
    finally:
        kb.close()
    assert not (tmp_path / "data" / "chroma").exists(), "server mode keeps no local vector store"
