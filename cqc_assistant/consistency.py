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

from typing import Any

from .index.integrity import some
from .library import Library

CHROMA_PAGE = 5000
DAMAGED = "the vector store is damaged"
FIX = "the next ingest, or `cqc-assistant check --repair`, rebuilds it from the catalogue"


def chroma_ids(library: Library) -> dict[str, str]:
    """Every vector id in Chroma → the doc_id in its metadata ('' when it has none).

    The vectors themselves are read too: Chroma answers ids and metadata from SQLite even when the index
    files that hold the vectors are damaged (a search then silently misses them), so an id whose vector
    cannot be read raises ValueError.
    """
    out: dict[str, str] = {}
    offset = 0
    while True:
        page = library.vector_page(offset, CHROMA_PAGE, ["metadatas", "embeddings"])
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
    state = library.inspect_catalogue(settled=settled)
    problems = list(state.problems)
    chunk_doc, active = state.chunk_docs, state.active
    if library.rebuild_cut_short():
        problems.append(f"{DAMAGED}: a rebuild of the vectors from the catalogue was cut short; {FIX}")
        return problems
    try:
        vectors = chroma_ids(library)
    except Exception as exc:  # noqa: BLE001 - Chroma raises untyped errors for a damaged index
        problems.append(f"{DAMAGED}: it cannot be read ({type(exc).__name__}: {str(exc)[:160]}); {FIX}")
        return problems
    missing = {c for c, d in chunk_doc.items() if d in active and c not in vectors}
    if missing:
        problems.append(f"{len(missing)} chunk(s) of active documents have no vector in Chroma: {some(missing)}")
    allowed = active if settled else state.documents
    unknown = {v for v in vectors if v not in chunk_doc or chunk_doc[v] not in allowed}
    if unknown:
        what = "chunks of active documents" if settled else "chunks in the catalogue"
        problems.append(f"{len(unknown)} vector(s) in Chroma are not {what}: {some(unknown)}")
    mislabelled = {v for v, d in vectors.items() if v in chunk_doc and chunk_doc[v] != d}
    if mislabelled:
        problems.append(f"{len(mislabelled)} vector(s) carry the wrong doc_id: {some(mislabelled)}")
    return problems


def summary(library: Library) -> dict[str, int | None]:
    """Counts beside a check: documents by status, chunks, lexical rows, vectors (None: unreadable)."""
    out: dict[str, int | None] = dict(library.catalogue_counts())
    try:
        out["vectors"] = library.vector_count()
    except Exception:  # noqa: BLE001 - a damaged index: check() says so
        out["vectors"] = None
    return out


def repair(library: Library) -> list[str]:
    """Finish a killed writer's work and drop vectors no catalogue chunk owns; what was done, one line each.

    Runs under the writer lock (so the usual recovery runs first); never touches active documents.
    """
    done: list[str] = []
    with library.writer(recover=False):
        unfinished = library.unfinished()
        damaged = library.rebuild_cut_short() or not library.vectors_readable()
        library.recover()
        if damaged:
            done.append(f"rebuilt the vectors of {library.vector_count()} chunk(s) from the catalogue")
        if unfinished:
            done.append(f"removed {len(unfinished)} pending or retiring version(s): {some(unfinished)}")
        known = library.chunk_ids()
        orphans = sorted(v for v in chroma_ids(library) if v not in known)
        for i in range(0, len(orphans), CHROMA_PAGE):
            library.delete_vectors(orphans[i : i + CHROMA_PAGE])
        if orphans:
            done.append(f"deleted {len(orphans)} vector(s) no catalogue chunk owns: {some(orphans)}")
    return done
