"""Facts first: a question for a quality statement's score, for which statements got a score, for the
council's overall rating or percentage, or for its report's publication date, is answered from the facts
detected at ingest (the scorecard: each fact with the passage that states it), cited to that passage exactly.
When the library lacks the fact for that council, the answer says which fact is missing and cites nothing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import NamedTuple

from .domain import (
    OVERALL_WORD,
    PERCENT_WORD,
    PUBLISHED_WORD,
    QS_WORD,
    RATING_TERMS,
    SCORE_LABELS,
    SCORE_WORD,
    quality_statement,
)
from .errors import NotFoundError
from .filters import Filters
from .ingest.facts import dates_in, month_days_in, publication_span
from .intent import Intent
from .library import Library
from .models import Answer, Citation
from .questions import same_year, years_named
from .scope import documents_in_scope
from .score_passages import percent_span, rating_span, span_citation
from .scorecard import council_figures, council_scorecard
from .scorecard_model import StatedFigure
from .text import first_line_end

# A quality statement is taken from the question's meaning only when it is this close (cosine) to the
# statement's description; a question that names one needs no threshold. Chosen by grouped cross-validation
# over 0.30-0.50 (bench/eval.py --cv's folds each chose 0.30 or 0.35; the held-out figures differ by 0.003).
QS_MEANING_MIN = 0.35
_SCORE_WORD = re.compile(SCORE_WORD, re.I)
_OVERALL = re.compile(OVERALL_WORD, re.I)
_PERCENT_WORD = re.compile(PERCENT_WORD, re.I)
_RATING_WORD = re.compile(rf"\b(?:{RATING_TERMS})\b", re.I)
_QS_WORD = re.compile(QS_WORD, re.I)
_PUBLISHED_WORD = re.compile(PUBLISHED_WORD, re.I)
_DAY_ASKED = re.compile(r"\b(?:date|day)s?\b", re.I)
# Whose publication date is the report's own: CQC's, then the peer team's, then a page reporting on it.
_DATED_KINDS = ("cqc_assessment", "cqc_press_release", "lga_peer_challenge")
_WHICH = re.compile(r"\b(?:which|what)\b", re.I)
_SHARE_OF = re.compile(r"\b(?:percentage|proportion|share|per ?cent) of\b", re.I)
# A score asked for by its number ("score 3", not "3%") or by CQC's words for it ("a good standard": "good").
_SCORE_NUMBER = re.compile(r"(?<![\d.,£])\b([1-4])\b(?![\d.,%])")
_SCORE_NAMES = {
    score: re.compile(r"\b" + re.sub(r"^evidence shows (?:an? )?|\s*standard$", "", label.lower()) + r"\b", re.I)
    for score, label in SCORE_LABELS.items()
}


class Asked(NamedTuple):
    """The fact a question asks for: "score" (of quality statement `qs`), "which" (statements scored `score`),
    "rating" or "percent" (the council's overall result), "published" (its report's publication date)."""

    what: str
    qs: int = 0
    score: int = 0


def asked_fact(intent: Intent) -> Asked | None:
    """A score question, or one that names a quality statement and the domain's word for its mark ("What did
    X score for safeguarding?"): its score. One asking which statements got a score, by number or CQC's words
    for it. A rating question naming no statement, one saying "overall" with a rating or score word, or a
    percentage asked as a score: the overall rating or percentage. A date question about publication: the
    report's publication date."""
    q = intent.question
    if intent.kind is None and intent.qs and _SCORE_WORD.search(q):
        return Asked("score", qs=min(intent.qs))
    if not intent.qs and _QS_WORD.search(q) and _SCORE_WORD.search(q) and _WHICH.search(q):
        number = _SCORE_NUMBER.search(q)
        named = [score for score, name in _SCORE_NAMES.items() if name.search(q)]
        # No score named ("In which quality statement did X get its highest score?"): every stated score.
        return Asked("which", score=int(number.group(1)) if number else (named[0] if len(named) == 1 else 0))
    if not intent.qs:
        overall = bool(_OVERALL.search(q))
        if intent.kind == "rating" or (overall and intent.kind is None and _RATING_WORD.search(q)):
            return Asked("rating")
        if overall and intent.kind in (None, "percent", "score") and _PERCENT_WORD.search(q):
            return Asked("percent")
        # Only the overall result is a percentage (a statement's score is 1-4): "What percentage did X score?",
        # but not the share of something ("What percentage of carers scored...").
        if intent.kind == "percent" and _SCORE_WORD.search(q) and not _SHARE_OF.search(q):
            return Asked("percent")
    if intent.kind == "date" and not intent.qs and _PUBLISHED_WORD.search(q):
        return Asked("published")
    if intent.kind == "score":
        qs = min(intent.qs) if intent.qs else None
        if qs is None and intent.qs_similarity and max(intent.qs_similarity) >= QS_MEANING_MIN:
            qs = intent.best_qs()
        return Asked("score", qs=qs) if qs else None
    return None


def fact_answer(library: Library, intent: Intent, filters: Filters) -> Answer | Stated | None:
    """A quality statement's score, or the statements that got a score, from the scorecard; a refusal naming
    the missing fact (those, an overall figure no document states, a publication day only a month or year
    is given for); a figure the library states (overall rating or percentage, publication date), which the
    answer ranker's quotes then cite (`Stated.settle`); or None: no such fact asked, no single council named,
    or a figure stated but never found in the text."""
    fact = asked_fact(intent)
    council = filters.council or (intent.councils[0] if len(intent.councils) == 1 else None)
    if fact is None or council is None:
        return None
    if fact.what in ("rating", "percent"):
        return _overall(library, intent, filters, council, fact.what)
    if fact.what == "published":
        return _published(library, intent, filters, council)
    if fact.what == "which":
        return _scored(library, intent, filters, council, fact.score)
    qs = fact.qs
    try:
        card = council_scorecard(library, council)
    except NotFoundError:
        card = None  # a council the library does not hold: the fact is missing all the same
    name = quality_statement(qs).name
    entry = next((e for e in card.entries if e.qs == qs), None) if card else None
    cite = entry.citation if entry is not None and entry.score is not None else None
    missing = f"The library states no score for {name} (quality statement {qs}) for {council}"
    if entry is None or entry.score is None or cite is None:
        # Refusing here rather than searching was measured: under cross-validation it refused 3% more of the
        # questions the documents do not answer, at one more false refusal in 323 (README "How it works").
        return _missing(intent, filters, f"{missing}.")
    dated = entry.cited.date if entry.cited else None
    if intent.years and dated and not same_year(set(intent.years), years_named(dated[:4])):
        # Asked of another year than the stating document's (an earlier inspection): not in the library.
        return _missing(intent, filters, f"{missing} in {_years(intent)}.")
    return _stated(library, intent, filters, council, f"{name}: {entry.score}", cite)


@dataclass(frozen=True)
class Figure:
    """One document's statement of a fact: its value as said ("Overall rating: Good"), the line stating it,
    and how to tell whether another sentence of that document says it too."""

    doc_id: str
    value: str
    citation: Citation
    says: Callable[[str], bool]


@dataclass(frozen=True)
class Stated:
    """A fact the documents about a council state (the overall rating or percentage, the publication date), of
    the year asked: said first, quoted from the sentence that says it."""

    intent: Intent
    filters: Filters
    council: str
    figures: tuple[Figure, ...]  # each stating document's, with the line found to state it

    def states(self, doc_id: str, text: str) -> Figure | None:
        """The figure this sentence states, when it is from a document stating it and says it."""
        return next((f for f in self.figures if f.doc_id == doc_id and f.says(text)), None)

    def settle(self, library: Library, answer: Answer, quotes: Sequence[Citation]) -> Answer:
        """The figure first, then the ranker's answer when one of its quotes states it (the ranker knows which
        sentences answer the question; a title line rarely does); otherwise the figure quoted alone from the
        candidate sentences, best first (`answer`)."""
        for c in () if answer.refused else answer.citations:
            f = self.states(c.doc_id, c.quote)
            if f is not None:
                return replace(answer, answer=f"{f.value} [{c.n}]. {answer.answer}", confidence=1.0)
        return self.answer(library, quotes) or answer

    def answer(self, library: Library, quotes: Sequence[Citation]) -> Answer | None:
        """Quoted from the best candidate sentence that states it, else from the line found to state it in the
        best-ranked document; a title line last (a title says what the document is about, the body what was
        found)."""
        stating = [(q, f) for q in quotes if (f := self.states(q.doc_id, q.quote)) is not None]
        order = {doc_id: i for i, doc_id in enumerate(dict.fromkeys(q.doc_id for q in quotes))}
        first = min(self.figures, key=lambda f: order.get(f.doc_id, len(order)))  # the first found on a tie
        body = [(q, f) for q, f in stating if not on_title_line(library, q)]
        if body:
            q, f = body[0]
        elif stating and on_title_line(library, first.citation):
            q, f = stating[0]
        else:
            q, f = first.citation, first
        return _stated(library, self.intent, self.filters, self.council, f.value, q)


def _overall(library: Library, intent: Intent, filters: Filters, council: str, what: str) -> Stated | Answer | None:
    """What the library states of the council's overall rating or percentage (`what`)."""
    try:
        figures = council_figures(library, council)
    except NotFoundError:
        figures = ()
    label = "overall rating" if what == "rating" else "overall percentage"
    stated = [f for f in figures if (f.rating if what == "rating" else f.percent is not None)]
    if not stated:
        return _missing(intent, filters, f"The library states no {label} for {council}.")
    if intent.years:
        stated = [f for f in stated if not f.date or same_year(set(intent.years), years_named(f.date[:4]))]
        if not stated:
            return _missing(intent, filters, f"The library states no {label} for {council} in {_years(intent)}.")
    found = tuple(_figure(f, what) for f in stated)
    # Stated but not found in the text (or corrected by a user): the ranker answers.
    return Stated(intent, filters, council, tuple(f for f in found if f is not None)) if any(found) else None


def _figure(f: StatedFigure, what: str) -> Figure | None:
    if what == "rating":
        rating = f.rating or ""
        cite = f.rating_citation
        return None if cite is None else Figure(f.doc_id, f"Overall rating: {rating}", cite,
                                                partial(_says_rating, rating))  # fmt: skip
    percent = f.percent
    cite = f.percent_citation
    if cite is None or percent is None:
        return None
    return Figure(f.doc_id, f"Overall percentage: {percent}%", cite, partial(_says_percent, percent))


def _published(library: Library, intent: Intent, filters: Filters, council: str) -> Stated | Answer | None:
    """The publication date of the council's report, as its documents state it (of the kind and year asked):
    a question for the day when only the month or year is stated is refused, naming what is. None (the ranker
    answers) when no document's date was found in its text."""
    docs = [d for d in documents_in_scope(library, replace(filters, council=council)) if d.date]
    if intent.sources:
        docs = [d for d in docs if d.kind in intent.sources]
    if intent.years:
        docs = [d for d in docs if same_year(set(intent.years), years_named((d.date or "")[:4]))]
    dated: list[tuple[str, Figure]] = []
    for d in sorted(docs, key=lambda d: _DATED_KINDS.index(d.kind) if d.kind in _DATED_KINDS else len(_DATED_KINDS)):
        text = library.text(d.doc_id)
        found = publication_span(text, d.kind, d.date or "")
        if found is not None:
            iso, span = found
            cite = span_citation(d, text, library.sections(d.doc_id), span, council)
            dated.append((iso, Figure(d.doc_id, f"Published: {_spoken(iso)}", cite, partial(_says_date, iso))))
    if not dated:
        return None
    if _DAY_ASKED.search(intent.question) and all(len(iso) < len("yyyy-mm-dd") for iso, _ in dated):
        said = "; ".join(dict.fromkeys(_spoken(iso) for iso, _ in dated))
        return _missing(intent, filters, f"The library states only the month or year {council}'s report was "
                        f"published ({said}), not the day.")  # fmt: skip
    return Stated(intent, filters, council, tuple(f for _, f in dated))


def _says_date(iso: str, text: str) -> bool:
    if any(d == iso or d.startswith(iso) for d, _, _, _ in dates_in(text)):
        return True
    return len(iso) == len("yyyy-mm-dd") and iso[5:] in month_days_in(text)


def _spoken(iso: str) -> str:
    """ "2025-10-03" -> "3 October 2025"; "2025-10" -> "October 2025"."""
    parts = iso.split("-")
    if len(parts) == 1:
        return iso
    month = calendar.month_name[int(parts[1])]
    return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


def _says_rating(rating: str, text: str) -> bool:
    return bool(rating) and rating_span(text, rating) is not None


def _says_percent(percent: int, text: str) -> bool:
    return percent_span(text, percent) is not None


def on_title_line(library: Library, c: Citation) -> bool:
    """The citation is on its document's first line (a title says what the document is about)."""
    return c.start < first_line_end(library.text(c.doc_id))


def _years(intent: Intent) -> str:
    return ", ".join(str(a) if a == b else f"{a}/{b}" for a, b in sorted(intent.years))


def _scored(library: Library, intent: Intent, filters: Filters, council: str, score: int) -> Answer | None:
    """The quality statements the council scored `score` in (0: every stated score, highest first), each
    cited to the line stating it."""
    try:
        card = council_scorecard(library, council)
    except NotFoundError:
        card = None
    if card is None:
        return _missing(intent, filters, f"The library states no quality statement scores for {council}.")
    stated = [e for e in card.entries if e.score is not None and e.citation is not None]
    entries = sorted((e for e in stated if e.score == score or not score), key=lambda e: -(e.score or 0))
    if not entries:
        found = sum(e.score is not None for e in card.entries)
        return _missing(intent, filters, f"Of the {found} quality statement scores the library states for "
                        f"{council}, none is {score}.")  # fmt: skip
    cites: list[Citation] = []
    parts: dict[int, list[str]] = {}
    for e in entries:
        c = e.citation
        if c is not None and e.score is not None and library.text(c.doc_id)[c.start : c.end] == c.quote:
            cites.append(replace(c, n=len(cites) + 1, council=c.council or council))
            parts.setdefault(e.score, []).append(f"{e.name} [{len(cites)}]")
    if not cites:
        return None  # never a citation that is not the stored text; the ranker answers instead
    said = " ".join(f"Scored {n}: {', '.join(names)}." for n, names in parts.items())
    return Answer(
        question=intent.question, answer=said, refused=False,
        citations=tuple(cites), filters=filters.active(), searched=tuple(dict.fromkeys(c.title for c in cites)),
        confidence=1.0,
    )  # fmt: skip


def _stated(
    library: Library, intent: Intent, filters: Filters, council: str, value: str, cite: Citation
) -> Answer | None:
    """A fact with the passage that states it, quoted exactly."""
    cite = replace(cite, n=1, council=cite.council or council)
    if library.text(cite.doc_id)[cite.start : cite.end] != cite.quote:
        return None  # never a citation that is not the stored text; the ranker answers instead
    return Answer(
        question=intent.question, answer=f"{value}. {cite.quote} [1]", refused=False, citations=(cite,),
        filters=filters.active(), searched=(cite.title,), confidence=1.0,
    )  # fmt: skip


def _missing(intent: Intent, filters: Filters, missing: str) -> Answer:
    """A refusal that names the fact the library lacks, citing nothing."""
    return Answer(
        question=intent.question, answer=f"The library does not say. {missing}", refused=True,
        filters=filters.active(), confidence=0.0,
    )  # fmt: skip
