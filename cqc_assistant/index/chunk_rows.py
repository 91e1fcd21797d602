"""The catalogue's chunks: rows by id, the BM25 lexical index (FTS5), the chunks a `Filters` lets through, and
the metadata their vectors carry (`ChunkQueries`, a part of Catalogue).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from ..filters import Filters
from .chunk_vectors import vector_meta
from .connection import CatalogueBase
from .records import ChunkRow, ChunkSource

LEXICAL_SPARE = 64  # matches ranked beyond the limit, for any that belong to inactive versions
SQL_VARS = 900  # ids per statement, under SQLite's limit on bound parameters


class FilteredChunks:
    """The chunks one search may return, as the catalogue's rows say: the allowed-ids check the vector
    store's query takes (`vectors.ChunkCheck`), so it can filter without Chroma's own (slow) filter."""

    def __init__(self, catalogue: ChunkQueries, clause: tuple[str, list[Any]]) -> None:
        self.catalogue = catalogue
        self.clause = clause

    def ids(self, limit: int) -> list[str] | None:
        """Every chunk id that passes; None when more than `limit` do."""
        sql, params = self.clause
        rows = self.catalogue.db.execute(
            f"SELECT chunk_id FROM chunks c WHERE {sql} LIMIT ?", [*params, limit + 1]
        ).fetchall()
        return None if len(rows) > limit else [str(r[0]) for r in rows]

    def passing(self, chunk_ids: list[str]) -> set[str]:
        """Those of `chunk_ids` (a probe's hits) that pass: 2 ms for 400 at 100k chunks, where rebuilding
        their metadata to test in Python took 10 ms."""
        sql, params = self.clause
        out: set[str] = set()
        for i in range(0, len(chunk_ids), SQL_VARS):
            part = chunk_ids[i : i + SQL_VARS]
            rows = self.catalogue.db.execute(
                f"SELECT chunk_id FROM chunks c WHERE chunk_id IN ({','.join('?' * len(part))}) AND {sql}",
                [*part, *params],
            ).fetchall()
            out.update(str(r[0]) for r in rows)
        return out


class ChunkQueries(CatalogueBase):
    """Reads of the chunk rows and the lexical index (the writes are the Catalogue's, with their documents)."""

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

    def council_keys(self, chunk_ids: Iterable[str]) -> dict[str, set[str]]:
        """The council tokens (`councils.council_token`) each chunk is about."""
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self.db.execute(f"SELECT chunk_id, council_keys FROM chunks WHERE chunk_id IN ({marks})", ids)
        return {str(cid): set(str(keys).split()) for cid, keys in found.fetchall()}

    def count_chunks(self) -> int:
        """Chunks of active documents (each document records its count: 35 ms -> 2 ms at 100k chunks;
        memoised per library version, as every question asks)."""
        return self._per_version("count_chunks", self._count_chunks)

    def _count_chunks(self) -> int:
        row = self.db.execute("SELECT coalesce(sum(n_chunks), 0) FROM documents WHERE status = 'active'").fetchone()
        return int(row[0])

    def all_chunk_ids(self) -> set[str]:
        """Every chunk row's id, whatever its document's status."""
        return {str(r[0]) for r in self.db.execute("SELECT chunk_id FROM chunks")}

    # --- filters ------------------------------------------------------------------------------------

    def filtered_chunks(self, filters: Filters, hidden: frozenset[str] = frozenset()) -> FilteredChunks | None:
        """The check that lets through what `filters` do (None: they let everything through)."""
        clause = filters.to_sql(hidden)
        return None if clause is None else FilteredChunks(self, clause)

    def doc_ids_passing(self, filters: Filters, hidden: frozenset[str] = frozenset()) -> set[str] | None:
        """The documents with a chunk that passes `filters`; None when they let everything through."""
        clause = filters.to_sql(hidden)
        if clause is None:
            return None
        rows = self.db.execute(f"SELECT DISTINCT doc_id FROM chunks c WHERE {clause[0]}", clause[1]).fetchall()
        return {str(r[0]) for r in rows}

    # --- the lexical index --------------------------------------------------------------------------

    def lexical(
        self, match: str, filters: Filters, limit: int, hidden: frozenset[str] = frozenset()
    ) -> list[tuple[int, float]]:
        """BM25 over heading and body (heading weighted higher) of the chunks `filters` let through:
        (rowid, score), best first.

        The best matches are ranked first (in FTS5 alone without a filter; joined to their chunk only, for
        the filter, with one) and only those are checked against their document's status: joining every
        match to its document first cost as much again as ranking (common words match half of a large
        library; a broad filter at 100k chunks, 100 -> 70 ms). If too few of them belong to active
        documents (a writer is replacing many), the full join answers. Both give the same rows.
        """
        clause = filters.to_sql(hidden)
        where, params = (f"AND ({clause[0]})", clause[1]) if clause else ("", [])
        probe = limit + LEXICAL_SPARE
        select = "SELECT f.rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts f "
        if where:
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

    # --- what the vectors carry ---------------------------------------------------------------------

    def vector_metadatas(self, doc_id: str) -> tuple[list[str], list[dict[str, Any]]]:
        """(chunk ids, Chroma metadata) of a document's chunks, from their rows: the vectors filter alike."""
        rows = self.db.execute(
            "SELECT chunk_id, kind, theme, qs, boilerplate, date_num, council_keys FROM chunks "
            "WHERE doc_id = ? ORDER BY idx",
            (doc_id,),
        ).fetchall()
        metas = [vector_meta(doc_id, r[1], r[2], r[3], bool(r[4]), r[5], str(r[6]).split()) for r in rows]
        return [str(r[0]) for r in rows], metas

    def active_chunk_sources(self) -> list[ChunkSource]:
        """Every active chunk with what its vector is made from, in document and chunk order."""
        rows = self.db.execute(
            'SELECT c.chunk_id, c.doc_id, c.start, c."end", c.theme, c.qs, c.boilerplate, c.date_num, '
            "c.council_keys, c.kind, s.title FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            "JOIN sections s ON s.doc_id = c.doc_id AND s.idx = c.section_idx "
            "WHERE d.status = 'active' ORDER BY c.doc_id, c.idx"
        ).fetchall()
        return [
            ChunkSource(
                str(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[10]),
                vector_meta(r[1], r[9], r[4], r[5], bool(r[6]), r[7], str(r[8]).split()),
            )
            for r in rows
        ]  # fmt: skip
