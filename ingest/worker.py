"""Loads files in a separate process, so that a file which hangs a parser can be given up.

A thread cannot be stopped; a process can. One worker process serves all the files of an ingest
run (starting one costs about a tenth of a second, the parsers' imports more), and is killed and
replaced when a file takes longer than the time limit. A crash of the worker (a parser running out
of memory, a segfault in a C extension) costs only that file.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import signal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)
DEFAULT_FUNCTION = "ingest.loaders:load_document"


class LoadTimeout(Exception):
    pass


class WorkerDied(Exception):
    pass


class LoadWorker:
    """`load(path)` runs `function(path, *args)` in the worker; its exceptions are re-raised here."""

    def __init__(self, timeout_s: float, function: str = DEFAULT_FUNCTION) -> None:
        self.timeout_s = timeout_s
        self.function = function
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> LoadWorker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def load(self, path: Path, *args: Any) -> Any:
        connection = self._ensure_started()
        connection.send((str(path), args))
        if not connection.poll(self.timeout_s):
            self._kill()
            raise LoadTimeout(f"reading the file took longer than {self.timeout_s:g} s; gave up "
                              "(a very large or damaged file?)")
        try:
            status, value = connection.recv()
        except (EOFError, OSError) as error:
            code = self._process.exitcode if self._process is not None else None
            self._kill()
            raise WorkerDied(f"the file reader stopped while reading the file (exit code {code}); "
                             "the file may be damaged or need too much memory") from error
        if status == "ok":
            return value
        raise value

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.send(None)
            except OSError:
                pass
        if self._process is not None:
            self._process.join(2)
        self._kill()

    def _ensure_started(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            self._kill()
            context = multiprocessing.get_context("spawn")  # no forking of a threaded process
            parent, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child, self.function), daemon=True,
                                            name="sme-advisor-loader")
            self._process.start()
            child.close()
            self._connection = parent
        assert self._connection is not None
        return self._connection

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        if self._connection is not None:
            self._connection.close()
        self._process, self._connection = None, None


def _resolve(function: str) -> Callable[..., Any]:
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def _serve(connection: Connection, function: str) -> None:
    """The worker's loop: a path in, ("ok", result) or ("error", exception) out, until None."""
    # Ctrl-C in the terminal reaches the whole process group: the ingest process handles it (and
    # ends this worker), so the worker must not die first with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load = _resolve(function)
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, args = request
        try:
            reply = ("ok", load(Path(path), *args))
        except Exception as error:  # sent back and re-raised in the ingest process
            reply = ("error", error)
        try:
            connection.send(reply)
        except Exception as error:  # an exception or result that cannot be pickled
            connection.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
