"""Ingest: load → detect → chunk → embed → store, incremental and idempotent.

A new version is written `pending`, its vectors added, then it is activated and the old version retired in one
catalogue transaction; a failure at any step leaves the previous version searchable and nothing half-stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..councils import council_token
from ..embedding import Vector
from ..errors import CqcAssistantError, InputError
from ..index.chunk_vectors import embed_text
from ..library import Library
from ..models import Chunk, DocMeta, Extracted, Section
from .chunking import chunk_document
from .detect import detect
from .loaders import load_bytes
from .sources import RawInput, expand, fetch_url, is_url, read_file


@dataclass(frozen=True)
class IngestResult:
    source: str
    status: str  # added | updated | unchanged | failed
    doc_id: str | None = None
    title: str | None = None
    chunks: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def summary(self) -> str:
        return (
            f"added {self.count('added')}, updated {self.count('updated')}, "
            f"unchanged {self.count('unchanged')}, failed {self.failed}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "failed": self.failed,
            "results": [r.to_json() for r in self.results],
        }


Progress = Callable[[IngestResult], None]


def doc_id_for(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


BATCH_CHUNKS = 256  # chunks gathered from consecutive documents before they are embedded together


@dataclass
class _Prepared:
    """A document loaded, detected and chunked, waiting for its vectors (embedded with its neighbours')."""

    raw: RawInput
    ex: Extracted
    doc_id: str
    meta: DocMeta
    sections: list[Section]
    chunks: list[Chunk]
    keys: list[list[str]]
    texts: list[str]


def ingest(library: Library, inputs: list[str], *, progress: Progress | None = None) -> IngestReport:
    """Ingest each input; results (and `progress` calls) come in the order of the inputs.

    The chunks of consecutive new documents are embedded together, up to BATCH_CHUNKS at a time: the model
    then works on full batches of like lengths (one short document's chunks would make a small batch of its
    own). Each document is still stored on its own (pending, vectors, activation in one transaction), so what
    a crash or a failure leaves is the same as when each was embedded alone.
    """
    report = IngestReport()
    queue: list[_Prepared | IngestResult] = []

    def flush() -> None:
        for result in _store_all(library, queue):
            report.results.append(result)
            if progress:
                progress(result)
        queue.clear()

    with library.writer():
        for item in expand(inputs):
            if isinstance(item, str):
                queue.append(_one(library, item))
            else:
                queue.append(IngestResult(item.source, "failed", error=str(item)))
            waiting = sum(len(q.chunks) for q in queue if isinstance(q, _Prepared))
            if waiting == 0 or waiting >= BATCH_CHUNKS:  # nothing to embed (unchanged, failed): report it now
                flush()
        flush()
    return report


def ingest_bytes(library: Library, source: str, data: bytes, suffix: str) -> IngestResult:
    """For uploads: the same path as files, keyed by the given source name."""
    with library.writer():
        (result,) = _store_all(library, [_prepare(library, RawInput(source=source, data=data, suffix=suffix))])
        return result


def _one(library: Library, item: str) -> _Prepared | IngestResult:
    s = library.settings
    try:
        if is_url(item):
            raw = fetch_url(
                item, max_bytes=s.max_url_bytes, timeout_s=s.url_timeout_s,
                max_redirects=s.max_redirects, block_private=s.block_private_urls,
            )  # fmt: skip
        else:
            raw = read_file(item, s.max_file_bytes)
    except InputError as exc:
        return IngestResult(item, "failed", error=str(exc))
    return _prepare(library, raw)


def _failure(source: str, exc: BaseException) -> IngestResult | None:
    """The one-line result for an error that fails one document (None: an error that stops the ingest)."""
    if isinstance(exc, InputError):
        return IngestResult(source, "failed", error=str(exc))
    if isinstance(exc, CqcAssistantError):
        return IngestResult(source, "failed", error=f"{source}: {exc}")
    if isinstance(exc, (MemoryError, RecursionError)):
        return IngestResult(source, "failed", error=f"{source}: too large or too deeply nested ({type(exc).__name__})")
    return None


def _prepare(library: Library, raw: RawInput) -> _Prepared | IngestResult:
    """Load, detect and chunk; an unchanged document is done here, without embedding."""
    try:
        ex = load_bytes(raw.source, raw.data, raw.suffix)
        doc_id = doc_id_for(ex.text)
        existing = library.stored(doc_id)
        if existing is not None and existing.status == "active":
            return IngestResult(raw.source, "unchanged", doc_id, existing.title, existing.n_chunks)
        meta, sections = detect(ex, raw.source)
        chunks = chunk_document(ex, sections)
        if not chunks:
            raise InputError(raw.source, "no text could be extracted")
        keys = [_chunk_councils(meta, sections[c.section]) for c in chunks]
        texts = [_embed_text(ex, sections[c.section], c) for c in chunks]
    except Exception as exc:
        failed = _failure(raw.source, exc)
        if failed is None:
            raise
        return failed
    return _Prepared(raw, ex, doc_id, meta, sections, chunks, keys, texts)


def _store_all(library: Library, queue: list[_Prepared | IngestResult]) -> list[IngestResult]:
    """Embed the queued documents' chunks together, then store each document on its own, in order.

    When the joint embedding fails, each document is embedded alone, so a failure fails only its document.
    """
    prepared = [q for q in queue if isinstance(q, _Prepared)]
    vectors: dict[int, Vector] = {}
    if len(prepared) > 1:
        try:
            joint = library.embedder.embed([t for p in prepared for t in p.texts])
        except Exception:  # noqa: BLE001 - retried document by document below, which names the failure
            pass
        else:
            at = 0
            for p in prepared:
                vectors[id(p)] = joint[at : at + len(p.texts)]
                at += len(p.texts)
    out: list[IngestResult] = []
    for q in queue:
        if isinstance(q, IngestResult):
            out.append(q)
            continue
        got = vectors.get(id(q))
        if got is None:
            try:
                got = library.embedder.embed(q.texts)
            except Exception as exc:  # noqa: BLE001 - a model failure fails this document, not the batch
                reason = f"embedding failed ({type(exc).__name__}: {str(exc)[:160]})"
                out.append(IngestResult(q.raw.source, "failed", error=f"{q.raw.source}: {reason}"))
                continue
        out.append(_store(library, q, got))
    return out


def _store(library: Library, p: _Prepared, vectors: Vector) -> IngestResult:
    """Write one embedded document: pending rows, its vectors, then activation (retiring the old version)."""
    raw, doc_id = p.raw, p.doc_id
    try:
        existing = library.stored(doc_id)
        if existing is not None and existing.status == "active":  # the same content, stored just before
            return IngestResult(raw.source, "unchanged", doc_id, existing.title, existing.n_chunks)
        if existing is not None:  # a leftover pending/deleting row with this content
            library.discard(doc_id)
        previous = library.add_version(doc_id, raw.source, (p.ex, p.meta, p.sections, p.chunks), p.keys, vectors)
        return IngestResult(raw.source, "updated" if previous else "added", doc_id, p.meta.title, len(p.chunks))
    except Exception as exc:
        failed = _failure(raw.source, exc)
        if failed is None:
            raise
        return failed


def _chunk_councils(meta: DocMeta, section: Section) -> list[str]:
    names = section.councils or meta.councils
    return sorted({council_token(n) for n in names})


def _embed_text(ex: Extracted, section: Section, chunk: Chunk) -> str:
    return embed_text(section.title, ex.text[chunk.start : chunk.end])
