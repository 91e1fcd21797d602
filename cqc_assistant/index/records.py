"""The catalogue's records: a document, a section and a chunk as read back, and a document row's columns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any


def is_demo_source(source: str) -> bool:
    """A file of the package's demo folder (`cqc_assistant/demo/`), wherever the package is installed."""
    folder = PurePath(source).parent
    return folder.name == "demo" and folder.parent.name == "cqc_assistant"


@dataclass(frozen=True)
class DocRecord:
    doc_id: str
    source: str
    title: str
    council: str | None
    councils: list[str]
    kind: str
    date: str | None
    date_precision: str | None
    rating: str | None
    percent: int | None
    scores: dict[int, int]
    content_type: str
    n_chunks: int
    ingested_at: str
    status: str
    corrected: tuple[str, ...] = ()  # the fields a user corrected (see Catalogue.corrections)
    detected: dict[str, Any] = field(default_factory=dict)  # what detection found for those fields
    not_assessed: tuple[int, ...] = ()  # quality statements the document says were not assessed
    demo: bool = False  # one of the shipped demo documents

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "council": self.council,
            "councils": self.councils,
            "kind": self.kind,
            "date": self.date,
            "date_precision": self.date_precision,
            "rating": self.rating,
            "percent": self.percent,
            "scores": {str(k): v for k, v in sorted(self.scores.items())},
            "content_type": self.content_type,
            "chunks": self.n_chunks,
            "ingested_at": self.ingested_at,
            "not_assessed": list(self.not_assessed),
            "corrected": list(self.corrected),
            "detected": self.detected,
            "demo": self.demo,
        }


@dataclass(frozen=True)
class SectionRecord:
    idx: int
    title: str
    start: int
    end: int
    theme: int | None
    qs: int | None
    score: int | None
    councils: list[str]
    boilerplate: bool

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    chunk_id: str
    doc_id: str
    section_idx: int
    start: int
    end: int
    page: int | None
    theme: int | None
    qs: int | None
    boilerplate: bool


DOC_COLS = (
    "doc_id, source, title, council, councils, kind, date, date_precision, rating, percent, scores, "
    "content_type, n_chunks, ingested_at, status"
)


def doc_record(r: tuple[Any, ...], demo: bool = False) -> DocRecord:
    return DocRecord(
        doc_id=r[0], source=r[1], title=r[2], council=r[3], councils=json.loads(r[4]), kind=r[5], date=r[6],
        date_precision=r[7], rating=r[8], percent=r[9], scores={int(k): v for k, v in json.loads(r[10]).items()},
        content_type=r[11], n_chunks=r[12], ingested_at=r[13], status=r[14], demo=demo,
    )  # fmt: skip


@dataclass(frozen=True)
class ChunkSource:
    """What a chunk's vector is made from (see chunk_vectors.stored_vectors)."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    section_title: str
    meta: dict[str, Any]  # its Chroma metadata
