"""A real `chroma run` server on loopback for the server-mode tests (tests/conftest.py offers the fixture)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The port of a `chroma run` serving tmp_path/server on 127.0.0.1, stopped after the test."""
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
        log.close()
