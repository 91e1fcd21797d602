"""Ingest: load → detect → chunk → embed → store, incremental and idempotent.

A new version is written `pending`, its vectors added, then it is activated and the old version retired in one
catalogue transaction; a failure at any step leaves the previous version searchable and nothing half-stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..councils import council_token
from ..embedding import Vector
from ..errors import CqcAssistantError, InputError
from ..index.catalogue import vector_meta
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


def ingest(library: Library, inputs: list[str], *, progress: Progress | None = None) -> IngestReport:
    report = IngestReport()
    with library.writer():
        for item in expand(inputs):
            result = (
                _one(library, item) if isinstance(item, str) else IngestResult(item.source, "failed", error=str(item))
            )
            report.results.append(result)
            if progress:
                progress(result)
    return report


def ingest_bytes(library: Library, source: str, data: bytes, suffix: str) -> IngestResult:
    """For uploads: the same path as files, keyed by the given source name."""
    with library.writer():
        return _store(library, RawInput(source=source, data=data, suffix=suffix))


def _one(library: Library, item: str) -> IngestResult:
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
    return _store(library, raw)


def _store(library: Library, raw: RawInput) -> IngestResult:
    cat = library.catalogue
    try:
        ex = load_bytes(raw.source, raw.data, raw.suffix)
        doc_id = doc_id_for(ex.text)
        existing = cat.has(doc_id)
        if existing is not None and existing.status == "active":
            return IngestResult(raw.source, "unchanged", doc_id, existing.title, existing.n_chunks)
        if existing is not None:  # a leftover pending/deleting row with this content
            library.vectors.delete_doc(doc_id)
            cat.purge(doc_id)
        previous = cat.active_for_source(raw.source)
        meta, sections = detect(ex, raw.source)
        chunks = chunk_document(ex, sections)
        if not chunks:
            raise InputError(raw.source, "no text could be extracted")
        keys = [_chunk_councils(meta, sections[c.section]) for c in chunks]
        try:
            vectors = library.embedder.embed([_embed_text(ex, sections[c.section], c) for c in chunks])
        except Exception as exc:  # noqa: BLE001 - a model failure fails this document, not the batch
            reason = f"embedding failed ({type(exc).__name__}: {str(exc)[:160]})"
            return IngestResult(raw.source, "failed", error=f"{raw.source}: {reason}")
        cat.add_pending(doc_id, raw.source, ex, meta, sections, chunks, keys)
        try:
            # From the chunk rows just written, which carry a user's corrections to this content's facts.
            ids, metadatas = cat.vector_metadatas(doc_id)
            library.vectors.add(ids, vectors, metadatas)
            cat.activate(doc_id, replaces=previous.doc_id if previous else None)
        except BaseException:
            library.vectors.delete_doc(doc_id)
            cat.purge(doc_id)
            raise
        if previous is not None:
            library.vectors.delete_doc(previous.doc_id)
            cat.purge(previous.doc_id)
        return IngestResult(raw.source, "updated" if previous else "added", doc_id, meta.title, len(chunks))
    except InputError as exc:
        return IngestResult(raw.source, "failed", error=str(exc))
    except CqcAssistantError as exc:
        return IngestResult(raw.source, "failed", error=f"{raw.source}: {exc}")
    except (MemoryError, RecursionError) as exc:
        return IngestResult(
            raw.source, "failed", error=f"{raw.source}: too large or too deeply nested ({type(exc).__name__})"
        )


def _chunk_councils(meta: DocMeta, section: Section) -> list[str]:
    names = section.councils or meta.councils
    return sorted({council_token(n) for n in names})


def _embed_text(ex: Extracted, section: Section, chunk: Chunk) -> str:
    return embed_text(section.title, ex.text[chunk.start : chunk.end])


def embed_text(section_title: str, body: str) -> str:
    """What is embedded for a chunk: its text, led by its section's title unless it starts with it."""
    if body.startswith(section_title):
        return body
    return f"{section_title}: {body}"


def stored_vectors(library: Library, batch: int = 512) -> Iterator[tuple[list[str], Vector, list[dict[str, Any]]]]:
    """Every active chunk's (ids, vectors, metadatas), rebuilt from the catalogue exactly as ingest made them.

    For rebuilding a vector store that a killed write left unreadable: the catalogue is the record.
    """
    cat = library.catalogue
    rows = cat.db.execute(
        'SELECT c.chunk_id, c.doc_id, c.start, c."end", c.theme, c.qs, c.boilerplate, c.date_num, '
        "c.council_keys, c.kind, s.title FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
        "JOIN sections s ON s.doc_id = c.doc_id AND s.idx = c.section_idx "
        "WHERE d.status = 'active' ORDER BY c.doc_id, c.idx"
    ).fetchall()
    for i in range(0, len(rows), batch):
        part = rows[i : i + batch]
        texts = cat.texts(r[1] for r in part)
        vectors = library.embedder.embed([embed_text(r[10], texts[r[1]][r[2] : r[3]]) for r in part])
        metas = [vector_meta(r[1], r[9], r[4], r[5], bool(r[6]), r[7], str(r[8]).split()) for r in part]
        yield [str(r[0]) for r in part], vectors, metas
