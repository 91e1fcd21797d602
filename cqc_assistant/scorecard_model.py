"""What a council scorecard holds: each QS score a document states with its citation, the QS entries, the
overall figures documents state, and the card with its verdict; each with its JSON form (a README contract).

Built by `scorecard.build_scorecard`. A score not found is "not found in the library", never "not assessed":
only a document, or a user's correction, says that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .councils import council_key
from .errors import NotFoundError
from .models import Citation
from .rating import RatingResult

__all__ = ["NOT_FOUND", "CouncilScorecard", "QSEntry", "Scorecard", "StatedFigure", "StatedScore"]

NOT_FOUND = "not found in the library"


@dataclass(frozen=True)
class StatedScore:
    """One QS score as one document states it, with the passage that states it (None if not found, or
    when a user's correction gave it)."""

    qs: int
    score: int
    doc_id: str
    kind: str
    date: str | None
    citation: Citation | None
    corrected: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "qs": self.qs,
            "score": self.score,
            "doc_id": self.doc_id,
            "kind": self.kind,
            "date": self.date,
            "citation": None if self.citation is None else self.citation.to_json(),
            "corrected": self.corrected,
        }


@dataclass(frozen=True)
class QSEntry:
    """One quality statement: the score used for the calculation and every document that states one."""

    qs: int
    name: str
    score: int | None
    statements: tuple[StatedScore, ...]
    conflict: str | None = None
    not_assessed_in: tuple[str, ...] = ()  # documents that say this QS was not assessed

    @property
    def status(self) -> str:
        """'found', 'not assessed' (a document says so) or 'not found in the library'."""
        if self.score is not None:
            return "found"
        return "not assessed" if self.not_assessed_in else NOT_FOUND

    @property
    def cited(self) -> StatedScore | None:
        """The statement whose score is used, among those located in their document's text."""
        return next((s for s in self.statements if s.score == self.score and s.citation is not None), None)

    @property
    def citation(self) -> Citation | None:
        """The citation of the statement whose score is used."""
        return None if self.cited is None else self.cited.citation

    def to_json(self) -> dict[str, Any]:
        cite = self.citation
        return {
            "qs": self.qs,
            "name": self.name,
            "score": self.score,
            "citation": None if cite is None else cite.to_json(),
            "conflict": self.conflict,
            "statements": [s.to_json() for s in self.statements],
            "status": self.status,
            "not_assessed_in": list(self.not_assessed_in),
        }


@dataclass(frozen=True)
class StatedFigure:
    """An overall rating and/or percentage a document states, compared with the calculator's."""

    doc_id: str
    title: str
    kind: str
    date: str | None
    rating: str | None
    percent: int | None
    rating_citation: Citation | None
    percent_citation: Citation | None
    mismatches: tuple[str, ...] = ()
    compared: bool = False  # whether there was a computed result to compare with
    corrected: tuple[str, ...] = ()  # "rating" / "percent" when a user's correction gave it

    @property
    def agrees(self) -> bool | None:
        """Whether it agrees with the calculator; None when nothing was computed to compare it with."""
        return not self.mismatches if self.compared else None

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "kind": self.kind,
            "date": self.date,
            "rating": self.rating,
            "percent": self.percent,
            "rating_citation": None if self.rating_citation is None else self.rating_citation.to_json(),
            "percent_citation": None if self.percent_citation is None else self.percent_citation.to_json(),
            "agrees": self.agrees,
            "mismatches": list(self.mismatches),
            "compared": self.compared,
            "corrected": list(self.corrected),
        }


@dataclass(frozen=True)
class CouncilScorecard:
    council: str
    entries: tuple[QSEntry, ...]
    result: RatingResult | None
    stated: tuple[StatedFigure, ...]
    warnings: tuple[str, ...] = ()

    @property
    def scores(self) -> dict[int, int | None]:
        return {e.qs: e.score for e in self.entries}

    @property
    def found(self) -> int:
        """How many of the nine QS have a score from the library."""
        return sum(1 for e in self.entries if e.score is not None)

    @property
    def missing(self) -> list[int]:
        """QS with no score in the library that no document says were not assessed."""
        return [e.qs for e in self.entries if e.status == NOT_FOUND]

    @property
    def not_assessed(self) -> list[int]:
        return [e.qs for e in self.entries if e.status == "not assessed"]

    @property
    def summary(self) -> str:
        """ "6 of 9 found", with the QS not assessed when a document says so."""
        text = f"{self.found} of {len(self.entries)} found"
        if self.not_assessed:
            text += ", " + ", ".join(f"QS{q}" for q in self.not_assessed) + " not assessed"
        return text

    @property
    def not_computed(self) -> str | None:
        """Why no percentage or rating was computed (None when one was)."""
        if self.result is not None:
            return None
        listed = ", ".join(f"QS{q}" for q in self.missing)
        return (
            f"no percentage or rating computed: {listed} {NOT_FOUND} (the calculator needs all nine scores, "
            "or fewer where a document says a quality statement was not assessed)"
        )

    @property
    def score_conflicts(self) -> list[str]:
        return [e.conflict for e in self.entries if e.conflict]

    @property
    def disagreements(self) -> list[str]:
        return [f"{f.title} ({f.doc_id}): {m}" for f in self.stated for m in f.mismatches]

    @property
    def agrees(self) -> bool | None:
        """False when a stated figure contradicts the calculator or two documents disagree on a score; else
        True when a result was computed to check the stated figures against, None when none was."""
        if self.disagreements or self.score_conflicts:
            return False
        return True if self.result is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "council": self.council,
            "found": self.found,
            "missing": self.missing,
            "not_assessed": self.not_assessed,
            "summary": self.summary,
            "not_computed": self.not_computed,
            "scores": [e.to_json() for e in self.entries],
            "computed": None if self.result is None else self.result.to_json(),
            "stated": [f.to_json() for f in self.stated],
            "agrees": self.agrees,
            "disagreements": self.disagreements,
            "score_conflicts": self.score_conflicts,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Scorecard:
    councils: tuple[CouncilScorecard, ...] = field(default=())

    def council(self, name: str) -> CouncilScorecard:
        key = council_key(name)
        for c in self.councils:
            if council_key(c.council) == key:
                return c
        raise NotFoundError(f"no scorecard for {name!r}")

    def to_json(self) -> dict[str, Any]:
        return {"councils": [c.to_json() for c in self.councils]}
