"""Exports: each quote with title, section, page, offsets and source, in every format; Markdown is inert."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from cqc_assistant.briefing import Briefing, BriefingLine, StatementBriefing
from cqc_assistant.errors import QueryError
from cqc_assistant.export import (
    FORMATS,
    Block,
    LibraryFacts,
    document_address,
    export_answer,
    export_briefing,
    export_conversation,
    export_filename,
    library_facts,
    md_escape,
    render,
    safe_filename,
)
from cqc_assistant.library import Library
from cqc_assistant.models import Answer, Citation

WHEN = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
QUOTE = "Too many people waited for an occupational therapy assessment, some for 27 weeks."
TITLE = "Wyvernshire County Council: local authority assessment"


def citation(n: int = 1, quote: str = QUOTE, **kw: object) -> Citation:
    values: dict[str, object] = {
        "n": n, "doc_id": "abc123def4567890", "title": TITLE, "source": "https://www.cqc.org.uk/report/wyvernshire",
        "section": "Waiting lists and timeliness", "start": 5277, "end": 5277 + len(quote), "quote": quote,
        "page": 7, "council": "Wyvernshire County Council", "kind": "cqc_assessment",
    }  # fmt: skip
    values.update(kw)
    return Citation(**values)  # type: ignore[arg-type]


def answer(c: Citation | None = None, question: str = "How long are OT waits?") -> Answer:
    c = c or citation()
    return Answer(
        question=question, answer=f"{c.quote} [{c.n}]", refused=False, citations=(c,),
        filters={"council": "Wyvernshire County Council"},
    )  # fmt: skip


def text_of(data: bytes, fmt: str) -> str:
    """The visible text of an export, whitespace normalised."""
    if fmt == "md":
        raw = data.decode("utf-8")
    elif fmt == "docx":
        doc = Document(io.BytesIO(data))
        margins = [p for s in doc.sections for p in (*s.header.paragraphs, *s.footer.paragraphs)]
        raw = "\n".join(p.text for p in [*doc.paragraphs, *margins])
    else:
        raw = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(raw.split())


@pytest.mark.parametrize("fmt", FORMATS)
def test_answer_export_has_quote_title_section_page_offsets_source(fmt: str) -> None:
    c = citation()
    data = export_answer(answer(c), fmt, library_version=42, generated_at=WHEN)
    text = text_of(data, fmt)
    quote = md_escape(QUOTE) if fmt == "md" else QUOTE
    assert quote in text
    assert (md_escape(TITLE) if fmt == "md" else TITLE) in text
    assert "Waiting lists and timeliness" in text
    assert "page 7" in text
    assert f"characters {c.start}–{c.end}" in text
    assert "cqc.org.uk/report/wyvernshire" in text
    assert "2025-06-01 09:30 UTC" in text
    assert "library version 42" in text
    assert "abc123def4567890" in text


def test_format_signatures() -> None:
    a = answer()
    assert export_answer(a, "pdf", library_version=1).startswith(b"%PDF-")
    assert export_answer(a, "docx", library_version=1).startswith(b"PK")
    assert export_answer(a, "markdown", library_version=1).startswith(b"# ")
    with pytest.raises(QueryError):
        export_answer(a, "rtf", library_version=1)


def test_markdown_escapes_html_so_script_stays_text() -> None:
    evil = "Officers said <script>alert('x')</script> & <img src=x onerror=alert(1)> was fine."
    c = citation(quote=evil, title="Report <b>bold</b>", section="<i>Section</i>")
    md = export_answer(answer(c, question="<script>q()</script>?"), "md", library_version=1).decode()
    assert "<script>" not in md and "<img" not in md and "<b>" not in md and "<i>" not in md
    assert "&lt;script&gt;" in md
    assert "&amp;" in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md


def test_markdown_escapes_markdown_syntax() -> None:
    assert md_escape("[click](javascript:alert(1))") == "\\[click\\](javascript:alert(1))"
    assert md_escape("# not a heading").startswith("\\#")
    assert md_escape("*bold* _it_ `code`") == "\\*bold\\* \\_it\\_ \\`code\\`"
    assert md_escape("line one\nline two") == "line one line two"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unicode_and_control_characters_survive(fmt: str) -> None:
    quote = "Łódź’s “care” costs £1,086.2 million\x00\x07 – per cent ≥ 5."
    data = export_answer(answer(citation(quote=quote)), fmt, library_version=1)
    text = text_of(data, fmt)
    assert "1,086.2 million" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_conversation_export_has_every_turn(fmt: str) -> None:
    first = answer(citation(), question="First question about waits?")
    second_quote = "Safeguarding enquiries were completed within 12 weeks in 79% of cases."
    second = answer(citation(quote=second_quote, section="Safeguarding", page=None), question="Second?")
    refused = Answer(
        question="What about Liverpool?", refused=True, searched=(TITLE,),
        answer="The library does not say. Searched 4 documents (no filters).",
    )  # fmt: skip
    text = text_of(export_conversation([first, second, refused], fmt, library_version=3), fmt)
    for needle in (
        "First question about waits?",
        "Second?",
        "What about Liverpool?",
        "The library does not say",
    ):
        assert (md_escape(needle) if fmt == "md" else needle) in text
    assert (md_escape(second_quote) if fmt == "md" else second_quote) in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_briefing_export_has_lines_and_sources(fmt: str) -> None:
    c1 = citation(1)
    c2 = citation(2, quote="Uptake of direct payments was good.", start=100, end=135, page=None)
    s = StatementBriefing(
        qs=1, name="Assessing needs", theme=1, score=3, score_line=BriefingLine("Score 3 of 4.", c2),
        key_findings=(BriefingLine(c1.quote, c1),), strengths=(BriefingLine(c2.quote, c2),),
        questions=(BriefingLine("What are you doing about waits?", c1),),
    )  # fmt: skip
    b = Briefing(council="Wyvernshire County Council", statements=(s,), library_version=9)
    text = text_of(export_briefing(b, fmt, generated_at=WHEN), fmt)
    esc = md_escape if fmt == "md" else (lambda x: x)
    assert esc("QS1 Assessing needs") in text
    assert esc(QUOTE) in text
    assert esc("Uptake of direct payments was good.") in text
    assert esc("What are you doing about waits?") in text
    assert "characters 100–135" in text
    assert "library version 9" in text


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "etc-passwd"
    assert "/" not in safe_filename("a/b\\c") and "\\" not in safe_filename("a/b\\c")
    assert safe_filename("") == "export"
    assert safe_filename("...") == "export"
    assert safe_filename("CON") != "CON"
    assert safe_filename("Wyvernshire: what? <x>.md") == "Wyvernshire-what-x.md"
    assert safe_filename("Łódź café.pdf") == "Lodz-cafe.pdf"
    assert safe_filename("a\x00b\nc.txt") == "a-b-c.txt"
    long = safe_filename("x" * 300 + ".docx")
    assert len(long) <= 80 and long.endswith(".docx")
    assert export_filename("How long are OT waits?", "pdf") == "How-long-are-OT-waits.pdf"
    for name in ("..", "/", "~/.ssh/id_rsa", "con.txt", " spaced out "):
        out = safe_filename(name)
        assert out and not out.startswith(".") and Path(out).name == out


def test_file_names_are_cut_at_a_word_boundary() -> None:
    question = "How long do people wait for a care and support assessment in Wyvernshire this winter?"
    words = set(safe_filename(question).split("-")) | {"cqc", "answer"}
    for fmt in FORMATS:
        name = export_filename(f"cqc-answer-{question}", fmt)
        stem = name.removesuffix(f".{fmt}")
        assert len(stem) <= 60 and name.endswith(f".{fmt}")
        assert set(stem.split("-")) <= words, name  # every piece is a whole word of the question
        assert stem.startswith("cqc-answer-How-long-do-people-wait")
    # a dot in the text is not taken for an extension
    assert export_filename("Rating at 62.5% boundary", "md") == "Rating-at-62-5-boundary.md"
    # a single word longer than the room is still cut (no boundary to go back to)
    assert len(safe_filename("y" * 200 + ".pdf")) <= 80


def test_document_address_prefers_url_then_printed_address_then_file_name() -> None:
    url = "https://www.cqc.org.uk/care-services/local-authority-assessment-reports/wyvernshire"
    assert document_address(url, "") == url
    printed = f"Wyvernshire County Council: local authority assessment\n{url}  1/12\n\nOverview..."
    assert document_address("upload:wyvernshire.pdf", printed) == url
    in_passing = f"Wyvernshire County Council\nThe council's own plan (see {url}) was discussed at length by members."
    assert document_address("upload:wyvernshire.pdf", in_passing) == "wyvernshire.pdf"
    late = "x\n" * 2000 + url
    assert document_address("upload:reports/wyvernshire.pdf", late) == "wyvernshire.pdf"
    assert document_address("/home/officer/Downloads/Wyvernshire report.docx") == "Wyvernshire report.docx"
    assert document_address("C:\\Users\\me\\wyv.pdf") == "wyv.pdf"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_source_label_is_never_printed_raw(fmt: str) -> None:
    c = citation(source="upload:wyvernshire-assessment.pdf")
    text = text_of(export_answer(answer(c), fmt, library_version=1), fmt)
    assert "upload:" not in text
    assert (md_escape("wyvernshire-assessment.pdf") if fmt == "md" else "wyvernshire-assessment.pdf") in text


PRINTED_URL = "https://www.cqc.org.uk/care-services/local-authority-assessment-reports/wyvernshire-fictional"
PRINTED_DOC = (
    "Wyvernshire County Council: local authority assessment\n"
    f"{PRINTED_URL}\n\n"
    "Summary\n\n"
    "People in Wyvernshire told us they waited too long for an occupational therapy assessment, and the\n"
    "council knew it. Carers said the carers' centre in Eldermouth was a lifeline.\n"
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_printed_web_address_and_the_library_date_reach_the_export(library: Library, fmt: str) -> None:
    from cqc_assistant.ingest.pipeline import ingest_bytes

    assert ingest_bytes(library, "upload:wyv-report.txt", PRINTED_DOC.encode(), ".txt").status == "added"
    doc = library.documents()[0]
    start = PRINTED_DOC.index("People in")
    end = PRINTED_DOC.index("knew it.") + len("knew it.")
    c = citation(doc_id=doc.doc_id, source=doc.source, start=start, end=end, quote=PRINTED_DOC[start:end])
    facts = library_facts(library, [c])
    assert facts.addresses == {doc.doc_id: PRINTED_URL}
    assert facts.changed == datetime.fromisoformat(doc.ingested_at).date()
    text = text_of(export_answer(answer(c), fmt, library=facts, generated_at=WHEN), fmt)
    esc = md_escape if fmt == "md" else (lambda x: x)
    assert esc(PRINTED_URL) in text and "upload:" not in text
    day = facts.changed
    assert day is not None
    assert esc(f"Generated by cqc-assistant from the library of {day.day} {day:%B %Y}") in text


def test_quotes_are_whole_sentences_without_pdf_line_breaks() -> None:
    broken = "People waited too long for an occupational\ntherapy assessment, and the council\r\nknew it."
    joined = " ".join(broken.split())
    c = citation(quote=broken, end=5277 + len(broken))
    a = answer(c)
    md = export_answer(a, "md", library_version=1).decode()
    assert f"> {md_escape(joined)}" in md
    doc = Document(io.BytesIO(export_answer(a, "docx", library_version=1)))
    assert any(p.text == f"[1] “{joined}”" for p in doc.paragraphs)
    assert c.end - c.start == len(broken)  # what is stored (and its offsets) is left alone


def _long_conversation() -> list[Answer]:
    out = []
    for i in range(1, 13):
        quote = f"Finding {i}: people and carers in Wyvernshire described how support worked for them. " * 4
        out.append(answer(citation(quote=quote.strip(), section=f"Part {i}"), question=f"Question number {i}?"))
    return out


def test_word_export_is_a4_with_header_and_numbered_footer() -> None:
    facts = LibraryFacts(version=4, changed=datetime(2025, 5, 30, tzinfo=UTC).date())
    data = export_conversation(_long_conversation(), "docx", library=facts, generated_at=WHEN)
    doc = Document(io.BytesIO(data))
    for section in doc.sections:
        assert section.page_width is not None and section.page_height is not None
        assert abs(section.page_width.mm - 210) < 0.5 and abs(section.page_height.mm - 297) < 0.5
        header = " ".join(p.text for p in section.header.paragraphs)
        assert "CQC Assistant: conversation" in header
        assert "Wyvernshire County Council" in header and "1 June 2025" in header
        footer = " ".join(p.text for p in section.footer.paragraphs)
        assert "Generated by cqc-assistant from the library of 30 May 2025" in footer
        assert "Page 1 of 1" in footer  # the fields' cached values; Word fills in the real ones
        xml = section.footer._element.xml
        assert "PAGE" in xml and "NUMPAGES" in xml and "fldChar" in xml


def test_pdf_export_is_a4_with_header_and_page_n_of_m_on_every_page() -> None:
    facts = LibraryFacts(version=4, changed=datetime(2025, 5, 30, tzinfo=UTC).date())
    data = export_conversation(_long_conversation(), "pdf", library=facts, generated_at=WHEN)
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 2
    for i, page in enumerate(pages, 1):
        box = page.mediabox
        assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1
        text = " ".join((page.extract_text() or "").split())
        assert f"page {i} of {len(pages)}" in text.lower()
        assert "Generated by cqc-assistant from the library of 30 May 2025" in text
        assert "CQC Assistant: conversation · Wyvernshire County Council · 1 June 2025" in text


def test_a_long_pdf_header_is_shortened_at_a_word_to_fit_the_page() -> None:
    question = "What did the assessment say about " + "occupational therapy waits and carers' breaks " * 6
    data = export_answer(answer(question=question), "pdf", library_version=1, generated_at=WHEN)
    page = PdfReader(io.BytesIO(data)).pages[0]
    header = " ".join((page.extract_text() or "").split())
    assert "CQC Assistant: cited answer · Wyvernshire County Council · 1 June 2025" in header
    title = "Interview prep: Wyvernshire County Council, " + "QS2 Supporting people to live healthier lives " * 3
    pdf = render([Block("title", title.strip())], "pdf", generated_at=WHEN, council="Wyvernshire County Council")
    first_line = (PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "").splitlines()[0]
    assert first_line.endswith("…") and "1 June 2025" not in first_line
    assert first_line.removesuffix("…").split()[-1] in title.split()  # cut after a whole word


def test_markdown_export_has_the_header_and_footer_lines() -> None:
    facts = LibraryFacts(version=4, changed=datetime(2025, 5, 30, tzinfo=UTC).date())
    md = export_answer(answer(), "md", library=facts, generated_at=WHEN).decode()
    lines = md.splitlines()
    assert lines[0] == "# CQC Assistant: cited answer"
    assert "Wyvernshire County Council · 1 June 2025" in lines[2]
    assert lines[-1] == "_Generated by cqc-assistant from the library of 30 May 2025_"


def test_exports_are_deterministic_given_a_time() -> None:
    a = answer()
    assert export_answer(a, "md", library_version=1, generated_at=WHEN) == export_answer(
        a, "md", library_version=1, generated_at=WHEN
    )


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def demo_store(tmp_path: Path) -> Path:
    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import HashEmbedder
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    home = tmp_path / "store"
    lib = Library.open(Settings(home=home, embedder="hash"), HashEmbedder())
    try:
        assert ingest(lib, [str(Path(__file__).resolve().parent.parent / "cqc_assistant" / "demo")]).failed == 0
    finally:
        lib.close()
    return home


def test_cli_export_answer_and_briefing(demo_store: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cqc_assistant.cli import cli

    runner = CliRunner()
    out = tmp_path / "answer.md"
    q = "How long do people wait for occupational therapy in Wyvernshire?"
    r = runner.invoke(cli, ["export", q, "--council", "wyvernshire", "-o", str(out), "--store", str(demo_store)])
    assert r.exit_code == 0, r.output
    md = out.read_text(encoding="utf-8")
    assert "occupational therapy" in md and "characters " in md and "library version" in md

    pdf = tmp_path / "brief.pdf"
    r = runner.invoke(
        cli, ["export", "--briefing", "Wyvernshire", "--qs", "7", "--format", "pdf", "-o", str(pdf)]
        + ["--store", str(demo_store)]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "QS7 Safeguarding" in text_of(pdf.read_bytes(), "pdf")

    r = runner.invoke(cli, ["export", "--store", str(demo_store)])
    assert r.exit_code == 2 and "QUESTION or --briefing" in r.output
    r = runner.invoke(cli, ["export", "--briefing", "Liverpool", "--store", str(demo_store), "-o", "-"])
    assert r.exit_code == 1 and "Liverpool" in r.output and "Traceback" not in r.output


def test_cli_ui_runs_streamlit_with_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from click.testing import CliRunner

    from cqc_assistant.cli import cli

    seen: dict[str, object] = {}

    def fake_call(cmd: list[str], env: dict[str, str]) -> int:
        seen["cmd"], seen["env"] = cmd, env
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    r = CliRunner().invoke(cli, ["ui", "--store", str(tmp_path / "s"), "--port", "8599"])
    assert r.exit_code == 0, r.output
    cmd = seen["cmd"]
    assert isinstance(cmd, list)
    assert cmd[1:4] == ["-m", "cqc_assistant.app.serve", "run"] and cmd[4].endswith("cqc_assistant/app/main.py")
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--server.port") + 1] == "8599"
    env = seen["env"]
    assert isinstance(env, dict) and env["CQC_ASSISTANT_HOME"] == str((tmp_path / "s").resolve())
