"""Question sets: JSON Lines (one item per line) or YAML (a list of the same items).

A malformed item is reported with its line (JSONL) or position (YAML) and skipped, so one typo does
not throw away a whole evaluation run; the command still exits non-zero at the end.

Every item has a language pair `lang`: "<question>-<source>" ("zh-zh", "zh-en", "en-zh", "en-en")
or "<question>-oos" for an out-of-scope question. Items without one get it inferred: the question's
language from its script (knowledge.language), the source's assumed to be the same.

An item may say what `kind` of message it is (KINDS): how owners ask (direct, paraphrase,
first-person, follow-up), a question the library does not cover (out-of-scope), or small talk
("hi", "thanks": answerable false; the reply must be conversation, neither an answer nor a refusal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.language import primary
from knowledge.types import Turn

LANG_PAIR = re.compile(r"^(zh|en)-(zh|en|oos)$")
# What kind of message an item is, as owners write them; answer-level figures are reported per kind.
KINDS = ("direct", "paraphrase", "first-person", "follow-up", "out-of-scope", "small-talk")


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    question: str
    answerable: bool
    expected_sources: tuple[str, ...] = ()
    expected_keywords: tuple[str, ...] = ()
    topic: str = "general"
    history: tuple[Turn, ...] = ()
    split: str | None = None
    lang: str = "en-en"
    kind: str = "direct"


@dataclass(frozen=True, slots=True)
class ItemError:
    where: str  # "line 7" or "item 3"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class LoadedSet:
    items: list[EvalItem] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


class DatasetError(Exception):
    """The file as a whole cannot be read (missing, not JSONL/YAML)."""


def load_items(path: Path, split: str | None = None) -> LoadedSet:
    """Reads `path`; with `split`, keeps only items of that split (items without one are kept)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from error
    if path.suffix.lower() in (".yaml", ".yml"):
        raw = _yaml_records(text)
    else:
        raw = _jsonl_records(text)
    loaded = LoadedSet()
    seen: set[str] = set()
    for where, record in raw:
        if isinstance(record, ItemError):
            loaded.errors.append(record)
            continue
        try:
            item = parse_item(record)
        except ValueError as error:
            loaded.errors.append(ItemError(where, str(error)))
            continue
        if item.id in seen:
            loaded.errors.append(ItemError(where, f"duplicate id {item.id!r}"))
            continue
        seen.add(item.id)
        if split is None or item.split in (None, split):
            loaded.items.append(item)
    return loaded


def _jsonl_records(text: str) -> list[tuple[str, Any]]:
    records: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            records.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as error:
            records.append((f"line {number}", ItemError(f"line {number}", f"not valid JSON ({error.msg})")))
    return records


def _yaml_records(text: str) -> list[tuple[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DatasetError(f"not valid YAML: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise DatasetError("a YAML question set must be a list of items (or a mapping with `items:`)")
    return [(f"item {number}", record) for number, record in enumerate(data, start=1)]


def parse_item(record: Any) -> EvalItem:
    if not isinstance(record, dict):
        raise ValueError("an item must be an object")
    item_id, question = record.get("id"), record.get("question")
    if not isinstance(item_id, (str, int)) or str(item_id).strip() == "":
        raise ValueError("missing `id`")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("missing `question`")
    answerable = record.get("answerable")
    if not isinstance(answerable, bool):
        raise ValueError("`answerable` must be true or false")
    return EvalItem(
        id=str(item_id),
        question=question,
        answerable=answerable,
        expected_sources=_strings(record, "expected_sources"),
        expected_keywords=_strings(record, "expected_keywords"),
        topic=str(record.get("topic") or "general"),
        history=_history(record.get("history")),
        split=str(record["split"]) if record.get("split") is not None else None,
        lang=_lang(record.get("lang"), question, answerable),
        kind=_kind(record.get("kind"), answerable, bool(record.get("history"))),
    )


def _kind(value: Any, answerable: bool, has_history: bool) -> str:
    """The item's kind; without one: a follow-up when it has history, else direct or out-of-scope."""
    if value is None:
        return "follow-up" if has_history and answerable else ("direct" if answerable else "out-of-scope")
    if value not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(KINDS)}")
    if (value in ("out-of-scope", "small-talk")) == answerable:
        raise ValueError(f"a {value} item must be answerable: {'false' if answerable else 'true'}")
    return str(value)


def _lang(value: Any, question: str, answerable: bool) -> str:
    if value is None:
        asked = primary(question)
        return f"{asked}-{asked}" if answerable else f"{asked}-oos"
    if not isinstance(value, str) or not LANG_PAIR.match(value):
        raise ValueError("`lang` must be question-source language, e.g. zh-zh, zh-en, en-zh, en-en, zh-oos, en-oos")
    if value.endswith("-oos") == answerable:
        raise ValueError("`lang` ends in -oos exactly when the item is not answerable")
    return value


def _strings(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"`{key}` must be a list of strings")
    return tuple(value)


def _history(value: Any) -> tuple[Turn, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("`history` must be a list of {role, content}")
    turns = []
    for turn in value:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") \
                or not isinstance(turn.get("content"), str):
            raise ValueError("each `history` turn needs role user|assistant and a content string")
        turns.append(Turn(turn["role"], turn["content"]))
    return tuple(turns)
