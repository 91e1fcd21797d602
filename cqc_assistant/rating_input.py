"""Scores as a person types them (command-line arguments, the app's fields): read and checked into what the
calculator in `rating.py` takes, with errors that name the offending value."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from .domain import QUALITY_STATEMENTS, quality_statement
from .errors import RatingError
from .rating import MAX_EVIDENCE_CATEGORIES, MAX_SCORE, MIN_SCORE, NUM_QS

__all__ = ["NOT_ASSESSED", "parse_evidence_categories", "parse_score", "parse_scores"]

NOT_ASSESSED = frozenset({"-", "na", "n/a", "none", "not assessed"})


def parse_score(text: str, where: str) -> int | None:
    """One typed score: 1-4, or None for '-' / 'na' / blank-like markers; anything else is a RatingError."""
    value = text.strip()
    if value.lower() in NOT_ASSESSED:
        return None
    if not re.fullmatch(r"[+-]?\d+", value):
        raise RatingError(f"score {text!r} for {where} is not a whole number from 1 to 4 (or '-' / 'na')")
    number = int(value)
    if not MIN_SCORE <= number <= MAX_SCORE:
        raise RatingError(f"score {text!r} for {where} is outside 1 to 4")
    return number


def parse_scores(positional: Sequence[str], named: Sequence[str]) -> dict[int, int | None]:
    """Parse command-line scores: positional S1..S9 in QS order, then `name=score` pairs.

    "-" or "na" marks a QS not assessed. QS not mentioned are absent from the result (and `rate`
    treats them as not assessed). Errors name the offending value.
    """
    return _per_qs(
        positional,
        named,
        parse_score,
        items="positional scores",
        example="named score {pair!r} must look like 'safeguarding=2' or '7=2'",
        split=str.rpartition,
        none_assessed="give at least one score from 1 to 4",
    )


T = TypeVar("T")


def _per_qs(
    positional: Sequence[str],
    named: Sequence[str],
    parse: Callable[[str, str], T | None],
    *,
    items: str,
    example: str,
    split: Callable[[str, str], tuple[str, str, str]],
    none_assessed: str,
) -> dict[int, T | None]:
    """Positional values in QS order, then `name=value` pairs; each parsed by `parse`, duplicates refused."""
    if len(positional) > NUM_QS:
        raise RatingError(
            f"{len(positional)} {items} given (extra: {positional[NUM_QS]!r}): "
            f"there are only {NUM_QS} quality statements"
        )
    out: dict[int, T | None] = {}
    for i, text in enumerate(positional):
        qs = QUALITY_STATEMENTS[i]
        out[qs.number] = parse(text, f"QS{qs.number} ({qs.name})")
    for pair in named:
        key, sep, value = split(pair, "=")
        if not sep or not key.strip():
            raise RatingError(example.format(pair=pair))
        qs = quality_statement(key.strip())
        if qs.number in out:
            raise RatingError(f"quality statement {qs.number} ({qs.name}) given twice (again as {pair!r})")
        out[qs.number] = parse(value, f"QS{qs.number} ({qs.name})")
    if all(value is None for value in out.values()):
        raise RatingError(f"no quality statement assessed: {none_assessed}")
    return out


def _parse_categories(text: str, where: str) -> list[int] | None:
    value = text.strip()
    if value.lower() in NOT_ASSESSED:
        return None
    parts = [part for part in re.split(r"[,\s]+", value) if part]
    if not parts:
        raise RatingError(f"no evidence category scores for {where} in {text!r} (use '-' if not assessed)")
    if len(parts) > MAX_EVIDENCE_CATEGORIES:
        raise RatingError(
            f"{len(parts)} evidence category scores for {where} in {text!r}: there are only "
            f"{MAX_EVIDENCE_CATEGORIES} evidence categories"
        )
    out: list[int] = []
    for part in parts:
        if not re.fullmatch(r"[+-]?\d+", part):
            raise RatingError(
                f"evidence category score {part!r} for {where} (in {text!r}) is not a whole number from 1 to 4"
            )
        number = int(part)
        if not MIN_SCORE <= number <= MAX_SCORE:
            raise RatingError(f"evidence category score {part!r} for {where} (in {text!r}) is outside 1 to 4")
        out.append(number)
    return out


def parse_evidence_categories(positional: Sequence[str], named: Sequence[str]) -> dict[int, list[int] | None]:
    """Parse command-line input for the legacy method: one comma-separated list of category scores per QS.

    Positional values are QS1..QS9 in order ("3,3,2,4"), then `name=3,3,2` pairs; "-" or "na" marks a
    QS not assessed. The result feeds `rate_legacy`. Errors name the offending value.
    """
    return _per_qs(
        positional,
        named,
        _parse_categories,
        items="positional category lists",
        example="named category scores {pair!r} must look like 'safeguarding=3,3,2,4'",
        split=str.partition,
        none_assessed="give at least one list of category scores from 1 to 4",
    )
