"""Dense vectors in Chroma: embedded (PersistentClient) or a `chroma run` server (HttpClient).

We always pass embeddings ourselves and create the collection with `embedding_function=None`, so Chroma never
falls back to its default embedding function. The collection records which embedder made it; opening it with
another one is refused before anything is written.

A server URL is checked before the Chroma client is built: its heartbeat must answer, within a few
seconds, with Chroma's own JSON, so a closed port, a web server that is not Chroma or an unroutable host
gives one clear sentence at start-up instead of a traceback (or a hang: the Chroma client has no timeout).

Embedded, Chroma keeps an in-memory index per process (one per path, cached by Chroma for the process), which
another process's writes leave stale ("Error finding id", a collection that no longer exists). Each writer
leaves a new token in the catalogue when it is done with the vectors (see Library.writer); a view of the
vectors records the token it reflects, and `VectorStore.refresh` brings it up to date with a fresh Chroma
client over the same path, shared by every store on that path in this process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from ..errors import ConfigError, StoreError

COLLECTION = "cqc_chunks"
MAX_BATCH = 4000
CONNECT_TIMEOUT_S = 5.0
PROBE = 400  # nearest vectors fetched unfiltered, then filtered here (see VectorStore.query)
MAX_PROBE = 4000  # the largest such probe (25 ms at 100k chunks; Chroma's own filter takes 60-90 ms)
EXACT_MAX = 1000  # a filter at most this many chunks pass: exact search over just their vectors


class ChunkCheck(Protocol):
    """Which chunks one search may return, as the catalogue's rows say (`chunk_rows.FilteredChunks`)."""

    def ids(self, limit: int) -> list[str] | None:
        """Every chunk id that passes; None when more than `limit` do."""
        ...

    def passing(self, chunk_ids: list[str]) -> set[str]:
        """Those of `chunk_ids` that pass."""
        ...


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def check_server(url: str, timeout_s: float | None = None) -> tuple[str, int, bool]:
    """(host, port, ssl) of a reachable Chroma server at `url`, else a StoreError naming what is wrong."""
    import httpx

    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"Chroma URL {url!r} must look like http://host:port")
    if parsed.path not in ("", "/") or parsed.query:
        raise ConfigError(f"Chroma URL {url!r} must be http(s)://host:port with no path")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    except ValueError:
        raise ConfigError(f"Chroma URL {url!r} has a bad port") from None
    beat = f"{parsed.scheme}://{parsed.netloc}/api/v2/heartbeat"
    try:
        response = httpx.get(beat, timeout=timeout_s, follow_redirects=False)
    except httpx.TimeoutException:
        raise StoreError(
            f"no answer from the Chroma server at {url} within {timeout_s:g} s: "
            "is `chroma run` running there and reachable from here?"
        ) from None
    except httpx.HTTPError as exc:
        raise StoreError(
            f"cannot connect to a Chroma server at {url} ({_reason(exc)}): "
            "start one with `chroma run --path DIR --host HOST --port PORT`, or fix CQC_ASSISTANT_CHROMA_URL"
        ) from None
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or "nanosecond heartbeat" not in data:
        what = response.headers.get("server") or response.headers.get("content-type") or "unknown"
        raise StoreError(
            f"{url} answers, but it is not a Chroma server (HTTP {response.status_code} from "
            f"/api/v2/heartbeat, server: {what}); check the host and port in CQC_ASSISTANT_CHROMA_URL"
        )
    return parsed.hostname, port, parsed.scheme == "https"


_views_lock = threading.Lock()
# embedded path -> (the token its newest client reflects, that client, the Chroma System behind it)
_views: dict[str, tuple[str | None, Any, Any]] = {}


def _embedded_view(path: Path, token: str | None, failed: Any = None, *, create: bool = False) -> Any:
    """A client over the embedded store at `path` that reflects at least the writers' `token`.

    The newest client this process made for the path is reused when it reflects `token` (and is not the
    one that just `failed`); else Chroma's cached System for the path is dropped, so that a new client
    reads the store afresh. Only this path's System is dropped (`clear_system_cache` would drop every
    store's); clients already handed out keep working on the old one until their stores refresh.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(path)
    systems = SharedSystemClient._identifier_to_system
    with _views_lock:
        newest = _views.get(key)
        if newest is not None and newest[0] == token and newest[1] is not failed and systems.get(key) is newest[2]:
            return newest[1]
        if not create and not path.is_dir():  # a new client would make an empty store there
            raise StoreError(f"the vector store {path} is missing")
        with SharedSystemClient._refcount_lock:
            systems.pop(key, None)
        client = _client(path, None)
        _views[key] = (token, client, systems.get(key))
        return client


def _wrote(path: Path, client: Any, token: str) -> None:
    """This process's own write through `client` left `token`: the client reflects it (if still the newest)."""
    with _views_lock:
        newest = _views.get(str(path))
        if newest is not None and newest[1] is client:
            _views[str(path)] = (token, client, newest[2])


def _client(path: Path, url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url is None:
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:  # noqa: BLE001 - Chroma raises many untyped errors
            raise StoreError(f"cannot open the vector store in {path} ({_reason(exc)})") from None
    host, port, ssl = check_server(url)
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        raise StoreError(f"cannot use the Chroma server at {url} ({_reason(exc)})") from None
    return client


class VectorStore:
    """One Chroma collection: COLLECTION by default; in server mode the library names one per store."""

    on_write: Callable[[], None] | None = None  # set by the library: called before each write to Chroma

    def __init__(
        self,
        path: Path,
        *,
        embedder_name: str,
        dimension: int,
        url: str | None = None,
        collection: str = COLLECTION,
        written: str | None = None,
    ) -> None:
        """`written`: the writers' token read from the catalogue before this store was opened (embedded)."""
        self.path = path
        self.url = url
        self.name = collection
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.where = f"{collection!r} on the Chroma server at {url}" if url else f"{collection!r} in {path}"
        self.writes = 0  # vector writes made through this store (Library.writer leaves a token when > 0)
        self.seen = written  # the writers' token this view of an embedded store reflects
        self.client = _client(path, url) if url else _embedded_view(path, written, create=True)
        self.collection = self._open(self.client, create=True)

    def _open(self, client: Any, *, create: bool) -> Any:
        """The collection, checked to be this embedder's (created when `create` and missing)."""
        try:
            if create:
                collection = client.get_or_create_collection(
                    self.name,
                    embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": self.embedder_name, "dimension": self.dimension},
                )
            else:
                collection = client.get_collection(self.name, embedding_function=None)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot open the Chroma collection {self.where} ({_reason(exc)})") from None
        meta = collection.metadata or {}
        try:
            found_dim = int(meta.get("dimension", self.dimension))
        except (TypeError, ValueError):
            found_dim = -1
        if meta.get("embedder") != self.embedder_name or found_dim != self.dimension:
            raise StoreError(
                f"the Chroma collection {self.where} was built with embedder {meta.get('embedder')!r} "
                f"({meta.get('dimension')} dimensions), not {self.embedder_name!r} ({self.dimension}); "
                "use the same embedder (CQC_ASSISTANT_EMBEDDER), or a fresh --store"
            )
        return collection

    def refresh(self, token: str | None, *, failed: Any = None) -> None:
        """Bring this view up to date with what the writers' `token` says was written, or raise StoreError.

        Embedded: a client that reflects `token` (a fresh one when needed, see `_embedded_view`), never
        `failed` (the client a read just failed on). On a server the client always sees the server's state;
        only the collection is opened again (a repair may have rebuilt it).
        """
        client = self.client if self.url else _embedded_view(self.path, token, failed)
        self.collection = self._open(client, create=False)
        self.client, self.seen = client, token

    def wrote(self, token: str) -> None:
        """This process's writes through this view are done and left `token`."""
        if self.url is None:
            _wrote(self.path, self.client, token)
        self.seen = token

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Upsert in batches; a Chroma failure becomes a StoreError so ingest reports it per document."""
        self._writing()
        try:
            for i in range(0, len(ids), MAX_BATCH):
                self.collection.upsert(
                    ids=ids[i : i + MAX_BATCH],
                    embeddings=vectors[i : i + MAX_BATCH].tolist(),
                    metadatas=metadatas[i : i + MAX_BATCH],
                )
        except Exception as exc:  # noqa: BLE001 - Chroma raises many untyped errors
            raise StoreError(f"cannot write to the vector store ({_reason(exc)})") from None

    def delete_doc(self, doc_id: str) -> None:
        self._writing()
        self.collection.delete(where={"doc_id": doc_id})

    def delete_ids(self, ids: list[str]) -> None:
        self._writing()
        self.collection.delete(ids=ids)

    def _writing(self) -> None:
        if self.on_write is not None:
            self.on_write()
        self.writes += 1

    def count(self) -> int:
        return int(self.collection.count())

    def page(self, offset: int, limit: int, include: list[str]) -> dict[str, Any]:
        """Stored vectors in Chroma's order: `ids` and what `include` names ("embeddings", "metadatas")."""
        return dict(self.collection.get(include=include, limit=limit, offset=offset))

    def metadatas(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The metadata of those of `ids` the store holds."""
        got = self.collection.get(ids=ids, include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def update_metadatas(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Replace stored vectors' metadata (a key given as None is dropped)."""
        self._writing()
        self.collection.update(ids=ids, metadatas=metadatas)

    def drop(self) -> None:
        """Delete the collection (already gone is fine)."""
        self.client.delete_collection(self.name)

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None, check: ChunkCheck | None = None
    ) -> list[tuple[str, float]]:
        """The k nearest chunks (id, cosine similarity) that satisfy `where`, best first.

        Chroma answers a filtered query by first gathering every id that passes the filter: at 100k
        chunks that took 60-340 ms (a kind, a date range, a quality statement; even one council's 130
        chunks), against 2-6 ms unfiltered. With `check`, the catalogue's rows for the same filter:
        1. when at most EXACT_MAX chunks pass the filter (one council), their vectors are scored exactly
           (12 ms to find them by a scan of the catalogue's chunks and 5 ms to score them, at 100k);
        2. else the nearest PROBE vectors are fetched unfiltered and filtered in the catalogue; when at
           least k pass, they are the answer (a broad filter; 6 ms at 100k). When too few pass (a quality
           statement passes one chunk in 12, fewer among a topic's nearest), a larger probe sized by the
           share that passed, up to MAX_PROBE, is tried (35-45 ms at 100k);
        3. else Chroma's own filter answers.
        """
        if where and check is not None:
            ids = check.ids(EXACT_MAX)
            if ids is not None:
                return self._exact(vector, ids, k)
            probe = max(PROBE, 4 * k)
            while True:
                hits = self._query(vector, probe, None)
                ok = check.passing([cid for cid, _ in hits])
                passed = [hit for hit in hits if hit[0] in ok]
                if len(passed) >= k:
                    return passed[:k]
                # A short probe is not a small store here (more than EXACT_MAX chunks pass the filter):
                # Chroma's graph search can return fewer than asked for (183 of 400 at 100k).
                if probe >= MAX_PROBE or len(hits) < probe:
                    break
                share = len(passed) / len(hits) if passed else 0.0
                wanted = int(2 * k / share) if share else MAX_PROBE  # twice what the share seen implies
                probe = min(MAX_PROBE, max(2 * probe, wanted))
        return self._query(vector, k, where)

    def _exact(self, vector: np.ndarray, ids: list[str], k: int) -> list[tuple[str, float]]:
        """Exact cosine similarity over the vectors of `ids` (those the store holds), best k first."""
        if not ids:
            return []
        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot read the vector store {self.where} ({_reason(exc)})") from None
        found = list(got["ids"])
        if not found:
            return []
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        if matrix.ndim != 2 or len(matrix) != len(found):  # read while another process rewrites the vectors
            raise StoreError(f"cannot read the vector store {self.where} (its vectors are being rewritten)")
        norms = np.linalg.norm(matrix, axis=1) * (float(np.linalg.norm(vector)) or 1.0)
        sims = matrix @ np.asarray(vector, dtype=np.float32) / np.where(norms > 0, norms, 1.0)
        best = np.argsort(-sims, kind="stable")[:k]
        return [(found[i], float(sims[i])) for i in best]

    def _query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        # No count() first: Chroma returns fewer than k (or none) by itself, and each call is a round trip.
        try:
            res = self.collection.query(
                query_embeddings=[vector.tolist()],
                n_results=k,
                where=where or None,
                include=["distances"],
            )
        except Exception as exc:  # noqa: BLE001 - a lost server mid-session is one sentence too
            raise StoreError(f"cannot search the vector store {self.where} ({_reason(exc)})") from None
        ids = res["ids"][0] if res["ids"] else []
        dists = res["distances"][0] if res.get("distances") else []
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]
