"""Facts first: a question for a quality statement's score is answered from the facts detected at ingest
(the scorecard: each fact with the passage that states it), cited to that passage exactly.
When the library lacks the fact for that council, the answer says which fact is missing and cites nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .domain import SCORE_WORD, quality_statement
from .errors import NotFoundError
from .filters import Filters
from .intent import Intent
from .library import Library
from .models import Answer
from .questions import same_year, years_named
from .scorecard import council_scorecard

# A quality statement is taken from the question's meaning only when it is this close (cosine) to the
# statement's description; a question that names one needs no threshold. Chosen by grouped cross-validation
# over 0.30-0.50 (bench/eval.py --cv's folds each chose 0.30 or 0.35; the held-out figures differ by 0.003).
QS_MEANING_MIN = 0.35
_SCORE_WORD = re.compile(SCORE_WORD, re.I)


def asked_fact(intent: Intent) -> tuple[str, int] | None:
    """("score", qs) when the question asks for a quality statement's score, else None: a score question, or
    one that names a quality statement and the domain's word for its mark ("What did X score for
    safeguarding?"). (The overall rating is left to the ranker: answering it from the scorecard's stated
    figures lowered the held-out cited-hit by 0.015, because a question about a press release is then cited to
    the report page.)"""
    if intent.kind is None and intent.qs and _SCORE_WORD.search(intent.question):
        return ("score", min(intent.qs))
    if intent.kind == "score":
        qs = min(intent.qs) if intent.qs else None
        if qs is None and intent.qs_similarity and max(intent.qs_similarity) >= QS_MEANING_MIN:
            qs = intent.best_qs()
        return ("score", qs) if qs else None
    return None


def fact_answer(library: Library, intent: Intent, filters: Filters) -> Answer | None:
    """The answer from the scorecard, a refusal naming the missing fact, or None when the question asks for
    no such fact or names no single council."""
    fact = asked_fact(intent)
    council = filters.council or (intent.councils[0] if len(intent.councils) == 1 else None)
    if fact is None or council is None:
        return None
    _, qs = fact
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
        asked = ", ".join(str(a) if a == b else f"{a}/{b}" for a, b in sorted(intent.years))
        return _missing(intent, filters, f"{missing} in {asked}.")
    value = f"{name}: {entry.score}"
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
