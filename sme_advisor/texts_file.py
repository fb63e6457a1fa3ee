"""Reading the admin's texts file (`TEXTS_FILE`, see `sme_advisor.welcome`): TOML with one section
per language. What it gets wrong is said in `problems`, one line each, for the operator's log."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYS = ("name", "intro", "examples", "help")
LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class TextsFile:
    """The admin's texts per language, as read from the file (only the keys it sets)."""

    by_language: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_texts_file(path: Path) -> TextsFile:
    """The admin's texts; a missing file is no texts, a broken one is reported in `problems`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return TextsFile()
    except OSError as error:
        return TextsFile(problems=[f"cannot read it ({error.strerror or error})"])
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return TextsFile(problems=[f"not valid TOML ({error})"])
    by_language: dict[str, dict[str, Any]] = {}
    problems = []
    for language, section in data.items():
        if language not in LANGUAGES or not isinstance(section, dict):
            problems.append(f"[{language}] is not a language section (use [en] or [zh])")
            continue
        kept: dict[str, Any] = {}
        for key, value in section.items():
            if key not in KEYS:
                problems.append(f"[{language}] {key}: unknown key (known: {', '.join(KEYS)})")
            elif key == "examples":
                if isinstance(value, str):
                    value = [value]
                if not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
                    problems.append(f"[{language}] examples: expected a list of questions")
                    continue
                kept[key] = [v.strip() for v in value]
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"[{language}] {key}: expected a text")
            else:
                kept[key] = value.strip()
        by_language[language] = kept
    return TextsFile(by_language, problems)


