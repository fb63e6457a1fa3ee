"""A real `chroma run` server on loopback for the server-mode tests (tests/conftest.py offers the fixture)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_chroma(path: Path, log_path: Path, timeout_s: float = 60) -> Iterator[int]:
    """The port of a `chroma run` serving `path` on 127.0.0.1 until the block ends (its output
    appended to `log_path`); RuntimeError when it does not answer within `timeout_s`."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        process = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("chroma server did not start: " + log_path.read_text()[-2000:])
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """The port of a `chroma run` serving tmp_path/server on 127.0.0.1, stopped after the test."""
    with running_chroma(tmp_path / "server", tmp_path / "chroma.log") as port:  # a start failure errors the test
        yield port
