"""The audit log: every answer given, with what it cited and which library version it was drawn from, and
every correction a user made to a document's detected facts.

Its own SQLite file (`audit.sqlite3` in the store directory, WAL), so auditing never blocks ingest and the
catalogue can be rebuilt without losing the record. Entries older than the retention period
(`Settings.audit_retention_days`, env CQC_ASSISTANT_AUDIT_RETENTION_DAYS) are pruned whenever the log is
opened.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import QueryError, StoreError
from .models import Answer

FILE_NAME = "audit.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT,
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    mode TEXT NOT NULL,
    citations TEXT NOT NULL,
    library_version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS corrections(
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT,
    doc_id TEXT NOT NULL,
    title TEXT NOT NULL,
    field TEXT NOT NULL,
    action TEXT NOT NULL,
    detected TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    library_version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS corrections_at ON corrections(at);
"""
_EDIT_COLS = "id, at, user, doc_id, title, field, action, detected, before, after, library_version"
_COLS = "id, at, user, question, filters, answer, refused, mode, citations, library_version"
CSV_FIELDS = ("id", "at", "user", "question", "filters", "answer", "refused", "mode", "citations",
              "library_version")  # fmt: skip

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str  # UTC, ISO 8601 to the second
    user: str | None
    question: str
    filters: dict[str, Any]
    answer: str
    refused: bool
    mode: str
    citations: list[dict[str, Any]]  # [{doc_id, start, end}]
    library_version: int

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_row(self) -> dict[str, Any]:
        """Flat values for CSV: filters and citations as JSON text, refused as 0/1."""
        data = self.to_json()
        data["filters"] = json.dumps(self.filters, sort_keys=True, ensure_ascii=False)
        data["citations"] = json.dumps(self.citations, ensure_ascii=False)
        data["refused"] = int(self.refused)
        return data


@dataclass(frozen=True)
class CorrectionEntry:
    """One field of one document corrected (`set`) or its correction dropped (`clear`): the value detection
    found, the value shown before and the value shown after."""

    id: int
    at: str
    user: str | None
    doc_id: str
    title: str
    field: str
    action: str
    detected: Any
    before: Any
    after: Any
    library_version: int

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def parse_since(value: str) -> str:
    """'2025-06-01' (or a full ISO time) → the UTC ISO prefix entries are compared with."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise QueryError(f"--since {value!r} is not a real date") from None
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"--since {value!r} is not a date: use YYYY-MM-DD") from None
    return _iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class AuditLog:
    """Append-only record of answers; safe to share across threads (writes are serialised)."""

    def __init__(self, path: Path, *, retention_days: int | None = None, clock: Clock = _utc_now) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable audit log ({exc})") from None
        if retention_days is not None:
            self.prune(retention_days)

    @classmethod
    def for_settings(cls, settings: Settings, *, clock: Clock = _utc_now) -> AuditLog:
        """The store's audit log, pruned to the configured retention."""
        return cls(settings.home / FILE_NAME, retention_days=settings.audit_retention_days, clock=clock)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, answer: Answer, *, library_version: int, user: str | None = None) -> int:
        """Store one answer; return its entry id."""
        citations = [{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in answer.citations]
        values = (
            _iso(self.clock()), user, answer.question,
            json.dumps(answer.filters, sort_keys=True, ensure_ascii=False, default=str), answer.answer,
            int(answer.refused), answer.mode, json.dumps(citations), int(library_version),
        )  # fmt: skip
        with self._lock:
            try:
                cur = self.db.execute(
                    "INSERT INTO audit(at, user, question, filters, answer, refused, mode, citations, "
                    "library_version) VALUES (?,?,?,?,?,?,?,?,?)",
                    values,
                )
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot write to the audit log ({exc})") from None
            return int(cur.lastrowid or 0)

    def record_correction(
        self,
        doc_id: str,
        title: str,
        changes: list[tuple[str, str, Any, Any, Any]],
        *,
        library_version: int,
        user: str | None = None,
    ) -> None:
        """Store one edit: (field, action, detected, before, after) per field changed."""
        at = _iso(self.clock())
        rows = [
            (at, user, doc_id, title, name, action, json.dumps(detected), json.dumps(before), json.dumps(after),
             int(library_version))
            for name, action, detected, before, after in changes
        ]  # fmt: skip
        with self._lock:
            try:
                self.db.executemany(
                    "INSERT INTO corrections(at, user, doc_id, title, field, action, detected, before, after, "
                    "library_version) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot write to the audit log ({exc})") from None

    def corrections(self, since: str | None = None) -> list[CorrectionEntry]:
        """Corrections oldest first; `since` as for `entries`."""
        query = f"SELECT {_EDIT_COLS} FROM corrections"
        params: tuple[str, ...] = ()
        if since is not None:
            query, params = query + " WHERE at >= ?", (parse_since(since),)
        with self._lock:
            rows = self.db.execute(query + " ORDER BY at, id", params).fetchall()
        return [
            CorrectionEntry(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), json.loads(r[8]), json.loads(r[9]), r[10]
            )
            for r in rows
        ]

    def entries(self, since: str | None = None) -> list[AuditEntry]:
        """Entries oldest first; `since` is YYYY-MM-DD (UTC) or an ISO time."""
        with self._lock:
            if since is None:
                rows = self.db.execute(f"SELECT {_COLS} FROM audit ORDER BY at, id").fetchall()
            else:
                rows = self.db.execute(
                    f"SELECT {_COLS} FROM audit WHERE at >= ? ORDER BY at, id", (parse_since(since),)
                ).fetchall()
        return [
            AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], bool(r[6]), r[7], json.loads(r[8]), r[9])
            for r in rows
        ]

    def prune(self, retention_days: int) -> int:
        """Delete entries older than `retention_days`; return how many went."""
        if retention_days <= 0:
            raise ValueError("retention_days must be positive")
        cutoff = _iso(self.clock() - timedelta(days=retention_days))
        with self._lock:
            cur = self.db.execute("DELETE FROM audit WHERE at < ?", (cutoff,))
        return int(cur.rowcount)
