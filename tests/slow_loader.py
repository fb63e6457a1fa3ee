"""Loader stand-ins for the worker tests (imported by the worker process by name)."""

from __future__ import annotations

import time
from pathlib import Path


def sleep_then_load(path: Path, seconds: float = 30.0) -> str:
    if path.name.startswith("slow"):
        time.sleep(seconds)
    return path.read_text()


def die(path: Path) -> str:
    import os

    os._exit(3)
