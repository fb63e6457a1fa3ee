"""The bot's store for review: feedback and unanswered questions as CSV or JSON Lines files.

Used by the admins' /export in Telegram and by `sme-advisor feedback export`; it imports nothing of
Telegram, so the command line can use it without the bot's dependencies.

CSV is written with a byte-order mark: spreadsheet programs then read it as UTF-8 (Chinese
questions included) when it is opened with a double-click. JSON Lines keeps the lists as lists.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Sequence

from bot.storage import BotStore

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
FEEDBACK_COLUMNS = ["voted_at", "vote", "question", "answer", "sources", "source_titles", "refused", "language",
                    "mode", "asked_at", "answer_id", "chat_id", "user_id"]
UNANSWERED_COLUMNS = ["asked_at", "question", "reason", "language", "answer_id", "chat_id", "user_id"]


@dataclass(frozen=True, slots=True)
class ExportFile:
    kind: Literal["feedback", "unanswered"]
    name: str  # "feedback-2026-05-01.csv"
    data: bytes
    rows: int


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def feedback_rows(store: BotStore) -> list[dict[str, Any]]:
    """One row per vote: 👍 is "up", 👎 is "down"; times in UTC."""
    return [{**vote, "vote": "up" if vote["vote"] > 0 else "down", "voted_at": iso(vote["voted_at"]),
             "asked_at": iso(vote["asked_at"])} for vote in store.feedback()]


def unanswered_rows(store: BotStore) -> list[dict[str, Any]]:
    return [{**row, "asked_at": iso(row["asked_at"])} for row in store.unanswered_questions()]


def encode(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format) -> bytes:
    if fmt == "jsonl":
        return "".join(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n"
                       for row in rows).encode("utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in columns})
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if value is None:
        return ""
    return value


def export_files(store: BotStore, fmt: Format = "csv", day: str | None = None) -> list[ExportFile]:
    """Both exports, named by kind and day (today in UTC unless `day` is given)."""
    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    feedback, unanswered = feedback_rows(store), unanswered_rows(store)
    return [ExportFile("feedback", f"feedback-{day}.{fmt}", encode(feedback, FEEDBACK_COLUMNS, fmt), len(feedback)),
            ExportFile("unanswered", f"unanswered-{day}.{fmt}", encode(unanswered, UNANSWERED_COLUMNS, fmt),
                       len(unanswered))]
