"""The catalogue's SQLite file: per-thread connections, the schema (`schema.sql`) and its migrations,
transactions, snapshots, meta values and the library version (`CatalogueBase`, under every Catalogue part).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from ..errors import StoreError
from .records import is_demo_source

T = TypeVar("T")

SCHEMA_VERSION = "1"
DEMO_MARKED = "demo_marked"  # meta key: the stores made before the demo table have had their demo marked


def _schema() -> str:
    return files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


class _Connection(sqlite3.Connection):
    """A plain connection that can be weakly referenced (so a finished thread's one can be collected)."""


class CatalogueBase:
    """The catalogue's file. Each thread gets its own SQLite connection (`db`), so threads sharing one
    Catalogue never run inside each other's transactions, and `snapshot()` gives each thread a consistent view."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._closed = False
        self._memo: tuple[int, dict[str, Any]] = (-1, {})  # see _per_version
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_schema())
            found = self.get_meta("schema_version")
            if found is None:
                self.set_meta("schema_version", SCHEMA_VERSION)
            elif found != SCHEMA_VERSION:
                raise StoreError(f"{path}: catalogue schema {found} is not the supported {SCHEMA_VERSION}")
            if self.get_meta(DEMO_MARKED) is None:
                self._mark_demo_sources()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable catalogue ({exc})") from None

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection to the catalogue (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "db", None)
        if conn is None:
            if self._closed:
                raise StoreError(f"{self.path}: the catalogue is closed")
            conn = sqlite3.connect(
                str(self.path), timeout=30, isolation_level=None, check_same_thread=False, factory=_Connection
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            # A larger page cache and memory-mapped reads: the lexical index of a large library is read
            # on every question (at 100k chunks a BM25 query over common words took 145 ms, then 78 ms).
            conn.execute("PRAGMA cache_size=-65536")  # KiB: up to 64 MiB per connection, as needed
            conn.execute("PRAGMA mmap_size=268435456")
            self._connections.add(conn)
            self._local.db = conn
        return conn

    def close(self) -> None:
        self._closed = True
        for conn in list(self._connections):
            conn.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one consistent state of the catalogue, whatever a writer commits meanwhile.

        A read transaction on this thread's connection (WAL readers never block the writer); re-entrant.
        A question's reads (search, then the documents, texts and sections of what it found) belong in
        one, or a version retired half-way through would be missing by the time it is read.
        """
        db = self.db
        if db.in_transaction:
            yield
            return
        db.execute("BEGIN")
        try:
            yield
        finally:
            db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        self._local.writing = True
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self._local.writing = False
        self.db.execute("COMMIT")

    def _per_version(self, key: str, read: Callable[[], T]) -> T:
        """A read of the active documents, memoised until the library version changes.

        Every change to which documents are active bumps the version in the same transaction, so a value
        and the version read in one snapshot stay true together, for every connection and process. Not
        memoised inside a write transaction (it may yet roll back).
        """
        if getattr(self._local, "writing", False):
            return read()
        with self.snapshot():
            version = self.library_version()
            memo = self._memo
            if memo[0] != version:
                memo = self._memo = (version, {})
            if key not in memo[1]:
                memo[1][key] = read()
            value: T = memo[1][key]
            return value

    def _mark_demo_sources(self) -> None:
        """Additive migration: documents whose source is the demo folder count as demo (once per store)."""
        with self.transaction() as db:
            rows = db.execute("SELECT doc_id, source FROM documents").fetchall()
            db.executemany(
                "INSERT OR IGNORE INTO demo_documents(doc_id) VALUES (?)",
                [(r[0],) for r in rows if is_demo_source(str(r[1]))],
            )
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (DEMO_MARKED,))

    # --- meta ---------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def claim_meta(self, key: str, value: str) -> str | None:
        """Set `key` unless it is set already (by another process at the same moment); the value it holds."""
        self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
        return self.get_meta(key)

    def library_version(self) -> int:
        return int(self.get_meta("library_version") or 0)

    def _bump(self) -> None:
        self.set_meta("library_version", str(self.library_version() + 1))


def peek(path: Path, meta_keys: tuple[str, ...]) -> tuple[bool, dict[str, str]]:
    """(holds active documents, the meta values of `meta_keys` it has) of an existing catalogue, read without
    creating or changing it; (False, {}) when there is none or it is not a catalogue (yet)."""
    if not path.is_file():
        return False, {}
    try:
        db = sqlite3.connect(str(path), timeout=30)
        try:
            docs = db.execute("SELECT 1 FROM documents WHERE status = 'active' LIMIT 1").fetchone()
            marks = ",".join("?" * len(meta_keys))
            found = db.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", meta_keys).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return False, {}  # Catalogue() gives the clear message
    return docs is not None, {str(k): str(v) for k, v in found}
