"""The library: one store directory holding the SQLite catalogue (with the lexical index) and Chroma.

`Library.open(settings, embedder)` is the one way in; the CLI, the app and the tests all go through it,
and every read and write of the stores goes through its methods (the stores themselves live in `index/`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .config import Settings
from .embedding import Embedder, Vector
from .errors import QueryError, StoreError, StoreLockedError
from .filters import Filters
from .index.catalogue import Catalogue
from .index.chunk_vectors import stored_vectors
from .index.corrected import CORRECTABLE, fact
from .index.integrity import CatalogueState
from .index.records import ChunkRow, DocRecord, SectionRecord
from .index.store_open import REBUILDING, WRITTEN, open_store
from .index.vectors import VectorStore
from .models import Chunk, DocMeta, Extracted, Section

RECURRING = 16384  # texts embedded at question time kept for the open library (~25 MB of vectors)
DEGRADED = (
    "Answered from the keyword index only: the vector index could not be brought up to date ({}). "
    "If this persists, restart the app or run `cqc-assistant check --repair`."
)


class Library:
    """A store's catalogue, vector store and embedder, opened together (see `open`)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        catalogue: Catalogue,
        vectors: VectorStore | None = None,
        *,
        open_vectors: Callable[[], VectorStore] | None = None,
    ) -> None:
        if (vectors is None) == (open_vectors is None):
            raise ValueError("give the vector store or a way to open it, not both")
        self.settings = settings
        self.embedder = embedder
        self.catalogue = catalogue
        self._vectors = vectors
        self._open_vectors = open_vectors
        self._vectors_lock = threading.Lock()
        self._recurring: dict[str, Vector] = {}  # see embed_recurring
        self._local = threading.local()  # per question: see reading()
        self._refresh_lock = threading.Lock()
        self._vector_problem: str | None = None  # why the last refresh failed
        self._announced = False  # this writer has told readers it writes vectors
        self.refreshes = 0  # how often this library brought its view of the vectors up to date
        if vectors is not None:
            vectors.on_write = self._announce

    @property
    def vectors(self) -> VectorStore:
        """The vector store; with `Library.open(..., lazy_vectors=True)` opened (and checked) at first use."""
        if self._vectors is None:
            with self._vectors_lock:
                if self._vectors is None:
                    assert self._open_vectors is not None
                    store = self._open_vectors()
                    store.on_write = self._announce
                    self._vectors = store
        return self._vectors

    @vectors.setter
    def vectors(self, store: VectorStore) -> None:
        self._vectors = store

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder, *, lazy_vectors: bool = False) -> Library:
        """Open (or create) the store. The vector store is checked first (server reachable and really Chroma,
        collection built by this embedder), so a bad Chroma URL or the wrong embedder writes nothing.

        Embedded, the vectors live in `home/chroma` (collection `cqc_chunks`). With a server
        (`settings.chroma_url`) the collection is `cqc_chunks_<store id>`, the id kept in the catalogue, so
        two stores pointed at one server never share (or delete each other's) vectors.

        `lazy_vectors`: for a caller that may not touch the vectors (listing documents), an existing store's
        vector store is opened, and checked, at its first use: Chroma costs ~2 s to import and open.
        """
        catalogue, vectors, open_vectors = open_store(
            settings.home, settings.chroma_url, embedder, lazy_vectors=lazy_vectors
        )
        return cls(settings, embedder, catalogue, vectors, open_vectors=open_vectors)

    def close(self) -> None:
        self.catalogue.close()

    @contextmanager
    def writer(self, *, recover: bool = True) -> Iterator[None]:
        """One writer at a time per store; a second gets a clear message instead of waiting silently.

        `recover=False` only holds the lock (a read-only check that must not race a writer).
        """
        path = self.settings.home / "write.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreLockedError(
                    f"another ingest or remove is writing to {self.settings.home}; try again when it has finished"
                ) from None
            # Write on a view of the vectors that has what other processes wrote (a view that cannot be
            # brought up to date is rebuilt from the catalogue by the recovery).
            self.sync_vectors()
            self._announced = False
            try:
                if recover:
                    self.recover()
                yield
            finally:
                if self._announced:  # done: readers refresh again, onto everything this writer wrote
                    self._new_token()
        finally:
            os.close(fd)

    def _announce(self) -> None:
        """Before a writer's first write to Chroma: a new token, so that readers in every process (and the
        next writer, should this one be killed) know that the vectors they read may have changed."""
        if not self._announced:
            self._new_token()
            self._announced = True

    def _new_token(self) -> None:
        token = uuid.uuid4().hex
        self.catalogue.set_meta(WRITTEN, token)
        self.vectors.wrote(token)  # this process's own view has its own writes

    def recover(self) -> None:
        """Finish what a killed writer left: drop pending versions and retire the ones marked for deletion.

        Chroma's embedded index is not written atomically, so a writer killed while Chroma persisted it can
        leave it unreadable; then (or when such a rebuild was itself cut short, or this process's view of
        the vectors cannot be brought up to date) the vectors are rebuilt from the catalogue, the record.
        """
        damaged = (
            self.catalogue.get_meta(REBUILDING) is not None
            or self._vector_problem is not None
            or not self.vectors_readable()
        )
        for doc_id in self.catalogue.unfinished():
            if not damaged:
                self.vectors.delete_doc(doc_id)
            self.catalogue.purge(doc_id)
        if damaged:
            self.rebuild_vectors()
        for doc_id in self.catalogue.stale_vector_meta():  # a correction's metadata update cut short
            self.sync_vector_meta(doc_id)

    def vectors_readable(self) -> bool:
        """A quick probe: Chroma answers counts and ids from SQLite even when its index files are damaged,
        so some vectors are read back too (the oldest, which a lost index loses first, and a middle page)."""
        try:
            n = self.vectors.count()
            for offset in sorted({0, n // 2}):
                page = self.vectors.page(offset, 64, ["embeddings"])
                vectors = page["embeddings"]
                if len(page["ids"]) and (vectors is None or len(vectors) != len(page["ids"])):
                    return False
        except Exception:  # noqa: BLE001 - Chroma raises untyped errors for a damaged index
            return False
        return True

    def rebuild_vectors(self) -> int:
        """Drop the vector collection and re-embed every active chunk from the catalogue; return how many.

        Call under the writer lock. A rebuild cut short is marked in the catalogue and redone by the next
        writer (and `open` does not take its empty collection for vectors kept elsewhere).
        """
        self.catalogue.set_meta(REBUILDING, "1")
        self._announce()
        chroma_dir = self.settings.home / "chroma"
        embedded = self.settings.chroma_url is None and chroma_dir.is_dir()
        old_segments = [p for p in chroma_dir.iterdir() if p.is_dir()] if embedded else []
        with contextlib.suppress(Exception):  # already gone is fine; a real failure shows when re-adding
            self.vectors.drop()
        for segment in old_segments:  # the damaged index files Chroma leaves behind
            shutil.rmtree(segment, ignore_errors=True)
        self.vectors = VectorStore(
            chroma_dir,
            embedder_name=self.embedder.name,
            dimension=self.embedder.dimension,
            url=self.settings.chroma_url,
            collection=self.vectors.name,
            written=self.vectors.seen,
        )
        self.vectors.on_write = self._announce
        self._vector_problem = None
        n = 0
        for ids, vectors, metadatas in stored_vectors(self.catalogue, self.embedder.embed):
            self.vectors.add(ids, vectors, metadatas)
            n += len(ids)
        self.catalogue.delete_meta(REBUILDING)
        return n

    # --- reads --------------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One consistent view of the catalogue for a question's reads, even while a writer replaces
        documents (see `Catalogue.snapshot`); re-entrant, and safe for threads sharing this Library.

        On entry the view of the vectors is brought up to date with what other processes wrote.
        """
        with self.catalogue.snapshot():
            depth = getattr(self._local, "depth", 0)
            if depth == 0:
                self._local.degraded = None
                self.sync_vectors()
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth

    def sync_vectors(self) -> None:
        """Embedded: when a writer (in any process) changed the vectors since this view was opened, open a
        fresh one. A failure is kept for `search_vectors` (answers fall back to the lexical side) and the
        next call tries again. A server needs no refresh: every process reads the server's state."""
        if self.settings.chroma_url is not None:
            return
        token = self.catalogue.get_meta(WRITTEN)
        if token == self.vectors.seen:
            return
        with self._refresh_lock:
            if token == self.vectors.seen:
                return
            try:
                self.vectors.refresh(token)
                self.refreshes += 1
                self._vector_problem = None
            except StoreError as exc:
                self._vector_problem = str(exc)

    def search_vectors(
        self, vector: Vector, k: int, filters: Filters, hidden: frozenset[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """The dense side of a search: the k nearest chunks `filters` let through (`hidden`: documents left
        out), as (chunk id, similarity). A read that fails (a view left stale by another process's writes, a
        collection rebuilt meanwhile) is retried once on a fresh view; a second failure raises StoreError,
        which the search turns into a lexical-only answer marked degraded (`degraded`)."""
        problem = self._vector_problem
        if problem is not None:
            raise StoreError(problem)
        where, check = filters.to_chroma(hidden), self.catalogue.filtered_chunks(filters, hidden)
        view = self.vectors.client
        try:
            return self.vectors.query(vector, k, where, check)
        except StoreError:
            token = self.catalogue.get_meta(WRITTEN)
            with self._refresh_lock:
                self.vectors.refresh(token, failed=view)
                self.refreshes += 1
            return self.vectors.query(vector, k, where, check)

    def search_lexical(
        self, match: str, filters: Filters, k: int, hidden: frozenset[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """The lexical side: the k best BM25 matches of the FTS5 query `match` that `filters` let through,
        as (chunk id, score)."""
        hits = self.catalogue.lexical(match, filters, k, hidden)
        rows = self.catalogue.chunks_by_rowid([r for r, _ in hits])
        return [(rows[r].chunk_id, s) for r, s in hits if r in rows]

    def degrade(self, exc: StoreError) -> None:
        """Record, for the question this thread is answering, that its dense side could not be read."""
        self._local.degraded = DEGRADED.format(str(exc).rstrip("."))

    def degraded(self) -> str | None:
        """The notice for the current question when its dense side could not be read, else None."""
        return getattr(self._local, "degraded", None)

    def embed_query(self, text: str) -> Vector:
        """A question is embedded once: the dense search and the choice of answering sentences share the
        vector (an embedding is ~10 ms of a ~150 ms answer on two cores)."""
        return self.embed_recurring([text])[text]

    def embed_recurring(self, texts: Iterable[str]) -> dict[str, Vector]:
        """Texts that come back (a question asked again, a section title or sentence many questions meet),
        embedded once while this library is open, whichever Assistant asks; past RECURRING, afresh."""
        wanted = set(texts)
        cache = self._recurring
        out = {t: v for t in wanted if (v := cache.get(t)) is not None}
        new = sorted(wanted - out.keys())
        if new:
            fresh = dict(zip(new, self.embedder.embed(new), strict=True))
            if len(cache) + len(fresh) > RECURRING:
                cache.clear()
            cache.update(fresh)
            out |= fresh
        return out

    # --- reads of the catalogue (the one gate to it) ----------------------------------------------------

    def documents(self) -> list[DocRecord]:
        return self.catalogue.documents()

    def document(self, doc_id: str) -> DocRecord:
        return self.catalogue.document(doc_id)

    def sections(self, doc_id: str) -> list[SectionRecord]:
        return self.catalogue.sections(doc_id)

    def text(self, doc_id: str) -> str:
        return self.catalogue.text(self.catalogue.document(doc_id).doc_id)

    def version(self) -> int:
        return self.catalogue.library_version()

    def corrections(self, doc_id: str) -> dict[str, Any]:
        """A document's (id or unique prefix) corrected fields → values; detection's are `document().detected`."""
        return self.catalogue.corrections(self.catalogue.document(doc_id).doc_id)

    def texts(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Stored texts by doc_id (full ids; any status)."""
        return self.catalogue.texts(doc_ids)

    def stored(self, doc_id: str) -> DocRecord | None:
        """The version with this exact id, whatever its status (pending, active, deleting), else None."""
        return self.catalogue.has(doc_id)

    def count_chunks(self) -> int:
        """Chunks of active documents (0: nothing to search)."""
        return self.catalogue.count_chunks()

    def councils(self, *, include_demo: bool = True) -> list[str]:
        """Every council an active document names (see Catalogue.councils)."""
        return self.catalogue.councils(include_demo=include_demo)

    def hidden_demo(self) -> frozenset[str]:
        """The demo documents real work leaves out (all once a real document is in; else none)."""
        return self.catalogue.hidden_demo()

    def doc_ids_passing(self, filters: Filters, hidden: frozenset[str] = frozenset()) -> set[str] | None:
        """The documents with a chunk `filters` let through; None when they let everything through."""
        return self.catalogue.doc_ids_passing(filters, hidden)

    def chunks(self, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        """The rows of those of `chunk_ids` that belong to active documents."""
        return self.catalogue.chunks_by_chunk_id(chunk_ids)

    def council_keys(self, chunk_ids: Iterable[str]) -> dict[str, set[str]]:
        """The council tokens each chunk is about."""
        return self.catalogue.council_keys(chunk_ids)

    def document_frequencies(self, stems: list[str]) -> tuple[int, dict[str, int]]:
        """(number of chunks, chunks containing each stemmed term): the IDF behind answer scoring."""
        return self.catalogue.document_frequencies(stems)

    # --- what a consistency check reads -------------------------------------------------------------------

    def inspect_catalogue(self, *, settled: bool = False) -> CatalogueState:
        return self.catalogue.inspect(settled=settled)

    def catalogue_counts(self) -> dict[str, int]:
        return self.catalogue.counts()

    def chunk_ids(self) -> set[str]:
        """Every chunk row's id, whatever its document's status."""
        return self.catalogue.all_chunk_ids()

    def unfinished(self) -> list[str]:
        """Versions a killed writer left pending or retiring."""
        return self.catalogue.unfinished()

    def rebuild_cut_short(self) -> bool:
        """A rebuild of the vectors from the catalogue was started and has not finished."""
        return self.catalogue.get_meta(REBUILDING) is not None

    def vector_count(self) -> int:
        return self.vectors.count()

    def vector_page(self, offset: int, limit: int, include: list[str]) -> dict[str, Any]:
        """Stored vectors in Chroma's order (see VectorStore.page)."""
        return self.vectors.page(offset, limit, include)

    def delete_vectors(self, ids: list[str]) -> None:
        self.vectors.delete_ids(ids)

    # --- writes -------------------------------------------------------------------------------------

    def correct(
        self,
        doc_id: str,
        values: dict[str, Any] | None = None,
        clear: Sequence[str] = (),
        *,
        user: str | None = None,
    ) -> DocRecord:
        """Correct a document's facts (checked values, see `corrections.parse_edit`) or drop corrections.

        The corrections and the document's chunk rows (what the council, kind and date filters read) change
        in one catalogue transaction, then its vectors' Chroma metadata; a writer killed in between leaves
        a mark the next writer's recovery finishes. Each change goes into the audit log. Returns the
        document as now read.
        """
        values = dict(values or {})
        unknown = [f for f in [*values, *clear] if f not in CORRECTABLE and not re.fullmatch(r"score:[1-9]", f)]
        if unknown:
            raise QueryError(f"{unknown[0]!r} is not a fact a user can correct")
        with self.writer():
            before = self.catalogue.document(doc_id)
            self.catalogue.correct(before.doc_id, values, clear)
            self.sync_vector_meta(before.doc_id)
            after = self.catalogue.document(before.doc_id)
            version = self.version()
        changes = [
            (name, "clear" if name in clear else "set", fact(before, name, detected=True),
             fact(before, name), fact(after, name))
            for name in [*values, *clear]
        ]  # fmt: skip
        from .audit import AuditLog

        with AuditLog.for_settings(self.settings) as log:
            log.record_correction(before.doc_id, before.title, changes, library_version=version, user=user)
        return after

    def sync_vector_meta(self, doc_id: str) -> None:
        """Bring a document's Chroma metadata to its chunk rows (a key the rows no longer give is dropped)."""
        ids, metas = self.catalogue.vector_metadatas(doc_id)
        if ids:
            try:
                old = self.vectors.metadatas(ids)
                new = dict(zip(ids, metas, strict=True))
                held = [i for i in ids if i in old]
                if held:  # (a write: other processes' views of the vectors are told to refresh)
                    self.vectors.update_metadatas(
                        held, [{**dict.fromkeys(set(old[i]) - set(new[i])), **new[i]} for i in held]
                    )
            except Exception as exc:  # noqa: BLE001 - Chroma raises many untyped errors
                raise StoreError(f"cannot update the vector store's metadata ({type(exc).__name__}: {exc})") from None
        self.catalogue.vector_meta_synced(doc_id)

    def remove(self, doc_id: str) -> DocRecord:
        with self.writer():
            doc = self.catalogue.document(doc_id)
            self._remove(doc)
            return doc

    def remove_demo(self) -> list[DocRecord]:
        """Remove every demo document, under one writer lock; return them (none: an empty list)."""
        with self.writer():
            gone = [d for d in self.catalogue.documents() if d.demo]
            for doc in gone:
                self._remove(doc)
            return gone

    def _remove(self, doc: DocRecord) -> None:
        self.catalogue.mark_deleting(doc.doc_id)
        self.discard(doc.doc_id)

    def discard(self, doc_id: str) -> None:
        """Delete a version that is not active (pending, retiring or left over): its vectors, then its rows."""
        self.vectors.delete_doc(doc_id)
        self.catalogue.purge(doc_id)

    def add_version(
        self,
        doc_id: str,
        source: str,
        parts: tuple[Extracted, DocMeta, list[Section], list[Chunk]],
        chunk_councils: list[list[str]],
        vectors: Vector,
    ) -> DocRecord | None:
        """Store a new version of `source` (call under `writer`): its rows as `pending`, its vectors, then in
        one transaction make it active and retire the version it replaces, whose rows and vectors then go.
        A failure leaves the previous version searchable and nothing of the new one. Returns the replaced one.
        """
        ex, meta, sections, chunks = parts
        previous = self.catalogue.active_for_source(source)
        self.catalogue.add_pending(doc_id, source, ex, meta, sections, chunks, chunk_councils)
        try:
            # From the chunk rows just written, which carry a user's corrections to this content's facts.
            ids, metadatas = self.catalogue.vector_metadatas(doc_id)
            self.vectors.add(ids, vectors, metadatas)
            self.catalogue.activate(doc_id, replaces=previous.doc_id if previous else None)
        except BaseException:
            self.discard(doc_id)
            raise
        if previous is not None:
            self.discard(previous.doc_id)
        return previous
