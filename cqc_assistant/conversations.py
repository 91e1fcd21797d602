"""Saved conversations: every answer kept in the store (`conversations.sqlite3`, beside the catalogue), so a
conversation comes back after a reload and earlier ones can be reopened, renamed or deleted.

A separate file from the catalogue: conversations are the user's work, not the library, and never change
what is searched.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import NotFoundError, QueryError, StoreError
from .models import Answer, Citation

TITLE_CHARS = 80
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations(
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns(
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (conversation_id, idx)
);
"""


@dataclass(frozen=True)
class SavedConversation:
    id: str
    title: str
    created_at: str
    updated_at: str
    turns: int


def title_for(question: str) -> str:
    """A conversation's first title: its first question, cut at a word boundary."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    return text[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def answer_from_json(data: dict[str, Any]) -> Answer:
    """An Answer back from `Answer.to_json()` (fields it does not know are ignored, missing ones default)."""
    known = {f.name for f in fields(Answer)}
    cite_fields = {f.name for f in fields(Citation)}
    values = {k: v for k, v in data.items() if k in known}
    values["citations"] = tuple(
        Citation(**{k: v for k, v in c.items() if k in cite_fields}) for c in data.get("citations") or []
    )
    values["searched"] = tuple(data.get("searched") or ())
    if "closest" in known:
        values["closest"] = tuple(data.get("closest") or ())
    return Answer(**values)


class ConversationStore:
    """Conversations of one store. A connection per call: the app calls from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_settings(cls, settings: Settings) -> ConversationStore:
        return cls(settings.home / "conversations.sqlite3")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the saved conversations ({exc})") from None
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)  # each time: cheap, and a file removed under a running app comes back
            with conn:
                yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot use the saved conversations ({exc})") from None
        finally:
            conn.close()

    def create(self, title: str) -> str:
        cid = uuid.uuid4().hex[:12]
        now = _now()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (cid, title_for(title) or "Conversation", now, now),
            )
        return cid

    def get(self, cid: str) -> SavedConversation | None:
        found = self.recent(where=cid)
        return found[0] if found else None

    def recent(self, limit: int = 50, *, where: str | None = None) -> list[SavedConversation]:
        """The most recently used first."""
        sql = (
            "SELECT c.id, c.title, c.created_at, c.updated_at, count(t.idx) FROM conversations c "
            "LEFT JOIN turns t ON t.conversation_id = c.id "
            + ("WHERE c.id = ? " if where is not None else "")
            + "GROUP BY c.id ORDER BY c.updated_at DESC, c.created_at DESC LIMIT ?"
        )
        with self._db() as db:
            rows = db.execute(sql, ([where] if where is not None else []) + [limit]).fetchall()
        return [SavedConversation(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]

    def rename(self, cid: str, title: str) -> None:
        name = " ".join(title.split())
        if not name:
            raise QueryError("a conversation needs a name")
        with self._db() as db:
            if db.execute("UPDATE conversations SET title = ? WHERE id = ?", (name[:200], cid)).rowcount == 0:
                raise NotFoundError(f"no saved conversation {cid!r}")

    def delete(self, cid: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def append(self, cid: str, answer: Answer) -> None:
        with self._db() as db:
            n = db.execute("SELECT coalesce(max(idx) + 1, 0) FROM turns WHERE conversation_id = ?", (cid,))
            idx = int(n.fetchone()[0])
            db.execute(
                "INSERT INTO turns(conversation_id, idx, answer) VALUES (?, ?, ?)",
                (cid, idx, json.dumps(answer.to_json(), ensure_ascii=False)),
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (_now(), cid))

    def answers(self, cid: str) -> list[Answer]:
        with self._db() as db:
            rows = db.execute("SELECT answer FROM turns WHERE conversation_id = ? ORDER BY idx", (cid,)).fetchall()
        return [answer_from_json(json.loads(r[0])) for r in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
