"""Render a plain-text document as HTML, DOCX or PDF, the way such pages are published, for bench/detect.py.

Block structure is read from the text: `=== X ===` and `### X` lines are headings, `-`/`•` lines bullets,
`1.` lines numbered items, lines with `|` table rows, everything else a paragraph. HTML and DOCX lists lose
their numbers (as `<ol>` and Word numbering do when their text is extracted); PDF text is wrapped by the
page width, so its lines break mid-sentence as real PDFs do.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

_HEADING = re.compile(r"^\s*(?:===\s*(.+?)\s*===|#{1,6}\s+(.+))\s*$")
_BULLET = re.compile(r"^\s*[-•*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,2})[.)]\s+(.*)$")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Block:
    kind: str  # heading | bullet | number | row | para
    text: str
    cells: tuple[str, ...] = ()
    number: str = ""


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if m := _HEADING.match(line):
            out.append(Block("heading", (m.group(1) or m.group(2)).strip()))
        elif m := _BULLET.match(line):
            out.append(Block("bullet", m.group(1).strip()))
        elif m := _NUMBERED.match(line):
            out.append(Block("number", m.group(2).strip(), number=m.group(1)))
        elif line.count("|") >= 1 and len(line) < 300:
            cells = tuple(c.strip() for c in line.strip().strip("|").split("|"))
            out.append(Block("row", line.strip(), cells=cells))
        else:
            out.append(Block("para", line.strip()))
    return out


def to_html(text: str) -> bytes:
    parts = ["<html><head><meta charset='utf-8'></head><body>"]
    open_list = ""
    open_table = False
    for b in blocks(text):
        want_list = {"bullet": "ul", "number": "ol"}.get(b.kind, "")
        if open_list and want_list != open_list:
            parts.append(f"</{open_list}>")
            open_list = ""
        if open_table and b.kind != "row":
            parts.append("</table>")
            open_table = False
        if want_list and not open_list:
            parts.append(f"<{want_list}>")
            open_list = want_list
        if b.kind == "row" and not open_table:
            parts.append("<table>")
            open_table = True
        if b.kind == "heading":
            parts.append(f"<h2>{html.escape(b.text)}</h2>")
        elif want_list:
            parts.append(f"<li>{html.escape(b.text)}</li>")
        elif b.kind == "row":
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in b.cells) + "</tr>")
        else:
            parts.append(f"<p>{html.escape(b.text)}</p>")
    if open_list:
        parts.append(f"</{open_list}>")
    if open_table:
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


def to_docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    rows: list[tuple[str, ...]] = []

    def flush() -> None:
        if not rows:
            return
        width = max(len(r) for r in rows)
        table = document.add_table(rows=len(rows), cols=width)
        for i, r in enumerate(rows):
            for j, c in enumerate(r):
                table.rows[i].cells[j].text = c
        rows.clear()

    for b in blocks(text):
        if b.kind != "row":
            flush()
        if b.kind == "heading":
            document.add_heading(b.text, level=2)
        elif b.kind == "bullet":
            document.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "number":
            document.add_paragraph(b.text, style="List Number")
        elif b.kind == "row":
            rows.append(b.cells)
        else:
            document.add_paragraph(b.text)
    flush()
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def to_pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
        family = "DejaVu"
    else:  # the core font covers Latin-1 only: replace what it cannot draw
        family = "helvetica"
        trans = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "•": "-"})
        text = text.translate(trans).encode("latin-1", "replace").decode("latin-1")
    pdf.add_page()
    for b in blocks(text):
        if b.kind == "heading":
            pdf.set_font(family, "B", 13)
            pdf.multi_cell(0, 7, b.text)
            pdf.ln(2)
            continue
        pdf.set_font(family, "", 10)
        if b.kind == "bullet":
            line = f"• {b.text}" if family == "DejaVu" else f"- {b.text}"
        elif b.kind == "number":
            line = f"{b.number}. {b.text}"
        elif b.kind == "row":
            line = " | ".join(b.cells)
        else:
            line = b.text
        pdf.multi_cell(0, 5, line)
        pdf.ln(1)
    return bytes(pdf.output())


RENDERERS = {"html": to_html, "docx": to_docx, "pdf": to_pdf}
