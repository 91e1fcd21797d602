"""Loaders: each format's stored text, headings and pages, and a clear InputError for every bad file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from cqc_assistant.errors import InputError
from cqc_assistant.ingest.chunking import chunk_document
from cqc_assistant.ingest.detect import detect
from cqc_assistant.ingest.loaders import load_bytes, suffix_for
from cqc_assistant.ingest.sources import read_file
from cqc_assistant.models import Extracted


def make_pdf(pages: list[str], *, user_password: str | None = None, title: str | None = None) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title:
        pdf.set_title(title)
    if user_password:
        pdf.set_encryption(owner_password="owner-pw", user_password=user_password)
    for page in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, page)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Northshire peer challenge", level=0)  # style "Title"
    document.add_heading("Working with people", level=1)
    document.add_paragraph("Assessments were timely and strengths-based.")
    document.add_heading("For consideration", level=2)
    document.add_paragraph("Reduce occupational therapy waits.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Theme", "Score"), ("Safeguarding", "3")]):
        for c, value in enumerate(row):
            table.rows[r].cells[c].text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def headings_of(ex: Extracted) -> list[tuple[str, int]]:
    return [(ex.text[h.start : h.end], h.level) for h in ex.headings]


# --- plain text and Markdown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Line one\r\nLine two\r\n\r\nLast", "Line one\nLine two\n\nLast"),
        (b"Old Mac\rline endings\r", "Old Mac\nline endings\n"),
        (b"Mixed\r\nand\nand\rend", "Mixed\nand\nand\nend"),
        (b"  leading and trailing space is kept  \n\n", "  leading and trailing space is kept  \n\n"),
        ("Caf\u00e9 \u2013 \u2018quotes\u2019".encode(), "Caf\u00e9 \u2013 \u2018quotes\u2019"),
        (b"\xef\xbb\xbfUTF-8 with a BOM", "UTF-8 with a BOM"),
        ("UTF-16 text\r\nhere".encode("utf-16"), "UTF-16 text\nhere"),
        ("Windows-1252 caf\u00e9 \u2013 dash".encode("cp1252"), "Windows-1252 caf\u00e9 \u2013 dash"),
    ],
)
def test_txt_is_stored_as_decoded_with_newlines_normalised(raw: bytes, expected: str) -> None:
    ex = load_bytes("notes.txt", raw, ".txt")
    assert ex.text == expected
    assert ex.pages == ()
    assert ex.content_type == "text/plain"


def test_txt_title_is_first_non_blank_line() -> None:
    ex = load_bytes("a.txt", b"\n\n  Council news  \nBody text here.\n", ".txt")
    assert ex.title == "Council news"


def test_markdown_headings_point_at_heading_text() -> None:
    raw = (
        b"# Main title\r\n\r\nIntro text.\r\n\r\n## Safeguarding ##\r\nBody.\r\n"
        b"### Deeper\r\nMore.\r\n#not a heading\r\n"
    )
    ex = load_bytes("report.md", raw, ".md")
    assert ex.text == raw.decode().replace("\r\n", "\n")
    assert headings_of(ex) == [("Main title", 1), ("Safeguarding", 2), ("Deeper", 3)]
    assert ex.title == "Main title"
    assert ex.content_type == "text/markdown"


# --- HTML ----------------------------------------------------------------------------------------------


def test_html_drops_script_style_and_navigation_and_keeps_blocks() -> None:
    html = b"""<!doctype html><html><head><title> Page  title </title>
    <style>p { color: red }</style><script>var secret = "do not index";</script></head>
    <body><nav>Home | Menu</nav><script>alert("x")</script>
    <h1>Northshire &amp; partners</h1>
    <p>Para with <b>bold</b> and <a href="#">a link</a>.</p>
    <ul><li>first item</li><li>second item</li></ul>
    <h2>Next steps</h2><p>Line one<br>line two</p>
    <footer>Copyright</footer></body></html>"""
    ex = load_bytes("page.html", html, ".html")
    assert ex.text == (
        "Northshire & partners\nPara with bold and a link.\nfirst item\nsecond item\nNext steps\nLine one\nline two"
    )
    for dropped in ("secret", "alert", "color", "Menu", "Copyright"):
        assert dropped not in ex.text
    assert headings_of(ex) == [("Northshire & partners", 1), ("Next steps", 2)]
    assert ex.title == "Page title"
    assert ex.content_type == "text/html"


def test_html_without_title_uses_first_heading() -> None:
    ex = load_bytes("p.htm", b"<body><h2>Only heading</h2><p>Text.</p></body>", ".htm")
    assert ex.title == "Only heading"


def test_deeply_nested_html_does_not_overflow_the_stack() -> None:
    html = b"<div>" * 5000 + b"deep text" + b"</div>" * 5000
    assert load_bytes("deep.html", html, ".html").text == "deep text"


# --- PDF -----------------------------------------------------------------------------------------------


def test_pdf_pages_and_page_numbers_of_chunks() -> None:
    pages = [
        "Page one opening.\nNorthshire County Council worked well with partners on discharge.",
        "Page two text about safeguarding enquiries and their timeliness in the county.",
        "Page three closes the report with next steps for the council.",
    ]
    ex = load_bytes("r.pdf", make_pdf(pages, title="Northshire report"), ".pdf")
    assert len(ex.pages) == 3
    assert ex.pages[0] == 0
    assert ex.title == "Northshire report"
    for number, (start, page) in enumerate(zip(ex.pages, pages, strict=True), start=1):
        first_words = page.split("\n")[0][:15]
        assert ex.text[start:].startswith(first_words)
        assert ex.page_at(start) == number
        assert ex.page_at(start + 5) == number
    # Chunks carry the page their start falls on.
    _, sections = detect(ex, "r.pdf")
    chunks = chunk_document(ex, sections, max_chars=80)
    seen = {c.page for c in chunks}
    assert seen == {1, 2, 3}
    for c in chunks:
        assert c.page is not None and c.page == ex.page_at(c.start)
        assert ex.text[c.start : c.start + 10] in pages[c.page - 1]


def test_pdf_title_falls_back_to_first_line() -> None:
    ex = load_bytes("r.pdf", make_pdf(["First line title\nBody of the page."]), ".pdf")
    assert ex.title == "First line title"


WRAPPED_PAGE = """Waiting times for assessments
Northshire County Council had reduced the number of people waiting for a Care Act assessment from 640 to 212 over
the year, and most people were now seen within four weeks of asking for help with their care and support needs.
Staff told us the front door team worked well with health partners. Carers said the occupa-
tional therapy team and the self-
assessment form were easy to use, though some people waited longer than they should have for equipment.
- People could not self-refer for a carer's assessment online
- The council had a plan to open an online form by the spring
Next steps
The council will publish its improvement plan."""


def test_pdf_lines_broken_to_fit_the_page_are_joined_and_offsets_stay_exact() -> None:
    ex = load_bytes("wrapped.pdf", make_pdf([WRAPPED_PAGE, "Page two about safeguarding in Northshire."]), ".pdf")
    lines = ex.text.split("\n")
    assert lines[0] == "Waiting times for assessments"  # a heading keeps its own line
    assert (
        "Northshire County Council had reduced the number of people waiting for a Care Act assessment from 640 to "
        "212 over the year, and most people were now seen within four weeks of asking for help with their care and "
        "support needs." in lines[1]
    )
    assert "occupational therapy team and the self-assessment form were easy to use" in ex.text  # split words
    assert "- People could not self-refer for a carer's assessment online" in lines  # list items stay apart
    assert "- The council had a plan to open an online form by the spring" in lines
    assert "Next steps" in lines
    # The stored text is the joined text: every sentence found in it is quoted exactly by its offsets.
    from cqc_assistant.text import sentences

    found = [ex.text[a:b] for a, b in sentences(ex.text)]
    assert "Staff told us the front door team worked well with health partners." in found
    assert ex.page_at(ex.text.index("Page two")) == 2
    _, sections = detect(ex, "wrapped.pdf")
    for c in chunk_document(ex, sections, max_chars=120):
        assert ex.text[c.start : c.end].strip()


def test_pdf_justified_text_keeps_single_spaces() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "Northshire's leaders were visible and staff felt supported. " * 6, align="J")
    ex = load_bytes("justified.pdf", bytes(pdf.output()), ".pdf")
    assert "  " not in ex.text
    assert ex.text.count("Northshire's leaders were visible and staff felt supported.") == 6
    assert "\n" not in ex.text.strip()


# --- DOCX ----------------------------------------------------------------------------------------------


def test_docx_heading_styles_and_tables() -> None:
    ex = load_bytes("r.docx", make_docx(), ".docx")
    assert ex.text == (
        "Northshire peer challenge\nWorking with people\nAssessments were timely and strengths-based.\n"
        "For consideration\nReduce occupational therapy waits.\nTheme | Score\nSafeguarding | 3"
    )
    assert headings_of(ex) == [
        ("Northshire peer challenge", 1),
        ("Working with people", 1),
        ("For consideration", 2),
    ]
    assert ex.title == "Northshire peer challenge"


# --- suffixes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("report.PDF", None, ".pdf"),
        ("x", "text/html; charset=utf-8", ".html"),
        ("x.bin", "application/pdf", ".pdf"),
        ("page", "image/png", ""),
        ("page.md", "application/octet-stream", ".md"),
    ],
)
def test_suffix_for(name: str, content_type: str | None, expected: str) -> None:
    assert suffix_for(name, content_type) == expected


# --- bad inputs ----------------------------------------------------------------------------------------


def _zip_without_document() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not word")
    return buf.getvalue()


BAD = [
    ("unsupported", "data.xlsx", b"PK\x03\x04 whatever", ".xlsx", "unsupported file type '.xlsx'"),
    ("no suffix", "README", b"text", "", "unsupported file type '(none)'"),
    ("empty", "empty.txt", b"", ".txt", "the file is empty"),
    ("blank", "blank.md", b"  \n\t\r\n", ".md", "the file is empty"),
    ("nul bytes", "bin.txt", b"abc\x00\x01\x02def" * 10, ".txt", "looks like a binary file, not text"),
    ("control chars", "ctl.txt", bytes(range(1, 9)) * 20, ".txt", "looks like a binary file, not text"),
    ("undecodable", "bad.txt", b"caf\xe9 \x81\x8d\x8f\x90", ".txt", "cannot decode the text: not UTF-8"),
    ("not a pdf", "x.pdf", b"hello world", ".pdf", "not a PDF file (no %PDF header)"),
    ("corrupt pdf", "x.pdf", b"%PDF-1.4\n garbage \n%%EOF", ".pdf", "corrupt or unreadable PDF"),
    ("not a zip", "x.docx", b"this is not a zip", ".docx", "not a valid .docx (not a zip archive)"),
    ("zip no doc", "x.docx", _zip_without_document(), ".docx", "not a Word document"),
    ("html no text", "x.html", b"<html><script>x()</script></html>", ".html", "no text could be extracted"),
]


@pytest.mark.parametrize(("name", "data", "suffix", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_source_and_reason(name: str, data: bytes, suffix: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        load_bytes(name, data, suffix)
    assert info.value.source == name
    assert str(info.value).startswith(f"{name}: ")
    assert reason in info.value.reason


def test_encrypted_pdf_is_refused() -> None:
    data = make_pdf(["Secret text about the council."], user_password="secret")
    with pytest.raises(InputError, match=r"^locked\.pdf: the PDF is encrypted \(password protected\)$"):
        load_bytes("locked.pdf", data, ".pdf")


def test_pdf_with_only_an_owner_password_is_readable() -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.set_encryption(owner_password="owner-only")
    pdf.add_page()
    pdf.multi_cell(0, 10, "Readable without a password.")
    assert load_bytes("o.pdf", bytes(pdf.output()), ".pdf").text == "Readable without a password."


def test_truncated_pdf_is_refused() -> None:
    data = make_pdf(["Some text that will be cut off."])
    with pytest.raises(InputError, match="PDF"):
        load_bytes("cut.pdf", data[: len(data) // 3], ".pdf")


def test_read_file_size_limit_and_empty(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputError, match=r"big\.txt: the file is 2,048 bytes, over the 1,024-byte limit"):
        read_file(str(big), 1024)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.md: the file is empty"):
        read_file(str(empty), 1024)
    odd = tmp_path / "photo.jpg"
    odd.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(InputError, match=r"photo\.jpg: unsupported file type '\.jpg'"):
        read_file(str(odd), 1024)
    ok = tmp_path / "ok.txt"
    ok.write_bytes(b"fine\r\n")
    raw = read_file(str(ok), 1024)
    assert (raw.source, raw.data, raw.suffix) == (str(ok), b"fine\r\n", ".txt")
