"""The library's write lock: one writer at a time across every process on the data dir.

A write (ingest, remove, reindex, repair) holds an OS file lock (`filelock`, fcntl on Linux) on
`<data dir>/write.lock`. The operating system releases it when its process dies, however it dies,
so "the lock is free" means "no write is under way": start-up recovery takes the lock without
waiting and cleans up only then, and never touches another live process's write. Who holds the
lock (pid, host, what) is written beside it, for the messages of a process that has to wait and
for `sme-advisor check`.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

__all__ = ["LibraryLock", "Timeout", "owner_description"]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, alive
        return True
    return True


def owner_description(owner: dict | None) -> str:  # type: ignore[type-arg]
    if not owner:
        return "another process"
    return f"{owner.get('purpose', 'a write')} (pid {owner.get('pid')} on {owner.get('host')})"


class LibraryLock:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "write.lock"
        self.owner_path = data_dir / "write.owner"
        # Threads of one process (the bot's answer and upload threads) queue here first; the file
        # lock then orders processes. thread_local=False: only the thread holding the RLock uses it.
        self._threads = threading.RLock()
        self._file = FileLock(str(self.path), thread_local=False)
        self._depth = 0

    @contextmanager
    def hold(self, purpose: str, timeout: float = -1,
             on_wait: Callable[[dict | None], None] | None = None) -> Iterator[None]:  # type: ignore[type-arg]
        """Holds the lock for a write; waits for another writer (`on_wait` is told who, once),
        up to `timeout` seconds (-1: as long as it takes), then raises `Timeout`."""
        if not self._threads.acquire(timeout=timeout):
            raise Timeout(str(self.path))
        try:
            if self._depth == 0:
                self._acquire_file(timeout, on_wait)
                self._write_owner(purpose)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.owner_path.unlink(missing_ok=True)
                    self._file.release()
        finally:
            self._threads.release()

    @contextmanager
    def try_hold(self, purpose: str) -> Iterator[bool]:
        """Holds the lock if no one else does, without waiting; yields whether it holds it."""
        held = self.hold(purpose, timeout=0)
        try:
            held.__enter__()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            held.__exit__(None, None, None)

    def owner(self) -> dict | None:  # type: ignore[type-arg]
        """Who holds the lock now, as it wrote itself down (None when no one does)."""
        try:
            owner = json.loads(self.owner_path.read_text())
        except (OSError, ValueError):
            return None
        if owner.get("host") == socket.gethostname() and not _process_alive(int(owner.get("pid", 0))):
            return None  # a dead writer's note (the OS has released its lock already)
        return owner

    def _acquire_file(self, timeout: float, on_wait: Callable[[dict | None], None] | None) -> None:
        try:
            self._file.acquire(timeout=0)
            return
        except Timeout:
            if timeout == 0:
                raise
        if on_wait is not None:
            on_wait(self.owner())
        self._file.acquire(timeout=timeout)

    def _write_owner(self, purpose: str) -> None:
        note = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose,
                "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        staging = self.owner_path.with_name(self.owner_path.name + f".{os.getpid()}")
        staging.write_text(json.dumps(note))
        staging.replace(self.owner_path)
