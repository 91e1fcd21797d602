"""Opening a store's catalogue and vector store together, with the checks that need both: the vectors are
where the catalogue says, a server collection belongs to this store alone (its store id), and a bad Chroma
URL or the wrong embedder writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StoreError
from .catalogue import Catalogue
from .connection import peek
from .vectors import COLLECTION, VectorStore

if TYPE_CHECKING:
    from ..embedding import Embedder

REBUILDING = "vectors_rebuilding"  # catalogue meta key, set while the vectors are rebuilt from the catalogue
WRITTEN = "vectors_written"  # catalogue meta key: a new token each time a writer is done changing the vectors


def server_collection(store_id: str) -> str:
    """The Chroma collection of one store on a shared server."""
    return f"{COLLECTION}_{store_id}"


def open_store(
    home: Path, url: str | None, embedder: Embedder, *, lazy_vectors: bool = False
) -> tuple[Catalogue, VectorStore | None, Callable[[], VectorStore] | None]:
    """(catalogue, vector store, None), or with `lazy_vectors` and an existing store (catalogue, None, a way
    to open the vector store at first use); see Library.open."""
    cat_path = home / "catalogue.sqlite3"
    has_docs, found = peek(cat_path, ("store_id", WRITTEN))
    recorded, written = found.get("store_id"), found.get(WRITTEN)
    store_id = (recorded or uuid.uuid4().hex[:16]) if url else None
    elsewhere = (
        f"the catalogue in {home} lists documents, but the Chroma collection {{}} is empty: their "
        "vectors are elsewhere (the embedded store or another server). Point CQC_ASSISTANT_CHROMA_URL "
        "at the server that holds them, or ingest into a fresh --store"
    )

    def vector_store(sid: str | None, token: str | None) -> VectorStore:
        if has_docs and not url and not (home / "chroma").is_dir():
            raise StoreError(elsewhere.format(f"{COLLECTION!r} in {home / 'chroma'}"))
        return VectorStore(
            home / "chroma",
            embedder_name=embedder.name,
            dimension=embedder.dimension,
            url=url,
            collection=server_collection(sid) if sid else COLLECTION,
            written=token,
        )

    def attach(vectors: VectorStore, catalogue: Catalogue, token: str | None) -> VectorStore:
        """The checks that need both sides; the store to use (another process's, when it claimed first)."""
        if has_docs and _looks_empty(vectors) and catalogue.get_meta(REBUILDING) is None:
            if url and recorded is None:  # made just now, for nothing: take it away again
                vectors.drop()
            raise StoreError(elsewhere.format(vectors.where))
        if store_id is not None:
            claimed = catalogue.claim_meta("store_id", store_id)
            if claimed != store_id:  # another process created this store at the same moment
                vectors = vector_store(claimed, token)
        return vectors

    if lazy_vectors and cat_path.is_file():  # a new store is checked now: a bad URL must write nothing
        cat = Catalogue(cat_path)

        def open_vectors() -> VectorStore:
            token = cat.get_meta(WRITTEN)  # read first: the view opened next has at least these writes
            return attach(vector_store(store_id, token), cat, token)

        return cat, None, open_vectors
    vectors = vector_store(store_id, written)
    home.mkdir(parents=True, exist_ok=True)
    catalogue = Catalogue(cat_path)
    try:
        vectors = attach(vectors, catalogue, written)
    except BaseException:
        catalogue.close()
        raise
    return catalogue, vectors, None


def _looks_empty(vectors: VectorStore) -> bool:
    """An empty collection; not when it cannot be read (the next writer's recovery rebuilds it)."""
    try:
        return vectors.count() == 0
    except Exception:  # noqa: BLE001 - Chroma raises untyped errors for a damaged index
        return False
