"""Checks made before a file is read whole: what it is, how big it is, what a zip holds inside.

Every refusal is an `UnsafeInput` whose message is fit to show an admin. Paths with bytes that are
not UTF-8 (possible on Linux) are shown through `display_path`, so that no report, log line,
JSON output or SQLite row ever carries an unpaired surrogate.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000
DEFAULT_MAX_FILE_BYTES = 50 * MB
ZIP_FORMATS = {".docx", ".pptx", ".xlsx"}
_OFFICE_NAMES = {".docx": "Word", ".pptx": "PowerPoint", ".xlsx": "Excel"}


class UnsafeInput(Exception):
    """A file refused before reading it; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    # An office file with many embedded pictures holds a few hundred members and rarely more than
    # 100 MB uncompressed; XML compresses about 10:1, a zip bomb 1000:1 and more.
    max_members: int = 10_000
    max_total_bytes: int = 300 * MB
    max_ratio: float = 200.0
    ratio_applies_above: int = 10 * MB  # tiny members may compress extremely well legitimately


def display_path(path: Path | str) -> str:
    """The path as text anyone can print: undecodable bytes become U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", errors="replace")


def human_size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def size_over(size: int, limit: int) -> str:
    """`size` in MB with as many decimals as it takes to read as more than `limit`: a file one byte
    over 50 MB is "50.000001 MB", never "50.0 MB; the limit is 50 MB"."""
    for decimals in range(1, 7):
        shown = f"{size / MB:.{decimals}f}"
        if float(shown) > limit / MB:
            return f"{shown} MB"
    return f"{size / MB:.6f} MB"


def file_kind(mode: int) -> str | None:
    """None for a regular file, else what it is, in words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_regular_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> int:
    """The file's size, after making sure it is a regular file within the size limit."""
    try:
        info = path.stat()  # follows a symlink given on purpose; walking folders does not
    except OSError as error:
        raise UnsafeInput(f"cannot read the file: {error.strerror or error}") from error
    kind = file_kind(info.st_mode)
    if kind is not None:
        raise UnsafeInput(f"not a regular file ({kind}); skipped")
    if info.st_size > max_bytes:
        raise UnsafeInput(f"the file is too large ({size_over(info.st_size, max_bytes)}; the limit is "
                          f"{max_bytes / MB:g} MB)")
    return info.st_size


def read_capped(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The file's bytes, never more than the limit (a file may grow between stat and read)."""
    check_regular_file(path, max_bytes)
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeInput(f"the file is too large (over {max_bytes / MB:g} MB, the limit)")
    return data


def check_zip_container(path: Path, limits: ZipLimits = ZipLimits()) -> None:
    """Refuses a docx/pptx/xlsx whose members would expand beyond reason, before anything is
    extracted. Only the central directory is read; `zipfile` never inflates a member past the size
    declared there, so checking the declared sizes bounds what extraction can cost."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        suffix = path.suffix.lower()
        name = _OFFICE_NAMES.get(suffix, "zip")
        article = "an" if name[0] in "AEIOU" else "a"
        raise UnsafeInput(f"corrupt or not {article} {name} {suffix} file: {error}") from error
    if len(members) > limits.max_members:
        raise UnsafeInput(f"the file holds {len(members):,} parts (the limit is {limits.max_members:,}); "
                          "refused as a possible zip bomb")
    total = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    if total > limits.max_total_bytes:
        raise UnsafeInput(f"the file would expand to {human_size(total)} (the limit is "
                          f"{limits.max_total_bytes / MB:g} MB); refused as a possible zip bomb")
    for member in members:
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > limits.ratio_applies_above and ratio > limits.max_ratio:
            raise UnsafeInput(f"a part of the file ({member.filename}) expands {ratio:,.0f} times, to "
                              f"{human_size(member.file_size)}; refused as a possible zip bomb")
    if total > limits.ratio_applies_above and total / packed > limits.max_ratio:
        raise UnsafeInput(f"the file expands {total / packed:,.0f} times, to {human_size(total)}; "
                          "refused as a possible zip bomb")
