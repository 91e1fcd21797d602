"""The records that travel between ingest, the index and answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("cqc_assessment", "cqc_press_release", "lga_peer_challenge", "news", "other")


@dataclass(frozen=True)
class Heading:
    """A heading found by a loader or by detection: text[start:end] is the heading line."""

    start: int
    end: int
    level: int = 2


@dataclass(frozen=True)
class Extracted:
    """A loader's output: the stored text that all offsets index into."""

    text: str
    title: str = ""
    headings: tuple[Heading, ...] = ()
    pages: tuple[int, ...] = ()  # start offset of each page (PDF); empty otherwise
    content_type: str = "text/plain"

    def page_at(self, offset: int) -> int | None:
        if not self.pages:
            return None
        page = 1
        for i, start in enumerate(self.pages):
            if start <= offset:
                page = i + 1
        return page


@dataclass(frozen=True)
class Section:
    title: str
    start: int  # offset of the section body (heading included)
    end: int
    theme: int | None = None
    qs: int | None = None
    score: int | None = None
    councils: tuple[str, ...] = ()
    boilerplate: bool = False


Span = tuple[int, int]  # (start, end) offsets into the stored text


@dataclass(frozen=True)
class ScoreStatement:
    """One place where a document states a quality statement's score: text[start:end] is that passage.

    `form` says how it was stated: "page" (a QS page's or overview's `Score: N` under its label) or "list"
    (a press-release list or table line)."""

    qs: int
    score: int
    start: int
    end: int
    form: str = "list"


@dataclass(frozen=True)
class DocMeta:
    title: str
    council: str | None
    councils: tuple[str, ...]
    kind: str
    date: str | None  # ISO: yyyy-mm-dd, yyyy-mm or yyyy
    date_precision: str | None  # "day" | "month" | "year" | None
    rating: str | None
    percent: int | None = None
    scores: dict[int, int] = field(default_factory=dict)  # qs -> score stated in the document
    # Where each fact is stated (offsets into the stored text), so it can be cited; None when not stated.
    score_statements: tuple[ScoreStatement, ...] = ()  # every statement found, conflicting ones included
    date_span: Span | None = None
    rating_span: Span | None = None
    percent_span: Span | None = None

    @property
    def score_spans(self) -> dict[int, Span]:
        """qs -> the passage that states the score in `scores` (the first such statement)."""
        out: dict[int, Span] = {}
        for st in self.score_statements:
            if self.scores.get(st.qs) == st.score and st.qs not in out:
                out[st.qs] = (st.start, st.end)
        return out


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    section: int  # index into the document's sections
    page: int | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its citation metadata."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    section: str
    theme: int | None
    qs: int | None
    start: int
    end: int
    text: str
    score: float
    council: str | None = None
    kind: str | None = None
    date: str | None = None
    page: int | None = None
    answer_score: float | None = None  # its best sentence's probability of answering (a reranked search)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    section: str
    start: int
    end: int
    quote: str
    page: int | None = None
    council: str | None = None
    kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    filters: dict[str, Any] = field(default_factory=dict)
    searched: tuple[str, ...] = ()  # titles of the documents searched, for refusals
    notice: str | None = None
    mode: str = "extractive"
    confidence: float = 0.0  # the best sentence's support score; refusals fall below the threshold
    closest: tuple[Citation, ...] = ()  # a refusal's nearest passages: they do NOT answer the question

    def to_json(self) -> dict[str, Any]:
        closest = [
            {k: c.to_json()[k] for k in ("doc_id", "title", "section", "start", "end", "quote")} for c in self.closest
        ]
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "filters": self.filters,
            "searched": list(self.searched),
            "notice": self.notice,
            "mode": self.mode,
            "confidence": round(self.confidence, 3),
            "closest": closest,
        }
