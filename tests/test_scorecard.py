"""Council scorecards: stated QS scores with exact citations, beside the calculator and stated ratings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import assert_exact_citations, run_cli

import cqc_assistant
from cqc_assistant.config import Settings
from cqc_assistant.domain import QUALITY_STATEMENTS
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.errors import NotFoundError
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library
from cqc_assistant.scorecard import CouncilScorecard, build_scorecard, council_scorecard, locate_score_lines

DEMO = Path(cqc_assistant.__file__).resolve().parent / "demo"
WYVERNSHIRE = "Wyvernshire County Council"
DEMO_SCORES = {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 6: 3, 7: 3, 8: 3, 9: 3}

LABELS = [
    "How the local authority works with people",
    "Supporting people to lead healthier lives",
    "Equity in experiences and outcomes",
    "Care provision, integration and continuity of care",
    "Partnership and communities",
    "How the local authority ensures safety in the system",
    "Safeguarding",
    "Leadership",
    "Learning, improvement and innovation",
]


def press_release(council: str, rating: str, scores: list[int], *, date: str = "2 May 2025") -> str:
    items = "\n".join(f"{i}. {label} – {s}" for i, (label, s) in enumerate(zip(LABELS, scores, strict=True), 1))
    return (
        f"CQC rates {council}'s adult social care provision as {rating}\n\n"
        f"Published: {date} Page last updated: {date}\n\n"
        f"The Care Quality Commission (CQC) has rated {council} as {rating} in how it meets its duties "
        "under the Care Act 2014.\n\n"
        "CQC gave the council a score for each of the nine quality statements it assessed:\n\n"
        f"{items}\n\n"
        f"Inspectors found that {council} worked well with its partners.\n"
    )


def open_lib(store: Path) -> Library:
    return Library.open(Settings.from_env(store=store), HashEmbedder())


@pytest.fixture
def demo_lib(store: Path) -> Iterator[Library]:
    lib = open_lib(store)
    report = ingest(lib, [str(DEMO)])
    assert report.failed == 0, report.to_json()
    yield lib
    lib.close()


# --- the demo council -----------------------------------------------------------------------------


def test_demo_scorecard_lists_the_nine_scores_with_exact_citations(demo_lib: Library) -> None:
    card = build_scorecard(demo_lib)
    assert [c.council for c in card.councils] == [WYVERNSHIRE]
    wy = card.councils[0]
    assert wy.scores == DEMO_SCORES
    kinds_seen = set()
    for entry in wy.entries:
        assert entry.conflict is None
        assert entry.statements, f"QS{entry.qs} has no stated score"
        assert entry.citation is not None
        for stated in entry.statements:
            cite = stated.citation
            assert cite is not None, f"QS{entry.qs} in {stated.kind} has no citation"
            assert_exact_citations(demo_lib, [cite])
            assert str(stated.score) in cite.quote
            assert stated.score == DEMO_SCORES[entry.qs]
            assert cite.doc_id == stated.doc_id
            assert cite.council == WYVERNSHIRE
            kinds_seen.add(stated.kind)
    assert kinds_seen == {"cqc_assessment", "cqc_press_release"}


def test_assessment_cites_the_score_line_and_press_release_the_list_line(demo_lib: Library) -> None:
    wy = build_scorecard(demo_lib).councils[0]
    by_kind = {s.kind: s for s in wy.entries[6].statements}  # QS7 Safeguarding
    assessment = by_kind["cqc_assessment"].citation
    press = by_kind["cqc_press_release"].citation
    assert assessment is not None and press is not None
    assert assessment.quote == "Score: 3"
    assert assessment.section == "Safeguarding"
    assert press.quote == "Safeguarding – 3"
    qs8_press = next(s for s in wy.entries[7].statements if s.kind == "cqc_press_release")
    assert qs8_press.citation is not None and qs8_press.citation.quote == "Leadership – 3"
    # the CQC report is the one whose score is used and cited first
    assert wy.entries[6].citation == assessment
    numbers = [s.citation.n for e in wy.entries for s in e.statements if s.citation]
    assert numbers == list(range(1, len(numbers) + 1))


def test_demo_computed_rating_agrees_with_every_stated_figure(demo_lib: Library) -> None:
    wy = build_scorecard(demo_lib, "wyvernshire").councils[0]
    assert wy.result is not None
    assert wy.result.percent == 75
    assert wy.result.rating == "Good"
    assert wy.result.total == 27 and wy.result.n == 9
    kinds = {f.kind for f in wy.stated}
    assert {"cqc_assessment", "cqc_press_release", "news"} <= kinds
    assert all(f.rating == "Good" for f in wy.stated)
    news = next(f for f in wy.stated if f.kind == "news")
    assert news.percent == 75
    assert news.percent_citation is not None and "75%" in news.percent_citation.quote
    for f in wy.stated:
        assert f.agrees, f.mismatches
        assert_exact_citations(demo_lib, [c for c in (f.rating_citation, f.percent_citation) if c is not None])
    assert wy.agrees
    assert wy.disagreements == [] and wy.score_conflicts == []


def test_council_name_variants_match(demo_lib: Library) -> None:
    for name in ("wyvernshire", "WYVERNSHIRE COUNTY COUNCIL", "Wyvernshire Council"):
        assert [c.council for c in build_scorecard(demo_lib, name).councils] == [WYVERNSHIRE]


def test_unknown_council_names_the_councils_held(demo_lib: Library) -> None:
    with pytest.raises(NotFoundError) as err:
        build_scorecard(demo_lib, "Atlantis")
    assert "'Atlantis'" in str(err.value)
    assert WYVERNSHIRE in str(err.value)


def test_to_json_round_trips(demo_lib: Library) -> None:
    data = json.loads(json.dumps(build_scorecard(demo_lib).to_json()))
    wy = data["councils"][0]
    assert wy["council"] == WYVERNSHIRE
    assert [s["score"] for s in wy["scores"]] == list(DEMO_SCORES.values())
    assert wy["scores"][0]["citation"]["quote"] == "Score: 3"
    assert wy["computed"]["percent"] == 75 and wy["computed"]["rating"] == "Good"
    assert wy["agrees"] is True
    assert {f["kind"] for f in wy["stated"]} >= {"news", "cqc_press_release", "cqc_assessment"}


# --- disagreements ------------------------------------------------------------------------------


def test_stated_rating_contradicting_the_scores_is_flagged(store: Path, tmp_path: Path) -> None:
    # nine scores summing to 27 (75%, Good), but the release says Outstanding
    scores = [3, 3, 2, 3, 4, 3, 3, 3, 3]
    src = tmp_path / "docs" / "eastshire-press.txt"
    src.parent.mkdir()
    src.write_text(press_release("Eastshire County Council", "outstanding", scores), encoding="utf-8")
    lib = open_lib(store)
    assert ingest(lib, [str(src)]).failed == 0
    card = build_scorecard(lib, "Eastshire")
    east = card.councils[0]
    assert east.council == "Eastshire County Council"
    assert east.scores == dict(enumerate(scores, 1))
    text = lib.text(east.entries[0].statements[0].doc_id)
    for entry, label, score in zip(east.entries, LABELS, scores, strict=True):
        cite = entry.citation
        assert cite is not None
        assert_exact_citations(text, [cite])
        assert cite.quote.endswith(f"{label} – {score}")
    assert east.result is not None and east.result.rating == "Good" and east.result.percent == 75
    [stated] = east.stated
    assert stated.rating == "Outstanding"
    assert not stated.agrees
    assert any("Outstanding" in m and "Good" in m for m in stated.mismatches)
    assert not east.agrees
    assert east.disagreements and "Outstanding" in east.disagreements[0]
    lib.close()


def test_two_documents_stating_different_scores_are_flagged(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    release = [3, 3, 2, 3, 4, 3, 3, 3, 3]
    other = [3, 3, 2, 3, 4, 3, 2, 3, 3]  # QS7 Safeguarding differs
    (folder / "press.txt").write_text(
        press_release("Eastshire County Council", "good", release, date="2 May 2025"), encoding="utf-8"
    )
    news = (
        "Eastshire County Council celebrates its CQC adult social care assessment\n\n"
        "Date: 9 May 2025\n\nThe Care Quality Commission looked at nine areas. Our scores were:\n\n"
        + "\n".join(f"- {label}: {s}" for label, s in zip(LABELS, other, strict=True))
        + "\n\nWe are proud of our staff.\n"
    )
    (folder / "news.txt").write_text(news, encoding="utf-8")
    lib = open_lib(store)
    assert ingest(lib, [str(folder)]).failed == 0
    east = build_scorecard(lib, "eastshire").councils[0]
    qs7 = east.entries[6]
    assert sorted(s.score for s in qs7.statements) == [2, 3]
    assert qs7.conflict is not None and "Safeguarding" in qs7.conflict
    assert qs7.score == 3  # the CQC press release outranks council news
    for s in qs7.statements:
        assert s.citation is not None
        assert_exact_citations(lib, [s.citation])
        assert str(s.score) in s.citation.quote
    assert all(e.conflict is None for e in east.entries if e.qs != 7)
    assert not east.agrees and east.score_conflicts == [qs7.conflict]
    lib.close()


def test_one_councils_scorecard_reads_only_its_documents_and_matches_the_whole_build(
    store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "east.txt").write_text(press_release("Eastshire County Council", "good", [3] * 9), encoding="utf-8")
    (folder / "west.txt").write_text(
        press_release("Westmoor Borough Council", "requires improvement", [2, 2, 2, 3, 2, 2, 2, 2, 2]),
        encoding="utf-8",
    )
    (folder / "north.txt").write_text(
        "Northvale District Council news\n\nNorthvale District Council is preparing for its CQC assessment.\n",
        encoding="utf-8",
    )
    lib = open_lib(store)
    assert ingest(lib, [str(folder)]).failed == 0
    whole = build_scorecard(lib)
    assert len(whole.councils) == 2
    for card in whole.councils:
        one = council_scorecard(lib, card.council)
        assert one is not None and one.to_json() == card.to_json()
    # Held but stating no score: None here, an error naming the councils that have some from build_scorecard.
    assert council_scorecard(lib, "Northvale District Council") is None
    with pytest.raises(NotFoundError, match="Eastshire County Council, Westmoor Borough Council"):
        build_scorecard(lib, "Northvale District Council")
    with pytest.raises(NotFoundError, match="no council 'Southby'"):
        council_scorecard(lib, "Southby")
    lib.close()


# --- locating list lines --------------------------------------------------------------------------


def test_locate_score_lines_by_position_in_a_table() -> None:
    rows = [
        "| Theme | Area | Score |",
        "|---|---|---|",
        "| Working with people | Assessing needs | 3 |",
        "| | Supporting people to live healthier lives | 3 |",
        "| | Equity in experience and outcomes | 2 |",
        "| Providing support | Care provision, integration and continuity | 3 |",
        "| | Partnerships and communities | 4 |",
        "| Ensuring safety | Safe pathways, systems and transitions | 3 |",
        "| | Safeguarding | 3 |",
        "| Leadership | Governance, management and sustainability | 3 |",
        "| | Learning, improvement and innovation | 3 |",
    ]
    text = "Scores: 12 people attended\n\n" + "\n".join(rows) + "\n"
    found = locate_score_lines(text, DEMO_SCORES)
    assert sorted(found) == list(range(1, 10))
    for qs, (a, b) in found.items():
        assert text[a:b] == rows[qs + 1]


def test_locate_score_lines_by_label_when_eight_are_listed() -> None:
    scores = {1: 3, 2: 3, 3: 2, 4: 3, 5: 3, 6: 3, 7: 2, 8: 3}
    names = LABELS[:8]
    text = "Intro line 3\n" + "\n".join(f"• {n} ({s})" for n, s in zip(names, scores.values(), strict=True))
    found = locate_score_lines(text, scores)
    assert sorted(found) == list(range(1, 9))
    assert text[found[7][0] : found[7][1]] == "• Safeguarding (2)"


def test_locate_score_lines_falls_back_to_order() -> None:
    # lines separated by prose: no run of nine, so each QS takes the next line ending with its digit
    text = "\n\n".join(
        f"Item {label} - {s}\nSome prose follows here." for label, s in zip(LABELS, [3, 2], strict=False)
    )
    found = locate_score_lines(text, {1: 3, 2: 2})
    assert text[found[1][0] : found[1][1]].endswith("- 3")
    assert text[found[2][0] : found[2][1]].endswith("- 2")
    assert found[1][0] < found[2][0]


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_scorecard_json_and_human(demo_lib: Library, store: Path) -> None:
    result = run_cli("scorecard", "Wyvernshire", "--json", store=store)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["council"] for c in data["councils"]] == [WYVERNSHIRE]
    human = run_cli("scorecard", store=store)
    assert human.exit_code == 0, human.output
    assert WYVERNSHIRE in human.output
    assert "Computed: 27/36 = 75.00% → 75% → Good" in human.output
    assert '"Score: 3"' in human.output and '"Safeguarding – 3"' in human.output
    assert "Verdict: consistent" in human.output


def test_cli_scorecard_unknown_council(demo_lib: Library, store: Path) -> None:
    result = run_cli("scorecard", "Atlantis", store=store)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "'Atlantis'" in result.output and WYVERNSHIRE in result.output


def test_cli_scorecard_empty_library(store: Path) -> None:
    result = run_cli("scorecard", "--json", store=store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"councils": []}
    human = run_cli("scorecard", store=store)
    assert "No document in the library states quality statement scores." in human.output


# --- never overclaiming: 1, 6 and 9 of the nine found ----------------------------------------------


def assessment(council: str, scores: dict[int, int], *, rating: str = "Good") -> str:
    """A fictional CQC report with a `Score: N` section for each QS in `scores` (and none for the rest)."""
    parts = [
        f"# {council}: local authority assessment\n\nAssessment published: 4 June 2025\n\n"
        f"## Overall summary\n\nOverall rating: {rating}\n\nWe have given {council} an overall rating of "
        f"{rating.lower()}.\n"
    ]
    for qs, score in sorted(scores.items()):
        name = QUALITY_STATEMENTS[qs - 1].name
        parts.append(
            f"## {name}\n\nScore: {score}\n\n{score} - Evidence shows a {SCORE_WORDS[score]}\n\n"
            f"Inspectors heard from people in {council.split()[0]} about {name.lower()}.\n"
        )
    return "\n".join(parts)


SCORE_WORDS = {1: "significant shortfall", 2: "some shortfalls", 3: "good standard", 4: "exceptional standard"}


def scorecard_of(store: Path, tmp_path: Path, text: str, council: str) -> tuple[Library, CouncilScorecard]:
    src = tmp_path / "docs" / "report.md"
    src.parent.mkdir(exist_ok=True)
    src.write_text(text, encoding="utf-8")
    lib = open_lib(store)
    assert ingest(lib, [str(src)]).failed == 0
    return lib, build_scorecard(lib, council).councils[0]


def test_one_score_found_computes_nothing_and_never_says_not_assessed(store: Path, tmp_path: Path) -> None:
    # one 4 found once showed "100% Outstanding ... agrees with the calculator"
    lib, card = scorecard_of(store, tmp_path, assessment("Northvale County Council", {7: 4}), "Northvale")
    assert card.found == 1 and card.summary == "1 of 9 found"
    assert card.missing == [1, 2, 3, 4, 5, 6, 8, 9] and card.not_assessed == []
    assert card.result is None
    assert card.not_computed is not None and "not found in the library" in card.not_computed
    assert [e.status for e in card.entries if e.qs != 7] == ["not found in the library"] * 8
    [stated] = card.stated
    assert stated.rating == "Good" and stated.agrees is None and not stated.compared and stated.mismatches == ()
    assert stated.rating_citation is not None and stated.rating_citation.quote == "Overall rating: Good"
    assert card.agrees is None
    data = json.loads(json.dumps(card.to_json()))
    assert data["found"] == 1 and data["missing"] == [1, 2, 3, 4, 5, 6, 8, 9] and data["computed"] is None
    assert data["stated"][0]["agrees"] is None
    assert "not assessed" not in json.dumps(data["scores"])
    lib.close()


def test_six_scores_found(store: Path, tmp_path: Path) -> None:
    scores = {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 7: 3}
    lib, card = scorecard_of(store, tmp_path, assessment("Northvale County Council", scores), "northvale")
    assert card.summary == "6 of 9 found" and card.scores == {q: scores.get(q) for q in range(1, 10)}
    assert card.missing == [6, 8, 9] and card.result is None
    for e in card.entries:
        if e.score is not None:
            assert e.citation is not None and e.citation.quote == f"Score: {e.score}"
    assert all(f.agrees is None for f in card.stated)
    lib.close()


def test_nine_scores_found_computes_and_compares(store: Path, tmp_path: Path) -> None:
    scores = dict(enumerate([3, 3, 2, 3, 4, 3, 3, 3, 3], 1))
    lib, card = scorecard_of(store, tmp_path, assessment("Northvale County Council", scores), "Northvale")
    assert card.summary == "9 of 9 found" and card.missing == []
    assert card.result is not None and (card.result.percent, card.result.rating) == (75, "Good")
    assert card.not_computed is None
    [stated] = card.stated
    assert stated.compared and stated.agrees is True and card.agrees is True
    lib.close()


def test_cli_scorecard_says_what_was_found_and_computes_nothing_from_part(store: Path, tmp_path: Path) -> None:
    scores = {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 7: 3}
    lib, _card = scorecard_of(store, tmp_path, assessment("Northvale County Council", scores), "Northvale")
    lib.close()
    out = run_cli("scorecard", "Northvale", store=store)
    assert out.exit_code == 0, out.output
    assert "Northvale County Council: 6 of 9 found" in out.output
    assert "QS8" in out.output and "not found in the library" in out.output
    assert "not assessed" not in out.output.replace("was not assessed", "")
    assert "Computed: none" in out.output and "→" not in out.output
    assert "agrees with the calculator" not in out.output and "not checked" in out.output
    data = json.loads(run_cli("scorecard", "--json", store=store).output)
    card = data["councils"][0]
    assert (card["found"], card["missing"], card["computed"]) == (6, [6, 8, 9], None)


def test_conflicting_scores_shown_side_by_side_with_both_citations(demo_lib: Library, store: Path) -> None:
    # the council's news now states QS7 as 2 beside the report's and the press release's 3
    news = next(d for d in demo_lib.documents() if d.kind == "news")
    demo_lib.correct(news.doc_id, {"score:7": 2})
    wy = build_scorecard(demo_lib, "Wyvernshire").councils[0]
    qs7 = wy.entries[6]
    assert qs7.conflict is not None and sorted(s.score for s in qs7.statements) == [2, 3, 3]
    assert qs7.score == 3 and wy.agrees is False
    out = run_cli("scorecard", "Wyvernshire", store=store)
    block = out.output.split("QS7 Safeguarding")[1].split("QS8")[0]
    assert "documents disagree" in block
    assert '"Score: 3"' in block and '"Safeguarding – 3"' in block  # both passages, each cited
    assert "2  corrected by a user" in block


def test_a_qs_a_document_says_was_not_assessed_computes_from_eight(demo_lib: Library) -> None:
    # a user's correction is how a document says so here: the press release recorded QS9 as not assessed,
    # and the report's QS9 is corrected away too
    docs = {d.kind: d for d in demo_lib.documents()}
    demo_lib.correct(docs["cqc_press_release"].doc_id, {"score:9": "na"})
    demo_lib.correct(docs["cqc_assessment"].doc_id, {"score:9": None})
    wy = build_scorecard(demo_lib, "Wyvernshire").councils[0]
    assert wy.entries[8].status == "not assessed" and wy.not_assessed == [9] and wy.missing == []
    assert wy.summary == "8 of 9 found, QS9 not assessed"
    assert wy.result is not None and wy.result.n == 8 and wy.result.total == 24 and wy.result.percent == 75
