"""Check that the catalogue, the lexical index and Chroma agree: read-only, one sentence per problem.

What must hold at every moment, even just after a writer was killed (`check(library)`):

- every active document has exactly `n_chunks` chunk rows, at least one section, and each chunk's
  offsets and section index lie inside it;
- no chunk or section row without its document, no lexical (FTS) row without its chunk and no chunk
  without its lexical row;
- every chunk of an active document has its vector in Chroma, and every vector in Chroma belongs to a
  chunk the catalogue knows (an active one, or one of a pending/retiring version the next writer's
  recovery will remove);
- no source has two active versions.

With `settled=True` (after recovery: `cqc-assistant check --repair`) pending and retiring versions are
problems too, so Chroma's ids must equal the chunk ids of the active documents exactly.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .library import REBUILDING, Library

CHROMA_PAGE = 5000
MAX_LISTED = 5
DAMAGED = "the vector store is damaged"
FIX = "the next ingest, or `cqc-assistant check --repair`, rebuilds it from the catalogue"


def _some(items: list[str] | set[str]) -> str:
    shown = sorted(items)[:MAX_LISTED]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def chroma_ids(library: Library) -> dict[str, str]:
    """Every vector id in Chroma → the doc_id in its metadata ('' when it has none).

    The vectors themselves are read too: Chroma answers ids and metadata from SQLite even when the index
    files that hold the vectors are damaged (a search then silently misses them), so an id whose vector
    cannot be read raises ValueError.
    """
    out: dict[str, str] = {}
    offset = 0
    while True:
        page = library.vectors.collection.get(include=["metadatas", "embeddings"], limit=CHROMA_PAGE, offset=offset)
        ids = page["ids"]
        metas: list[Any] = list(page.get("metadatas") or [None] * len(ids))
        vectors: list[Any] = list(page["embeddings"]) if page.get("embeddings") is not None else []
        if len(vectors) != len(ids) or any(v is None or len(v) == 0 for v in vectors):
            raise ValueError(f"{len(ids) - len(vectors)} or more vectors cannot be read back")
        for vid, meta in zip(ids, metas, strict=True):
            out[vid] = str((meta or {}).get("doc_id", ""))
        if len(ids) < CHROMA_PAGE:
            return out
        offset += len(ids)


def check(library: Library, *, settled: bool = False) -> list[str]:
    """Problems found in the store, one sentence each; an empty list means it is consistent."""
    db = library.catalogue.db
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
        problems.append(f"{len(unfinished)} pending or retiring version(s) left after recovery: {_some(unfinished)}")

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
        problems.append(f"chunk rows without their document: {_some(orphan_chunks)}")
    orphan_sections = set(section_counts) - set(docs)
    if orphan_sections:
        problems.append(f"section rows without their document: {_some(orphan_sections)}")

    bad_rows = db.execute(
        "SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
        'WHERE c.start < 0 OR c."end" <= c.start OR c."end" > length(d.text) '
        "OR c.chunk_id != c.doc_id || ':' || c.idx "
        "OR NOT EXISTS (SELECT 1 FROM sections s WHERE s.doc_id = c.doc_id AND s.idx = c.section_idx)"
    ).fetchall()
    if bad_rows:
        problems.append(
            f"chunks with offsets, ids or sections that do not fit their document: "
            f"{_some([str(r[0]) for r in bad_rows])}"
        )

    chunk_rowids = {int(r[0]) for r in db.execute("SELECT rowid FROM chunks")}
    fts_rowids = {int(r[0]) for r in db.execute("SELECT rowid FROM chunks_fts")}
    if fts_rowids - chunk_rowids:
        problems.append(
            f"{len(fts_rowids - chunk_rowids)} lexical index row(s) without a chunk: "
            f"rowids {_some([str(r) for r in fts_rowids - chunk_rowids])}"
        )
    if chunk_rowids - fts_rowids:
        problems.append(
            f"{len(chunk_rowids - fts_rowids)} chunk(s) missing from the lexical index: "
            f"rowids {_some([str(r) for r in chunk_rowids - fts_rowids])}"
        )

    chunk_doc = {str(r[0]): str(r[1]) for r in db.execute("SELECT chunk_id, doc_id FROM chunks")}
    if library.catalogue.get_meta(REBUILDING) is not None:
        problems.append(f"{DAMAGED}: a rebuild of the vectors from the catalogue was cut short; {FIX}")
        return problems
    try:
        vectors = chroma_ids(library)
    except Exception as exc:  # noqa: BLE001 - Chroma raises untyped errors for a damaged index
        problems.append(f"{DAMAGED}: it cannot be read ({type(exc).__name__}: {str(exc)[:160]}); {FIX}")
        return problems
    missing = {c for c, d in chunk_doc.items() if d in active and c not in vectors}
    if missing:
        problems.append(f"{len(missing)} chunk(s) of active documents have no vector in Chroma: {_some(missing)}")
    allowed = active if settled else set(docs)
    unknown = {v for v in vectors if v not in chunk_doc or chunk_doc[v] not in allowed}
    if unknown:
        what = "chunks of active documents" if settled else "chunks in the catalogue"
        problems.append(f"{len(unknown)} vector(s) in Chroma are not {what}: {_some(unknown)}")
    mislabelled = {v for v, d in vectors.items() if v in chunk_doc and chunk_doc[v] != d}
    if mislabelled:
        problems.append(f"{len(mislabelled)} vector(s) carry the wrong doc_id: {_some(mislabelled)}")
    return problems


def summary(library: Library) -> dict[str, int | None]:
    """Counts beside a check: documents by status, chunks, lexical rows, vectors (None: unreadable)."""
    db = library.catalogue.db
    out: dict[str, int | None] = {f"documents_{s}": 0 for s in ("active", "pending", "deleting")}
    for status, n in db.execute("SELECT status, count(*) FROM documents GROUP BY status"):
        out[f"documents_{status}"] = int(n)
    out["chunks"] = int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
    out["lexical_rows"] = int(db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0])
    try:
        out["vectors"] = library.vectors.count()
    except Exception:  # noqa: BLE001 - a damaged index: check() says so
        out["vectors"] = None
    return out


def repair(library: Library) -> list[str]:
    """Finish a killed writer's work and drop vectors no catalogue chunk owns; what was done, one line each.

    Runs under the writer lock (so the usual recovery runs first); never touches active documents.
    """
    done: list[str] = []
    with library.writer(recover=False):
        unfinished = library.catalogue.unfinished()
        damaged = library.catalogue.get_meta(REBUILDING) is not None or not library.vectors_readable()
        library.recover()
        if damaged:
            done.append(f"rebuilt the vectors of {library.vectors.count()} chunk(s) from the catalogue")
        if unfinished:
            done.append(f"removed {len(unfinished)} pending or retiring version(s): {_some(unfinished)}")
        known = {str(r[0]) for r in library.catalogue.db.execute("SELECT chunk_id FROM chunks")}
        orphans = sorted(v for v in chroma_ids(library) if v not in known)
        for i in range(0, len(orphans), CHROMA_PAGE):
            library.vectors.delete_ids(orphans[i : i + CHROMA_PAGE])
        if orphans:
            done.append(f"deleted {len(orphans)} vector(s) no catalogue chunk owns: {_some(orphans)}")
    return done
