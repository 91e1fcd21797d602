"""The SQLite catalogue: documents with their stored text, sections, chunks, and the BM25 lexical index.

The lexical index is SQLite FTS5 (BM25 ranking) in the same database file, so it is persisted, updated
incrementally with ingest and remove, and committed in the same transactions as the catalogue.
Versions move through `pending` → `active` → `deleting`; only `active` ones are ever searched.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any, TypeVar

from ..councils import council_token
from ..errors import NotFoundError, StoreError
from ..models import Chunk, DocMeta, Extracted, Section
from .corrected import apply_corrections

T = TypeVar("T")

SCHEMA_VERSION = "1"
LEXICAL_SPARE = 64  # matches ranked beyond the limit, for any that belong to inactive versions
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    council TEXT,
    councils TEXT NOT NULL DEFAULT '[]',
    kind TEXT NOT NULL,
    date TEXT,
    date_precision TEXT,
    rating TEXT,
    percent INTEGER,
    scores TEXT NOT NULL DEFAULT '{}',
    content_type TEXT NOT NULL,
    text TEXT NOT NULL,
    pages TEXT NOT NULL DEFAULT '[]',
    n_chunks INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deleting'))
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_status ON documents(status);
-- Covers the document listing (and the chunk count), so neither reads past each row's stored text:
-- 280 ms -> 25 ms to list 9.5k documents.
CREATE INDEX IF NOT EXISTS documents_listing ON documents(
    status, date, title, doc_id, source, council, councils, kind, date_precision, rating, percent, scores,
    content_type, n_chunks, ingested_at
);
CREATE TABLE IF NOT EXISTS sections(
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    title TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    theme INTEGER,
    qs INTEGER,
    score INTEGER,
    councils TEXT NOT NULL DEFAULT '[]',
    boilerplate INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    section_idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER,
    theme INTEGER,
    qs INTEGER,
    council_keys TEXT NOT NULL DEFAULT ' ',
    kind TEXT NOT NULL,
    date_num INTEGER,
    boilerplate INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(heading, body, tokenize = 'porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
-- The shipped demo documents (fictional Wyvernshire): left out of real work once a real document is in.
CREATE TABLE IF NOT EXISTS demo_documents(doc_id TEXT PRIMARY KEY);
-- A user's corrections to a document's detected facts, apart from detection and keyed by content id (no
-- foreign key: they outlive a remove, and a re-ingest of the same content finds them again).
CREATE TABLE IF NOT EXISTS corrections(
    doc_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (doc_id, field)
);
"""
VECTOR_META_STALE = "vector_meta_stale"  # meta key: doc ids whose Chroma metadata awaits their chunk rows'
DEMO_MARKED = "demo_marked"  # meta key: the stores made before the demo table have had their demo marked


def is_demo_source(source: str) -> bool:
    """A file of the package's demo folder (`cqc_assistant/demo/`), wherever the package is installed."""
    folder = PurePath(source).parent
    return folder.name == "demo" and folder.parent.name == "cqc_assistant"


@dataclass(frozen=True)
class DocRecord:
    doc_id: str
    source: str
    title: str
    council: str | None
    councils: list[str]
    kind: str
    date: str | None
    date_precision: str | None
    rating: str | None
    percent: int | None
    scores: dict[int, int]
    content_type: str
    n_chunks: int
    ingested_at: str
    status: str
    corrected: tuple[str, ...] = ()  # the fields a user corrected (see Catalogue.corrections)
    detected: dict[str, Any] = field(default_factory=dict)  # what detection found for those fields
    not_assessed: tuple[int, ...] = ()  # quality statements the document says were not assessed
    demo: bool = False  # one of the shipped demo documents

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "council": self.council,
            "councils": self.councils,
            "kind": self.kind,
            "date": self.date,
            "date_precision": self.date_precision,
            "rating": self.rating,
            "percent": self.percent,
            "scores": {str(k): v for k, v in sorted(self.scores.items())},
            "content_type": self.content_type,
            "chunks": self.n_chunks,
            "ingested_at": self.ingested_at,
            "not_assessed": list(self.not_assessed),
            "corrected": list(self.corrected),
            "detected": self.detected,
            "demo": self.demo,
        }


@dataclass(frozen=True)
class SectionRecord:
    idx: int
    title: str
    start: int
    end: int
    theme: int | None
    qs: int | None
    score: int | None
    councils: list[str]
    boilerplate: bool

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    chunk_id: str
    doc_id: str
    section_idx: int
    start: int
    end: int
    page: int | None
    theme: int | None
    qs: int | None
    boilerplate: bool


_DOC_COLS = (
    "doc_id, source, title, council, councils, kind, date, date_precision, rating, percent, scores, "
    "content_type, n_chunks, ingested_at, status"
)


def date_num(date: str | None) -> int | None:
    """'2025-06-20' → 20250620; '2023-08' → 20230800 (month precision sorts before any day in it)."""
    if not date:
        return None
    parts = date.split("-") + ["00", "00"]
    return int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])


def vector_meta(
    doc_id: str,
    kind: str,
    theme: int | None,
    qs: int | None,
    boilerplate: bool,
    dnum: int | None,
    council_keys: list[str],
) -> dict[str, Any]:
    """A chunk's Chroma metadata: what the dense side filters on, mirroring the catalogue's chunk row."""
    out: dict[str, Any] = {"doc_id": doc_id, "kind": kind, "boilerplate": boilerplate}
    if theme is not None:
        out["theme"] = theme
    if qs is not None:
        out["qs"] = qs
    if dnum is not None:
        out["date_num"] = dnum
    for key in council_keys:
        out[f"c_{key}"] = True
    return out


class _Connection(sqlite3.Connection):
    """A plain connection that can be weakly referenced (so a finished thread's one can be collected)."""


class Catalogue:
    """The catalogue. Each thread gets its own SQLite connection (`db`), so threads sharing one Catalogue
    never run inside each other's transactions, and `snapshot()` gives each thread a consistent view."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._closed = False
        self._memo: tuple[int, dict[str, Any]] = (-1, {})  # see _per_version
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
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

    # --- meta ---------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def library_version(self) -> int:
        return int(self.get_meta("library_version") or 0)

    def _bump(self) -> None:
        self.set_meta("library_version", str(self.library_version() + 1))

    # --- reads --------------------------------------------------------------------------------------

    def documents(self, *, status: str = "active") -> list[DocRecord]:
        """Documents by date, newest first. The active ones are memoised per library version: a refusal
        lists them all (9.5k documents at 100k chunks: 100 ms to read)."""
        if status == "active":
            return list(self._per_version("documents", lambda: self._documents("active")))
        return self._documents(status)

    def _documents(self, status: str) -> list[DocRecord]:
        rows = self.db.execute(
            f"SELECT {_DOC_COLS} FROM documents WHERE status = ? ORDER BY date DESC, title", (status,)
        ).fetchall()
        fixes = self.all_corrections()
        demo = self._demo_rows()
        docs = [apply_corrections(_doc(r, r[0] in demo), fixes.get(r[0], {})) for r in rows]
        if any(d.corrected for d in docs):  # a corrected date moves the document in the listing
            docs.sort(key=lambda d: d.title)
            docs.sort(key=lambda d: d.date or "", reverse=True)
        return docs

    def document(self, doc_id: str) -> DocRecord:
        row = self.db.execute(
            f"SELECT {_DOC_COLS} FROM documents WHERE status = 'active' AND doc_id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            matches = self.db.execute(
                f"SELECT {_DOC_COLS} FROM documents WHERE status = 'active' AND doc_id LIKE ?",
                (doc_id + "%",),
            ).fetchall()
            if len(matches) != 1 or len(doc_id) < 4:
                raise NotFoundError(f"no document with id {doc_id!r} in the library (see `cqc-assistant docs`)")
            row = matches[0]
        return self._corrected(_doc(row, row[0] in self._demo_rows()))

    def active_for_source(self, source: str) -> DocRecord | None:
        row = self.db.execute(
            f"SELECT {_DOC_COLS} FROM documents WHERE status = 'active' AND source = ?", (source,)
        ).fetchone()
        return None if row is None else self._corrected(_doc(row))

    def has(self, doc_id: str) -> DocRecord | None:
        row = self.db.execute(f"SELECT {_DOC_COLS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return None if row is None else self._corrected(_doc(row))

    def text(self, doc_id: str) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no document with id {doc_id!r} in the library")
        return str(row[0])

    def texts(self, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {
            r[0]: r[1] for r in self.db.execute(f"SELECT doc_id, text FROM documents WHERE doc_id IN ({marks})", ids)
        }

    def sections(self, doc_id: str) -> list[SectionRecord]:
        rows = self.db.execute(
            'SELECT idx, title, start, "end", theme, qs, score, councils, boilerplate FROM sections '
            "WHERE doc_id = ? ORDER BY idx",
            (doc_id,),
        ).fetchall()
        council = self.all_corrections().get(doc_id, {}).get("council")  # a corrected council is every section's
        return [
            SectionRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], council or json.loads(r[7]), bool(r[8]))
            for r in rows
        ]

    def chunks_by_rowid(self, rowids: list[int]) -> dict[int, ChunkRow]:
        rows = self._chunk_rows("c.rowid", rowids)
        return {r.rowid: r for r in rows}

    def chunks_by_chunk_id(self, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        rows = self._chunk_rows("c.chunk_id", chunk_ids)
        return {r.chunk_id: r for r in rows}

    def _chunk_rows(self, column: str, keys: list[Any]) -> list[ChunkRow]:
        """Chunks of active documents only: pending or retiring versions are never seen by search."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        # `+d.status`: without it SQLite walks every active document's chunks (the status index looks
        # selective to it) instead of looking up the few keys: 23 ms at 10k chunks, growing with the library.
        rows = self.db.execute(
            'SELECT c.rowid, c.chunk_id, c.doc_id, c.section_idx, c.start, c."end", c.page, c.theme, c.qs, '
            "c.boilerplate FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE +d.status = 'active' AND {column} IN ({marks})",
            keys,
        ).fetchall()
        return [ChunkRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9])) for r in rows]

    def count_chunks(self) -> int:
        """Chunks of active documents (each document records its count: 35 ms -> 2 ms at 100k chunks;
        memoised per library version, as every question asks)."""
        return self._per_version("count_chunks", self._count_chunks)

    def _count_chunks(self) -> int:
        row = self.db.execute("SELECT coalesce(sum(n_chunks), 0) FROM documents WHERE status = 'active'").fetchone()
        return int(row[0])

    def councils(self, *, include_demo: bool = True) -> list[str]:
        """Every council an active document names (read from the listing index; memoised per version);
        without `include_demo`, not those only the demo documents name once a real document is in."""
        hidden = frozenset() if include_demo else self.hidden_demo()
        return list(self._per_version("councils-real" if hidden else "councils", lambda: self._councils(hidden)))

    def _councils(self, hidden: frozenset[str]) -> list[str]:
        rows = self.db.execute(
            "SELECT doc_id, councils FROM documents WHERE status = 'active' "
            "AND doc_id NOT IN (SELECT doc_id FROM corrections WHERE field = 'council')"
        ).fetchall()
        rows += self.db.execute(
            "SELECT d.doc_id, k.value FROM corrections k JOIN documents d ON d.doc_id = k.doc_id "
            "WHERE k.field = 'council' AND d.status = 'active'"
        ).fetchall()
        return sorted({name for (doc_id, names) in rows if doc_id not in hidden for name in json.loads(names)})

    # --- the demo documents -------------------------------------------------------------------------

    def _demo_rows(self) -> set[str]:
        return {str(r[0]) for r in self.db.execute("SELECT doc_id FROM demo_documents")}

    def demo_ids(self) -> frozenset[str]:
        """The active demo documents."""
        return self._per_version("demo_ids", lambda: frozenset(self._demo_rows() & self._active_ids()))

    def hidden_demo(self) -> frozenset[str]:
        """The demo documents real work leaves out: all of them once any other document is active, else none
        (a library of only the demo is searched as it is)."""

        def read() -> frozenset[str]:
            demo = self.demo_ids()
            return demo if demo and self._active_ids() - demo else frozenset()

        return self._per_version("hidden_demo", read)

    def _active_ids(self) -> set[str]:
        return {str(r[0]) for r in self.db.execute("SELECT doc_id FROM documents WHERE status = 'active'")}

    def _mark_demo_sources(self) -> None:
        """Additive migration: documents whose source is the demo folder count as demo (once per store)."""
        with self.transaction() as db:
            rows = db.execute("SELECT doc_id, source FROM documents").fetchall()
            db.executemany(
                "INSERT OR IGNORE INTO demo_documents(doc_id) VALUES (?)",
                [(r[0],) for r in rows if is_demo_source(str(r[1]))],
            )
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (DEMO_MARKED,))

    def lexical(self, match: str, where: str, params: list[Any], limit: int) -> list[tuple[int, float]]:
        """BM25 over heading and body (heading weighted higher), restricted by a SQL filter on chunks `c`.

        The best matches are ranked first (in FTS5 alone without a filter; joined to their chunk only, for
        the filter, with one) and only those are checked against their document's status: joining every
        match to its document first cost as much again as ranking (common words match half of a large
        library; a broad filter at 100k chunks, 100 -> 70 ms). If too few of them belong to active
        documents (a writer is replacing many), the full join answers. Both give the same rows.
        """
        probe = limit + LEXICAL_SPARE
        select = "SELECT f.rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts f "
        if where.strip():
            ranked_first = f"{select}JOIN chunks c ON c.rowid = f.rowid WHERE chunks_fts MATCH ? {where} "
        else:
            ranked_first = f"{select}WHERE chunks_fts MATCH ? "
        ranked_first += "ORDER BY s LIMIT ?"
        full = (
            f"{select}JOIN chunks c ON c.rowid = f.rowid JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE chunks_fts MATCH ? AND +d.status = 'active' {where} ORDER BY s LIMIT ?"
        )
        try:
            ranked = self.db.execute(ranked_first, [match, *params, probe]).fetchall()
            active = self._active_rowids([int(r[0]) for r in ranked])
            rows = [r for r in ranked if int(r[0]) in active][:limit]
            if len(rows) < limit and len(ranked) == probe:  # inactive ones pushed some out: rank them all
                rows = self.db.execute(full, [match, *params, limit]).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _active_rowids(self, rowids: list[int]) -> set[int]:
        if not rowids:
            return set()
        marks = ",".join("?" * len(rowids))
        rows = self.db.execute(
            f"SELECT c.rowid FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE c.rowid IN ({marks}) AND +d.status = 'active'",
            rowids,
        ).fetchall()
        return {int(r[0]) for r in rows}

    def document_frequencies(self, stems: list[str]) -> tuple[int, dict[str, int]]:
        """(number of chunks, chunks containing each stemmed term): the IDF behind answer scoring."""
        total = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        if not stems:
            return total, {}
        marks = ",".join("?" * len(stems))
        rows = self.db.execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", stems).fetchall()
        return total, {str(t): int(d) for t, d in rows}

    # --- writes -------------------------------------------------------------------------------------

    def add_pending(
        self,
        doc_id: str,
        source: str,
        ex: Extracted,
        meta: DocMeta,
        sections: list[Section],
        chunks: list[Chunk],
        chunk_councils: list[list[str]],
    ) -> list[int]:
        """Write a new version as `pending` (invisible to search); return the chunks' rowids."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        dnum = date_num(meta.date)
        rowids: list[int] = []
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO documents({_DOC_COLS}, text, pages) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, source, meta.title, meta.council, json.dumps(list(meta.councils)), meta.kind,
                    meta.date, meta.date_precision, meta.rating, meta.percent,
                    json.dumps({str(k): v for k, v in meta.scores.items()}), ex.content_type, len(chunks), now,
                    "pending", ex.text, json.dumps(list(ex.pages)),
                ),
            )  # fmt: skip
            if is_demo_source(source):
                db.execute("INSERT OR IGNORE INTO demo_documents(doc_id) VALUES (?)", (doc_id,))
            db.executemany(
                'INSERT INTO sections(doc_id, idx, title, start, "end", theme, qs, score, councils, boilerplate) '
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (doc_id, i, s.title, s.start, s.end, s.theme, s.qs, s.score, json.dumps(list(s.councils)),
                     int(s.boilerplate))
                    for i, s in enumerate(sections)
                ],
            )  # fmt: skip
            for ch, keys in zip(chunks, chunk_councils, strict=True):
                sec = sections[ch.section]
                cur = db.execute(
                    'INSERT INTO chunks(chunk_id, doc_id, idx, section_idx, start, "end", page, theme, qs, '
                    "council_keys, kind, date_num, boilerplate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        f"{doc_id}:{ch.index}", doc_id, ch.index, ch.section, ch.start, ch.end, ch.page, sec.theme,
                        sec.qs, " " + " ".join(keys) + " ", meta.kind, dnum, int(sec.boilerplate),
                    ),
                )  # fmt: skip
                rowid = int(cur.lastrowid or 0)
                rowids.append(rowid)
                db.execute(
                    "INSERT INTO chunks_fts(rowid, heading, body) VALUES (?, ?, ?)",
                    (rowid, sec.title, ex.text[ch.start : ch.end]),
                )
            if self.corrections(doc_id):  # this content was corrected before (then removed): the filters follow
                self._retag(doc_id)
        return rowids

    def activate(self, doc_id: str, replaces: str | None) -> None:
        """Make a pending version visible and retire the one it replaces, in one transaction."""
        with self.transaction() as db:
            db.execute("UPDATE documents SET status = 'active' WHERE doc_id = ?", (doc_id,))
            if replaces:
                db.execute("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", (replaces,))
            self._bump()

    def mark_deleting(self, doc_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", (doc_id,))
            self._bump()

    def purge(self, doc_id: str) -> None:
        """Delete a (non-active) version's rows, its FTS rows included."""
        with self.transaction() as db:
            db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id = ?)", (doc_id,))
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM sections WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id = ? AND status != 'active'", (doc_id,))
            db.execute(
                "DELETE FROM demo_documents WHERE doc_id = ? AND NOT EXISTS (SELECT 1 FROM documents WHERE doc_id = ?)",
                (doc_id, doc_id),
            )

    # --- corrections ----------------------------------------------------------------------------------

    def corrections(self, doc_id: str) -> dict[str, Any]:
        """A document's corrected fields → their values (see CORRECTABLE)."""
        rows = self.db.execute("SELECT field, value FROM corrections WHERE doc_id = ?", (doc_id,)).fetchall()
        return {str(f): json.loads(v) for f, v in rows}

    def all_corrections(self) -> dict[str, dict[str, Any]]:
        """doc_id → its corrections, memoised per library version (each correction bumps it)."""
        return self._per_version("corrections", self._all_corrections)

    def _all_corrections(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for doc_id, name, value in self.db.execute("SELECT doc_id, field, value FROM corrections"):
            out.setdefault(str(doc_id), {})[str(name)] = json.loads(value)
        return out

    def _corrected(self, doc: DocRecord) -> DocRecord:
        return apply_corrections(doc, self.all_corrections().get(doc.doc_id, {}))

    def correct(self, doc_id: str, values: dict[str, Any], clear: Iterable[str] = ()) -> None:
        """Store corrections and drop others, and re-tag the document's chunks for the filters, in one
        transaction; the document's Chroma metadata is then marked for `vector_meta_synced`."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            db.executemany("DELETE FROM corrections WHERE doc_id = ? AND field = ?", [(doc_id, f) for f in clear])
            db.executemany(
                "INSERT OR REPLACE INTO corrections(doc_id, field, value, at) VALUES (?, ?, ?, ?)",
                [(doc_id, f, json.dumps(v), now) for f, v in values.items()],
            )
            self._retag(doc_id)
            self.set_meta(VECTOR_META_STALE, json.dumps(sorted({*self.stale_vector_meta(), doc_id})))
            self._bump()

    def _retag(self, doc_id: str) -> None:
        """Set the filter columns of a document's chunks (kind, date, councils) to its facts as corrected,
        as ingest sets them from detection: a section's own councils, else the document's."""
        row = self.db.execute("SELECT kind, date, councils FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        fixes = self.corrections(doc_id)
        kind = fixes.get("kind", row[0])
        dnum = date_num(fixes["date"] if "date" in fixes else row[1])
        councils = fixes.get("council") or json.loads(row[2])
        for idx, own in self.db.execute("SELECT idx, councils FROM sections WHERE doc_id = ?", (doc_id,)).fetchall():
            names = councils if "council" in fixes else (json.loads(own) or councils)
            keys = " " + " ".join(sorted({council_token(n) for n in names})) + " "
            self.db.execute(
                "UPDATE chunks SET kind = ?, date_num = ?, council_keys = ? WHERE doc_id = ? AND section_idx = ?",
                (kind, dnum, keys, doc_id, idx),
            )

    def vector_metadatas(self, doc_id: str) -> tuple[list[str], list[dict[str, Any]]]:
        """(chunk ids, Chroma metadata) of a document's chunks, from their rows: the vectors filter alike."""
        rows = self.db.execute(
            "SELECT chunk_id, kind, theme, qs, boilerplate, date_num, council_keys FROM chunks "
            "WHERE doc_id = ? ORDER BY idx",
            (doc_id,),
        ).fetchall()
        metas = [vector_meta(doc_id, r[1], r[2], r[3], bool(r[4]), r[5], str(r[6]).split()) for r in rows]
        return [str(r[0]) for r in rows], metas

    def stale_vector_meta(self) -> list[str]:
        """Documents whose chunk rows were re-tagged but whose Chroma metadata may not be yet."""
        return list(json.loads(self.get_meta(VECTOR_META_STALE) or "[]"))

    def vector_meta_synced(self, doc_id: str) -> None:
        with self.transaction():
            rest = [d for d in self.stale_vector_meta() if d != doc_id]
            if rest:
                self.set_meta(VECTOR_META_STALE, json.dumps(rest))
            else:
                self.db.execute("DELETE FROM meta WHERE key = ?", (VECTOR_META_STALE,))

    def unfinished(self) -> list[str]:
        rows = self.db.execute("SELECT doc_id FROM documents WHERE status != 'active'").fetchall()
        return [str(r[0]) for r in rows]


def _doc(r: tuple[Any, ...], demo: bool = False) -> DocRecord:
    return DocRecord(
        doc_id=r[0], source=r[1], title=r[2], council=r[3], councils=json.loads(r[4]), kind=r[5], date=r[6],
        date_precision=r[7], rating=r[8], percent=r[9], scores={int(k): v for k, v in json.loads(r[10]).items()},
        content_type=r[11], n_chunks=r[12], ingested_at=r[13], status=r[14], demo=demo,
    )  # fmt: skip
