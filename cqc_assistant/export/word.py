"""The Word (DOCX) renderer: A4 pages, a running header, and a footer with the library's date and "Page n of m"."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_COLOR_INDEX, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .model import ExportDocument, Reference
from .text import clean

GREY = RGBColor(0x55, 0x55, 0x55)
LINK_BLUE = "1F4E9A"
A4_MM = (210, 297)
MARGIN_MM = 20


class WordRenderer:
    def __init__(self, doc: ExportDocument) -> None:
        self.word = Document()
        props = self.word.core_properties
        props.title = clean(doc.title)[:250]
        props.author = "cqc-assistant"
        props.created = doc.generated_at.replace(tzinfo=None)
        section = self.word.sections[0]
        section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
        section.left_margin = section.right_margin = Mm(MARGIN_MM)
        section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
        width = section.page_width - section.left_margin - section.right_margin

        head = section.header.paragraphs[0]
        _small(head.add_run(clean(doc.header)))
        foot = section.footer.paragraphs[0]
        foot.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
        _small(foot.add_run(clean(doc.footer) + "\t"))
        for text, field, cached in (("Page ", "PAGE", "1"), (" of ", "NUMPAGES", "1")):
            _small(foot.add_run(text))
            _field(foot, field, cached)

    def heading(self, text: str, level: int) -> None:
        self.word.add_heading(clean(text), level=level)

    def paragraph(self, text: str) -> None:
        self.word.add_paragraph(clean(text))

    def aside(self, text: str) -> None:
        run = _small(self.word.add_paragraph().add_run(clean(text)))
        run.italic = True

    def bullet(self, text: str) -> None:
        self.word.add_paragraph(clean(text), style="List Bullet")

    def reference(self, ref: Reference) -> None:
        p = self.word.add_paragraph()
        p.add_run(f"[{ref.n}] ").bold = True
        quote = p.add_run(f"“{clean(ref.quote)}”")
        quote.italic = True
        quote.font.highlight_color = WD_COLOR_INDEX.YELLOW
        _small(self.word.add_paragraph().add_run(clean(" · ".join(ref.where))))
        src = self.word.add_paragraph()
        _small(src.add_run("Source: "))
        if ref.is_url:
            _link(src, ref.address, clean(ref.address))
        else:
            _small(src.add_run(clean(ref.address)))

    def finish(self) -> bytes:
        buf = io.BytesIO()
        self.word.save(buf)
        return buf.getvalue()


def _small(run: Any) -> Any:
    run.font.size = Pt(9)
    run.font.color.rgb = GREY
    return run


def _field(paragraph: Any, instruction: str, cached: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when the page is laid out."""

    def char(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    begin, separate, end = char("begin"), char("separate"), char("end")
    _small(paragraph.add_run())._r.append(begin)
    instr_run = _small(paragraph.add_run())
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    instr_run._r.append(instr)
    _small(paragraph.add_run())._r.append(separate)
    _small(paragraph.add_run(cached))
    _small(paragraph.add_run())._r.append(end)


def _link(paragraph: Any, url: str, text: str) -> None:
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    for tag, value in (("w:u", "single"), ("w:color", LINK_BLUE), ("w:sz", "18")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), value)
        props.append(el)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)
