"""What an interview-prep briefing holds: cited lines grouped per quality statement, and the briefing with its
citations numbered in reading order; each with its JSON form. Built by `briefing.build_briefing`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .domain import SCORE_LABELS
from .models import Citation

__all__ = ["Briefing", "BriefingLine", "StatementBriefing"]


@dataclass(frozen=True)
class BriefingLine:
    """One line of a briefing and the passage it rests on. For extractive lines, text == citation.quote."""

    text: str
    citation: Citation

    @property
    def extractive(self) -> bool:
        return self.text == self.citation.quote

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "extractive": self.extractive, "citation": self.citation.to_json()}


@dataclass(frozen=True)
class StatementBriefing:
    """One quality statement's part of a briefing: its score line and its headed groups of cited lines."""

    qs: int
    name: str
    theme: int
    score: int | None
    score_line: BriefingLine | None
    key_findings: tuple[BriefingLine, ...] = ()
    strengths: tuple[BriefingLine, ...] = ()
    improvements: tuple[BriefingLine, ...] = ()
    peers: tuple[BriefingLine, ...] = ()
    questions: tuple[BriefingLine, ...] = ()

    @property
    def score_label(self) -> str | None:
        return None if self.score is None else SCORE_LABELS.get(self.score)

    def groups(self) -> list[tuple[str, tuple[BriefingLine, ...]]]:
        """The headed groups of lines, in display order (the score line is separate)."""
        return [
            ("Key findings", self.key_findings),
            ("Strengths", self.strengths),
            ("Areas for improvement", self.improvements),
            ("What peers were praised for", self.peers),
            ("Questions staff may be asked", self.questions),
        ]

    def lines(self) -> Iterator[BriefingLine]:
        if self.score_line is not None:
            yield self.score_line
        for _, group in self.groups():
            yield from group

    def to_json(self) -> dict[str, Any]:
        return {
            "qs": self.qs,
            "name": self.name,
            "theme": self.theme,
            "score": self.score,
            "score_label": self.score_label,
            "score_line": None if self.score_line is None else self.score_line.to_json(),
            "key_findings": [x.to_json() for x in self.key_findings],
            "strengths": [x.to_json() for x in self.strengths],
            "improvements": [x.to_json() for x in self.improvements],
            "peers": [x.to_json() for x in self.peers],
            "questions": [x.to_json() for x in self.questions],
        }


@dataclass(frozen=True)
class Briefing:
    """A council's briefing on one quality statement or all nine, with the peers compared and any notes."""

    council: str
    statements: tuple[StatementBriefing, ...]
    library_version: int
    peers_considered: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        if len(self.statements) == 1:
            s = self.statements[0]
            return f"Interview prep: {self.council}, QS{s.qs} {s.name}"
        return f"Interview prep: {self.council}, all quality statements"

    def lines(self) -> Iterator[BriefingLine]:
        for s in self.statements:
            yield from s.lines()

    def citations(self) -> list[Citation]:
        """Each distinct citation once, in the order of its number."""
        seen: dict[int, Citation] = {}
        for line in self.lines():
            seen.setdefault(line.citation.n, line.citation)
        return [seen[n] for n in sorted(seen)]

    def to_json(self) -> dict[str, Any]:
        return {
            "council": self.council,
            "title": self.title,
            "library_version": self.library_version,
            "peers_considered": list(self.peers_considered),
            "notes": list(self.notes),
            "statements": [s.to_json() for s in self.statements],
        }
