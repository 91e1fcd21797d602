"""The calculator's result as plain-text lines (the CLI's `rate`), and the distance sentences the app shares."""

from __future__ import annotations

from .domain import quality_statement
from .rating import BandDistance, RatingResult
from .what_if import Direction, ways, ways_count


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def distance_up(band: BandDistance) -> str:
    return (
        f"{band.rating} is {plural(band.points_needed, 'percentage point')} away "
        f"(at least {plural(band.steps_needed, 'score step')} of +1)"
    )


def distance_down(band: BandDistance) -> str:
    return (
        f"{band.rating} is {plural(band.points_needed, 'percentage point')} below "
        f"({plural(band.steps_needed, 'score step')} of -1 would take it there)"
    )


def ways_heading(result: RatingResult, direction: Direction, shown: int) -> str | None:
    """'5 steps to Outstanding; 3 of 6 kinds of change shown', or None when there is no band that way."""
    band = result.next_band if direction == "up" else result.band_below
    if band is None:
        return None
    total = ways_count(result, direction)
    more = f"; {shown} of {total} kinds of change shown" if total > shown else ""
    return f"{plural(band.steps_needed, 'step')} to {band.rating}{more}"


def rate_lines(result: RatingResult, *, indicative: bool, show_what_if: bool) -> list[str]:
    """What `cqc-assistant rate` prints without --json."""
    shown = " ".join(f"QS{n}={'-' if s is None else s}" for n, s in result.scores.items())
    out = [
        f"Rating:     {result.rating}{' (indicative)' if indicative else ''}",
        f"Percent:    {result.percent}% (published figure: ceiling of the exact value)",
        f"Exact:      {result.percent_exact_display:.2f}% = {result.total}/{result.maximum} points "
        f"over {plural(result.n, 'quality statement')}",
        f"Scores:     {shown}",
    ]
    for item in result.legacy:
        cats = ",".join(str(c) for c in item.categories)
        name = quality_statement(item.qs).name
        out.append(f"  QS{item.qs} {name}: categories {cats} → {item.percent}% → score {item.score}")
    out.append(f"Derivation: {result.derivation}")
    if result.boundary_warning:
        out.append(f"Boundary:   {result.boundary_warning}")
    if result.next_band is None:
        out.append("Next band:  none (Outstanding is the top band)")
    else:
        out.append(f"Next band:  {distance_up(result.next_band)}")
    if result.band_below is None:
        out.append("Band below: none (Inadequate is the lowest band)")
    else:
        out.append(f"Band below: {distance_down(result.band_below)}")
    for warning in result.warnings:
        if warning != result.boundary_warning:
            out.append(f"Note:       {warning}")
    if show_what_if:
        sides: tuple[tuple[Direction, str], ...] = (("up", "no higher band to reach"), ("down", "no lower band"))
        for direction, none in sides:
            found = ways(result, direction)
            heading = ways_heading(result, direction, len(found))
            if heading is None:
                out.append(f"What if {direction}: {none}")
                continue
            out.append(f"What if {direction} ({heading}):")
            out.extend(f"  - {way.describe()}" for way in found)
    return out
