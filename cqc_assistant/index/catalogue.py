"""The SQLite catalogue: documents with their stored text, sections, chunks, and the BM25 lexical index.

The lexical index is SQLite FTS5 (BM25 ranking) in the same database file, so it is persisted, updated
incrementally with ingest and remove, and committed in the same transactions as the catalogue.
Versions move through `pending` → `active` → `deleting`; only `active` ones are ever searched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..councils import council_token
from ..errors import NotFoundError
from ..filters import date_num
from ..models import Chunk, DocMeta, Extracted, Section
from .chunk_rows import ChunkQueries
from .corrected import apply_corrections
from .integrity import IntegrityQueries
from .records import DOC_COLS, ChunkRow, DocRecord, SectionRecord, doc_record, is_demo_source

__all__ = ["Catalogue", "ChunkRow", "DocRecord", "SectionRecord", "date_num", "is_demo_source"]

VECTOR_META_STALE = "vector_meta_stale"  # meta key: doc ids whose Chroma metadata awaits their chunk rows'


class Catalogue(ChunkQueries, IntegrityQueries):
    """The catalogue: its file (`connection.CatalogueBase`), chunk reads and the lexical index
    (`chunk_rows.ChunkQueries`), checks (`integrity.IntegrityQueries`), and here documents, their versions,
    the demo documents and corrections."""

    # --- reads --------------------------------------------------------------------------------------

    def documents(self, *, status: str = "active") -> list[DocRecord]:
        """Documents by date, newest first. The active ones are memoised per library version: a refusal
        lists them all (9.5k documents at 100k chunks: 100 ms to read)."""
        if status == "active":
            return list(self._per_version("documents", lambda: self._documents("active")))
        return self._documents(status)

    def _documents(self, status: str) -> list[DocRecord]:
        rows = self.db.execute(
            f"SELECT {DOC_COLS} FROM documents WHERE status = ? ORDER BY date DESC, title", (status,)
        ).fetchall()
        fixes = self.all_corrections()
        demo = self._demo_rows()
        docs = [apply_corrections(doc_record(r, r[0] in demo), fixes.get(r[0], {})) for r in rows]
        if any(d.corrected for d in docs):  # a corrected date moves the document in the listing
            docs.sort(key=lambda d: d.title)
            docs.sort(key=lambda d: d.date or "", reverse=True)
        return docs

    def document(self, doc_id: str) -> DocRecord:
        row = self.db.execute(
            f"SELECT {DOC_COLS} FROM documents WHERE status = 'active' AND doc_id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            matches = self.db.execute(
                f"SELECT {DOC_COLS} FROM documents WHERE status = 'active' AND doc_id LIKE ?",
                (doc_id + "%",),
            ).fetchall()
            if len(matches) != 1 or len(doc_id) < 4:
                raise NotFoundError(f"no document with id {doc_id!r} in the library (see `cqc-assistant docs`)")
            row = matches[0]
        return self._corrected(doc_record(row, row[0] in self._demo_rows()))

    def active_for_source(self, source: str) -> DocRecord | None:
        row = self.db.execute(
            f"SELECT {DOC_COLS} FROM documents WHERE status = 'active' AND source = ?", (source,)
        ).fetchone()
        return None if row is None else self._corrected(doc_record(row))

    def has(self, doc_id: str) -> DocRecord | None:
        row = self.db.execute(f"SELECT {DOC_COLS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return None if row is None else self._corrected(doc_record(row))

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
                f"INSERT INTO documents({DOC_COLS}, text, pages) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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

    def stale_vector_meta(self) -> list[str]:
        """Documents whose chunk rows were re-tagged but whose Chroma metadata may not be yet."""
        return list(json.loads(self.get_meta(VECTOR_META_STALE) or "[]"))

    def vector_meta_synced(self, doc_id: str) -> None:
        with self.transaction():
            rest = [d for d in self.stale_vector_meta() if d != doc_id]
            if rest:
                self.set_meta(VECTOR_META_STALE, json.dumps(rest))
            else:
                self.delete_meta(VECTOR_META_STALE)

    def unfinished(self) -> list[str]:
        rows = self.db.execute("SELECT doc_id FROM documents WHERE status != 'active'").fetchall()
        return [str(r[0]) for r in rows]
