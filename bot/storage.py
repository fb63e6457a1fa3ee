"""The bot's own state in SQLite: conversations, answers given, feedback, usage.

Calls are short and synchronous; handlers run them with `asyncio.to_thread`, and one lock
serialises writers so that the WAL database is never contended from this process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.types import Answer, Citation, Turn

SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_chat ON turns (chat_id, id);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    user_id INTEGER,
    question TEXT NOT NULL,
    refused INTEGER NOT NULL,
    answer_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- A /remove waiting for its confirmation button: the button carries this id, since a doc_id
-- (up to 80 characters) would not fit Telegram's 64-byte callback data.
CREATE TABLE IF NOT EXISTS removals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    admin_id INTEGER NOT NULL,
    created_at REAL NOT NULL
);
-- The language a chat last asked in ("en"/"zh"): commands and buttons answer in it. It outlives
-- /reset, which forgets what was said, not how the chat speaks.
CREATE TABLE IF NOT EXISTS chat_languages (
    chat_id INTEGER PRIMARY KEY,
    language TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL REFERENCES answers (id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
-- Messages on their way to a chat (bot/outbox.py): kept until every part is sent, so an answer
-- survives a Telegram outage and a restart; `sent` counts the parts already delivered, so none is
-- sent twice.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    thread_id INTEGER,
    reply_to INTEGER,
    parts_json TEXT NOT NULL,
    markup_json TEXT,
    html INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    question TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'en',
    apology INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_chat ON outbox (chat_id, id);
"""


@dataclass(frozen=True, slots=True)
class Stats:
    questions: int
    answered: int
    refused: int
    thumbs_up: int
    thumbs_down: int

    @property
    def answered_share(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    id: int
    chat_id: int
    answer: Answer
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class Parcel:
    """One message (in one or more parts) waiting in the outbox."""
    id: int
    chat_id: int
    thread_id: int | None
    reply_to: int | None
    parts: list[str]
    markup: dict[str, Any] | None  # the keyboard under the last part, as Telegram's JSON
    html: bool
    sent: int  # parts already delivered
    question: str
    language: str
    apology: bool
    created_at: float


# SQLite integers are signed 64-bit: a larger id (forged callback data) matches nothing.
MAX_ID = 2**63 - 1


class BotStore:
    def __init__(self, path: Path, history_turns: int = 6) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.history_turns = history_turns
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- conversations -----------------------------------------------------------------------
    def history(self, chat_id: int) -> list[Turn]:
        with self._lock:
            rows = self._db.execute(
                "SELECT role, content FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
                (chat_id, self.history_turns)).fetchall()
        return [Turn(role, content) for role, content in reversed(rows)]

    def add_exchange(self, chat_id: int, question: str, answer_text: str) -> None:
        now = time.time()
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO turns (chat_id, role, content, created_at) VALUES (?, ?, ?, ?)",
                                 [(chat_id, "user", question, now), (chat_id, "assistant", answer_text, now)])

    def reset(self, chat_id: int) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM turns WHERE chat_id = ?", (chat_id,)).rowcount

    def language(self, chat_id: int) -> str | None:
        """The language of the chat's last question, if it has asked one."""
        with self._lock:
            row = self._db.execute("SELECT language FROM chat_languages WHERE chat_id = ?", (chat_id,)).fetchone()
        return row[0] if row else None

    def set_language(self, chat_id: int, language: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO chat_languages (chat_id, language, updated_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, "
                             "updated_at = excluded.updated_at", (chat_id, language, time.time()))

    # --- answers and feedback ----------------------------------------------------------------
    def save_answer(self, chat_id: int, user_id: int | None, answer: Answer) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO answers (chat_id, user_id, question, refused, answer_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, user_id, answer.question, int(answer.refused), json.dumps(answer.to_dict()), time.time()))
            return int(cursor.lastrowid or 0)

    def answer(self, answer_id: int, chat_id: int | None = None) -> StoredAnswer | None:
        """The stored answer; with `chat_id`, only if it was given in that chat (a button's data
        can be forged, the chat it was pressed in cannot)."""
        if not 0 < answer_id <= MAX_ID:
            return None
        with self._lock:
            row = self._db.execute("SELECT id, chat_id, answer_json, user_id FROM answers WHERE id = ?",
                                   (answer_id,)).fetchone()
        if row is None or (chat_id is not None and row[1] != chat_id):
            return None
        return StoredAnswer(row[0], row[1], answer_from_dict(json.loads(row[2])), row[3])

    def record_feedback(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Stores 👍 (+1) or 👎 (-1); a second press replaces the first. False if no such answer."""
        if not 0 < answer_id <= MAX_ID:
            return False
        with self._lock:
            if self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            self._db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
                (answer_id, user_id, vote, time.time()))
            return True

    def feedback(self) -> list[dict[str, Any]]:
        """Every vote with the question, answer and cited sources it was given on (oldest first)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT f.answer_id, f.user_id, f.vote, f.created_at, a.chat_id, a.question, a.refused, "
                "a.answer_json, a.created_at FROM feedback f "
                "JOIN answers a ON a.id = f.answer_id ORDER BY f.created_at, f.answer_id").fetchall()
        result = []
        for answer_id, user_id, vote, voted_at, chat_id, question, refused, answer_json, asked_at in rows:
            answer = json.loads(answer_json)
            result.append({"answer_id": answer_id, "user_id": user_id, "vote": vote, "question": question,
                           "answer": answer["answer"], "sources": [c["doc_id"] for c in answer["citations"]],
                           "source_titles": list(dict.fromkeys(c["title"] for c in answer["citations"])),
                           "voted_at": voted_at, "asked_at": asked_at, "chat_id": chat_id,
                           "refused": bool(refused), "language": answer.get("language", "en"),
                           "mode": answer.get("mode", "extractive")})
        return result

    def unanswered_questions(self) -> list[dict[str, Any]]:
        """Every question the library did not cover, with why and who asked (oldest first)."""
        with self._lock:
            rows = self._db.execute("SELECT id, chat_id, user_id, question, answer_json, created_at FROM answers "
                                    "WHERE refused = 1 ORDER BY id").fetchall()
        result = []
        for answer_id, chat_id, user_id, question, answer_json, asked_at in rows:
            answer = json.loads(answer_json)
            result.append({"answer_id": answer_id, "asked_at": asked_at, "question": question,
                           "reason": answer.get("refusal"), "language": answer.get("language", "en"),
                           "chat_id": chat_id, "user_id": user_id})
        return result

    # --- the outbox ---------------------------------------------------------------------------
    def outbox_add(self, chat_id: int, parts: list[str], *, html: bool, markup: dict[str, Any] | None = None,
                   reply_to: int | None = None, thread_id: int | None = None, question: str = "",
                   language: str = "en") -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO outbox (chat_id, thread_id, reply_to, parts_json, markup_json, html, question, language, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, thread_id, reply_to, json.dumps(parts), json.dumps(markup) if markup else None, int(html),
                 question, language, time.time()))
            return int(cursor.lastrowid or 0)

    def outbox_chats(self) -> list[int]:
        """Chats with something waiting, the longest-waiting first."""
        with self._lock:
            rows = self._db.execute("SELECT chat_id FROM outbox GROUP BY chat_id ORDER BY MIN(id)").fetchall()
        return [row[0] for row in rows]

    def outbox_pending(self, chat_id: int) -> list[Parcel]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, chat_id, thread_id, reply_to, parts_json, markup_json, html, sent, question, language, "
                "apology, created_at FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)).fetchall()
        return [Parcel(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]) if row[5] else None,
                       bool(row[6]), row[7], row[8], row[9], bool(row[10]), row[11]) for row in rows]

    def outbox_sent(self, parcel_id: int, sent: int, parts: int) -> None:
        """`sent` parts of the parcel are delivered; the last one takes it out of the outbox."""
        with self._lock:
            if sent >= parts:
                self._db.execute("DELETE FROM outbox WHERE id = ?", (parcel_id,))
            else:
                self._db.execute("UPDATE outbox SET sent = ? WHERE id = ?", (sent, parcel_id))

    def outbox_apologise(self, parcel_id: int, text: str) -> None:
        """The parcel waited too long: a short apology goes instead of it."""
        with self._lock:
            self._db.execute("UPDATE outbox SET parts_json = ?, markup_json = NULL, html = 0, sent = 0, apology = 1 "
                             "WHERE id = ?", (json.dumps([text]), parcel_id))

    def outbox_drop(self, parcel_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (parcel_id,))

    def outbox_size(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # --- admin actions ---------------------------------------------------------------------
    def request_removal(self, doc_id: str, admin_id: int) -> int:
        with self._lock:
            cursor = self._db.execute("INSERT INTO removals (doc_id, admin_id, created_at) VALUES (?, ?, ?)",
                                      (doc_id, admin_id, time.time()))
            return int(cursor.lastrowid or 0)

    def take_removal(self, request_id: int) -> str | None:
        """The doc_id of a pending removal, which is then no longer pending (a button works once)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT doc_id FROM removals WHERE id = ?", (request_id,)).fetchone()
            self._db.execute("DELETE FROM removals WHERE id = ?", (request_id,))
        return row[0] if row else None

    def unanswered(self, limit: int = 20) -> list[tuple[str, float]]:
        with self._lock:
            return self._db.execute("SELECT question, created_at FROM answers WHERE refused = 1 "
                                    "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    def stats(self) -> Stats:
        with self._lock:
            questions, refused = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(refused), 0) FROM answers").fetchone()
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM feedback").fetchone()
        return Stats(questions, questions - refused, refused, up, down)


def answer_from_dict(data: dict[str, Any]) -> Answer:
    return Answer(question=data["question"], answer=data["answer"], refused=data["refused"],
                  citations=[Citation(**c) for c in data["citations"]], latency_ms=data.get("latency_ms", 0.0),
                  mode=data.get("mode", "extractive"), fallback_reason=data.get("fallback_reason"),
                  language=data.get("language", "en"), refusal=data.get("refusal"),
                  outcome=data.get("outcome") or ("refused" if data["refused"] else "answered"),
                  intent=data.get("intent"))
