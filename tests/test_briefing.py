"""Interview-prep briefings on the demo documents: every line cited exactly, deterministic, peers compared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import assert_exact_citations

from cqc_assistant.briefing import Briefing, build_briefing, classify
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.errors import QueryError
from cqc_assistant.ingest.pipeline import ingest, ingest_bytes
from cqc_assistant.library import Library

DEMO = Path(__file__).resolve().parent.parent / "cqc_assistant" / "demo"


@pytest.fixture(scope="module")
def demo_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    lib = Library.open(Settings(home=tmp_path_factory.mktemp("briefing") / "store", embedder="hash"), HashEmbedder())
    report = ingest(lib, [str(DEMO)])
    assert report.failed == 0
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def all_nine(demo_library: Library) -> Briefing:
    return build_briefing(demo_library, "wyvernshire")


def assert_exact(lib: Library, b: Briefing) -> None:
    assert_exact_citations(lib, [line.citation for line in b.lines()])
    numbers: dict[tuple[str, int, int], int] = {}
    for line in b.lines():
        c = line.citation
        assert c.quote.strip() == c.quote and c.quote
        assert c.n >= 1
        assert numbers.setdefault((c.doc_id, c.start, c.end), c.n) == c.n  # one passage, one number
        assert c.title and c.source


def test_every_line_of_all_nine_is_cited_exactly(demo_library: Library, all_nine: Briefing) -> None:
    b = all_nine
    assert b.council == "Wyvernshire County Council"
    assert [s.qs for s in b.statements] == list(range(1, 10))
    assert sum(1 for _ in b.lines()) > 60
    assert_exact(demo_library, b)
    for s in b.statements:
        assert s.key_findings, f"QS{s.qs} has no key findings"
        assert s.questions, f"QS{s.qs} has no questions"
        for group in (s.key_findings, s.strengths, s.improvements, s.peers):
            for line in group:
                assert line.extractive and line.text == line.citation.quote
        for q in s.questions:
            assert q.text.endswith("?") and not q.extractive
    assert [c.n for c in b.citations()] == list(range(1, len(b.citations()) + 1))


def test_scores_come_from_the_scorecard(all_nine: Briefing) -> None:
    scores = {s.qs: s.score for s in all_nine.statements}
    assert scores == {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 6: 3, 7: 3, 8: 3, 9: 3}
    qs3 = all_nine.statements[2]
    assert qs3.score_line is not None and qs3.score_line.text.startswith("Score 2 of 4")
    assert "2" in qs3.score_line.citation.quote
    assert qs3.score_label == "Evidence shows some shortfalls"


def test_strengths_and_improvements_follow_cue_words(all_nine: Briefing) -> None:
    qs7 = all_nine.statements[6]
    assert any("backlog" in x.text.lower() or "waiting" in x.text.lower() for x in qs7.improvements)
    qs1 = all_nine.statements[0]
    assert any("direct payments" in x.text.lower() for x in qs1.strengths)
    assert not {x.text for x in qs1.strengths} & {x.text for x in qs1.improvements}


def test_one_statement_by_name_and_determinism(demo_library: Library) -> None:
    one = build_briefing(demo_library, "Wyvernshire County Council", "safeguarding")
    assert [s.qs for s in one.statements] == [7]
    assert one.title.endswith("QS7 Safeguarding")
    assert_exact(demo_library, one)
    again = build_briefing(demo_library, "WYVERNSHIRE", 7)
    assert one.to_json() == again.to_json()


def test_no_peers_is_said_plainly(all_nine: Briefing) -> None:
    assert all(not s.peers for s in all_nine.statements)
    assert any("no peer comparison" in n for n in all_nine.notes)


def test_peers_from_another_council(tmp_path: Path) -> None:
    lib = Library.open(Settings(home=tmp_path / "peers", embedder="hash"), HashEmbedder())
    try:
        own = tmp_path / "wyvernshire-cqc-assessment.md"  # a real document here, not the demo folder's
        own.write_text((DEMO / own.name).read_text(encoding="utf-8"), encoding="utf-8")
        assert ingest(lib, [str(own)]).failed == 0
        other = own.read_text(encoding="utf-8")
        other = other.replace("Wyvernshire", "Northshire").replace("Wyvern", "Norther")
        result = ingest_bytes(lib, "upload:northshire.md", other.encode(), ".md")
        assert result.status == "added", result
        b = build_briefing(lib, "Wyvernshire", "Partnerships and communities")
        assert b.peers_considered == ("Northshire County Council",)
        peers = b.statements[0].peers
        assert peers, "no peer practice found"
        for line in peers:
            assert line.citation.council == "Northshire County Council"
            assert line.citation.doc_id == result.doc_id
        assert_exact(lib, b)
    finally:
        lib.close()


def test_bad_requests(demo_library: Library, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="Liverpool"):
        build_briefing(demo_library, "Liverpool")
    with pytest.raises(QueryError, match="quality statement"):
        build_briefing(demo_library, "Wyvernshire", "astrology")
    with pytest.raises(QueryError):
        build_briefing(demo_library, "  ")
    empty = Library.open(Settings(home=tmp_path / "empty", embedder="hash"), HashEmbedder())
    try:
        with pytest.raises(QueryError, match="empty"):
            build_briefing(empty, "Wyvernshire")
    finally:
        empty.close()


@pytest.mark.parametrize(
    ("sentence", "section", "expected"),
    [
        ("People valued the advice line and praised its staff.", "", "strength"),
        ("Some people waited too long for an assessment.", "", "improvement"),
        ("There was a backlog of DoLS applications.", "", "improvement"),
        ("Review the front door pathway.", "For consideration", "improvement"),
        ("The council received 6,930 safeguarding concerns in 2023/24.", "", "neutral"),
        ("The county has 612,400 residents.", "", "neutral"),
    ],
)
def test_classify(sentence: str, section: str, expected: str) -> None:
    assert classify(sentence, section) == expected
