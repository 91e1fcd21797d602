"""`cqc-assistant rate`: the calculator on the command line, its JSON, what-if, legacy mode and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from helpers import run_cli


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(tmp_path / "home"))


def run(*args: str) -> Result:
    return run_cli("rate", *args)


def run_json(*args: str) -> dict[str, object]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return data


def test_all_threes_is_75_good_as_the_checker_runs_it(tmp_path: Path) -> None:
    result = run("3", "3", "3", "3", "3", "3", "3", "3", "3", "--json", "--store", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["percent"] == 75
    assert data["rating"] == "Good"
    assert data["total"] == 27
    assert data["maximum"] == 36
    assert data["percent_exact"] == 75.0
    assert data["boundary_warning"] is None
    assert data["next_band"] == {"rating": "Outstanding", "points_needed": 13, "steps_needed": 5}
    assert set(data) >= {
        "scores",
        "total",
        "maximum",
        "percent_exact",
        "percent",
        "rating",
        "boundary_warning",
        "next_band",
    }
    assert list(data["scores"].values()) == [3] * 9


def test_human_output_block() -> None:
    result = run("3", "3", "2", "3", "4", "3", "3", "3", "3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Rating:     Good" in out
    assert "75%" in out
    assert "75.00% = 27/36 points over 9 quality statements" in out
    assert "Derivation: 27/36 points" in out and "(ceiling)" in out
    assert "Next band:  Outstanding is 13 percentage points away (at least 5 score steps of +1)" in out
    assert "Boundary:" not in out


@pytest.mark.parametrize("marker", ["-", "na", "NA", "n/a"])
def test_not_assessed_markers(marker: str) -> None:
    data = run_json("3", "3", "2", "3", "4", "3", "3", "3", marker)
    assert data["n"] == 8
    assert data["total"] == 24
    assert data["maximum"] == 32
    assert data["percent"] == 75
    assert data["scores"]["Learning, improvement and innovation"] is None
    assert data["flags"]["qs_not_assessed"] == [9]  # type: ignore[index]


def test_named_scores_with_qs_option() -> None:
    data = run_json("--qs", "safeguarding=2", "--qs", "needs=3", "--qs", "9=4")
    assert data["n"] == 3
    assert data["total"] == 9
    assert data["percent"] == 75
    scores = data["scores"]
    assert isinstance(scores, dict)
    assert scores["Safeguarding"] == 2 and scores["Assessing needs"] == 3
    assert scores["Learning, improvement and innovation"] == 4


def test_positional_and_named_together() -> None:
    data = run_json("3", "3", "3", "3", "3", "3", "--qs", "safeguarding=2", "--qs", "governance=na")
    assert data["n"] == 7
    assert data["total"] == 20


def test_boundary_case_warns_in_both_outputs() -> None:
    # 8 assessed, sum 20: exact 62.5 → 63 Good by the ceiling, 62 RI if rounded down (DOMAIN §4.3)
    args = ("3", "3", "2", "2", "3", "2", "3", "2", "-")
    data = run_json(*args)
    assert data["percent"] == 63 and data["rating"] == "Good"
    assert "Boundary case" in str(data["boundary_warning"])
    human = run(*args)
    assert "Boundary:   Boundary case" in human.output


def test_what_if_json_and_human() -> None:
    data = run_json("3", "3", "2", "3", "4", "3", "3", "3", "3", "--what-if")
    options = data["what_if"]
    assert isinstance(options, list) and options
    assert data["what_if_total"] >= len(options)  # type: ignore[operator]
    for option in options:
        assert option["rating"] == "Outstanding"
        assert option["percent"] >= 88
        assert option["steps"] == 5
    # the same as kinds of change, up and down: 27/36 Good is 5 steps from either neighbour
    up, down = data["what_if_ways"], data["what_if_down"]
    assert isinstance(up, list) and isinstance(down, list)
    assert len(up) == data["what_if_ways_total"] == 2 and 1 <= len(down) <= 3
    assert up[0]["moves"] == [
        {"from": 2, "to": 3, "count": 1, "among": [3]},
        {"from": 3, "to": 4, "count": 4, "among": [1, 2, 4, 6, 7, 8, 9]},
    ]
    assert {w["rating"] for w in down} == {"Requires improvement"} and {w["total"] for w in down} == {22}
    assert data["band_below"] == {"rating": "Requires improvement", "points_needed": 13, "steps_needed": 5}
    human = run("3", "3", "2", "3", "4", "3", "3", "3", "3", "--what-if")
    assert human.exit_code == 0
    assert "What if up (5 steps to Outstanding)" in human.output
    assert "QS3 Equity in experience and outcomes 2→3; any 4 of QS1, QS2, QS4, QS6, QS7, QS8, QS9: 3→4" in human.output
    assert "⇒ 32 points, 89% (Outstanding)" in human.output
    assert "What if down (5 steps to Requires improvement; 3 of 4 kinds of change shown)" in human.output
    assert "Band below: Requires improvement is 13 percentage points below (5 score steps of -1" in human.output
    assert human.output.count("\n  - ") == 2 + 3


def test_what_if_at_the_top_band() -> None:
    data = run_json(*["4"] * 9, "--what-if")
    assert data["rating"] == "Outstanding"
    assert data["what_if"] == []
    assert data["next_band"] is None
    assert data["what_if_ways"] == [] and data["what_if_ways_total"] == 0
    assert data["what_if_down"] and data["what_if_down"][0]["rating"] == "Good"  # type: ignore[index]
    human = run(*["4"] * 9, "--what-if")
    assert "no higher band" in human.output
    assert "What if down (5 steps to Good)" in human.output
    lowest = run(*["1"] * 9, "--what-if")
    assert "Band below: none" in lowest.output and "What if down: no lower band" in lowest.output


def test_without_what_if_there_is_no_what_if_key() -> None:
    assert "what_if" not in run_json(*["3"] * 9)


def test_legacy_evidence_category_mode() -> None:
    data = run_json("--method", "evidence-category", "3,3,2,4", "3,3,3", "-", "2,3,3,3")
    assert data["method"] == "legacy"
    legacy = data["legacy"]
    assert isinstance(legacy, list)
    assert [item["qs"] for item in legacy] == [1, 2, 4]
    assert [item["score"] for item in legacy] == [3, 3, 3]
    assert data["n"] == 3 and data["percent"] == 75


def test_legacy_named_and_half_percent_warning() -> None:
    # categories 3,2 → 62.5% → QS score 3 by the ceiling, with a warning (DOMAIN §4.5)
    data = run_json("--method", "evidence-category", "--qs", "safeguarding=3,2", "--qs", "needs=4,4,4,4")
    legacy = {item["qs"]: item for item in data["legacy"]}  # type: ignore[union-attr]
    assert legacy[7]["percent"] == 63 and legacy[7]["score"] == 3
    assert legacy[7]["warning"]
    assert legacy[1]["score"] == 4
    human = run("--method", "evidence-category", "--qs", "safeguarding=3,2")
    assert human.exit_code == 0, human.output
    assert "QS7 Safeguarding: categories 3,2 → 63% → score 3" in human.output
    assert "Legacy evidence-category method" in human.output


def test_help_documents_both_syntaxes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--qs safeguarding=2" in text
    assert "3,3,2,4" in text
    assert "--store" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["5", "3", "3"], "'5'"),
        (["0"], "'0'"),
        (["3", "-1"], "'-1'"),
        (["3.5"], "'3.5'"),
        (["x"], "'x'"),
        (["three"], "'three'"),
        (["--qs", "wellbeing=3"], "'wellbeing'"),
        (["--qs", "safeguarding=7"], "'7'"),
        (["--qs", "needs"], "'needs'"),
        (["3", "--qs", "needs=2"], "'needs=2'"),
        (["--qs", "7=2", "--qs", "safeguarding=3"], "'safeguarding=3'"),
        (["1", "2", "3", "4", "1", "2", "3", "4", "1", "2"], "10 positional scores"),
        (["-", "na", "-"], "no quality statement assessed"),
        ([], "no quality statement assessed"),
        (["--method", "evidence-category", "3,5"], "'5'"),
        (["--method", "evidence-category", "3,x"], "'x'"),
        (["--method", "evidence-category", "3,3,3,3,3,3,3"], "'3,3,3,3,3,3,3'"),
        (["--method", "evidence-category", "-", "na"], "no quality statement assessed"),
        (["--method", "evidence-category", "--qs", "nowhere=3,3"], "'nowhere'"),
        (["--method", "evidence-category", *["3"] * 10], "10 positional"),
    ],
)
def test_bad_input_is_one_clear_error(args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")
    assert needle in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_method_is_a_usage_error() -> None:
    result = run("--method", "magic", "3")
    assert result.exit_code != 0
    assert "magic" in result.output
