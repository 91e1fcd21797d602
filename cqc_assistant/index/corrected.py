"""A document's facts as a user corrected them: which fields can be corrected, and how a correction is read
over what detection found (the catalogue stores the two apart; see Catalogue.corrections).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .records import DocRecord

__all__ = ["CORRECTABLE", "NOT_ASSESSED", "apply_corrections", "date_precision", "fact"]

# Corrected fields: these, and "score:N" for quality statement N. A score's value is 1-4, "na" (the document
# says the QS was not assessed) or None (the document states no score for it).
CORRECTABLE = ("council", "kind", "date", "rating", "percent")
NOT_ASSESSED = "na"


def date_precision(date: str | None) -> str | None:
    """'2025-06-20' → 'day', '2023-08' → 'month', '2024' → 'year'."""
    return None if not date else {10: "day", 7: "month", 4: "year"}.get(len(date))


def apply_corrections(doc: DocRecord, fixes: dict[str, Any]) -> DocRecord:
    """The document's facts with a user's corrections over detection's; `detected` keeps what they replace."""
    if not fixes:
        return doc
    changes: dict[str, Any] = {}
    detected: dict[str, Any] = {}
    if "council" in fixes:
        names = [str(n) for n in fixes["council"]]
        changes |= {"council": "; ".join(names), "councils": names}
        detected["council"] = doc.council
    if "kind" in fixes:
        changes["kind"], detected["kind"] = str(fixes["kind"]), doc.kind
    if "date" in fixes:
        changes |= {"date": fixes["date"], "date_precision": date_precision(fixes["date"])}
        detected["date"] = doc.date
    for name in ("rating", "percent"):
        if name in fixes:
            changes[name], detected[name] = fixes[name], getattr(doc, name)
    scores = dict(doc.scores)
    not_assessed = set(doc.not_assessed)
    for name in sorted(f for f in fixes if f.startswith("score:")):
        qs = int(name.partition(":")[2])
        value = fixes[name]
        detected[name] = NOT_ASSESSED if qs in not_assessed else scores.get(qs)
        scores.pop(qs, None)
        not_assessed.discard(qs)
        if value == NOT_ASSESSED:
            not_assessed.add(qs)
        elif value is not None:
            scores[qs] = int(value)
    return replace(
        doc,
        **changes,
        scores=dict(sorted(scores.items())),
        not_assessed=tuple(sorted(not_assessed)),
        corrected=tuple(detected),
        detected=detected,
    )


def fact(doc: DocRecord, name: str, *, detected: bool = False) -> Any:
    """One fact of a document by its correction field name ("score:7" → the QS7 score, "na" if not assessed)."""
    if detected and name in doc.detected:
        return doc.detected[name]
    if name.startswith("score:"):
        qs = int(name.partition(":")[2])
        return "na" if qs in doc.not_assessed else doc.scores.get(qs)
    return getattr(doc, name)
