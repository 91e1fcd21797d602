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

from collections import Counter
from dataclasses import dataclass, field, replace

from .councils import canonical_council, council_key
from .domain import QUALITY_STATEMENTS, RATINGS, quality_statement
from .errors import NotFoundError
from .filters import Filters
from .index.records import DocRecord, SectionRecord
from .ingest.scores import find_score_statements
from .library import Library
from .models import Citation
from .rating import compare_stated, rate
from .score_passages import locate_score_lines, percent_span, rating_span, score_line, span_citation
from .scorecard_model import NOT_FOUND, CouncilScorecard, QSEntry, Scorecard, StatedFigure, StatedScore

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
        cite = span_citation(doc, text, sections, score_line(text, sections, st.start, st.end, st.score), owner)
        out.append((owner, StatedScore(st.qs, st.score, doc.doc_id, doc.kind, doc.date, cite)))
    # Press releases (and lists elsewhere): the list line, mapped by position.
    rest = {qs: score for qs, score in doc.scores.items() if qs not in cited}
    if rest and council is not None:
        spans = locate_score_lines(text, rest)
        for qs in sorted(rest):
            span = spans.get(qs)
            located = None if span is None else span_citation(doc, text, sections, span, council)
            out.append((council, StatedScore(qs, rest[qs], doc.doc_id, doc.kind, doc.date, located)))
    return out


def _wanted(council: str, held: Counter[str]) -> str:
    """The key of the held council `council` names (common variants and the canonical name count)."""
    wanted = council_key(council)
    known = {council_key(name) for name in held}
    canon = canonical_council(council)
    if wanted not in known and canon is not None and council_key(canon) in known:
        wanted = council_key(canon)
    if wanted not in known:
        names = ", ".join(sorted(held)) or "none (the library is empty)"
        raise NotFoundError(f"no council {council!r} in the library; councils held: {names}")
    return wanted


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
    Council"); an unknown one raises NotFoundError naming the councils held, and so does one whose documents
    state no score (naming the councils that have some). The demo documents are left out once real documents
    are in, unless `include_demo`.
    """
    cards = _cards(library, council, include_demo)
    if council is not None and not cards:
        listed = ", ".join(c.council for c in _cards(library, None, include_demo)) or "none"
        raise NotFoundError(
            f"no document in the library states quality statement scores for {council!r}; "
            f"councils with stated scores: {listed}"
        )
    return Scorecard(tuple(cards))


def council_scorecard(library: Library, council: str) -> CouncilScorecard | None:
    """The scorecard of one council the library holds, or None when its documents state no score (an unknown
    council raises NotFoundError). Reads only the documents about that council."""
    cards = _cards(library, council, include_demo=False)
    return cards[0] if cards else None


def council_figures(library: Library, council: str) -> tuple[StatedFigure, ...]:
    """The overall ratings and percentages the documents about one council state, CQC's own first, whether
    or not any of them states a quality statement's score (an unknown council raises NotFoundError)."""
    groups, wanted = _groups(library, council, include_demo=False)
    group = groups.get(wanted or "")
    return tuple(sorted(group.figures, key=_figure_order)) if group else ()


def _figure_order(f: StatedFigure) -> tuple[int, str]:
    return KIND_PRIORITY.get(f.kind, 9), f.doc_id


def _groups(library: Library, council: str | None, include_demo: bool) -> tuple[dict[str, _Council], str | None]:
    """What the documents state, grouped by council key, and the key of `council` (None: every council)."""
    groups: dict[str, _Council] = {}
    held: Counter[str] = Counter()
    hidden = frozenset() if include_demo else library.hidden_demo()
    docs = [d for d in library.documents() if d.doc_id not in hidden]
    for doc in docs:
        for c in doc.councils if doc.kind in SKIP_KINDS else doc.councils or ([doc.council] if doc.council else []):
            held[c] += 1
    wanted = None if council is None else _wanted(council, held)
    if wanted is not None:
        # Only the documents with a passage about that council can state its figures (a facts-first answer
        # at 100k chunks: 1.7 s reading every document, against milliseconds).
        name = next(n for n in held if council_key(n) == wanted)
        about = library.doc_ids_passing(Filters(council=name))
        docs = docs if about is None else [d for d in docs if d.doc_id in about]
    for doc in docs:
        if doc.kind in SKIP_KINDS:
            continue
        owner = _single_council(doc)
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
            r_span = rating_span(text, doc.rating) if doc.rating and "rating" not in doc.corrected else None
            p_span = (
                percent_span(text, doc.percent) if doc.percent is not None and "percent" not in doc.corrected else None
            )
            group.figures.append(
                StatedFigure(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    kind=doc.kind,
                    date=doc.date,
                    rating=doc.rating,
                    percent=doc.percent,
                    rating_citation=None if r_span is None else span_citation(doc, text, sections, r_span, owner),
                    percent_citation=None if p_span is None else span_citation(doc, text, sections, p_span, owner),
                    corrected=tuple(f for f in ("rating", "percent") if f in doc.corrected),
                )
            )

    return groups, wanted


def _cards(library: Library, council: str | None, include_demo: bool) -> list[CouncilScorecard]:
    """Every council's card, or only `council`'s (read from the documents about it), by name; no error for
    a held council whose documents state no score (an empty list)."""
    groups, wanted = _groups(library, council, include_demo)
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
            for f in sorted(group.figures, key=_figure_order)
        )
        warnings = list(dict.fromkeys(group.warnings))
        ratings = {f.rating for f in figures if f.rating}
        if len(ratings) > 1:
            order = ", ".join(r for r in RATINGS if r in ratings)
            warnings.append(f"documents state different overall ratings: {order}")
        cards.append(_number(CouncilScorecard(name, entries, result, figures, tuple(warnings))))
    cards.sort(key=lambda c: c.council.lower())
    return cards
