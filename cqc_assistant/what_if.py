"""What-if for the rating calculator: the fewest score changes that move the overall rating a band up or down.

Only the sum of the scores decides the band (DOMAIN.md §4.1), so every smallest change has the same number
of one-point steps; what differs is which statements move. Listing each choice of statements repeats the
same idea many times ("QS1 3→4; QS2 3→4", "QS1 3→4; QS4 3→4", ...), so `ways` groups the options by the
moves they make (two statements from 3 to 4, one from 2 to 3) and names the statements each move could use.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from .domain import quality_statement
from .rating import (
    MAX_SCORE,
    MIN_SCORE,
    JSONDict,
    RatingResult,
    ScoresInput,
    percent_ceiling,
    rate,
    rating_for_percent,
)

__all__ = ["Move", "ScoreChange", "Way", "WhatIfOption", "ways", "ways_count", "what_if", "what_if_count"]

Direction = Literal["up", "down"]
WAYS_SHOWN = 3


@dataclass(frozen=True)
class ScoreChange:
    """One QS moved from one score to another (up or down, one or more steps)."""

    qs: int
    name: str
    from_score: int
    to_score: int

    def to_json(self) -> JSONDict:
        return {"qs": self.qs, "name": self.name, "from": self.from_score, "to": self.to_score}


@dataclass(frozen=True)
class WhatIfOption:
    """One smallest set of score changes that moves the overall rating to the next band up (or down)."""

    changes: tuple[ScoreChange, ...]
    steps: int
    total: int
    percent: int
    rating: str

    def describe(self) -> str:
        parts = "; ".join(f"{c.name} {c.from_score}→{c.to_score}" for c in self.changes)
        return f"{parts} ⇒ {self.total} points, {self.percent}% ({self.rating})"

    def to_json(self) -> JSONDict:
        return {
            "changes": [c.to_json() for c in self.changes],
            "steps": self.steps,
            "total": self.total,
            "percent": self.percent,
            "rating": self.rating,
        }


@dataclass(frozen=True)
class Move:
    """`count` of the statements in `among` (all scored `from_score` now) moved to `to_score`."""

    from_score: int
    to_score: int
    count: int
    among: tuple[int, ...]

    def describe(self) -> str:
        if len(self.among) == 1:
            qs = quality_statement(self.among[0])
            return f"QS{qs.number} {qs.name} {self.from_score}→{self.to_score}"
        listed = ", ".join(f"QS{n}" for n in self.among)
        which = f"all of {listed}" if self.count == len(self.among) else f"any {self.count} of {listed}"
        return f"{which}: {self.from_score}→{self.to_score}"

    def to_json(self) -> JSONDict:
        return {"from": self.from_score, "to": self.to_score, "count": self.count, "among": list(self.among)}


@dataclass(frozen=True)
class Way:
    """One kind of smallest change: the moves it makes, the result, and how many QS choices it stands for."""

    direction: Direction
    moves: tuple[Move, ...]
    steps: int
    total: int
    percent: int
    rating: str
    options: int
    example: WhatIfOption

    def describe(self) -> str:
        return "; ".join(m.describe() for m in self.moves) + f" ⇒ {self.total} points, {self.percent}% ({self.rating})"

    def to_json(self) -> JSONDict:
        return {
            "direction": self.direction,
            "moves": [m.to_json() for m in self.moves],
            "steps": self.steps,
            "total": self.total,
            "percent": self.percent,
            "rating": self.rating,
            "options": self.options,
            "example": self.example.to_json(),
        }


def _result(result_or_scores: RatingResult | ScoresInput) -> RatingResult:
    return result_or_scores if isinstance(result_or_scores, RatingResult) else rate(result_or_scores)


def _options(result: RatingResult, direction: Direction) -> tuple[WhatIfOption, ...]:
    """Every smallest set of one-point steps that reaches the next band that way, the usual routes first:
    fewest jumps of more than one step and moves to a 4 (or, down, to a 1), then statements in QS order.

    Only the scores decide them, so they are kept for recent score sets: the app's page asks several times
    per run, and a Good at 87% has 24,310 ways to choose nine steps down.
    """
    return _options_for(tuple(result.scores.items()), direction)


@functools.lru_cache(maxsize=32)
def _options_for(scores: tuple[tuple[int, int | None], ...], direction: Direction) -> tuple[WhatIfOption, ...]:
    result = rate(dict(scores))
    target = result.next_band if direction == "up" else result.band_below
    if target is None:
        return ()
    sign = 1 if direction == "up" else -1
    limit = MAX_SCORE if direction == "up" else MIN_SCORE
    assessed = {number: s for number, s in result.scores.items() if s is not None}
    steps = target.steps_needed
    total = result.total + sign * steps
    percent = percent_ceiling(total, result.n)
    rating = rating_for_percent(percent)
    candidates = [number for number in sorted(assessed) if assessed[number] != limit]
    ranked: list[tuple[int, tuple[int, ...], WhatIfOption]] = []
    for combo in itertools.combinations_with_replacement(candidates, steps):
        counts = Counter(combo)
        if any(not MIN_SCORE <= assessed[number] + sign * k <= MAX_SCORE for number, k in counts.items()):
            continue
        changes = tuple(
            ScoreChange(number, quality_statement(number).name, assessed[number], assessed[number] + sign * k)
            for number, k in sorted(counts.items())
        )
        to_edge = sum(1 for c in changes if c.to_score == limit)
        jumps = sum(abs(c.to_score - c.from_score) - 1 for c in changes)
        ranked.append((to_edge + jumps, combo, WhatIfOption(changes, steps, total, percent, rating)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return tuple(option for _cost, _combo, option in ranked)


def what_if(result_or_scores: RatingResult | ScoresInput, *, limit: int = 20) -> list[WhatIfOption]:
    """The smallest sets of +1 steps (no score above 4) that reach the next band, at most `limit`.

    Only the sum decides the band, so every minimal option has the same number of steps. Options
    that need fewer scores of 4 or double jumps come first (the usual route is lifting 2s to 3s),
    then QS order, so output is deterministic. [] at Outstanding; not-assessed QS are never touched.
    """
    return list(_options(_result(result_or_scores), "up")[: max(limit, 0)])


def what_if_count(result_or_scores: RatingResult | ScoresInput) -> int:
    """How many minimal options exist, so a caller can say "showing 20 of 126"."""
    return len(_options(_result(result_or_scores), "up"))


def _jumps(option: WhatIfOption) -> int:
    """Steps beyond one per statement: 2→4 is one jump more than 2→3."""
    return sum(abs(c.to_score - c.from_score) - 1 for c in option.changes)


def _all_ways(result: RatingResult, direction: Direction) -> tuple[Way, ...]:
    return _ways_for(tuple(result.scores.items()), direction)


@functools.lru_cache(maxsize=32)
def _ways_for(scores: tuple[tuple[int, int | None], ...], direction: Direction) -> tuple[Way, ...]:
    """Options grouped by the multiset of moves they make, keeping only the ways with the fewest jumps."""
    result = rate(dict(scores))
    options = _options(result, direction)
    fewest = min((_jumps(o) for o in options), default=0)
    assessed = {number: s for number, s in result.scores.items() if s is not None}
    groups: dict[tuple[tuple[int, int], ...], list[WhatIfOption]] = {}
    for option in options:  # best first, so each group's first is its best
        if _jumps(option) == fewest:
            moved = sorted((c.from_score, c.to_score) for c in option.changes)
            pattern = tuple(sorted(moved, key=lambda m: (abs(m[1] - m[0]), m[0] if direction == "up" else -m[0])))
            groups.setdefault(pattern, []).append(option)
    out: list[Way] = []
    for pattern, members in groups.items():
        moves = tuple(
            Move(before, after, count, tuple(n for n in sorted(assessed) if assessed[n] == before))
            for (before, after), count in Counter(pattern).items()
        )
        first = members[0]
        out.append(Way(direction, moves, first.steps, first.total, first.percent, first.rating, len(members), first))
    return tuple(out)


def ways(
    result_or_scores: RatingResult | ScoresInput, direction: Direction = "up", *, limit: int = WAYS_SHOWN
) -> list[Way]:
    """The distinct kinds of smallest change that move the rating a band `direction`, best first, at most `limit`.

    Options that make the same moves (say, two statements from 3 to 4) on different statements are one way.
    Only the ways with the fewest jumps of two or more steps are kept (each statement moves one step where
    that is enough), those taking fewer scores to 4 (or, down, to 1) first. [] when there is no band that
    way (Outstanding up, Inadequate down).
    """
    return list(_all_ways(_result(result_or_scores), direction)[: max(limit, 0)])


def ways_count(result_or_scores: RatingResult | ScoresInput, direction: Direction = "up") -> int:
    return len(_all_ways(_result(result_or_scores), direction))
