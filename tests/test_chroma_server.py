"""Server mode against a real `chroma run` on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import ingest_paths
from ingest.starter import starter_files

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    log = (tmp_path / "chroma.log").open("w")
    process = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma server did not start: " + (tmp_path / "chroma.log").read_text()[-2000:])
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


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
