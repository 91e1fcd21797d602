"""Detection of council, kind, date, rating and per-section theme/QS/score (DOMAIN.md §5).

Expected values are written out from the documents and DOMAIN.md, never computed by the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cqc_assistant.councils import find_councils
from cqc_assistant.ingest.detect import detect
from cqc_assistant.ingest.loaders import load_bytes
from cqc_assistant.models import DocMeta, Section

WYVERNSHIRE = "Wyvernshire County Council"
WYVERNSHIRE_SCORES = {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 6: 3, 7: 3, 8: 3, 9: 3}


def detect_file(path: Path) -> tuple[DocMeta, list[Section]]:
    ex = load_bytes(str(path), path.read_bytes(), path.suffix.lower())
    return detect(ex, str(path))


def detect_text(text: str, suffix: str = ".txt", source: str = "synthetic") -> tuple[DocMeta, list[Section]]:
    return detect(load_bytes(source, text.encode(), suffix), source)


def by_title(sections: list[Section], title: str) -> list[Section]:
    found = [s for s in sections if s.title == title]
    assert found, f"no section titled {title!r} in {[s.title for s in sections]}"
    return found


# --- the demo documents (fictional Wyvernshire) ----------------------------------------------------------


def test_demo_assessment(demo_dir: Path) -> None:
    meta, sections = detect_file(demo_dir / "wyvernshire-cqc-assessment.md")
    assert meta.kind == "cqc_assessment"
    assert meta.council == WYVERNSHIRE
    assert meta.councils == (WYVERNSHIRE,)
    assert meta.title == "Wyvernshire County Council: local authority assessment"
    assert (meta.date, meta.date_precision) == ("2025-03-14", "day")
    assert meta.rating == "Good"
    assert meta.scores == WYVERNSHIRE_SCORES
    expected = {
        "Assessing needs": (1, 1, 3),
        "Supporting people to live healthier lives": (1, 2, 3),
        "Equity in experience and outcomes": (1, 3, 2),
        "Care provision, integration and continuity": (2, 4, 3),
        "Partnerships and communities": (2, 5, 4),
        "Safe pathways, systems and transitions": (3, 6, 3),
        "Safeguarding": (3, 7, 3),
        "Governance, management and sustainability": (4, 8, 3),
        "Learning, improvement and innovation": (4, 9, 3),
    }
    for title, tags in expected.items():
        (s,) = by_title(sections, title)
        assert (s.theme, s.qs, s.score) == tags, title


def test_demo_assessment_subsections_inherit_and_boilerplate_is_marked(demo_dir: Path) -> None:
    _, sections = detect_file(demo_dir / "wyvernshire-cqc-assessment.md")
    (rural,) = by_title(sections, "Rural access")
    assert (rural.theme, rural.qs, rural.score) == (1, 3, 2)
    (hub,) = by_title(sections, "The joint discharge hub")
    assert (hub.theme, hub.qs, hub.score) == (2, 5, 4)
    for s in by_title(sections, "What people expect") + by_title(sections, "The local authority commitment"):
        assert s.boilerplate
    assert not any(s.boilerplate for s in by_title(sections, "Key findings for this quality statement"))
    for title in ("Demographics", "Financial facts", "Local authority rating"):
        (s,) = by_title(sections, title)
        assert (s.theme, s.qs, s.score) == (None, None, None), title


def test_demo_sections_are_ordered_and_exclude_markdown_markers(demo_dir: Path) -> None:
    path = demo_dir / "wyvernshire-cqc-assessment.md"
    text = path.read_text(encoding="utf-8")
    _, sections = detect_file(path)
    assert sections[0].title == "Wyvernshire County Council: local authority assessment"
    for a, b in zip(sections, sections[1:], strict=False):
        assert a.start < a.end <= b.start
    for s in sections:
        body = text[s.start : s.end]
        assert body.startswith(s.title)
        assert not body.rstrip().endswith("#"), s.title


def test_demo_press_release_scores_by_position(demo_dir: Path) -> None:
    meta, _ = detect_file(demo_dir / "wyvernshire-cqc-press-release.html")
    assert meta.kind == "cqc_press_release"
    assert meta.council == WYVERNSHIRE
    assert (meta.date, meta.date_precision) == ("2025-03-14", "day")
    assert meta.rating == "Good"
    assert meta.scores == WYVERNSHIRE_SCORES


def test_demo_peer_challenge(demo_dir: Path) -> None:
    meta, sections = detect_file(demo_dir / "wyvernshire-lga-peer-challenge.md")
    assert meta.kind == "lga_peer_challenge"
    assert meta.council == WYVERNSHIRE
    assert (meta.date, meta.date_precision) == ("2024-10", "month")
    assert meta.rating is None
    assert meta.percent is None
    assert meta.scores == {}
    assert all(s.qs is None and s.score is None for s in sections)
    themes = [(s.title, s.theme) for s in sections]
    assert themes[themes.index(("Working with people", 1)) + 1] == ("For consideration", 1)
    assert themes[themes.index(("Providing support", 2)) + 1] == ("For consideration", 2)
    assert themes[themes.index(("Ensuring safety within the system", 3)) + 1] == ("For consideration", 3)
    assert themes[themes.index(("Leadership", 4)) + 1] == ("For consideration", 4)
    for title in ("Background", "Key messages", "Case file audit findings", "Contact details"):
        (s,) = by_title(sections, title)
        assert s.theme is None, title


def test_demo_news(demo_dir: Path) -> None:
    meta, _ = detect_file(demo_dir / "wyvernshire-news.txt")
    assert meta.kind == "news"
    assert meta.council == WYVERNSHIRE
    assert meta.rating == "Good"
    assert meta.percent == 75
    assert meta.scores == {}


# --- the seed corpus (real documents; skipped when ../shared is absent) ------------------------------------


def seed(seeds_dir: Path, prefix: str) -> Path:
    (path,) = sorted(seeds_dir.glob(f"{prefix}_*.txt"))
    return path


def test_seed_000_liverpool_news(seeds_dir: Path) -> None:
    meta, _ = detect_file(seed(seeds_dir, "000"))
    assert meta.kind == "news"
    assert meta.council == "Liverpool City Council"
    assert meta.rating == "Good"
    assert meta.date is None  # the article carries no date: never guess one
    assert meta.scores == {}


def test_seed_001_liverpool_peer_challenge(seeds_dir: Path) -> None:
    meta, sections = detect_file(seed(seeds_dir, "001"))
    assert meta.kind == "lga_peer_challenge"
    assert meta.council == "Liverpool City Council"
    assert (meta.date, meta.date_precision) == ("2023-08", "month")
    assert meta.rating is None  # care-home ratings in the text are not the council's
    assert meta.scores == {}
    assert all(s.qs is None and s.score is None for s in sections)
    assert [s.theme for s in by_title(sections, "Working with people")] == [1]
    assert [s.theme for s in by_title(sections, "Providing support")] == [2]
    assert [s.theme for s in by_title(sections, "Ensuring safety")] == [3]


def test_seed_001_lost_leadership_heading_is_inferred(seeds_dir: Path) -> None:
    path = seed(seeds_dir, "001")
    text = load_bytes(str(path), path.read_bytes(), ".txt").text
    _, sections = detect_file(path)
    start = text.index("This relates to capable and compassionate leaders")
    (owner,) = [s for s in sections if s.start <= start < s.end]
    assert owner.theme == 4
    (audit,) = by_title(sections, "Case file audit findings")
    assert audit.theme is None


def test_seed_002_sefton(seeds_dir: Path) -> None:
    meta, _ = detect_file(seed(seeds_dir, "002"))
    assert meta.council == "Sefton Council"
    assert meta.rating == "Good"
    assert (meta.date, meta.date_precision) == ("2025-06-20", "day")
    assert meta.percent == 70
    assert meta.kind == "news"


def test_seed_003_lancashire(seeds_dir: Path) -> None:
    meta, _ = detect_file(seed(seeds_dir, "003"))
    assert meta.council == "Lancashire County Council"
    assert meta.rating == "Requires improvement"
    assert meta.date is None  # "published today" gives no date
    assert meta.scores == {}


def test_seed_004_several_councils(seeds_dir: Path) -> None:
    meta, sections = detect_file(seed(seeds_dir, "004"))
    assert set(meta.councils) == {
        "Birmingham City Council",
        "Lincolnshire County Council",
        "North Lincolnshire Council",
        "Suffolk County Council",
        "Nottingham City Council",
    }
    assert meta.rating is None  # one document, several councils: no single overall rating
    assert meta.kind == "news"
    for heading, council in [
        ("Lincolnshire (indicative rating: good)", "Lincolnshire County Council"),
        ("North Lincolnshire (indicative rating: good)", "North Lincolnshire Council"),
        ("Suffolk (indicative rating: good)", "Suffolk County Council"),
        ("Birmingham (indicative rating: good)", "Birmingham City Council"),
    ]:
        (s,) = by_title(sections, heading)
        assert s.councils == (council,), heading


# --- DOMAIN.md rules on small synthetic texts ----------------------------------------------------------

QS_PAGE = """Northshire County Council: local authority assessment
Downloads
{heading}
{score_lines}
What people expect
I have care and support that is coordinated, and everyone works well together and with me.
The local authority commitment
We understand the diverse health and care needs of people and our local communities.
Key findings for this quality statement
Northshire ran a joint discharge hub with its two NHS trusts, and most people were discharged on time.
"""


@pytest.mark.parametrize(
    "score_lines",
    [
        "Score: 2\n2 - Evidence shows some shortfalls",
        "Score:2\n2 - Evidence shows some shortfalls",
        "Score: 2 - Evidence shows some shortfalls",
        "Score:2 Evidence shows some shortfalls",
    ],
)
def test_qs_page_score_variants(score_lines: str) -> None:
    text = QS_PAGE.format(heading="Partnerships and communities", score_lines=score_lines)
    meta, sections = detect_text(text)
    assert meta.kind == "cqc_assessment"
    assert meta.council == "Northshire County Council"
    assert meta.scores == {5: 2}
    (qs,) = by_title(sections, "Partnerships and communities")
    assert (qs.theme, qs.qs, qs.score) == (2, 5, 2)
    (findings,) = by_title(sections, "Key findings for this quality statement")
    assert (findings.theme, findings.qs, findings.score) == (2, 5, 2)


def test_qs_page_mirror_without_downloads() -> None:
    text = QS_PAGE.format(heading="Safeguarding", score_lines="Score: 1\n1 - Evidence shows significant shortfalls")
    meta, _ = detect_text(text.replace("Downloads\n", ""))
    assert meta.scores == {7: 1}


@pytest.mark.parametrize(
    ("heading", "qs", "theme"),
    [
        ("Assessing people's needs", 1, 1),
        ("Supporting people to lead healthier lives", 2, 1),
        ("Equity in experiences and outcomes", 3, 1),
        ("Care provision, integration and continuity of care", 4, 2),
        ("Partnership and communities", 5, 2),
        ("Safe pathways, systems and transitions", 6, 3),
        ("Safe systems, pathways and transitions", 6, 3),
        ("Learning, improvement and innovation", 9, 4),
    ],
)
def test_qs_name_variants(heading: str, qs: int, theme: int) -> None:
    text = QS_PAGE.format(heading=heading, score_lines="Score: 3\n3 - Evidence shows a good standard")
    meta, sections = detect_text(text)
    (s,) = by_title(sections, heading)
    assert (s.theme, s.qs, s.score) == (theme, qs, 3)
    assert meta.scores == {qs: 3}


def test_score_without_a_quality_statement_is_not_a_qs_score() -> None:
    meta, sections = detect_text(
        "Northshire County Council update\nOur overall feedback on the year\nScore: 3 for the new parking app.\n"
    )
    assert meta.scores == {}
    assert all(s.score is None for s in sections)


PRESS = """CQC rates Eastshire County Council's adult social care provision as requires improvement
Published: 3 May 2024 Page last updated: 7 May 2024
The Care Quality Commission has rated Eastshire County Council as requires improvement.
CQC gave these scores to the nine quality statements:
{lines}
"Leaders know where to improve," said the chief inspector.
"""
NAMES = [
    "Assessing needs",
    "Supporting people to live healthier lives",
    "Equity in experience and outcomes",
    "Care provision, integration and continuity",
    "Partnerships and communities",
    "Safe pathways, systems and transitions",
    "Safeguarding",
    "Governance, management and sustainability",
    "Learning, improvement and innovation",
]
PRESS_SCORES = [2, 2, 1, 3, 3, 2, 2, 2, 3]
THEME_CELLS = {0: "Working with people", 3: "Providing support", 5: "Ensuring safety", 7: "Leadership"}


@pytest.mark.parametrize(
    "lines",
    [
        "\n".join(f"{i}. {n} – {s}" for i, (n, s) in enumerate(zip(NAMES, PRESS_SCORES, strict=True), 1)),
        "\n".join(f"{i}. {n} - {s}" for i, (n, s) in enumerate(zip(NAMES, PRESS_SCORES, strict=True), 1)),
        "\n".join(f"• {n}: {s}" for n, s in zip(NAMES, PRESS_SCORES, strict=True)),
        "Theme | Area | Score\n"
        + "\n".join(
            " | ".join(c for c in (THEME_CELLS.get(i, ""), n, str(s)) if c)
            for i, (n, s) in enumerate(zip(NAMES, PRESS_SCORES, strict=True))
        ),
        "| Theme | Area | Score |\n|---|---|---|\n"
        + "\n".join(
            f"| {THEME_CELLS.get(i, '')} | {n} | {s} |"
            for i, (n, s) in enumerate(zip(NAMES, PRESS_SCORES, strict=True))
        ),
    ],
    ids=["numbered en dash", "numbered hyphen", "bullets", "docx table", "markdown table"],
)
def test_press_release_scores_mapped_by_position(lines: str) -> None:
    meta, _ = detect_text(PRESS.format(lines=lines))
    assert meta.kind == "cqc_press_release"
    assert meta.council == "Eastshire County Council"
    assert meta.rating == "Requires improvement"
    assert (meta.date, meta.date_precision) == ("2024-05-03", "day")
    assert meta.scores == dict(enumerate(PRESS_SCORES, 1))


def test_press_release_html_table() -> None:
    rows = "".join(
        f"<tr><td>{THEME_CELLS.get(i, '')}</td><td>{n}</td><td>{s}</td></tr>"
        for i, (n, s) in enumerate(zip(NAMES, PRESS_SCORES, strict=True))
    )
    html = (
        "<html><body><h1>CQC rates Eastshire County Council's adult social care provision as "
        "requires improvement</h1><p>Published: 3 May 2024</p>"
        "<table><tr><th>Theme</th><th>Area</th><th>Score</th></tr>"
        f"{rows}</table></body></html>"
    )
    meta, _ = detect_text(html, suffix=".html")
    assert meta.kind == "cqc_press_release"
    assert meta.scores == dict(enumerate(PRESS_SCORES, 1))


def test_republished_press_release_without_list_has_no_scores() -> None:
    meta, _ = detect_text(PRESS.format(lines=""))
    assert meta.rating == "Requires improvement"
    assert meta.scores == {}


def test_indicative_rating() -> None:
    meta, _ = detect_text(
        "Pilot assessments of adult social care\n"
        "Suffolk County Council was one of five councils assessed by the CQC in its pilot programme.\n"
        "Suffolk (indicative rating: good)\n"
        "The council scored eight 3s and one 2 across the quality statements.\n"
    )
    assert meta.council == "Suffolk County Council"
    assert meta.rating == "Good"


@pytest.mark.parametrize(
    "sentence",
    [
        "Two care homes in the county were rated inadequate by the CQC this spring.",
        "The Elms care home received an outstanding rating from CQC last year.",
        "Its safeguarding rated as good in the report, the council said.",
        "A home care provider was given a rating of requires improvement.",
    ],
)
def test_ratings_not_of_the_council_are_ignored(sentence: str) -> None:
    meta, _ = detect_text(
        "Westshire news\n"
        "Westshire County Council adult social care was visited by the Care Quality Commission last year.\n"
        f"{sentence}\n"
    )
    assert meta.council == "Westshire County Council"
    assert meta.rating is None


def test_council_rating_found_next_to_a_care_home_rating() -> None:
    meta, _ = detect_text(
        "Westshire news\n"
        "Two care homes in Westshire were rated inadequate by the CQC this spring.\n"
        "Westshire County Council's adult social care services have been rated as requires improvement.\n"
    )
    assert meta.rating == "Requires improvement"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Final report: August 2023", ("2023-08", "month")),
        ("Final report - October 2024", ("2024-10", "month")),
        ("Feedback report: March 2024", ("2024-03", "month")),
        ("Assessment published: 14 March 2025", ("2025-03-14", "day")),
        ("Published: 20th June 2025", ("2025-06-20", "day")),
        ("Date: 2024-11-18", ("2024-11-18", "day")),
    ],
)
def test_date_precision(line: str, expected: tuple[str, str]) -> None:
    meta, _ = detect_text(
        "Preparation for Assurance: Peer Challenge Report, Eastshire County Council\n"
        f"{line}\n"
        "Background\n"
        "Eastshire County Council asked the LGA to carry out a peer challenge of its adult social care.\n"
    )
    assert (meta.date, meta.date_precision) == expected


def test_no_date_cue_means_no_date() -> None:
    meta, _ = detect_text(
        "Council update\nThe team visited in March 2024 and again on 4 April 2024 to talk to carers.\n"
    )
    assert (meta.date, meta.date_precision) == (None, None)


def test_peer_challenge_never_carries_scores_or_rating() -> None:
    meta, sections = detect_text(
        "Eastshire County Council adult social care preparation for assurance peer challenge\n"
        "Final report: May 2024\n"
        "Safeguarding\n"
        "Score: 3 was how staff rated their own training, and the council received a good rating from them.\n"
    )
    assert meta.kind == "lga_peer_challenge"
    assert meta.rating is None
    assert meta.scores == {}
    assert all(s.qs is None and s.score is None for s in sections)


def test_other_kind_for_unrelated_text() -> None:
    meta, _ = detect_text("Bin collections\nBins are collected on Tuesdays across the borough this winter.\n")
    assert meta.kind == "other"
    assert meta.council is None
    assert meta.rating is None


# --- overall facts stated in headers, Published: lines, embargo lines and press-release sentences (issue 15) -


def stated(meta: DocMeta, text: str, span_name: str) -> str:
    span = getattr(meta, span_name)
    assert span is not None, span_name
    return text[span[0] : span[1]]


@pytest.mark.parametrize(
    ("header", "date", "rating", "percent"),
    [
        (
            "Northshire County Council CQC local authority assessment (published May 2025; Good)",
            ("2025-05", "month"),
            "Good",
            None,
        ),
        (
            "Northshire County Council - CQC local authority assessment of adult social care, report published "
            "12 March 2025; overall rating: Requires improvement (61 out of 100). Pages: news reports.",
            ("2025-03-12", "day"),
            "Requires improvement",
            61,
        ),
        (
            "Northshire County Council — CQC local authority assessment: overview page — CQC assessment published "
            "4 April 2025 — overall rating: Good (overall score 70)",
            ("2025-04-04", "day"),
            "Good",
            70,
        ),
        (
            "Northshire County Council — CQC local authority assessment, published 2025 (exact date not shown); "
            "overall rating: Outstanding (scored 89%)",
            ("2025", "year"),
            "Outstanding",
            89,
        ),
        (
            "Northshire County Council — LGA peer challenge report and a news report on CQC's assessment — "
            "no CQC rating in this document; CQC publication date not shown",
            (None, None),
            None,
            None,
        ),
    ],
)
def test_document_header_line(
    header: str, date: tuple[str | None, str | None], rating: str | None, percent: int | None
) -> None:
    text = f"{header}\n\nThe council said it welcomed the findings and would publish an action plan in the spring.\n"
    meta, _ = detect_text(text)
    assert meta.council == "Northshire County Council"
    assert (meta.date, meta.date_precision) == date
    assert meta.rating == rating
    assert meta.percent == percent
    if rating:
        assert rating.lower() in stated(meta, text, "rating_span").lower()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published: 20 November 2024 Page last updated: 3 December 2024", ("2024-11-20", "day")),
        ("EMBARGOED TO 00.01 Friday 12 December 2025", ("2025-12-12", "day")),
        ("Embargoed until 00:01 on Thursday 4 September 2025", ("2025-09-04", "day")),
        ("Embargoed: 00:01 hours, Wednesday 22 January 2025", ("2025-01-22", "day")),
        ("The report was published on Friday, February 6, 2026.", ("2026-02-06", "day")),
        ("15 Oct 2025", ("2025-10-15", "day")),
    ],
)
def test_publication_date_lines(line: str, expected: tuple[str, str]) -> None:
    text = (
        "Northshire adult social care assessed by CQC\n"
        f"{line}\n"
        "The Care Quality Commission has rated Northshire County Council as good in how it meets its duties.\n"
    )
    meta, _ = detect_text(text)
    assert (meta.date, meta.date_precision) == expected
    assert stated(meta, text, "date_span") in text


def test_meeting_and_data_dates_are_not_the_publication_date() -> None:
    text = (
        "People Overview and Scrutiny Committee - Thursday, 6 November 2025 10.00 am\n"
        "The committee met on 6 November 2025 to consider the CQC report, which was published on 5 September "
        "2025. National data from March 2024 showed 80% of people felt safe.\n"
    )
    meta, _ = detect_text(text)
    assert (meta.date, meta.date_precision) == ("2025-09-05", "day")
    meta, _ = detect_text(
        "Scrutiny committee minutes\nThe committee met on 6 November 2025 to discuss the CQC report.\n"
    )
    assert meta.date is None


@pytest.mark.parametrize(
    ("sentence", "rating"),
    [
        (
            "The Care Quality Commission (CQC) has rated Northshire County Council as requires improvement.",
            "Requires improvement",
        ),
        (
            "Northshire County Council has been rated 'Requires improvement' by the Care Quality Commission.",
            "Requires improvement",
        ),
        (
            "Adult social care in Northshire has been rated as “requiring improvement” by the regulator.",
            "Requires improvement",
        ),
        ("The overall rating awarded to Northshire was Good, the report said.", "Good"),
        (
            "Northshire County Council's adult social care services were awarded Requires Improvement.",
            "Requires improvement",
        ),
        ("The CQC published its assessment, rating the service as “good”.", "Good"),
    ],
)
def test_press_release_and_news_rating_sentences(sentence: str, rating: str) -> None:
    text = f"Northshire County Council news\n{sentence}\n"
    meta, _ = detect_text(text)
    assert meta.council == "Northshire County Council"
    assert meta.rating == rating
    assert stated(meta, text, "rating_span") == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Northshire County Council was rated as good in four out of nine areas assessed.",
        "Northshire achieved an Outstanding rating for equity in experience and outcomes.",
        "Of the 88 reports published, 58 councils had received a rating of good.",
    ],
)
def test_ratings_of_parts_or_of_other_councils_are_not_the_overall_rating(sentence: str) -> None:
    meta, _ = detect_text(f"Northshire County Council news about adult social care\n{sentence}\n")
    assert meta.rating is None


@pytest.mark.parametrize(
    ("sentence", "percent"),
    [
        ("Northshire County Council scored 78 out of 100 overall, indicating a good standard.", 78),
        ("The council received an overall score of 62%, one point short of good.", 62),
        ("Overall rating for Northshire: 64%", 64),
        ("Services were given an overall score of 59 following the inspection.", 59),
        ("Northshire scored 75% in safeguarding and in governance.", None),
        ("Westshire County Council scored 67% and Northshire could learn from it.", None),
        ("The area has an Index of Multiple Deprivation score of 7.", None),
    ],
)
def test_overall_percentage(sentence: str, percent: int | None) -> None:
    text = f"Northshire County Council adult social care\n{sentence}\n"
    meta, _ = detect_text(text)
    assert meta.percent == percent
    if percent is not None:
        assert str(percent) in stated(meta, text, "percent_span")


def test_a_republished_press_release_is_a_press_release() -> None:
    meta, _ = detect_text(
        "Northshire Gazette - local news\n"
        "Almost Good - Care Quality Commission rates Northshire County Council's adult social care provision as "
        "requires improvement\n"
        "The Care Quality Commission has rated Northshire County Council as requires improvement.\n"
    )
    assert meta.kind == "cqc_press_release"
    assert meta.rating == "Requires improvement"


def test_an_embargoed_release_is_a_press_release() -> None:
    meta, _ = detect_text(
        "EMBARGOED TO 00.01 Friday 12 December 2025\n"
        "The Care Quality Commission has rated Northshire County Council as good in how it meets its duties.\n"
    )
    assert meta.kind == "cqc_press_release"
    assert (meta.date, meta.date_precision) == ("2025-12-12", "day")


def test_a_news_page_that_mentions_a_peer_challenge_is_news() -> None:
    meta, _ = detect_text(
        "Council undergoes dress rehearsal\n"
        "Northshire County Council took part in a Local Government peer challenge before its CQC assessment.\n"
    )
    assert meta.kind == "news"


@pytest.mark.parametrize(
    ("data", "suffix", "rating", "percent"),
    [
        (
            "<html><body><h1>Northshire County Council: local authority assessment</h1><h2>Local authority rating and "
            "score</h2><ul><li>Northshire County Council</li></ul><p>Good</p><p>Northshire County Council scored 64 "
            "out of 100 overall, indicating a good standard</p></body></html>",
            ".html",
            "Good",
            64,
        ),
        (
            "<html><body><h1>Northshire County Council: the CQC result</h1><table><tr><td>Overall rating</td>"
            "<td>Requires improvement</td></tr><tr><td>Overall score</td><td>55%</td></tr></table></body></html>",
            ".html",
            "Requires improvement",
            55,
        ),
        (
            "Northshire County Council: local authority assessment\nOverall rating\nInadequate\nThe council must act.",
            ".txt",
            "Inadequate",
            None,
        ),
    ],
    ids=["overview page", "table", "rating under its heading"],
)
def test_rating_and_percentage_laid_out_as_report_pages_and_tables(
    data: str, suffix: str, rating: str, percent: int | None
) -> None:
    meta, _ = detect_text(data, suffix=suffix)
    assert meta.council == "Northshire County Council"
    assert (meta.rating, meta.percent) == (rating, percent)


def test_dates_are_read_with_and_without_their_year() -> None:
    from cqc_assistant.ingest.facts import dates_in, month_days_in

    text = "Published: 3 October 2025. Updated October 5, 2025, and reviewed in July 2026 (2025-11-02)."
    assert [(d, p) for d, p, _, _ in dates_in(text)] == [
        ("2025-10-03", "day"), ("2025-10-05", "day"), ("2026-07", "month"), ("2025-11-02", "day"),
    ]  # fmt: skip
    assert all(text[a:b] in text for _, _, a, b in dates_in(text))
    assert month_days_in("published today (Thursday, October 30), and on the 3rd of May") == {"10-30", "05-03"}
    assert month_days_in("in 42 days, 2025") == set()


@pytest.mark.parametrize(("text", "councils"), [
    ("An assistant director from the Derby and Derbyshire Integrated Care Board joined the team.", []),
    ("Liverpool University Hospitals NHS Foundation Trust worked with Liverpool City Council.",
     ["Liverpool City Council"]),
    ("Wirral University Teaching Hospital and Sefton ICB took part.", []),
    ("What did CQC find in Derbyshire?", ["Derbyshire County Council"]),
])  # fmt: skip
def test_a_place_naming_an_nhs_body_is_not_the_council(text: str, councils: list[str]) -> None:
    """A question about someone from an ICB is not about the county council (which the library may not hold)."""
    assert [name for name, _, _ in find_councils(text)] == councils


def test_a_peer_challenge_is_about_its_council_in_every_section_whatever_council_its_peers_come_from() -> None:
    """The peer team's entries ("Area director peer: Tom Quill, Northshire County Council") are a list, not
    headings; a heading that names another council ("Learning from Northshire County Council") still heads a
    section about the reviewed council, so a search filtered to it finds every part. A news round-up keeps
    each section's own council (seed 004's test)."""
    text = (
        "Fenmoor Borough Council - LGA adult social care peer challenge\n\n"
        "Final Report: March 2025\n\n"
        "Fenmoor Borough Council asked the Local Government Association to undertake a peer challenge of its "
        "adult social care services.\n\n"
        "The peer team:\n\n"
        "Lead peer member: Cllr Ada Lovelock, Brackwater City Council\n"
        "Area director peer: Tom Quill, Northshire County Council\n"
        "Head of service peer: Mia Fenn, Brackwater City Council, and a longer line after it for the rule\n\n"
        "Learning from Northshire County Council\n\n"
        "The peers shared how their own front door cut waits, which Fenmoor's managers plan to visit.\n\n"
        "Key messages\n\n"
        "Fenmoor Borough Council has a clear vision for adult social care and staff are proud to work here.\n"
    )
    meta, sections = detect_text(text)
    assert meta.kind == "lga_peer_challenge" and meta.councils == ("Fenmoor Borough Council",)
    assert not any("peer:" in s.title for s in sections), [s.title for s in sections]
    assert by_title(sections, "Learning from Northshire County Council")
    assert all(s.councils in ((), ("Fenmoor Borough Council",)) for s in sections), [
        (s.title, s.councils) for s in sections
    ]


def test_prose_wrapped_at_a_fixed_width_is_not_read_as_headings() -> None:
    """Minutes and PDF text break lines to fit the page: a short line whose sentence goes on in the next
    ("... for Social Care &" / "Education submitted ...", "... partners and staff" / "for your support") is
    prose, so the sentence stays whole in one section; a real heading is still one."""
    text = (
        "Fenmoor Borough Council - Adults Scrutiny Commission minutes\n\n"
        "Care Quality Commission assessment\n\n"
        "The Strategic Director for Social Care &\n"
        "Education submitted a report and gave a presentation to the\n"
        "Commission on the outcome of the Care Quality Commission assessment.\n"
        "Thank you to all our partners and staff\n"
        "for your continued commitment, investment and support over a demanding year.\n"
    )
    _, sections = detect_text(text)
    titles = [s.title for s in sections]
    assert "Care Quality Commission assessment" in titles
    assert not any(t.startswith(("The Strategic", "Education", "Thank you")) for t in titles), titles
    (body,) = [s for s in sections if s.title == "Care Quality Commission assessment"]
    assert text.index("The Strategic") >= body.start and text.index("demanding year.") < body.end
