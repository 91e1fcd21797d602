"""Which rating band a question points at without naming it ("a council on 75%", "the lowest of the four
grades"), and the words that point: retrieval and answers look for the band in a report's own words.

Kept apart from the calculator (`rating.py`): reading a question needs CQC's band table, not the method.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from .domain import BANDS, RATING_TERMS, band_index

__all__ = ["BandsAsked", "bands_asked"]

_BY_RANK = re.compile(rf"\b({RATING_TERMS})\b", re.I)
_BY_PERCENT = re.compile(rf"\b({RATING_TERMS}|scores?|scored|results?)\b", re.I)
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:%|per ?cent\b)", re.I)
_RANKS = (
    (re.compile(r"\b(second|next)[- ](lowest|worst)\b|\bnext to (the )?bottom\b", re.I), 1),
    (re.compile(r"\b(second|next)[- ](highest|best)\b|\bnext to (the )?top\b", re.I), 2),
    (re.compile(r"\b(lowest|worst|bottom)\b", re.I), 0),
    (re.compile(r"\b(highest|best|top)\b", re.I), 3),
)


@dataclass(frozen=True)
class BandsAsked:
    """The bands (lowest %, highest %, rating) a question about ratings points at by a percentage or by rank,
    and the words that point at them ("75%", "lowest", "grades"): a report states the band in its own words
    ("Good", "63 to 87%"), which stand for those."""

    bands: tuple[tuple[int, int, str], ...] = ()
    words: tuple[str, ...] = ()


def bands_asked(text: str) -> BandsAsked:
    """The bands a question points at by a percentage of a rating or score, or by rank among the ratings."""
    found: list[int] = []
    words: list[str] = []
    if by_percent := [w.group(0) for w in _BY_PERCENT.finditer(text)]:
        for m in _PERCENT.finditer(text):
            if (value := Fraction(m.group(1))) <= 100:
                found.append(band_index(math.ceil(value)))
                words += [m.group(1), *by_percent]
    if by_rank := [w.group(0) for w in _BY_RANK.finditer(text)]:
        for pattern, index in _RANKS:
            if rank := pattern.search(text):
                found.append(index)
                words += [*rank.group(0).split(), *by_rank]
                break
    return BandsAsked(tuple(BANDS[i] for i in dict.fromkeys(found)), tuple(dict.fromkeys(words)))
