"""How a chunk becomes a vector: the text embedded for it and the Chroma metadata the dense side filters on.

Ingest uses it to store a new version, and recovery to rebuild the vectors from the catalogue, the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..embedding import Vector
    from .catalogue import Catalogue


def embed_text(section_title: str, body: str) -> str:
    """What is embedded for a chunk: its text, led by its section's title unless it starts with it."""
    if body.startswith(section_title):
        return body
    return f"{section_title}: {body}"


def vector_meta(
    doc_id: str,
    kind: str,
    theme: int | None,
    qs: int | None,
    boilerplate: bool,
    dnum: int | None,
    council_keys: list[str],
) -> dict[str, Any]:
    """A chunk's Chroma metadata: what the dense side filters on, mirroring the catalogue's chunk row
    (`Filters.to_chroma` and `Filters.to_sql` restrict the two alike)."""
    out: dict[str, Any] = {"doc_id": doc_id, "kind": kind, "boilerplate": boilerplate}
    if theme is not None:
        out["theme"] = theme
    if qs is not None:
        out["qs"] = qs
    if dnum is not None:
        out["date_num"] = dnum
    for key in council_keys:
        out[f"c_{key}"] = True
    return out


def stored_vectors(
    catalogue: Catalogue, embed: Callable[[list[str]], Vector], batch: int = 512
) -> Iterator[tuple[list[str], Vector, list[dict[str, Any]]]]:
    """Every active chunk's (ids, vectors, metadatas), rebuilt from the catalogue exactly as ingest made them.

    For rebuilding a vector store that a killed write left unreadable: the catalogue is the record.
    """
    rows = catalogue.active_chunk_sources()
    for i in range(0, len(rows), batch):
        part = rows[i : i + batch]
        texts = catalogue.texts(r.doc_id for r in part)
        vectors = embed([embed_text(r.section_title, texts[r.doc_id][r.start : r.end]) for r in part])
        yield [r.chunk_id for r in part], vectors, [r.meta for r in part]
