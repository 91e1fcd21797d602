"""Every published form of the nine scores, in text, HTML tables, DOCX tables and PDF (issue 15, point 1).

The texts are our own, about the fictional Northshire County Council. Each form is rendered in each format the
way such pages are published (an HTML or Word list loses its numbers; a PDF wraps its lines) and must give
exactly the stated scores, each with a passage of the stored text that states it.
"""

from __future__ import annotations

import io

import docx
import pytest
from fpdf import FPDF

from cqc_assistant.domain import QUALITY_STATEMENTS
from cqc_assistant.ingest.detect import detect
from cqc_assistant.ingest.loaders import load_bytes
from cqc_assistant.ingest.scores import find_score_statements
from cqc_assistant.models import DocMeta
from cqc_assistant.score_passages import percent_span, rating_span, score_line

COUNCIL = "Northshire County Council"
SCORES = {1: 2, 2: 3, 3: 2, 4: 3, 5: 4, 6: 2, 7: 3, 8: 3, 9: 2}
NAMES = [q.name for q in QUALITY_STATEMENTS]
# CQC's older press-release labels: theme names where QS1, QS4, QS6 and QS8 belong (DOMAIN.md §2).
OLD_LABELS = [
    "how the local authority works with people",
    "supporting people to lead healthier lives",
    "equity in experience and outcomes",
    "providing support (care provision, integration and continuity)",
    "partnership and communities",
    "how the local authority ensures safety in the system",
    "safeguarding",
    "leadership (management and sustainability)",
    "learning, improvement and innovation",
]
THEMES = {0: "How the local authority works with people", 3: "Providing support", 5: "Ensuring safety", 7: "Leadership"}
INTRO = (
    "CQC rates Northshire County Council's adult social care provision as good\n"
    "The Care Quality Commission has rated Northshire County Council as good. CQC gave each of the nine "
    "quality statements a score out of four:\n"
)
OUTRO = "\nThe chief inspector said Northshire's leaders knew where they needed to improve.\n"

Row = tuple[str, ...]


def _pairs(labels: list[str]) -> list[tuple[int, str, int]]:
    return [(i, label, SCORES[i + 1]) for i, label in enumerate(labels)]


# Each form: (lines of plain text, table rows or None). The plain text is what a .txt or .md holds.
FORMS: dict[str, tuple[list[str], list[Row] | None]] = {
    "bullets en dash": ([f"• {n} – {s}" for _, n, s in _pairs(NAMES)], None),
    "bullets hyphen lower case": ([f"- {n.lower()} - {s}" for _, n, s in _pairs(NAMES)], None),
    "bullets colon": ([f"* {n}: {s}" for _, n, s in _pairs(NAMES)], None),
    "numbered old labels en dash": ([f"{i + 1}. {n} – {s}" for i, n, s in _pairs(OLD_LABELS)], None),
    "numbered with blank lines": ([f"{i + 1}.   {n}: {s}\n" for i, n, s in _pairs(NAMES)], None),
    "pipe list": ([f"{n} | {s}" for _, n, s in _pairs(NAMES)], None),
    "score in brackets": ([f"{n} (Score {s})" for _, n, s in _pairs(NAMES)], None),
    "theme sub-headings between items": (
        [ln for i, n, s in _pairs(NAMES) for ln in ([THEMES[i]] if i in THEMES else []) + [f"- {n} – {s}"]],
        None,
    ),
    "table with a theme column": (
        [" | ".join(c for c in (THEMES.get(i, ""), f"{i + 1}. {n.lower()}", str(s)) if c) for i, n, s in _pairs(NAMES)],
        [(THEMES.get(i, ""), f"{i + 1}. {n.lower()}", str(s)) for i, n, s in _pairs(NAMES)],
    ),
    "markdown table": (
        ["| Theme | Quality statement | Score |", "|---|---|---|"]
        + [f"| {THEMES.get(i, '')} | {n} | {s} |" for i, n, s in _pairs(NAMES)],
        [("Theme", "Quality statement", "Score")] + [(THEMES.get(i, ""), n, str(s)) for i, n, s in _pairs(NAMES)],
    ),
    "overview: label line then its score line": (
        ["Quality statement scores"] + [ln for _, n, s in _pairs(NAMES) for ln in (f"• {n}", f"Score: {s}")],
        None,
    ),
}


def as_text(lines: list[str]) -> str:
    return INTRO + "\n".join(lines) + OUTRO


def as_html(lines: list[str], rows: list[Row] | None) -> bytes:
    if rows is not None:
        body = "<table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    else:
        body = "".join(f"<p>{ln.strip()}</p>" for ln in lines if ln.strip())
    head, rest = INTRO.split("\n", 1)
    return f"<html><body><h1>{head}</h1><p>{rest}</p>{body}<p>{OUTRO}</p></body></html>".encode()


def as_docx(lines: list[str], rows: list[Row] | None) -> bytes:
    document = docx.Document()
    head, rest = INTRO.split("\n", 1)
    document.add_heading(head, level=1)
    document.add_paragraph(rest.strip())
    if rows is not None:
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.rows[r].cells[c].text = value
    else:
        for ln in lines:
            if ln.strip():
                document.add_paragraph(ln.strip())
    document.add_paragraph(OUTRO.strip())
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def as_pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    latin = str.maketrans({"–": "-", "•": "-", "’": "'"})  # the core font draws Latin-1 only
    for ln in as_text(lines).split("\n"):
        if ln.strip():
            pdf.multi_cell(0, 5, ln.translate(latin), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def detected(data: bytes, suffix: str) -> tuple[DocMeta, str]:
    ex = load_bytes(f"northshire{suffix}", data, suffix)
    meta, _ = detect(ex, f"northshire{suffix}")
    return meta, ex.text


def check(meta: DocMeta, text: str) -> None:
    assert meta.council == COUNCIL
    assert meta.scores == SCORES
    spans = meta.score_spans
    assert set(spans) == set(SCORES)
    for qs, (start, end) in spans.items():
        passage = text[start:end]
        assert str(SCORES[qs]) in passage, (qs, passage)
        assert "\n" not in passage.strip() or "Score" in passage, passage


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fmt", ["txt", "md", "html", "docx", "pdf"])
def test_every_form_in_every_format(form: str, fmt: str) -> None:
    lines, rows = FORMS[form]
    if fmt in ("txt", "md"):
        data, suffix = as_text(lines).encode(), f".{fmt}"
    elif fmt == "html":
        data, suffix = as_html(lines, rows), ".html"
    elif fmt == "docx":
        data, suffix = as_docx(lines, rows), ".docx"
    else:
        data, suffix = as_pdf(lines), ".pdf"
    meta, text = detected(data, suffix)
    check(meta, text)
    assert meta.rating == "Good"


def test_a_list_with_one_score_missing_is_read_by_its_labels() -> None:
    lines = [f"{i + 1}. {n} – {s}" for i, n, s in _pairs(OLD_LABELS)]
    lines[6] = "7. safeguarding –"  # as one real release printed it
    meta, _ = detected(as_text(lines).encode(), ".txt")
    assert meta.scores == {q: s for q, s in SCORES.items() if q != 7}


QS_PAGE = """Northshire County Council: local authority assessment
Downloads
{heading}
{score}
What people expect
I have care and support that is coordinated, and everyone works well together and with me.
Key findings for this quality statement
Northshire ran a joint discharge hub with its two NHS trusts, and most people went home on time.
"""


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("Score: 3", 3),
        ("Score 3", 3),
        ("(Score 2)", 2),
        ("3 - Evidence shows a good standard", 3),
        ("1 – Evidence shows significant shortfalls", 1),
        ("Score: 4 - Evidence shows an exceptional standard", 4),
    ],
)
def test_qs_page_score_forms_cite_the_heading_and_score(score: str, expected: int) -> None:
    text = QS_PAGE.format(heading="Partnerships and communities", score=score)
    meta, stored = detected(text.encode(), ".txt")
    assert meta.kind == "cqc_assessment"
    assert meta.scores == {5: expected}
    start, end = meta.score_spans[5]
    assert stored[start:end] == f"Partnerships and communities\n{score}"


def test_an_evidence_label_that_disagrees_with_its_digit_is_not_a_score() -> None:
    text = QS_PAGE.format(heading="Safeguarding", score="2 - Evidence shows a good standard")
    meta, _ = detected(text.encode(), ".txt")
    assert meta.scores == {}


@pytest.mark.parametrize(
    "lines",
    [
        [f"• {n}" for n in NAMES],  # the nine statements listed with no scores (as one council's page did)
        [f"{n} ........ {p}" for n, p in zip(NAMES, [3, 4, 4, 5, 6, 7, 8, 9, 9], strict=True)],  # contents page
        ["1 = Inadequate", "2 = Requires improvement", "3 = Good", "4 = Outstanding"],  # a key, not scores
        [f"Phase {i} – {i % 4 + 1}" for i in range(1, 10)],  # nine numbered lines that are not about QS
    ],
    ids=["names only", "contents page", "rating key", "other list"],
)
def test_lists_that_state_no_scores_give_none(lines: list[str]) -> None:
    meta, _ = detected(as_text(lines).encode(), ".txt")
    assert meta.scores == {}
    assert meta.score_statements == ()


def test_conflicting_statements_are_all_kept_and_the_report_page_wins() -> None:
    text = QS_PAGE.format(heading="Safeguarding", score="Score: 3") + (
        "\nNews: the council's safeguarding was scored as follows\n- Assessing needs – 2\n- Safeguarding – 2\n"
        "- Partnerships and communities – 3\n"
    )
    meta, stored = detected(text.encode(), ".txt")
    assert meta.scores[7] == 3
    found = {(st.qs, st.score, st.form) for st in meta.score_statements}
    assert {(7, 3, "page"), (7, 2, "list")} <= found
    for st in meta.score_statements:
        assert str(st.score) in stored[st.start : st.end]


def test_statements_are_found_on_stored_text_alone() -> None:
    """The scorecard can read a stored document's scores and passages without the loader."""
    text = as_text(FORMS["numbered old labels en dash"][0])
    statements = find_score_statements(text)
    assert {st.qs: st.score for st in statements} == SCORES
    assert text[statements[7].start : statements[7].end] == "8. leadership (management and sustainability) – 3"


def test_peer_challenges_never_carry_scores() -> None:
    text = (
        "Preparation for Assurance: Peer Challenge Report, Northshire County Council\nFinal report: May 2024\n"
        + "\n".join(f"- {n} – {s}" for _, n, s in _pairs(NAMES))
    )
    meta, _ = detected(text.encode(), ".txt")
    assert meta.kind == "lga_peer_challenge"
    assert meta.scores == {}


def test_a_figure_is_cited_from_the_body_when_the_title_line_also_states_it() -> None:
    """A title says what the document is about ("... rated 'requires improvement' by watchdog"); the body
    says what was found, so the scorecard and a facts-first answer quote the body's sentence."""
    text = (
        "Fenmoor rated 'requires improvement' by watchdog, 71%\n\n"
        "Some background first.\n\n"
        "The Care Quality Commission rated Fenmoor Borough Council as requires improvement, with a score of 71%.\n"
    )
    body = text.index("The Care Quality")
    for span in (rating_span(text, "Requires improvement"), percent_span(text, 71)):
        assert span is not None and span[0] == body
    title_only = "Fenmoor rated 'requires improvement' by watchdog\n\nNothing more.\n"
    assert rating_span(title_only, "Requires improvement") == (0, title_only.index("\n"))


def test_a_rating_is_found_in_any_written_form_said_by_who_gave_it() -> None:
    """The press writes "require improvement" and credits "the watchdog" without saying "rated": the sentence
    still states the rating; a sentence using "good" in passing, with no one credited, does not."""
    text = (
        "Care in Fenmoor\n\n"
        "Some good news first, from the council.\n\n"
        "Adult care services at Fenmoor Borough Council require improvement, the health watchdog has said.\n"
    )
    said = text.index("Adult care")
    assert rating_span(text, "Requires improvement") == (said, len(text) - 1)
    assert rating_span(text, "Good") is None
    assert rating_span(text, "requires improvement") == (said, len(text) - 1)  # however the rating is written
    rated = text + "\nThe council was rated as requiring improvement in May.\n"
    span = rating_span(rated, "Requires improvement")
    assert span is not None and rated[span[0] : span[1]].startswith("The council was rated")


@pytest.mark.parametrize(
    "sentence",
    [
        "Inspectors gave Fenmoor Borough Council an overall score of 64 after the visit.",
        "Fenmoor Borough Council scored 64 out of 100 overall.",
        "The council was rated requires improvement with a score of 64.",
    ],
)
def test_the_overall_percentage_is_cited_wherever_ingest_detected_it(sentence: str) -> None:
    """A percentage ingest reads without a % sign ("an overall score of 64") is quoted from that sentence:
    the scorecard's citation and the detection read the same forms."""
    text = f"Fenmoor adult social care report\n\nSome background first.\n\n{sentence}\n"
    meta, stored = detected(text.encode(), ".txt")
    assert meta.percent == 64
    span = percent_span(stored, 64)
    assert span is not None and stored[span[0] : span[1]] == sentence
    assert percent_span(stored, 65) is None


@pytest.mark.parametrize(
    ("score", "quoted"),
    [
        ("Score: 3\n3 – Evidence shows a good standard", "Score: 3\n3 – Evidence shows a good standard"),
        ("Score: 3\n3 - Evidence shows a good standard", "Score: 3\n3 - Evidence shows a good standard"),
        ("Score: 3", "Score: 3"),  # no label line: the score line alone
    ],
)
def test_a_qs_score_is_quoted_with_cqcs_words_for_it(score: str, quoted: str) -> None:
    """A QS page states its score over two lines: the number, then what it means. The scorecard's quote
    takes both, so an officer reads "3 – Evidence shows a good standard", not a bare "Score: 3"."""
    text = QS_PAGE.format(heading="Safeguarding", score=score)
    meta, stored = detected(text.encode(), ".txt")
    assert meta.scores == {7: 3}
    (st,) = [st for st in meta.score_statements if st.qs == 7]
    start, end = score_line(stored, [], st.start, st.end, st.score)  # no sections: the heading is kept
    assert stored[start:end] == f"Safeguarding\n{quoted}"
