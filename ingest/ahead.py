"""Reads the next file while this one is embedded.

Parsing (pdfplumber takes about 0.15 s a page) and embedding are the two long stages of ingest,
and they need different things: the parser runs in the load worker process, the models in this
one, releasing the GIL. So while a document is embedded, the next file is already read in the
worker — one file ahead, never more (a document's structure can be large). Every load goes
through the one thread here, so the worker is never asked two things at once. A file that looks
unchanged (same content as the document from its path) is not read ahead: it will be skipped.
A file changed on disk since it was read ahead is read again.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from ingest.document import Document

Load = Callable[[Path, int], Document]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class ReadAhead:
    def __init__(self, load: Load, max_bytes: int) -> None:
        self._load = load
        self._max_bytes = max_bytes
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sme-advisor-read-ahead")
        self._ahead: tuple[Path, tuple[int, int] | None, Future[Document]] | None = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        # Not waiting: after Ctrl-C a read in progress ends when the load worker is stopped.
        self._ahead = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def ahead(self, path: Path) -> None:
        """Starts reading `path` (the next file) unless a read is already waiting to be taken."""
        if self._ahead is None:
            self._ahead = (path, _stamp(path), self._pool.submit(self._load, path, self._max_bytes))

    def load(self, path: Path) -> Document:
        """The document of `path`: the read ahead when it was this file and the file is as it was
        then, else read now (through the same thread)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            earlier, stamp, future = ahead
            if earlier == path and stamp == _stamp(path):
                return future.result()
            try:
                future.result()  # another file's read (or a stale one): wait for it, drop it
            except Exception:  # its own failure is reported when that file's turn comes
                pass
        return self._pool.submit(self._load, path, self._max_bytes).result()
