"""Which files an ingest reads: the files given, and the supported files inside the folders given.

Nothing is skipped silently: hidden files and folders, broken or looping symbolic links, links
that lead out of the given folders, and pipes, sockets or devices are each reported with the
reason. Symbolic links inside a folder are not followed: one that leads out of the given folders
is refused (a link to /etc/hostname in a documents folder is not a document), and one that leads
to a file inside them is left to that file, read under its own name. A path named explicitly is
the admin's choice and is read even when it is a symbolic link.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ingest.safety import display_path, file_kind


@dataclass(frozen=True, slots=True)
class PathProblem:
    path: str  # printable (see `display_path`)
    reason: str


@dataclass(slots=True)
class Walk:
    files: list[Path] = field(default_factory=list)
    failed: list[PathProblem] = field(default_factory=list)  # named explicitly, or unsupported
    skipped: list[PathProblem] = field(default_factory=list)  # left out on purpose, with the reason


def collect_files(paths: Sequence[Path], supported_suffixes: Iterable[str]) -> Walk:
    supported = {suffix.lower() for suffix in supported_suffixes}
    walk = Walk()
    roots = [_resolved(path) for path in paths if path.is_dir()]
    for path in paths:
        if path.is_dir():
            before = len(walk.files)
            _walk_folder(path, [root for root in roots if root is not None], supported, walk)
            if len(walk.files) == before:  # an admin who named the wrong folder wants to hear it
                kinds = ", ".join(sorted(suffix.lstrip(".") for suffix in supported))
                walk.failed.append(PathProblem(display_path(path), f"no documents in this folder (it holds no "
                                                                   f"{kinds} files)"))
        elif path.is_symlink() and not path.exists():
            walk.failed.append(PathProblem(display_path(path), _broken_link_reason(path)))
        elif path.exists():
            kind = file_kind(path.stat().st_mode)
            if kind is None:
                walk.files.append(path)
            else:
                walk.failed.append(PathProblem(display_path(path), f"not a regular file ({kind})"))
        else:
            walk.failed.append(PathProblem(display_path(path), _missing_reason(str(path))))
    return walk


def _missing_reason(text: str) -> str:
    """"no such file or folder", or what is wrong with something that looks like a web address."""
    scheme = re.match(r"^([A-Za-z][\w+.-]*):/", text)
    if scheme and scheme.group(1).lower() in ("http", "https"):
        return "not a complete web address (write it as https://host/path)"
    if scheme:
        return f"only http:// and https:// web addresses can be fetched, not {scheme.group(1)}://"
    if re.match(r"^(www\.|[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}/)", text):
        return f"no such file or folder; for a web page, write the whole address: https://{text}"
    return "no such file or folder"


def _walk_folder(folder: Path, roots: list[Path], supported: set[str], walk: Walk) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        walk.skipped.append(PathProblem(display_path(folder), f"cannot list the folder: {error.strerror or error}"))
        return
    for entry in entries:
        path = Path(entry.path)
        shown = display_path(path)
        if entry.name.startswith("."):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            walk.skipped.append(PathProblem(shown, f"hidden {what} (its name starts with a dot)"))
        elif entry.is_symlink():
            _symlink(path, roots, supported, walk)
        elif entry.is_dir(follow_symlinks=False):
            _walk_folder(path, roots, supported, walk)
        elif entry.is_file(follow_symlinks=False):
            _regular(path, supported, walk)
        else:
            kind = file_kind(entry.stat(follow_symlinks=False).st_mode) or "not a regular file"
            walk.skipped.append(PathProblem(shown, f"not a regular file ({kind})"))


def _regular(path: Path, supported: set[str], walk: Walk) -> None:
    if path.suffix.lower() in supported:
        walk.files.append(path)
    else:
        walk.failed.append(PathProblem(display_path(path), f"unsupported file type {path.suffix!r}"))


def _symlink(path: Path, roots: list[Path], supported: set[str], walk: Walk) -> None:
    shown = display_path(path)
    target = _resolved(path)
    if target is None:
        walk.skipped.append(PathProblem(shown, _broken_link_reason(path)))
    elif not any(target == root or target.is_relative_to(root) for root in roots):
        walk.skipped.append(PathProblem(shown, f"symbolic link to {display_path(target)}, outside the given "
                                               "folders; not followed"))
    elif target.is_dir():
        walk.skipped.append(PathProblem(shown, "symbolic link to a folder; not followed (the folders given are "
                                               "read once)"))
    elif file_kind(target.stat().st_mode) is not None:
        walk.skipped.append(PathProblem(shown, f"symbolic link to {file_kind(target.stat().st_mode)}"))
    else:  # the file itself lies in a given folder: it is read there, under its own name
        walk.skipped.append(PathProblem(shown, f"symbolic link to {display_path(target)}, which is read "
                                               "itself; not followed"))


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop (RuntimeError before Python 3.13)
        return None


def _broken_link_reason(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop"
    except OSError as error:
        if getattr(error, "errno", None) == 40:  # ELOOP
            return "symbolic link loop"
    return "broken symbolic link (its target does not exist)"
