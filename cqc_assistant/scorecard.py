"""Council scorecards: the QS scores documents state, each with its passage, beside the calculator.

For every council whose documents state quality-statement scores (CQC quality-statement pages give a
`Score: N` line per section; press releases give a list of nine, mapped by position), this collects
each stated score with a citation whose `quote` is exactly `stored_text[start:end]`, and sets the
council's stated ratings and percentages beside the calculator's (`rating.rate`). Disagreements are
reported, never resolved silently (DOMAIN.md §4.6).

A scorecard never claims more than the library holds: it says how many of the nine scores it found; a
score not found is "not found in the library", never "not assessed" (only a document, or a user's
correction, says that); a percentage and rating are computed only when every QS has a score or is
stated as not assessed, and a stated figure is said to agree with the calculator only when both exist.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .councils import canonical_council, council_key
from .domain import QUALITY_STATEMENTS, RATINGS, match_quality_statement, quality_statement
from .errors import NotFoundError
from .index.records import DocRecord, SectionRecord
from .ingest.scores import find_score_statements
from .library import Library
from .models import Citation
from .rating import RatingResult, compare_stated, rate

__all__ = [
    "CouncilScorecard",
    "QSEntry",
    "Scorecard",
    "StatedFigure",
    "StatedScore",
    "build_scorecard",
    "locate_score_lines",
]

# Which document wins when two state different scores for one QS: CQC's own report first.
KIND_PRIORITY = {"cqc_assessment": 0, "cqc_press_release": 1, "news": 2, "other": 3}
SKIP_KINDS = frozenset({"lga_peer_challenge"})  # peer challenges carry no scores or ratings (DOMAIN §1.2)

# A list or table line that ends with a score: "Safeguarding – 3", "1. Leadership: 3", "| Safeguarding | 3 |".
_LIST_LINE = re.compile(
    r"^(?P<label>.*?[A-Za-z].*?)[\s|:\-\u2013\u2014(]+(?:score\s*:?\s*)?(?P<score>[1-4])\s*\)?\s*\|?\s*$",
    re.I,
)
_MAX_LIST_LINE = 200
_MAX_LABEL_WORDS = 16
_PERCENT = re.compile(r"\bscore of (\d{2,3}(?:\.\d+)?)\s*%", re.I)
_RATING_CUE = re.compile(r"\brat(?:e|ed|es|ing)\b", re.I)


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
    def citation(self) -> Citation | None:
        """The citation of the statement whose score is used."""
        for s in self.statements:
            if s.score == self.score and s.citation is not None:
                return s.citation
        return None

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


# --- locating passages ---------------------------------------------------------------------------


def _lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line in text[start:end], trimmed of surrounding whitespace."""
    stop = len(text) if end is None else end
    pos = start
    while pos < stop:
        nl = text.find("\n", pos, stop)
        line_end = stop if nl == -1 else nl
        a, b = pos, line_end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            yield a, b
        pos = line_end + 1


def _sentence(text: str, a: int, b: int) -> tuple[int, int]:
    """The sentence around text[a:b], kept within its line and trimmed."""
    line_start = text.rfind("\n", 0, a) + 1
    line_end = text.find("\n", b)
    line_end = len(text) if line_end == -1 else line_end
    dot = max(text.rfind(". ", line_start, a), text.rfind("? ", line_start, a), text.rfind("! ", line_start, a))
    s = line_start if dot == -1 else dot + 2
    m = re.compile(r"[.?!](?=\s|$)").search(text, b, line_end)
    e = line_end if m is None else m.end()
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _list_line(text: str, a: int, b: int) -> tuple[str, int] | None:
    line = text[a:b]
    if len(line) > _MAX_LIST_LINE:
        return None
    m = _LIST_LINE.match(line)
    if m is None:
        return None
    label = m.group("label").strip(" |")
    if not label or len(label.split()) > _MAX_LABEL_WORDS:
        return None
    return label, int(m.group("score"))


def locate_score_lines(text: str, scores: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Find, for each stated QS score, the list or table line that states it: {qs: (start, end)}.

    Candidate lines end with a score 1-4. A run of consecutive candidates whose digits equal the stated
    scores in QS order is mapped by position (as detection does); otherwise lines are matched by their
    label; any QS still unplaced takes the next candidate, in order, ending with its digit.
    """
    if not scores:
        return {}
    candidates: list[tuple[int, int, str, int, int]] = []  # start, end, label, score, line number
    for n, (a, b) in enumerate(_lines(text)):
        found = _list_line(text, a, b)
        if found:
            candidates.append((a, b, found[0], found[1], n))
    runs: list[list[tuple[int, int, str, int, int]]] = []
    for cand in candidates:
        if runs and runs[-1][-1][4] == cand[4] - 1:
            runs[-1].append(cand)
        else:
            runs.append([cand])
    order = sorted(scores)
    wanted = [scores[q] for q in order]
    located: dict[int, tuple[int, int]] = {}
    best: dict[int, tuple[int, int]] = {}
    for run in runs:
        attempt: dict[int, tuple[int, int]] = {}
        if len(run) == len(order) and [c[3] for c in run] == wanted:
            attempt = {q: (c[0], c[1]) for q, c in zip(order, run, strict=True)}
        else:
            for a, b, label, score, _n in run:
                qs = match_quality_statement(label)
                if qs is not None and scores.get(qs.number) == score and qs.number not in attempt:
                    attempt[qs.number] = (a, b)
        if len(attempt) > len(best):
            best = attempt
    located.update(best)
    pointer = 0
    for q in order:
        if q in located:
            pointer = max(pointer, located[q][1])
            continue
        for a, b, _label, score, _n in candidates:
            if a >= pointer and score == scores[q] and (a, b) not in located.values():
                located[q] = (a, b)
                pointer = b
                break
    return located


def _section_title(sections: list[SectionRecord], offset: int) -> str:
    title = ""
    for s in sections:
        if s.start <= offset < s.end:
            title = s.title  # later (inner) sections win
    return title


def _cite(doc: DocRecord, text: str, sections: list[SectionRecord], span: tuple[int, int], council: str) -> Citation:
    start, end = span
    return Citation(
        n=0,
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        section=_section_title(sections, start),
        start=start,
        end=end,
        quote=text[start:end],
        council=council,
        kind=doc.kind,
    )


def _rating_span(text: str, rating: str) -> tuple[int, int] | None:
    word = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in rating.split()) + r"\b", re.I)
    for a, b in _lines(text):
        line = text[a:b]
        for m in word.finditer(line):
            if _RATING_CUE.search(line):
                return _sentence(text, a + m.start(), a + m.end())
    return None


def _percent_span(text: str, percent: int) -> tuple[int, int] | None:
    for m in _PERCENT.finditer(text):
        if int(float(m.group(1))) == percent:
            return _sentence(text, m.start(), m.end())
    return None


# --- building ------------------------------------------------------------------------------------


@dataclass
class _Council:
    names: Counter[str] = field(default_factory=Counter)
    statements: dict[int, list[StatedScore]] = field(default_factory=dict)
    not_assessed: dict[int, list[str]] = field(default_factory=dict)
    figures: list[StatedFigure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _single_council(doc: DocRecord) -> str | None:
    councils = [c for c in doc.councils if c] or ([doc.council] if doc.council else [])
    return councils[0] if len(councils) == 1 else None


def _doc_scores(
    doc: DocRecord, text: str, sections: list[SectionRecord], council: str | None
) -> list[tuple[str, StatedScore]]:
    """(council, stated score) for every QS score this document states."""
    out: list[tuple[str, StatedScore]] = []
    fixed = {int(f.partition(":")[2]) for f in doc.corrected if f.startswith("score:")}
    if council is not None:  # a user's corrections: no passage states them
        for qs in sorted(fixed & set(doc.scores)):
            out.append((council, StatedScore(qs, doc.scores[qs], doc.doc_id, doc.kind, doc.date, None, True)))
    cited: set[int] = set(fixed)
    # Every statement detection reads (QS pages, overviews, lists, tables), each with its own passage; a document
    # that states one QS twice with different scores shows both.
    for st in find_score_statements(text, sections):
        if st.qs in fixed:
            continue
        owner = _section_owner(sections, st.start) or council
        if owner is None:
            continue
        cited.add(st.qs)
        cite = _cite(doc, text, sections, _score_line(text, sections, st.start, st.end, st.score), owner)
        out.append((owner, StatedScore(st.qs, st.score, doc.doc_id, doc.kind, doc.date, cite)))
    # Press releases (and lists elsewhere): the list line, mapped by position.
    rest = {qs: score for qs, score in doc.scores.items() if qs not in cited}
    if rest and council is not None:
        spans = locate_score_lines(text, rest)
        for qs in sorted(rest):
            span = spans.get(qs)
            located = None if span is None else _cite(doc, text, sections, span, council)
            out.append((council, StatedScore(qs, rest[qs], doc.doc_id, doc.kind, doc.date, located)))
    return out


def _score_line(text: str, sections: list[SectionRecord], start: int, end: int, score: int) -> tuple[int, int]:
    """A QS page states its score over several lines (heading, `Score: 3`, `3 - Evidence shows...`): quote the
    lines from the first that is not the section's heading to the first that names the score."""
    line_end = text.find("\n", start, end)
    if line_end < 0:
        return start, end
    first = text[start:line_end].strip().lstrip("#").strip()
    if any(first == s.title and (start <= s.start <= end or s.start <= start < s.end) for s in sections):
        start = line_end + len(text[line_end:end]) - len(text[line_end:end].lstrip())
    line_end = text.find("\n", start, end)
    while line_end > 0 and str(score) not in text[start:line_end]:  # a label line, its score on the next
        line_end = text.find("\n", line_end + 1, end)
    return start, (end if line_end < 0 else line_end)


def _section_owner(sections: list[SectionRecord], offset: int) -> str | None:
    """The one council a section is about, where it names exactly one."""
    for s in sections:
        if s.start <= offset < s.end:
            return s.councils[0] if len(s.councils) == 1 else None
    return None


def _rank(s: StatedScore) -> tuple[int, bool, list[int]]:
    """Lower is better: CQC's own report first, then the newest document, undated last."""
    parts = [-int(p) for p in (s.date or "").split("-") if p.isdigit()]
    return KIND_PRIORITY.get(s.kind, 9), not parts, parts


def _entry(qs: int, statements: list[StatedScore], not_assessed: list[str]) -> QSEntry:
    name = quality_statement(qs).name
    marked = tuple(dict.fromkeys(not_assessed))
    if not statements:
        return QSEntry(qs, name, None, (), None, marked)
    ordered = sorted(statements, key=_rank)
    chosen = ordered[0].score
    values = sorted({s.score for s in statements})
    conflict = None
    if len(values) > 1 or marked:
        parts = "; ".join(
            [f"{s.score} in {s.kind} {s.doc_id}" for s in ordered] + [f"not assessed in {d}" for d in marked]
        )
        conflict = (
            f"QS{qs} ({name}): documents state different scores ({parts}); "
            f"using {chosen} from {ordered[0].kind} {ordered[0].doc_id}"
        )
    return QSEntry(qs, name, chosen, tuple(ordered), conflict, marked)


def _number(card: CouncilScorecard) -> CouncilScorecard:
    """Number the citations 1..N in reading order so a report can refer to [n]."""
    n = 0

    def renum(c: Citation | None) -> Citation | None:
        nonlocal n
        if c is None:
            return None
        n += 1
        return replace(c, n=n)

    entries = tuple(
        replace(e, statements=tuple(replace(s, citation=renum(s.citation)) for s in e.statements)) for e in card.entries
    )
    stated = tuple(
        replace(f, rating_citation=renum(f.rating_citation), percent_citation=renum(f.percent_citation))
        for f in card.stated
    )
    return replace(card, entries=entries, stated=stated)


def build_scorecard(library: Library, council: str | None = None, *, include_demo: bool = False) -> Scorecard:
    """Scorecards for every council whose documents state QS scores, or only for `council`.

    `council` is matched case-insensitively on common variants ("wyvernshire" = "Wyvernshire County
    Council"); an unknown one raises NotFoundError naming the councils held. The demo documents are left
    out once real documents are in, unless `include_demo`.
    """
    groups: dict[str, _Council] = {}
    held: Counter[str] = Counter()
    hidden = frozenset() if include_demo else library.hidden_demo()
    for doc in library.documents():
        if doc.doc_id in hidden:
            continue
        if doc.kind in SKIP_KINDS:
            for c in doc.councils:
                held[c] += 1
            continue
        owner = _single_council(doc)
        for c in doc.councils or ([doc.council] if doc.council else []):
            held[c] += 1
        sections = library.sections(doc.doc_id)
        has_section_scores = any(s.qs and s.score for s in sections)
        if not (doc.scores or has_section_scores or doc.rating or doc.percent is not None or doc.not_assessed):
            continue
        text = library.text(doc.doc_id)
        if owner is not None and doc.not_assessed:
            group = groups.setdefault(council_key(owner), _Council())
            group.names[owner] += 1
            for qs in doc.not_assessed:
                group.not_assessed.setdefault(qs, []).append(doc.doc_id)
        for name, stated in _doc_scores(doc, text, sections, owner):
            group = groups.setdefault(council_key(name), _Council())
            group.names[name] += 1
            group.statements.setdefault(stated.qs, []).append(stated)
            if stated.citation is None and not stated.corrected:
                group.warnings.append(
                    f"{doc.title} ({doc.doc_id}) states {stated.score} for QS{stated.qs} but the line "
                    "stating it could not be located in the stored text"
                )
        if owner is not None and (doc.rating or doc.percent is not None):
            group = groups.setdefault(council_key(owner), _Council())
            group.names[owner] += 1
            # A figure a user's correction gave is not looked for in the text: a line found would not be its source.
            r_span = _rating_span(text, doc.rating) if doc.rating and "rating" not in doc.corrected else None
            p_span = (
                _percent_span(text, doc.percent) if doc.percent is not None and "percent" not in doc.corrected else None
            )
            group.figures.append(
                StatedFigure(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    kind=doc.kind,
                    date=doc.date,
                    rating=doc.rating,
                    percent=doc.percent,
                    rating_citation=None if r_span is None else _cite(doc, text, sections, r_span, owner),
                    percent_citation=None if p_span is None else _cite(doc, text, sections, p_span, owner),
                    corrected=tuple(f for f in ("rating", "percent") if f in doc.corrected),
                )
            )

    wanted: str | None = None
    if council is not None:
        wanted = council_key(council)
        known = {council_key(name) for name in held}
        canon = canonical_council(council)
        if wanted not in known and canon is not None and council_key(canon) in known:
            wanted = council_key(canon)
        if wanted not in known:
            names = ", ".join(sorted(held)) or "none (the library is empty)"
            raise NotFoundError(f"no council {council!r} in the library; councils held: {names}")
        if wanted not in groups or not groups[wanted].statements:
            with_scores = sorted(g.names.most_common(1)[0][0] for g in groups.values() if g.statements)
            listed = ", ".join(with_scores) or "none"
            raise NotFoundError(
                f"no document in the library states quality statement scores for {council!r}; "
                f"councils with stated scores: {listed}"
            )

    cards: list[CouncilScorecard] = []
    for key, group in groups.items():
        if not group.statements or (wanted is not None and key != wanted):
            continue
        name = group.names.most_common(1)[0][0]
        entries = tuple(
            _entry(qs.number, group.statements.get(qs.number, []), group.not_assessed.get(qs.number, []))
            for qs in QUALITY_STATEMENTS
        )
        # Computed only when every QS has a score or a document says it was not assessed: from fewer, the
        # percentage would be of the scores found, not the council's (one 4 found is not "100% Outstanding").
        complete = all(e.status != NOT_FOUND for e in entries)
        result = rate({e.qs: e.score for e in entries}) if complete else None
        figures = tuple(
            replace(f, mismatches=tuple(compare_stated(result, f.percent, f.rating)), compared=True)
            if result is not None
            else f
            for f in sorted(group.figures, key=lambda f: (KIND_PRIORITY.get(f.kind, 9), f.doc_id))
        )
        warnings = list(dict.fromkeys(group.warnings))
        ratings = {f.rating for f in figures if f.rating}
        if len(ratings) > 1:
            order = ", ".join(r for r in RATINGS if r in ratings)
            warnings.append(f"documents state different overall ratings: {order}")
        cards.append(_number(CouncilScorecard(name, entries, result, figures, tuple(warnings))))
    cards.sort(key=lambda c: c.council.lower())
    return Scorecard(tuple(cards))
