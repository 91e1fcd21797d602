"""The catalogue's own consistency: what must hold between its documents, sections, chunks and lexical
rows (`IntegrityQueries`, a part of Catalogue; consistency.py adds the vectors' side).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .connection import CatalogueBase

MAX_LISTED = 5


def some(items: list[str] | set[str]) -> str:
    """A few of `items`, sorted, and how many more."""
    shown = sorted(items)[:MAX_LISTED]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class CatalogueState:
    """What a check of the catalogue found: its problems, and what the vectors are checked against."""

    problems: list[str]
    chunk_docs: dict[str, str]  # every chunk row's id → its doc_id
    documents: set[str]  # every document row, whatever its status
    active: set[str]


class IntegrityQueries(CatalogueBase):
    """Read-only checks over the whole catalogue (`cqc-assistant check`)."""

    def inspect(self, *, settled: bool = False) -> CatalogueState:
        """The catalogue's problems, one sentence each (`settled`: pending or retiring versions are too)."""
        db = self.db
        problems: list[str] = []

        integrity = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
        if integrity != ["ok"]:
            problems.append(f"SQLite integrity check failed: {'; '.join(integrity[:MAX_LISTED])}")

        docs: dict[str, tuple[str, str, int, int]] = {
            r[0]: (r[1], r[2], int(r[3]), int(r[4]))
            for r in db.execute("SELECT doc_id, status, source, n_chunks, length(text) FROM documents")
        }
        active = {d for d, (status, _, _, _) in docs.items() if status == "active"}
        unfinished = {d for d, (status, _, _, _) in docs.items() if status != "active"}
        if settled and unfinished:
            problems.append(f"{len(unfinished)} pending or retiring version(s) left after recovery: {some(unfinished)}")

        sources = Counter(docs[d][1] for d in active)
        for source, n in sorted(sources.items()):
            if n > 1:
                problems.append(f"source {source} has {n} active versions")

        chunk_counts = dict(db.execute("SELECT doc_id, count(*) FROM chunks GROUP BY doc_id").fetchall())
        section_counts = dict(db.execute("SELECT doc_id, count(*) FROM sections GROUP BY doc_id").fetchall())
        for doc_id in sorted(active):
            _, _, n_chunks, _ = docs[doc_id]
            if chunk_counts.get(doc_id, 0) != n_chunks:
                rows = chunk_counts.get(doc_id, 0)
                problems.append(f"active document {doc_id} records {n_chunks} chunks but has {rows} rows")
            if section_counts.get(doc_id, 0) == 0:
                problems.append(f"active document {doc_id} has no sections")

        orphan_chunks = set(chunk_counts) - set(docs)
        if orphan_chunks:
            problems.append(f"chunk rows without their document: {some(orphan_chunks)}")
        orphan_sections = set(section_counts) - set(docs)
        if orphan_sections:
            problems.append(f"section rows without their document: {some(orphan_sections)}")

        bad_rows = db.execute(
            "SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            'WHERE c.start < 0 OR c."end" <= c.start OR c."end" > length(d.text) '
            "OR c.chunk_id != c.doc_id || ':' || c.idx "
            "OR NOT EXISTS (SELECT 1 FROM sections s WHERE s.doc_id = c.doc_id AND s.idx = c.section_idx)"
        ).fetchall()
        if bad_rows:
            problems.append(
                f"chunks with offsets, ids or sections that do not fit their document: "
                f"{some([str(r[0]) for r in bad_rows])}"
            )

        chunk_rowids = {int(r[0]) for r in db.execute("SELECT rowid FROM chunks")}
        fts_rowids = {int(r[0]) for r in db.execute("SELECT rowid FROM chunks_fts")}
        if fts_rowids - chunk_rowids:
            problems.append(
                f"{len(fts_rowids - chunk_rowids)} lexical index row(s) without a chunk: "
                f"rowids {some([str(r) for r in fts_rowids - chunk_rowids])}"
            )
        if chunk_rowids - fts_rowids:
            problems.append(
                f"{len(chunk_rowids - fts_rowids)} chunk(s) missing from the lexical index: "
                f"rowids {some([str(r) for r in chunk_rowids - fts_rowids])}"
            )

        chunk_docs = {str(r[0]): str(r[1]) for r in db.execute("SELECT chunk_id, doc_id FROM chunks")}
        return CatalogueState(problems, chunk_docs, set(docs), active)

    def counts(self) -> dict[str, int]:
        """Documents by status, chunk rows and lexical rows."""
        db = self.db
        out = {f"documents_{s}": 0 for s in ("active", "pending", "deleting")}
        for status, n in db.execute("SELECT status, count(*) FROM documents GROUP BY status"):
            out[f"documents_{status}"] = int(n)
        out["chunks"] = int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        out["lexical_rows"] = int(db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0])
        return out
