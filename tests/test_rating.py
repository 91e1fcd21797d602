"""The calculator against every worked figure in DOMAIN.md §4, its boundary cases, and brute force.

Expected values are written out from DOMAIN.md, or derived here independently with `Fraction` and
`math.ceil`, never by calling the code under test twice.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cqc_assistant.errors import RatingError
from cqc_assistant.rating import (
    BANDS,
    SOURCE_URL,
    compare_stated,
    percent_ceiling,
    rate,
    rate_legacy,
    rating_for_percent,
)
from cqc_assistant.rating_input import parse_scores
from cqc_assistant.rating_questions import BandsAsked, bands_asked
from cqc_assistant.what_if import ways, ways_count, what_if, what_if_count

INADEQUATE, RI, GOOD, OUTSTANDING = "Inadequate", "Requires improvement", "Good", "Outstanding"
ORDER = [INADEQUATE, RI, GOOD, OUTSTANDING]


def vector_for_sum(total: int, n: int = 9) -> list[int]:
    """Some n scores in 1..4 adding up to `total` (only the sum matters for the rating)."""
    assert n <= total <= 4 * n
    scores = [1] * n
    extra = total - n
    for i in range(n):
        add = min(3, extra)
        scores[i] += add
        extra -= add
    return scores


def band_by_thresholds(total: int, n: int) -> str:
    """Independent oracle: CQC's whole-number bands applied to the exact fraction via its ceiling."""
    pct = math.ceil(Fraction(100 * total, 4 * n))
    if pct <= 38:
        return INADEQUATE
    if pct <= 62:
        return RI
    if pct <= 87:
        return GOOD
    return OUTSTANDING


# (council, sum of nine QS scores, exact % to 2 dp, published %, rating) — DOMAIN.md §4.2
WORKED = [
    ("Hounslow", 25, 69.44, 70, GOOD),
    ("Sefton", 25, 69.44, 70, GOOD),
    ("North Somerset", 21, 58.33, 59, RI),
    ("Wirral", 21, 58.33, 59, RI),
    ("Brent", 22, 61.11, 62, RI),
    ("Hertfordshire", 28, 77.78, 78, GOOD),
    ("West Berkshire", 23, 63.89, 64, GOOD),
    ("Camden", 32, 88.89, 89, OUTSTANDING),
    ("Lancashire", 18, 50.00, 50, RI),
    ("Blackpool", 12, 33.33, 34, INADEQUATE),
    ("Nottingham pilot", 21, 58.33, 59, RI),
    ("pilot 27", 27, 75.00, 75, GOOD),
    ("pilot 26 (eight 3s and one 2)", 26, 72.22, 73, GOOD),
    ("pilot 25", 25, 69.44, 70, GOOD),
    ("pilot 24", 24, 66.67, 67, GOOD),
]

LOOKUP_9 = {
    **dict(zip(range(9, 14), [25, 28, 31, 34, 37], strict=True)),
    **dict(zip(range(14, 23), [39, 42, 45, 48, 50, 53, 56, 59, 62], strict=True)),
    **dict(zip(range(23, 32), [64, 67, 70, 73, 75, 78, 81, 84, 87], strict=True)),
    **dict(zip(range(32, 37), [89, 92, 95, 98, 100], strict=True)),
}
LOOKUP_9_RATING = {s: INADEQUATE if s < 14 else RI if s < 23 else GOOD if s < 32 else OUTSTANDING for s in LOOKUP_9}

# (n, sum, exact to 2 dp, ceiling %, rating) — DOMAIN.md §4.3
BOUNDARY = [
    (9, 14, 38.89, 39, RI),
    (8, 20, 62.50, 63, GOOD),
    (8, 28, 87.50, 88, OUTSTANDING),
    (8, 12, 37.50, 38, INADEQUATE),
]


@pytest.mark.parametrize(("council", "total", "exact", "published", "rating"), WORKED)
def test_worked_examples(council: str, total: int, exact: float, published: int, rating: str) -> None:
    result = rate(vector_for_sum(total))
    assert (result.n, result.total, result.maximum) == (9, total, 36)
    assert result.percent_exact == Fraction(100 * total, 36)
    assert result.percent_exact_display == exact
    assert result.percent == published, council
    assert result.rating == rating, council
    assert result.boundary_warning is None
    assert result.flags.method == "current"
    assert result.flags.qs_not_assessed == ()


def test_lincolnshire_all_threes() -> None:
    result = rate([3] * 9)
    assert (result.total, result.percent, result.rating) == (27, 75, GOOD)


def test_brent_is_one_point_from_good() -> None:
    result = rate(vector_for_sum(22))
    assert result.next_band is not None
    assert (result.next_band.rating, result.next_band.points_needed, result.next_band.steps_needed) == (
        GOOD,
        1,
        1,
    )


def test_lancashire_exact_integer_is_not_bumped() -> None:
    assert rate([2] * 9).percent == 50


@pytest.mark.parametrize("total", sorted(LOOKUP_9))
def test_nine_qs_lookup_table(total: int) -> None:
    result = rate(vector_for_sum(total))
    assert result.percent == LOOKUP_9[total]
    assert result.rating == LOOKUP_9_RATING[total]


def test_lookup_table_is_complete() -> None:
    assert sorted(LOOKUP_9) == list(range(9, 37))


@pytest.mark.parametrize(("n", "total", "exact", "pct", "rating"), BOUNDARY)
def test_boundary_cases_warn(n: int, total: int, exact: float, pct: int, rating: str) -> None:
    result = rate(vector_for_sum(total, n))
    assert result.n == n
    assert result.percent_exact_display == exact
    assert (result.percent, result.rating) == (pct, rating)
    assert result.boundary_warning is not None
    assert f"{pct}%" in result.boundary_warning
    assert result.flags.boundary is True
    assert result.boundary_warning in result.warnings


def test_boundary_warning_only_on_the_four_cases() -> None:
    flagged = set()
    for n in (8, 9):
        for total in range(n, 4 * n + 1):
            result = rate(vector_for_sum(total, n))
            if result.boundary_warning is not None:
                flagged.add((n, total))
            else:
                assert result.flags.boundary is False
    assert flagged == {(n, total) for n, total, *_ in BOUNDARY}


def test_eight_of_nine_assessed_uses_denominator_32() -> None:
    scores: dict[int | str, int | None] = {i: 3 for i in range(1, 9)}
    scores[9] = None
    result = rate(scores)
    assert (result.n, result.total, result.maximum, result.percent) == (8, 24, 32, 75)
    assert result.flags.qs_not_assessed == (9,)
    assert any("QS9" in w for w in result.warnings)
    # absent is the same as None
    assert rate({i: 3 for i in range(1, 9)}).flags.qs_not_assessed == (9,)


def test_keys_by_number_name_slug_and_sequence_agree() -> None:
    by_seq = rate([3, 3, 2, 3, 3, 2, 3, 3, 3])
    named: dict[int | str, int | None] = {
        "Assessing needs": 3,
        "Supporting people to lead healthier lives": 3,
        "equity": 2,
        "care": 3,
        "Partnership and communities": 3,
        "pathways": 2,
        "safeguarding": 3,
        8: 3,
        "9": 3,
    }
    by_name = rate(named)
    assert by_seq.to_json() == by_name.to_json()
    assert by_seq.scores[6] == 2


@pytest.mark.parametrize(
    ("scores", "needle"),
    [
        ({1: 5}, "5"),
        ({1: 0}, "0"),
        ({7: 2.5}, "2.5"),
        ({7: "3"}, "'3'"),
        ({7: True}, "True"),
        ({7: 2, "safeguarding": 3}, "'safeguarding'"),
        ({"parking": 2}, "'parking'"),
        ({11: 2}, "11"),
        ([3] * 10, "10"),
        ({1: None, 2: None}, "no quality statement assessed"),
        ({}, "no quality statement assessed"),
        ([None] * 9, "no quality statement assessed"),
    ],
)
def test_rate_rejects_bad_input(scores: object, needle: str) -> None:
    with pytest.raises(RatingError) as info:
        rate(scores)  # type: ignore[arg-type]
    assert needle in str(info.value)


def test_to_json_shape() -> None:
    result = rate(vector_for_sum(25))
    data = result.to_json()
    for key in (
        "scores",
        "total",
        "maximum",
        "percent_exact",
        "percent",
        "rating",
        "boundary_warning",
        "next_band",
        "n",
        "band_below",
        "derivation",
        "method",
        "flags",
    ):
        assert key in data, key
    assert json.loads(json.dumps(data)) == data
    assert data["percent_exact"] == 69.44
    assert data["percent"] == 70
    assert data["rating"] == GOOD
    assert data["next_band"] == {"rating": OUTSTANDING, "points_needed": 18, "steps_needed": 7}
    assert data["band_below"] == {"rating": RI, "points_needed": 8, "steps_needed": 3}
    assert list(data["scores"])[0] == "Assessing needs"
    assert list(data["scores"])[-1] == "Learning, improvement and innovation"
    assert sum(v for v in data["scores"].values() if v is not None) == 25
    assert data["flags"] == {
        "boundary": False,
        "qs_not_assessed": [],
        "method": "current",
        "indicative": False,
    }
    assert SOURCE_URL in data["derivation"]
    assert "How we determine ratings" in data["derivation"]


def test_top_and_bottom_bands_have_no_neighbour() -> None:
    top = rate([4] * 9)
    assert top.next_band is None and top.to_json()["next_band"] is None
    assert top.band_below is not None and top.band_below.rating == GOOD
    bottom = rate([1] * 9)
    assert bottom.band_below is None
    assert bottom.next_band is not None and bottom.next_band.points_needed == 39 - 25


@pytest.mark.parametrize("n", range(1, 10))
def test_band_distances_by_brute_force(n: int) -> None:
    for total in range(n, 4 * n + 1):
        result = rate(vector_for_sum(total, n))
        idx = ORDER.index(result.rating)
        if result.next_band is not None:
            k = next(k for k in itertools.count(1) if ORDER.index(band_by_thresholds(total + k, n)) > idx)
            assert result.next_band.steps_needed == k
            assert result.next_band.rating == ORDER[idx + 1]
            assert result.next_band.points_needed == [39, 63, 88][idx] - result.percent
        if result.band_below is not None:
            k = next(k for k in itertools.count(1) if ORDER.index(band_by_thresholds(total - k, n)) < idx)
            assert result.band_below.steps_needed == k
            assert result.band_below.points_needed == result.percent - [38, 62, 87][idx - 1]


def test_indicative_flag() -> None:
    result = rate([3] * 8 + [2], indicative=True)
    assert result.flags.indicative is True
    assert result.to_json()["flags"]["indicative"] is True


# --- exhaustive and property tests -------------------------------------------------------------


def test_every_nine_score_combination() -> None:
    """All 4^9 inputs: the band from the ceiling % agrees with the thresholds on the exact fraction."""
    by_sum = {total: rate(vector_for_sum(total)) for total in range(9, 37)}
    for total, result in by_sum.items():
        assert result.percent == math.ceil(Fraction(100 * total, 36))
        assert result.rating == band_by_thresholds(total, 9)
    seen: Counter[int] = Counter()
    for combo in itertools.product(range(1, 5), repeat=9):
        total = sum(combo)
        seen[total] += 1
        pct = by_sum[total].percent
        rating = by_sum[total].rating
        exact_x36 = 100 * total  # exact % × 36
        assert 25 <= pct <= 100
        if rating == INADEQUATE:
            assert exact_x36 <= 38 * 36
        elif rating == RI:
            assert 38 * 36 < exact_x36 <= 62 * 36
        elif rating == GOOD:
            assert 62 * 36 < exact_x36 <= 87 * 36
        else:
            assert exact_x36 > 87 * 36
    assert sum(seen.values()) == 4**9
    rng = random.Random(20240501)
    for _ in range(500):
        sample = [rng.randint(1, 4) for _ in range(9)]
        result = rate(sample)
        assert (result.percent, result.rating) == (by_sum[sum(sample)].percent, by_sum[sum(sample)].rating)


score_lists = st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=9, max_size=9).filter(
    lambda xs: any(x is not None for x in xs)
)


@given(score_lists)
def test_percent_in_range_and_band_agrees(scores: list[int | None]) -> None:
    result = rate(scores)
    assert 25 <= result.percent <= 100
    assert result.percent == math.ceil(result.percent_exact)
    assert result.rating == rating_for_percent(result.percent)
    assert result.rating == band_by_thresholds(result.total, result.n)
    assert result.n == sum(x is not None for x in scores)


@given(score_lists, st.integers(0, 8))
def test_percent_monotone_in_each_score(scores: list[int | None], index: int) -> None:
    value = scores[index]
    if value is None or value == 4:
        return
    higher = list(scores)
    higher[index] = value + 1
    before, after = rate(scores), rate(higher)
    assert after.percent >= before.percent
    assert after.percent_exact > before.percent_exact
    assert ORDER.index(after.rating) >= ORDER.index(before.rating)


def test_percent_ceiling_integer_formula() -> None:
    for n in range(1, 10):
        for total in range(n, 4 * n + 1):
            assert percent_ceiling(total, n) == math.ceil(Fraction(100 * total, 4 * n))


# --- what-if -----------------------------------------------------------------------------------


def _apply(scores: list[int | None], option_changes: list[tuple[int, int, int]]) -> list[int | None]:
    out = list(scores)
    for qs, before, after in option_changes:
        assert out[qs - 1] == before
        out[qs - 1] = after
    return out


@settings(max_examples=60, deadline=None)
@given(score_lists)
def test_what_if_reaches_next_band_and_is_minimal(scores: list[int | None]) -> None:
    result = rate(scores)
    options = what_if(result, limit=1000)
    if result.next_band is None:
        assert options == []
        return
    assert options, "a next band always exists below Outstanding"
    target = result.next_band.rating
    seen = set()
    for option in options:
        changes = [(c.qs, c.from_score, c.to_score) for c in option.changes]
        assert all(scores[qs - 1] is not None for qs, _, _ in changes)
        assert all(1 <= before < after <= 4 for _, before, after in changes)
        assert sum(after - before for _, before, after in changes) == option.steps == result.next_band.steps_needed
        raised = rate(_apply(scores, changes))
        assert raised.rating == target == option.rating
        assert raised.percent == option.percent
        # removing any one step falls short, so the option is minimal
        for qs, _before, _after in changes:
            fewer = [(q, b, a - 1 if q == qs else a) for q, b, a in changes]
            assert ORDER.index(rate(_apply(scores, fewer)).rating) < ORDER.index(target)
        key = tuple(changes)
        assert key not in seen
        seen.add(key)
    assert what_if_count(result) == len(options) or len(options) == 1000


def test_what_if_lists_every_minimal_option() -> None:
    scores: list[int | None] = [3, 3, 2, 3, 3, 2, 3, 3, None]  # 22/32 = 68.75 → 69 Good
    result = rate(scores)
    assert result.next_band is not None
    steps = result.next_band.steps_needed
    assert steps == 6  # 28/32 = 87.5 → 88 (ceiling)
    brute = set()
    assessed = [i for i, s in enumerate(scores) if s is not None]
    for raises in itertools.product(range(4), repeat=len(assessed)):
        if sum(raises) != steps:
            continue
        new = list(scores)
        ok = True
        for i, r in zip(assessed, raises, strict=True):
            value = new[i]
            assert value is not None
            if value + r > 4:
                ok = False
            new[i] = value + r
        if ok:
            brute.add(tuple(new))
    options = what_if(result, limit=10_000)
    got = {tuple(_apply(scores, [(c.qs, c.from_score, c.to_score) for c in o.changes])) for o in options}
    assert got == brute
    assert what_if_count(scores) == len(brute)


def test_what_if_order_and_limit() -> None:
    result = rate(vector_for_sum(22))  # Brent: one step from Good
    options = what_if(result)
    assert len(options) >= 1
    assert all(o.steps == 1 and o.rating == GOOD and o.percent == 64 for o in options)
    assert [o.changes[0].qs for o in options] == sorted(o.changes[0].qs for o in options)
    assert what_if(result) == what_if(result)
    assert len(what_if(rate([2] * 9), limit=3)) == 3
    assert what_if(rate([4] * 9)) == []
    # lifting 2s to 3s is listed before pushing anything to 4
    first = what_if(rate([3, 3, 2, 3, 3, 3, 3, 3, 2]))[0]
    assert {(c.qs, c.from_score, c.to_score) for c in first.changes} >= {(3, 2, 3), (9, 2, 3)}
    assert "→" in first.describe()


def _brute_options(scores: list[int | None], steps: int, sign: int) -> set[tuple[tuple[int, int, int], ...]]:
    """Every way to move assessed scores by `steps` one-point steps in direction `sign`, staying within 1-4."""
    assessed = [i for i, s in enumerate(scores) if s is not None]
    out = set()
    for moves in itertools.product(range(4), repeat=len(assessed)):
        if sum(moves) != steps:
            continue
        changes = []
        for i, k in zip(assessed, moves, strict=True):
            before = scores[i]
            assert before is not None
            if k and not 1 <= before + sign * k <= 4:
                break
            if k:
                changes.append((i + 1, before, before + sign * k))
        else:
            out.add(tuple(changes))
    return out


def _jumps(changes: tuple[tuple[int, int, int], ...]) -> int:
    return sum(abs(after - before) - 1 for _qs, before, after in changes)


def _pattern(changes: tuple[tuple[int, int, int], ...]) -> Counter[tuple[int, int]]:
    return Counter((before, after) for _qs, before, after in changes)


@pytest.mark.parametrize(
    ("scores", "direction", "target"),
    [
        ([3, 3, 2, 3, 4, 3, 3, 3, 3], "up", OUTSTANDING),  # 75% Good
        ([3, 3, 2, 3, 4, 3, 3, 3, 3], "down", RI),
        ([2, 3, 2, 3, 2, 3, 2, 3, 2], "up", GOOD),  # 62% RI, one step from Good
        ([2, 3, 2, 3, 2, 3, 2, 3, 2], "down", INADEQUATE),
        ([4, 4, 4, 1, 1, 1, 1, 1, None], "down", INADEQUATE),  # few can move: two-step drops are needed
        ([4, 4, 4, 4, 4, 4, 4, 3, 4], "down", GOOD),
    ],
)
def test_ways_are_the_distinct_smallest_changes_both_directions(
    scores: list[int | None], direction: str, target: str
) -> None:
    result = rate(scores)
    band = result.next_band if direction == "up" else result.band_below
    assert band is not None and band.rating == target
    sign = 1 if direction == "up" else -1
    brute = _brute_options(scores, band.steps_needed, sign)
    fewest = min(_jumps(c) for c in brute)
    smallest = [c for c in brute if _jumps(c) == fewest]
    expected_patterns = {frozenset(_pattern(c).items()) for c in smallest}
    found = ways(result, direction, limit=100)  # type: ignore[arg-type]
    assert ways_count(result, direction) == len(found) == len(expected_patterns)  # type: ignore[arg-type]
    assert {frozenset(Counter({(m.from_score, m.to_score): m.count for m in w.moves}).items()) for w in found} == (
        expected_patterns
    )
    assert sum(w.options for w in found) == len(smallest)
    for w in found:
        changes = tuple((c.qs, c.from_score, c.to_score) for c in w.example.changes)
        assert changes in brute and _jumps(changes) == fewest
        moved = rate(_apply(scores, list(changes)))
        assert moved.rating == target == w.rating and moved.total == w.total and moved.percent == w.percent
        for m in w.moves:
            assert all(scores[qs - 1] == m.from_score for qs in m.among) and m.count <= len(m.among)
    assert len(ways(result, direction)) == min(3, len(found))  # type: ignore[arg-type]


def test_a_good_result_says_how_close_it_is_to_dropping() -> None:
    result = rate([3, 3, 3, 3, 3, 3, 3, 3, 2])  # 26/36 = 72.2% → 73% Good
    assert result.band_below is not None
    assert (result.band_below.rating, result.band_below.steps_needed) == (RI, 4)  # 22/36 → 62%
    first, second = ways(result, "down")  # four 3s to 2, or the 2 to 1 and three 3s to 2
    assert first.describe().startswith("any 4 of QS1, QS2, QS3, QS4, QS5, QS6, QS7, QS8: 3→2 ⇒ 22 points, 62%")
    assert first.options == math.comb(8, 4) and second.options == math.comb(8, 3)
    assert "QS9 Learning, improvement and innovation 2→1" in second.describe()
    assert ways(rate([1] * 9), "down") == [] and ways(rate([4] * 9), "up") == []


def test_near_duplicate_options_collapse_into_one_way() -> None:
    result = rate([3] * 9)
    assert what_if_count(result) == math.comb(9, 5)  # 126 choices of five statements...
    [up] = ways(result)  # ...but one way: any five from 3 to 4
    assert up.options == 126 and up.moves[0].count == 5 and len(up.moves) == 1


# --- parse_scores ------------------------------------------------------------------------------


def test_parse_positional_and_named() -> None:
    assert parse_scores(["3", "3", "2", "-", "na", "3", "3", "2", "3"], []) == {
        1: 3,
        2: 3,
        3: 2,
        4: None,
        5: None,
        6: 3,
        7: 3,
        8: 2,
        9: 3,
    }
    assert parse_scores(["3", "2"], ["safeguarding=2", "9=4"]) == {
        1: 3,
        2: 2,
        7: 2,
        9: 4,
    }
    assert parse_scores([], ["Assessing needs=3", "pathways=N/A", "qs8=1"]) == {1: 3, 6: None, 8: 1}


@pytest.mark.parametrize(
    ("positional", "named", "needle"),
    [
        (["5"], [], "'5'"),
        (["0"], [], "'0'"),
        (["2.5"], [], "'2.5'"),
        (["three"], [], "'three'"),
        ([], ["safeguarding=7"], "'7'"),
        ([], ["parking=2"], "'parking'"),
        ([], ["safeguarding2"], "'safeguarding2'"),
        ([], ["=2"], "'=2'"),
        (["3"] * 9, ["7=2"], "'7=2'"),
        ([], ["safeguarding=2", "7=3"], "'7=3'"),
        (["3"] * 10, [], "'3'"),
        (["3"] * 10, [], "10 positional"),
        (["-", "na"], [], "no quality statement assessed"),
        ([], [], "no quality statement assessed"),
    ],
)
def test_parse_errors_name_the_value(positional: list[str], named: list[str], needle: str) -> None:
    with pytest.raises(RatingError) as info:
        parse_scores(positional, named)
    assert needle in str(info.value)


def test_parsed_scores_feed_rate() -> None:
    result = rate(parse_scores(["3", "3", "3", "3", "3", "3", "3", "3"], ["learning=-"]))
    assert (result.n, result.percent, result.rating) == (8, 75, GOOD)


# --- legacy method -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "pct", "score", "warns"),
    [
        ([3, 3, 3, 3], 75, 3, False),
        ([3, 3, 2, 2], 63, 3, True),  # 62.5 → 3
        ([4, 4, 3, 3], 88, 4, True),  # 87.5 → 4
        ([3, 2], 63, 3, True),
        ([4, 3], 88, 4, True),
        ([2, 2, 2, 1], 44, 2, False),  # 43.75
        ([1, 1, 2, 1], 32, 1, False),  # 31.25
        ([1, 2], 38, 1, False),  # 37.5: both ways 1
        ([2, 3, 3], 67, 3, False),  # 66.67
        ([4, 4, 4, 3], 94, 4, False),
        ([1], 25, 1, False),
        ([4], 100, 4, False),
    ],
)
def test_legacy_qs_scores(categories: list[int], pct: int, score: int, warns: bool) -> None:
    result = rate_legacy({"safeguarding": categories})
    (item,) = result.legacy
    assert (item.qs, item.percent, item.score) == (7, pct, score)
    assert (item.warning is not None) is warns
    assert result.scores[7] == score
    assert result.flags.method == "legacy"
    assert result.to_json()["method"] == "legacy"


def test_legacy_overall_matches_current_method() -> None:
    categories: dict[int | str, list[int] | None] = {qs: [3, 3, 3, 3] for qs in range(1, 9)}
    categories[9] = [3, 2, 2, 2]  # 56.25 → 57 → 2: "eight 3s and one 2"
    result = rate_legacy(categories, indicative=True)
    assert [result.scores[q] for q in range(1, 10)] == [3] * 8 + [2]
    assert (result.total, result.percent, result.rating) == (26, 73, GOOD)
    assert result.flags.indicative is True
    assert result.derivation.startswith("Legacy")
    assert SOURCE_URL in result.derivation
    data = result.to_json()
    assert len(data["legacy"]) == 9
    json.dumps(data)


def test_legacy_boundary_warning_reaches_result() -> None:
    result = rate_legacy({1: [3, 3, 2, 2], 2: [3, 3, 3, 3], 3: None})
    assert result.flags.qs_not_assessed == tuple(range(3, 10))
    assert any("62.50%" in w for w in result.warnings)
    assert (result.n, result.total, result.percent) == (2, 6, 75)


@pytest.mark.parametrize(
    ("categories", "needle"),
    [
        ({1: [3, 5]}, "5"),
        ({1: [3, 2.5]}, "2.5"),
        ({1: []}, "QS1"),
        ({1: [3] * 7}, "7 evidence category"),
        ({1: [3], "needs": [2]}, "'needs'"),
        ({1: None}, "no quality statement assessed"),
        ({"parking": [3]}, "'parking'"),
    ],
)
def test_legacy_rejects_bad_input(categories: object, needle: str) -> None:
    with pytest.raises(RatingError) as info:
        rate_legacy(categories)  # type: ignore[arg-type]
    assert needle in str(info.value)


# --- stated figures ----------------------------------------------------------------------------


def test_compare_stated_agrees() -> None:
    hounslow = rate(vector_for_sum(25))
    assert compare_stated(hounslow, 70, "Good") == []
    assert compare_stated(hounslow, "70%", "'good'") == []
    assert compare_stated(hounslow) == []


def test_compare_stated_reports_without_overwriting() -> None:
    result = rate(vector_for_sum(30))  # 84% Good; a source with the wrong "80" threshold says Outstanding
    messages = compare_stated(result, 83, "Outstanding")
    assert len(messages) == 2
    assert "83" in messages[0] and "84" in messages[0]
    assert "Outstanding" in messages[1] and "Good" in messages[1]
    assert (result.percent, result.rating) == (84, GOOD)


def test_compare_stated_explains_rounding_down() -> None:
    result = rate(vector_for_sum(20, 8))  # 62.5 → 63 Good
    (message,) = compare_stated(result, 62)
    assert "rounding down" in message
    assert compare_stated(result, stated_rating="Excellent") == ["stated rating 'Excellent' is not a CQC rating"]
    with pytest.raises(RatingError, match="'lots'"):
        compare_stated(result, "lots")


@pytest.mark.parametrize(("question", "rating", "pointing"), [
    ("If a council scored 75% overall, which band would that fall in?", "Good", {"75", "band"}),
    ("Which rating does 62.5% give?", "Good", {"62.5", "rating"}),  # the published figure is the ceiling
    ("At what percentage does a council drop into the lowest of the four grades?", "Inadequate", {"lowest", "grades"}),
    ("What was the second lowest rating?", "Requires improvement", {"second", "lowest", "rating"}),
    ("What did it take to get the top rating?", "Outstanding", {"top", "rating"}),
])  # fmt: skip
def test_a_question_pointing_at_a_band_without_naming_it(question: str, rating: str, pointing: set[str]) -> None:
    asked = bands_asked(question)
    assert [band for band in BANDS if band[2] == rating] == list(asked.bands)
    assert pointing <= set(asked.words)


@pytest.mark.parametrize("question", [
    "What did 75% of carers say about the support they received?",  # a percentage, but not of a rating
    "Who had the highest caseloads?",  # a rank, but not of a rating
    "What overall rating did the council get?",  # a rating, named by neither a percentage nor a rank
])  # fmt: skip
def test_a_question_not_pointing_at_a_band(question: str) -> None:
    assert bands_asked(question) == BandsAsked()
