"""Overall rating calculator for CQC local authority assessments (DOMAIN.md §4).

Pure functions over frozen dataclasses. Every decision uses integer arithmetic: the published
percentages are the ceiling of the exact figure (§4.2), and a float or `round` would silently move
the 62.5 / 87.5 boundary cases (§4.3) into the wrong band. Typed scores are read in `rating_input`,
a question's pointing at a band in `rating_questions`, and the text of a result in `rating_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from .domain import (
    BANDS,
    QUALITY_STATEMENTS,
    RATINGS,
    QualityStatement,
    band_index,
    normalise_rating,
    quality_statement,
)
from .errors import RatingError

__all__ = [
    "BANDS",
    "SOURCE_URL",
    "BandDistance",
    "LegacyQS",
    "RatingFlags",
    "RatingResult",
    "compare_stated",
    "percent_ceiling",
    "percent_floor",
    "rate",
    "rate_legacy",
    "rating_for_percent",
]

SOURCE_URL = "https://www.cqc.org.uk/guidance-regulation/local-authorities/how-we-determine-ratings"
SOURCE_TITLE = "CQC, How we determine ratings"

MIN_SCORE = 1
MAX_SCORE = 4
NUM_QS = len(QUALITY_STATEMENTS)
MAX_EVIDENCE_CATEGORIES = 6

Method = Literal["current", "legacy"]
JSONDict: TypeAlias = dict[str, Any]
ScoresInput: TypeAlias = (
    Mapping[int, int | None] | Mapping[str, int | None] | Mapping[int | str, int | None] | Sequence[int | None]
)
CategoriesInput: TypeAlias = (
    Mapping[int, Sequence[int] | None] | Mapping[str, Sequence[int] | None] | Mapping[int | str, Sequence[int] | None]
)


@dataclass(frozen=True)
class BandDistance:
    """How far the council is from another band: percentage points, and single QS score steps."""

    rating: str
    points_needed: int
    steps_needed: int

    def to_json(self) -> JSONDict:
        return {"rating": self.rating, "points_needed": self.points_needed, "steps_needed": self.steps_needed}


@dataclass(frozen=True)
class RatingFlags:
    """Output flags from DOMAIN.md §4.6, kept apart from the figures so callers can show them."""

    boundary: bool
    qs_not_assessed: tuple[int, ...]
    method: Method = "current"
    indicative: bool = False

    def to_json(self) -> JSONDict:
        return {
            "boundary": self.boundary,
            "qs_not_assessed": list(self.qs_not_assessed),
            "method": self.method,
            "indicative": self.indicative,
        }


@dataclass(frozen=True)
class LegacyQS:
    """One QS under the older evidence-category method: category scores → QS % → QS score."""

    qs: int
    categories: tuple[int, ...]
    percent_exact: Fraction
    percent: int
    score: int
    warning: str | None = None

    def to_json(self) -> JSONDict:
        return {
            "qs": self.qs,
            "name": quality_statement(self.qs).name,
            "categories": list(self.categories),
            "percent_exact": _display(self.percent_exact),
            "percent": self.percent,
            "score": self.score,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class RatingResult:
    """The calculator's answer; `scores` has all nine QS numbers, None where not assessed."""

    scores: Mapping[int, int | None] = field(hash=False)
    n: int
    total: int
    maximum: int
    percent_exact: Fraction
    percent: int
    rating: str
    boundary_warning: str | None
    next_band: BandDistance | None
    band_below: BandDistance | None
    derivation: str
    flags: RatingFlags
    warnings: tuple[str, ...] = ()
    legacy: tuple[LegacyQS, ...] = ()

    @property
    def percent_exact_display(self) -> float:
        """The exact percentage to 2 dp, for display only (never used for the decision)."""
        return _display(self.percent_exact)

    @property
    def method(self) -> Method:
        return self.flags.method

    def to_json(self) -> JSONDict:
        """A JSON-ready dict; `scores` is keyed by canonical QS name in QS order."""
        data: JSONDict = {
            "scores": {qs.name: self.scores.get(qs.number) for qs in QUALITY_STATEMENTS},
            "n": self.n,
            "total": self.total,
            "maximum": self.maximum,
            "percent_exact": self.percent_exact_display,
            "percent_exact_fraction": f"{self.percent_exact.numerator}/{self.percent_exact.denominator}",
            "percent": self.percent,
            "rating": self.rating,
            "boundary_warning": self.boundary_warning,
            "next_band": None if self.next_band is None else self.next_band.to_json(),
            "band_below": None if self.band_below is None else self.band_below.to_json(),
            "derivation": self.derivation,
            "method": self.flags.method,
            "flags": self.flags.to_json(),
            "warnings": list(self.warnings),
            "source": SOURCE_URL,
        }
        if self.legacy:
            data["legacy"] = [item.to_json() for item in self.legacy]
        return data


def _display(value: Fraction) -> float:
    """Half-up to 2 dp via integers, so the display never disagrees with the exact fraction's digits."""
    hundredths = value * 100
    num, den = hundredths.numerator, hundredths.denominator
    return ((2 * num + den) // (2 * den)) / 100


def percent_ceiling(total: int, n: int) -> int:
    """Ceiling of 100·total/(4n): the rule every published figure fits (DOMAIN.md §4.2)."""
    if n <= 0:
        raise RatingError("no quality statement assessed: at least one score is needed")
    return (100 * total + MAX_SCORE * n - 1) // (MAX_SCORE * n)


def percent_floor(total: int, n: int) -> int:
    """Floor of 100·total/(4n), used only to detect boundary cases."""
    if n <= 0:
        raise RatingError("no quality statement assessed: at least one score is needed")
    return (100 * total) // (MAX_SCORE * n)


def rating_for_percent(percent: int) -> str:
    """The rating for a whole percentage, using CQC's bands (anything up to 38 is Inadequate)."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise RatingError(f"percentage {percent!r} is not a whole number from 0 to 100")
    return BANDS[band_index(percent)][2]


def _is_half(total: int, n: int) -> bool:
    denominator = MAX_SCORE * n
    return (200 * total) % denominator == 0 and (100 * total) % denominator != 0


def _check_score(qs: QualityStatement, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_SCORE <= value <= MAX_SCORE:
        raise RatingError(
            f"score {value!r} for quality statement {qs.number} ({qs.name}) is not a whole number from 1 to 4"
        )
    return value


def _normalise_scores(scores: ScoresInput) -> dict[int, int | None]:
    """Resolve QS keys (number, name, slug) and validate values; absent QS count as not assessed."""
    items: list[tuple[int | str, object]]
    if isinstance(scores, Mapping):
        items = list(scores.items())
    elif isinstance(scores, str | bytes):
        raise RatingError(f"scores {scores!r} must be a list or a mapping, not text")
    else:
        if len(scores) > NUM_QS:
            raise RatingError(f"{len(scores)} scores given: there are only {NUM_QS} quality statements")
        items = [(i + 1, value) for i, value in enumerate(scores)]
    resolved: dict[int, int | None] = {}
    for key, value in items:
        qs = quality_statement(key)
        if qs.number in resolved:
            raise RatingError(f"quality statement {qs.number} ({qs.name}) given twice (as {key!r})")
        resolved[qs.number] = _check_score(qs, value)
    return {qs.number: resolved.get(qs.number) for qs in QUALITY_STATEMENTS}


def _steps_up(total: int, n: int, headroom: int, target_low: int) -> int:
    for k in range(1, headroom + 1):
        if percent_ceiling(total + k, n) >= target_low:
            return k
    raise AssertionError("unreachable: all 4s give 100%")


def _steps_down(total: int, n: int, target_high: int) -> int:
    for k in range(1, total - n + 1):
        if percent_ceiling(total - k, n) <= target_high:
            return k
    raise AssertionError("unreachable: all 1s give 25%")


def _band_index(rating: str) -> int:
    return RATINGS.index(rating)


def rate(scores: ScoresInput, *, indicative: bool = False) -> RatingResult:
    """Combine QS scores into CQC's overall % and rating (current method, DOMAIN.md §4.1-4.4).

    `scores` maps QS (number, canonical name, slug or variant) to 1-4 or None (not assessed), or is a
    sequence in QS order. Only assessed QS count: the denominator is 4n (an INFERENCE, flagged).
    """
    resolved = _normalise_scores(scores)
    assessed = {number: s for number, s in resolved.items() if s is not None}
    n = len(assessed)
    if n == 0:
        raise RatingError("no quality statement assessed: at least one score from 1 to 4 is needed")
    total = sum(assessed.values())
    maximum = MAX_SCORE * n
    exact = Fraction(100 * total, maximum)
    percent = percent_ceiling(total, n)
    rating = rating_for_percent(percent)
    floor = percent_floor(total, n)
    floor_rating = rating_for_percent(floor)

    boundary_warning: str | None = None
    if floor_rating != rating or _is_half(total, n):
        boundary_warning = (
            f"Boundary case: exact {_display(exact):.2f}% gives {percent}% ({rating}) by the ceiling rule "
            f"that fits every published figure, but {floor}% ({floor_rating}) if truncated or rounded down; "
            "CQC states no rounding rule (INFERENCE)."
        )

    index = _band_index(rating)
    next_band: BandDistance | None = None
    if index + 1 < len(BANDS):
        low = BANDS[index + 1][0]
        headroom = sum(MAX_SCORE - s for s in assessed.values())
        next_band = BandDistance(RATINGS[index + 1], low - percent, _steps_up(total, n, headroom, low))
    band_below: BandDistance | None = None
    if index > 0:
        high = BANDS[index - 1][1]
        band_below = BandDistance(RATINGS[index - 1], percent - high, _steps_down(total, n, high))

    not_assessed = tuple(number for number, s in resolved.items() if s is None)
    warnings: list[str] = []
    if not_assessed:
        listed = ", ".join(f"QS{number}" for number in not_assessed)
        warnings.append(
            f"{n} of {NUM_QS} quality statements assessed ({listed} not assessed): denominator 4×{n} = "
            f"{maximum} (INFERENCE: CQC combines only the statements assessed)."
        )
    if boundary_warning:
        warnings.append(boundary_warning)
    if indicative:
        warnings.append("Indicative (pilot) result: not a formal CQC rating.")

    derivation = (
        f"{total}/{maximum} points over {n} quality statement{'s' if n != 1 else ''} = "
        f"{_display(exact):.2f}% → {percent}% (ceiling) → {rating}; bands 25-38 Inadequate, "
        f"39-62 Requires improvement, 63-87 Good, 88+ Outstanding ({SOURCE_TITLE}, {SOURCE_URL})"
    )
    return RatingResult(
        scores=MappingProxyType(resolved),
        n=n,
        total=total,
        maximum=maximum,
        percent_exact=exact,
        percent=percent,
        rating=rating,
        boundary_warning=boundary_warning,
        next_band=next_band,
        band_below=band_below,
        derivation=derivation,
        flags=RatingFlags(
            boundary=boundary_warning is not None,
            qs_not_assessed=not_assessed,
            method="current",
            indicative=indicative,
        ),
        warnings=tuple(warnings),
    )


def _legacy_qs(qs: QualityStatement, categories: Sequence[int]) -> LegacyQS:
    if isinstance(categories, str | bytes) or not isinstance(categories, Sequence):
        raise RatingError(f"evidence category scores {categories!r} for QS{qs.number} must be a list")
    if not categories:
        raise RatingError(f"no evidence category scores for QS{qs.number} ({qs.name}); use None if not assessed")
    if len(categories) > MAX_EVIDENCE_CATEGORIES:
        raise RatingError(
            f"{len(categories)} evidence category scores for QS{qs.number}: there are only "
            f"{MAX_EVIDENCE_CATEGORIES} evidence categories"
        )
    for value in categories:
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_SCORE <= value <= MAX_SCORE:
            raise RatingError(
                f"evidence category score {value!r} for QS{qs.number} ({qs.name}) is not a whole number from 1 to 4"
            )
    total, m = sum(categories), len(categories)
    exact = Fraction(100 * total, MAX_SCORE * m)
    percent = percent_ceiling(total, m)
    score = _band_index(rating_for_percent(percent)) + 1
    floor = percent_floor(total, m)
    floor_score = _band_index(rating_for_percent(floor)) + 1
    warning: str | None = None
    if floor_score != score:
        warning = (
            f"QS{qs.number} ({qs.name}): {_display(exact):.2f}% falls between CQC's old bands; "
            f"scored {score} by the ceiling ({percent}%), {floor_score} if rounded down "
            "(INFERENCE: the old table leaves 62.5% and 87.5% unassigned)."
        )
    return LegacyQS(qs.number, tuple(categories), exact, percent, score, warning)


def rate_legacy(categories_by_qs: CategoriesInput, *, indicative: bool = False) -> RatingResult:
    """The older method (DOMAIN.md §4.5): evidence category scores per QS → QS score → overall.

    Each QS % is the ceiling of total/(4 × categories); 25-38 → 1, 39-62 → 2, 63-87 → 3, 88+ → 4,
    so 62.5 → 3 and 87.5 → 4 with a warning. The overall rating then follows `rate`.
    """
    derived: dict[int, int | None] = {}
    details: list[LegacyQS] = []
    for key, categories in categories_by_qs.items():
        qs = quality_statement(key)
        if qs.number in derived:
            raise RatingError(f"quality statement {qs.number} ({qs.name}) given twice (as {key!r})")
        if categories is None:
            derived[qs.number] = None
            continue
        item = _legacy_qs(qs, categories)
        details.append(item)
        derived[qs.number] = item.score
    current = rate(derived, indicative=indicative)
    details.sort(key=lambda item: item.qs)
    qs_warnings = tuple(item.warning for item in details if item.warning)
    derivation = (
        "Legacy evidence-category method: category scores → QS % (ceiling) → QS score "
        "(25-38=1, 39-62=2, 63-87=3, 88+=4); then " + current.derivation
    )
    return replace(
        current,
        derivation=derivation,
        flags=replace(current.flags, method="legacy"),
        warnings=qs_warnings + current.warnings,
        legacy=tuple(details),
    )


def _stated_percent(value: int | float | Fraction | str) -> Fraction:
    if isinstance(value, bool):
        raise RatingError(f"stated percentage {value!r} is not a number")
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise RatingError(f"stated percentage {value!r} is not a number") from None
    return Fraction(value)


def compare_stated(
    result: RatingResult,
    stated_percent: int | float | Fraction | str | None = None,
    stated_rating: str | None = None,
) -> list[str]:
    """Mismatches between a document's stated % / rating and the computed ones; [] when they agree.

    Both sides are reported and neither is overwritten (DOMAIN.md §4.6): a mismatch may be a
    typo in the source, a wrong threshold, or a score we were given wrongly.
    """
    messages: list[str] = []
    if stated_percent is not None:
        stated = _stated_percent(stated_percent)
        if stated != result.percent:
            floor = percent_floor(result.total, result.n)
            note = ""
            if stated == result.percent_exact:
                note = " (the stated figure is the exact value, not the published whole percentage)"
            elif stated == floor:
                note = " (the stated figure matches rounding down, not the ceiling that published figures fit)"
            messages.append(
                f"stated {_display(stated):g}% differs from computed {result.percent}% "
                f"({result.total}/{result.maximum}, exact {result.percent_exact_display:.2f}%){note}"
            )
    if stated_rating is not None:
        canonical = normalise_rating(stated_rating)
        if canonical is None:
            messages.append(f"stated rating {stated_rating!r} is not a CQC rating")
        elif canonical != result.rating:
            messages.append(f"stated rating {canonical} differs from computed {result.rating} ({result.percent}%)")
    return messages
