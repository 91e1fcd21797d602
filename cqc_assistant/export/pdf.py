"""The PDF renderer (fpdf2): A4 pages, a running header, and a footer with the library's date and "Page n of m".

DejaVu Sans is used where Debian installs it, so any character prints; without it the core Helvetica font
prints text folded to Latin-1.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

from .model import APP_NAME, ExportDocument, Reference
from .text import clean, latin1

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
GREY = (90, 90, 90)
MARGINS = (18, 20, 18)  # left, top, right in mm; the header sits above the top margin
BOTTOM = 18


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


class _Pages(FPDF):
    """FPDF with this export's header and footer on every page ({nb} becomes the page count)."""

    def __init__(self, doc: ExportDocument) -> None:
        super().__init__(format="A4")
        self.doc = doc
        self.family = "Helvetica"
        self.unicode = False
        regular, bold, oblique = (DEJAVU / f"DejaVuSans{s}.ttf" for s in ("", "-Bold", "-Oblique"))
        if regular.is_file():
            try:
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
                self.add_font("DejaVu", "I", str(oblique if oblique.is_file() else regular))
                self.family, self.unicode = "DejaVu", True
            except Exception:  # noqa: BLE001 - a broken font file: fall back to the core font
                self.family, self.unicode = "Helvetica", False

    def shown(self, text: str) -> str:
        return clean(text) if self.unicode else latin1(text)

    def fitted(self, text: str, width: float) -> str:
        """`text` in the current font, shortened at a word with "…" if it would run past `width` mm."""
        ellipsis = "…" if self.unicode else "..."
        words = self.shown(text).split(" ")
        shown = " ".join(words)
        while len(words) > 1 and self.get_string_width(shown) > width:
            words.pop()
            shown = " ".join(words).rstrip(" ·-,:") + ellipsis
        return shown

    def header(self) -> None:
        self.set_y(8)
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        self.cell(w=self.epw, h=4, text=self.fitted(self.doc.header, self.epw), align=Align.L)
        self.line(self.l_margin, 13, self.w - self.r_margin, 13)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        page = f"Page {self.page_no()} of {{nb}}"
        self.cell(w=self.epw - 30, h=4, text=self.fitted(self.doc.footer, self.epw - 30), align=Align.L)
        self.cell(w=30, h=4, text=page, align=Align.R)


class PdfRenderer:
    def __init__(self, doc: ExportDocument) -> None:
        pdf = self.pdf = _Pages(doc)
        pdf.set_auto_page_break(auto=True, margin=BOTTOM)
        pdf.set_margins(*MARGINS)
        pdf.set_title(pdf.shown(doc.title))
        pdf.set_author(APP_NAME)
        pdf.set_creation_date(doc.generated_at)
        pdf.add_page()
        self.dot = " · " if pdf.unicode else " - "

    def _para(
        self, text: str, *, size: float = 10.5, style: str = "", colour: tuple[int, int, int] = (0, 0, 0),
        indent: float = 0, gap: float = 1.5, link: str | None = None,
    ) -> None:  # fmt: skip
        pdf = self.pdf
        pdf.set_font(pdf.family, style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(
            w=pdf.epw - indent, h=size * 0.5, text=pdf.shown(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT,
            align="L", wrapmode=WrapMode.CHAR if _longest_word(text) > 60 else WrapMode.WORD, link=link or "",
        )  # fmt: skip
        pdf.ln(gap)

    def heading(self, text: str, level: int) -> None:
        if level == 1:
            self.pdf.ln(2)
        size, gap = ((17, 2), (13.5, 1.5), (11.5, 1))[min(level, 2)]
        self._para(text, size=size, style="B", gap=gap)

    def paragraph(self, text: str) -> None:
        self._para(text)

    def aside(self, text: str) -> None:
        self._para(text, size=9, style="I", colour=GREY)

    def bullet(self, text: str) -> None:
        self._para(("• " if self.pdf.unicode else "- ") + text, indent=3)

    def reference(self, ref: Reference) -> None:
        self._para(f"[{ref.n}] {self.dot.join(ref.where)}", size=9.5, style="B", gap=0.5)
        self._para(f"“{ref.quote}”", style="I", indent=4, gap=0.5)
        link = ref.address if ref.is_url else None
        self._para(f"Source: {ref.address}", size=8.5, colour=GREY, indent=4, gap=2.5, link=link)

    def finish(self) -> bytes:
        return bytes(self.pdf.output())
