"""Dense vectors in Chroma: embedded (PersistentClient) or a `chroma run` server (HttpClient).

We always pass embeddings ourselves and create the collection with `embedding_function=None`, so Chroma never
falls back to its default embedding function. The collection records which embedder made it; opening it with
another one is refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..errors import ConfigError, StoreError

COLLECTION = "cqc_chunks"
MAX_BATCH = 4000


def _client(path: Path, url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url is None:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"Chroma URL {url!r} must look like http://host:port")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        raise StoreError(
            f"cannot reach a Chroma server at {url} ({type(exc).__name__}: {str(exc)[:160]})"
        ) from None
    return client


class VectorStore:
    def __init__(self, path: Path, *, embedder_name: str, dimension: int, url: str | None = None) -> None:
        self.url = url
        self.client = _client(path, url)
        try:
            self.collection = self.client.get_or_create_collection(
                COLLECTION,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": embedder_name, "dimension": dimension},
            )
        except Exception as exc:  # noqa: BLE001
            raise StoreError(
                f"cannot open the Chroma collection ({type(exc).__name__}: {str(exc)[:160]})"
            ) from None
        meta = self.collection.metadata or {}
        if meta.get("embedder") != embedder_name or int(meta.get("dimension", dimension)) != dimension:
            raise StoreError(
                f"the vector store was built with embedder {meta.get('embedder')!r} "
                f"({meta.get('dimension')} dimensions), not {embedder_name!r} ({dimension}); "
                "use a fresh --store or the same embedder"
            )

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Upsert in batches; a Chroma failure becomes a StoreError so ingest reports it per document."""
        try:
            for i in range(0, len(ids), MAX_BATCH):
                self.collection.upsert(
                    ids=ids[i : i + MAX_BATCH],
                    embeddings=vectors[i : i + MAX_BATCH].tolist(),
                    metadatas=metadatas[i : i + MAX_BATCH],
                )
        except Exception as exc:  # noqa: BLE001 - Chroma raises many untyped errors
            reason = f"{type(exc).__name__}: {str(exc)[:160]}"
            raise StoreError(f"cannot write to the vector store ({reason})") from None

    def delete_doc(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def count(self) -> int:
        return int(self.collection.count())

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        n = self.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, n),
            where=where or None,
            include=["distances"],
        )
        ids = res["ids"][0] if res["ids"] else []
        dists = res["distances"][0] if res.get("distances") else []
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]
