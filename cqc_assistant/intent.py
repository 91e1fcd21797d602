"""What a question asks, read once: councils named, the quality statement asked about (by name or by meaning),
the kind of answer wanted, years, and who is said to have found it. Retrieval, answering and the LLM path take
an `Intent`; none of them re-reads the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .councils import find_councils
from .domain import QS_DESCRIPTIONS, QUALITY_STATEMENTS, WHO_FOUND_IT, quality_statements_named
from .questions import Finder, answer_type, counted_phrase, has_two_parts, years_named

if TYPE_CHECKING:
    import numpy as np

    from .embedding import Embedder
    from .library import Library

# Who a question says found it: CQC (its report or press release) or the LGA's peer team (DOMAIN.md §1).
_SOURCES = tuple((re.compile(rf"\b(?:{words})\b", re.I), kinds) for words, kinds in WHO_FOUND_IT)


@dataclass(frozen=True)
class Intent:
    """One question, understood. `qs_similarity[i]` is the question's cosine similarity to quality statement
    i+1's description (empty without an embedder); `qs` holds the statements it names by name."""

    question: str
    councils: tuple[str, ...] = ()
    qs: frozenset[int] = frozenset()
    qs_similarity: tuple[float, ...] = ()
    kind: str | None = None
    finder: Finder | None = field(default=None, compare=False, repr=False)
    years: frozenset[tuple[int, int]] = frozenset()
    sources: frozenset[str] = frozenset()
    two_parts: bool = False
    counted: str = ""  # what a "how many" question counts ("older people")
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, question: str, library: Library | None = None) -> Intent:
        """Without a library (no embedder) the quality statement is found by name only."""
        kind = answer_type(question)
        found = find_councils(question)
        vec = None
        sims: tuple[float, ...] = ()
        if library is not None:
            vec = library.embed_query(question)
            # The statement asked about is the question's topic: the council named is its scope, and a
            # council's name weighs enough in an embedding to pull the question away from its topic.
            topic = _without_spans(question, [(a, b) for _, a, b in found])
            topic_vec = vec if topic == question else library.embed_query(topic)
            sims = tuple(float(x) for x in _qs_vectors(library.embedder) @ topic_vec)
        return cls(
            question=question,
            councils=tuple(dict.fromkeys(name for name, _, _ in found)),
            qs=frozenset(quality_statements_named(question)),
            qs_similarity=sims,
            kind=kind[0] if kind else None,
            finder=kind[1] if kind else None,
            years=frozenset(years_named(question)),
            sources=frozenset(k for pattern, kinds in _SOURCES if pattern.search(question) for k in kinds),
            two_parts=has_two_parts(question),
            counted=counted_phrase(question) if kind and kind[0] == "count" else "",
            vector=vec,
        )

    def qs_meaning(self, qs: int | None) -> float:
        """How close the question is in meaning to quality statement `qs` (0 when unknown), relative to the
        closest statement: 1.0 for the closest."""
        if not qs or not self.qs_similarity:
            return 0.0
        top = max(self.qs_similarity)
        return self.qs_similarity[qs - 1] / top if top > 0 else 0.0

    def best_qs(self) -> int | None:
        """The statement named, else the one closest in meaning."""
        if self.qs:
            return min(self.qs)
        if not self.qs_similarity:
            return None
        return max(range(len(self.qs_similarity)), key=lambda i: self.qs_similarity[i]) + 1


def _without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + text[b:]
    return " ".join(text.split())


_QS_VECTORS: dict[str, np.ndarray] = {}


def _qs_vectors(embedder: Embedder) -> np.ndarray:
    """Each quality statement's name and description, embedded once per embedder (by name)."""
    vecs = _QS_VECTORS.get(embedder.name)
    if vecs is None:
        texts = [f"{qs.name}. {QS_DESCRIPTIONS[qs.number]}" for qs in QUALITY_STATEMENTS]
        vecs = _QS_VECTORS[embedder.name] = embedder.embed(texts)
    return vecs
