"""A user's corrections to a document's detected facts: checked here, stored by `Library.correct`.

Each value is validated with a one-line QueryError naming it, before anything is written. A correction
is kept apart from detection (the catalogue's `corrections` table, keyed by the document's content id),
wins over it wherever the document's facts are read, and survives a re-ingest of the same content.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as real_date
from typing import Any

from .councils import canonical_council
from .domain import RATINGS, normalise_rating, quality_statement
from .errors import QueryError, RatingError
from .index.corrected import CORRECTABLE, NOT_ASSESSED
from .models import KINDS
from .rating import MAX_SCORE, MIN_SCORE

NONE_WORDS = frozenset({"none", "no", "null"})  # "the document states none"
NOT_ASSESSED_WORDS = frozenset({"na", "n/a", "-", "not assessed"})
MAX_COUNCIL_CHARS = 120
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}


@dataclass(frozen=True)
class Edit:
    """What one edit sets (field → value, as stored) and which corrections it drops."""

    values: dict[str, Any] = field(default_factory=dict)
    clear: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.values or self.clear)


def parse_council(value: str) -> list[str]:
    """One council, or several separated by ';'; a known council's short name gives its full name."""
    names = [" ".join(part.split()) for part in value.split(";")]
    if not value.strip() or not all(names):
        raise QueryError(f"--council {value!r} is empty: give the council's name")
    for name in names:
        if len(name) > MAX_COUNCIL_CHARS or not re.search(r"[A-Za-z]", name):
            raise QueryError(f"--council {name!r} is not a council name")
    return list(dict.fromkeys(canonical_council(n) or n for n in names))


def parse_kind(value: str) -> str:
    kind = value.strip().lower()
    if kind not in KINDS:
        raise QueryError(f"--kind {value!r} is not a document kind: use one of {', '.join(KINDS)}")
    return kind


def parse_date(value: str) -> str | None:
    """YYYY-MM-DD, YYYY-MM, YYYY, "20 November 2024" or "November 2024"; 'none' when the document has none."""
    text = " ".join(value.strip().split())
    if text.lower() in NONE_WORDS:
        return None
    y = mo = d = None
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text):
        y, mo, d = int(m.group(1)), m.group(2) and int(m.group(2)), m.group(3) and int(m.group(3))
    elif m := re.fullmatch(r"(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?([A-Za-z]+)\.?\s+(\d{4})", text):
        month = _MONTHS.get(m.group(2).lower())
        if month is None:
            raise QueryError(f"--date {value!r} is not a date: {m.group(2)!r} is not a month")
        y, mo, d = int(m.group(3)), month, m.group(1) and int(m.group(1))
    else:
        raise QueryError(f"--date {value!r} is not a date: use YYYY-MM-DD, YYYY-MM, YYYY or 'none'")
    try:
        real_date(y, mo or 1, d or 1)
    except ValueError:
        raise QueryError(f"--date {value!r} is not a real date") from None
    if not 1990 <= y <= real_date.today().year + 1:
        raise QueryError(f"--date {value!r} is not a plausible publication date")
    return f"{y:04d}" + (f"-{mo:02d}" if mo else "") + (f"-{d:02d}" if d else "")


def parse_rating(value: str) -> str | None:
    if value.strip().lower() in NONE_WORDS:
        return None
    rating = normalise_rating(value)
    if rating is None:
        raise QueryError(f"--rating {value!r} is not a CQC rating: use one of {', '.join(RATINGS)} or 'none'")
    return rating


def parse_percent(value: str) -> int | None:
    text = value.strip().rstrip("%").strip()
    if text.lower() in NONE_WORDS:
        return None
    if not re.fullmatch(r"\d{1,3}", text):
        raise QueryError(f"--percent {value!r} is not a whole percentage (or 'none')")
    number = int(text)
    if not 25 <= number <= 100:
        raise QueryError(f"--percent {value!r} is outside 25 to 100, the range of CQC's overall percentages")
    return number


def parse_score(pair: str) -> tuple[str, int | str | None]:
    """'safeguarding=2' or '7=2' → ('score:7', 2); '=na' says the document records the QS as not assessed,
    '=none' that it states no score for it."""
    key, sep, value = pair.rpartition("=")
    if not sep or not key.strip():
        raise QueryError(f"--score {pair!r} must look like 'safeguarding=2' or '7=2'")
    try:
        qs = quality_statement(key.strip())
    except RatingError as exc:
        raise QueryError(f"--score {pair!r}: {exc}") from None
    text = value.strip().lower()
    name = f"score:{qs.number}"
    if text in NOT_ASSESSED_WORDS:
        return name, NOT_ASSESSED
    if text in NONE_WORDS:
        return name, None
    if not re.fullmatch(r"\d+", text) or not MIN_SCORE <= int(text) <= MAX_SCORE:
        raise QueryError(
            f"--score {pair!r}: the score for QS{qs.number} ({qs.name}) must be 1 to 4, 'na' (not assessed) "
            "or 'none' (not stated)"
        )
    return name, int(text)


def parse_clear(value: str, corrected: Sequence[str]) -> list[str]:
    """A field to clear (council, kind, date, rating, percent, score:QS, scores or all) → the stored fields."""
    text = value.strip().lower()
    if text == "all":
        wanted = list(corrected)
    elif text == "scores":
        wanted = [f for f in corrected if f.startswith("score:")]
    elif text in CORRECTABLE:
        wanted = [text]
    elif text.startswith("score:") or text.startswith("score="):
        try:
            wanted = [f"score:{quality_statement(value.strip()[6:].strip()).number}"]
        except RatingError as exc:
            raise QueryError(f"--clear {value!r}: {exc}") from None
    else:
        raise QueryError(
            f"--clear {value!r} is not a field: use council, kind, date, rating, percent, score:QS, scores or all"
        )
    missing = [f for f in wanted if f not in corrected]
    if missing or not wanted:
        raise QueryError(f"--clear {value!r}: that field has no correction to clear")
    return wanted


def parse_edit(
    corrected: Sequence[str],
    *,
    council: str | None = None,
    kind: str | None = None,
    date: str | None = None,
    rating: str | None = None,
    percent: str | None = None,
    scores: Sequence[str] = (),
    clear: Sequence[str] = (),
) -> Edit:
    """Check every value of one edit (as typed) against the fields already `corrected`; nothing half-valid."""
    values: dict[str, Any] = {}
    if council is not None:
        values["council"] = parse_council(council)
    if kind is not None:
        values["kind"] = parse_kind(kind)
    if date is not None:
        values["date"] = parse_date(date)
    if rating is not None:
        values["rating"] = parse_rating(rating)
    if percent is not None:
        values["percent"] = parse_percent(percent)
    for pair in scores:
        name, value = parse_score(pair)
        if name in values:
            raise QueryError(f"--score {pair!r}: QS{name[6:]} is given twice")
        values[name] = value
    dropped: list[str] = []
    for item in clear:
        dropped += parse_clear(item, corrected)
    both = sorted(set(values) & set(dropped))
    if both:
        raise QueryError(f"{both[0]} is both set and cleared in one edit")
    edit = Edit(values, tuple(dict.fromkeys(dropped)))
    if not edit:
        raise QueryError("nothing to change: give --council, --kind, --date, --rating, --percent, --score or --clear")
    return edit
