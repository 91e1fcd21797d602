"""Exports: a cited answer, a whole conversation, or an interview-prep briefing as Markdown, DOCX or PDF.

Every quote is printed with its document title, section, page, character offsets and source, with a
timestamp and the library version, so a reader can find the exact passage again. All functions are pure
(they return bytes) and never import Streamlit.

Document-derived text is escaped for each format: in Markdown, HTML `<`, `>` and `&` become entities and
Markdown punctuation is backslash-escaped, so a `<script>` inside a quote stays text when the file is
rendered; in DOCX, characters XML cannot hold are dropped; in PDF, text the font cannot show is replaced.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote as url_quote

from . import __version__
from .briefing import Briefing, BriefingLine
from .errors import QueryError
from .models import Answer, Citation

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Block",
    "answer_blocks",
    "briefing_blocks",
    "conversation_blocks",
    "export_answer",
    "export_briefing",
    "export_conversation",
    "export_filename",
    "md_escape",
    "render",
    "safe_filename",
]

Format = Literal["md", "docx", "pdf"]
FORMATS: tuple[Format, ...] = ("md", "docx", "pdf")
MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
FORMAT_NAMES = {"md": "Markdown", "docx": "Word (DOCX)", "pdf": "PDF"}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Block:
    """One piece of an export, independent of format.

    kind: title | meta | heading | subheading | text | item | note | ref
    A `ref` block carries a citation and is printed with its quote and where to find it.
    """

    kind: str
    text: str = ""
    citation: Citation | None = None


# --- building the blocks -------------------------------------------------------------------------


def _stamp(generated_at: datetime | None) -> str:
    when = generated_at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _meta(library_version: int, generated_at: datetime | None) -> Block:
    return Block(
        "meta",
        f"Exported {_stamp(generated_at)} · library version {library_version} · cqc-assistant {__version__}",
    )


def _filters_text(filters: dict[str, object]) -> str:
    if not filters:
        return "Filters: none"
    return "Filters: " + ", ".join(f"{k}={v}" for k, v in filters.items())


def _answer_body(answer: Answer, number: int | None = None) -> list[Block]:
    label = f"Question {number}: " if number is not None else "Question: "
    out = [Block("heading", label + answer.question)]
    out.append(Block("note", _filters_text(answer.filters)))
    out.append(Block("text", answer.answer))
    if answer.notice:
        out.append(Block("note", answer.notice))
    if answer.refused:
        if answer.searched:
            out.append(Block("subheading", "Documents searched"))
            out.extend(Block("item", title) for title in answer.searched)
    elif answer.citations:
        out.append(Block("subheading", "Sources"))
        out.extend(Block("ref", citation=c) for c in answer.citations)
    return out


def answer_blocks(answer: Answer, *, library_version: int, generated_at: datetime | None = None) -> list[Block]:
    return [
        Block("title", "CQC Assistant: cited answer"),
        _meta(library_version, generated_at),
        *_answer_body(answer),
    ]


def conversation_blocks(
    answers: Sequence[Answer], *, library_version: int, generated_at: datetime | None = None
) -> list[Block]:
    out = [Block("title", "CQC Assistant: conversation"), _meta(library_version, generated_at)]
    if not answers:
        out.append(Block("text", "No questions were asked."))
    for i, a in enumerate(answers, 1):
        out.extend(_answer_body(a, i))
    return out


def briefing_blocks(briefing: Briefing, *, generated_at: datetime | None = None) -> list[Block]:
    out = [Block("title", briefing.title), _meta(briefing.library_version, generated_at)]
    out.extend(Block("note", n) for n in briefing.notes)

    def item(line: BriefingLine) -> Block:
        return Block("item", f"{line.text} [{line.citation.n}]")

    for s in briefing.statements:
        out.append(Block("heading", f"QS{s.qs} {s.name}"))
        if s.score_line is not None:
            out.append(Block("text", f"{s.score_line.text} [{s.score_line.citation.n}]"))
        else:
            out.append(Block("note", "No score for this quality statement is stated in the library."))
        for name, lines in s.groups():
            out.append(Block("subheading", name))
            if not lines:
                out.append(Block("note", "Nothing found in the library."))
            out.extend(item(x) for x in lines)
    cites = briefing.citations()
    if cites:
        out.append(Block("heading", "Sources"))
        out.extend(Block("ref", citation=c) for c in cites)
    return out


def _where(c: Citation) -> list[str]:
    """The citation's coordinates, each a short phrase."""
    parts = [c.title]
    if c.section and c.section != c.title:
        parts.append(f"section: {c.section}")
    if c.page is not None:
        parts.append(f"page {c.page}")
    parts.append(f"characters {c.start}–{c.end}")
    parts.append(f"document {c.doc_id}")
    if c.council:
        parts.append(c.council)
    return parts


# --- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~$!])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])(?=\s|$)")


def md_escape(text: str) -> str:
    """Document text as inert Markdown: HTML entities for < > &, backslashes before Markdown punctuation."""
    one_line = " ".join(_clean(text).split())
    escaped = html.escape(one_line, quote=False)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return _MD_LINE_START.sub(r"\1\\\2", escaped)


def _md_link(source: str) -> str:
    if re.match(r"https?://", source, re.I):
        href = url_quote(source, safe=":/?#@!$&'*+,;=%~-._")
        href = href.replace("(", "%28").replace(")", "%29").replace("'", "%27")
        return f"[{md_escape(source)}]({href})"
    return md_escape(source)


def _render_md(blocks: Iterable[Block]) -> bytes:
    out: list[str] = []
    for b in blocks:
        if b.kind == "title":
            out.append(f"# {md_escape(b.text)}\n")
        elif b.kind == "meta":
            out.append(f"_{md_escape(b.text)}_\n")
        elif b.kind == "heading":
            out.append(f"## {md_escape(b.text)}\n")
        elif b.kind == "subheading":
            out.append(f"### {md_escape(b.text)}\n")
        elif b.kind == "item":
            out.append(f"- {md_escape(b.text)}")
        elif b.kind == "note":
            out.append(f"_{md_escape(b.text)}_\n")
        elif b.kind == "ref" and b.citation is not None:
            c = b.citation
            out.append(f"**\\[{c.n}\\]** {md_escape(' · '.join(_where(c)))}\n")
            out.append(f"> {md_escape(c.quote)}\n")
            out.append(f"Source: {_md_link(c.source)}\n")
        else:
            out.append(f"{md_escape(b.text)}\n")
    text = "\n".join(out)
    text = re.sub(r"(?m)^(- .*)\n(?!- )", r"\1\n\n", text)  # a blank line after each list
    return (text.rstrip() + "\n").encode("utf-8")


# --- DOCX ----------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    """Drop control characters and lone surrogates, which no export format can hold."""
    return _XML_BAD.sub("", text or "")


def _render_docx(blocks: Iterable[Block], title: str, generated_at: datetime | None) -> bytes:
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = _clean(title)[:250]
    doc.core_properties.author = "cqc-assistant"
    doc.core_properties.created = (generated_at or datetime.now(UTC)).replace(tzinfo=None)
    grey = RGBColor(0x55, 0x55, 0x55)
    for b in blocks:
        text = _clean(b.text)
        if b.kind == "title":
            doc.add_heading(text, level=0)
        elif b.kind == "heading":
            doc.add_heading(text, level=1)
        elif b.kind == "subheading":
            doc.add_heading(text, level=2)
        elif b.kind in ("meta", "note"):
            run = doc.add_paragraph().add_run(text)
            run.italic = True
            run.font.size = Pt(9)
            run.font.color.rgb = grey
        elif b.kind == "item":
            doc.add_paragraph(text, style="List Bullet")
        elif b.kind == "ref" and b.citation is not None:
            c = b.citation
            p = doc.add_paragraph()
            p.add_run(f"[{c.n}] ").bold = True
            quote = p.add_run(f"“{_clean(c.quote)}”")
            quote.italic = True
            quote.font.highlight_color = WD_COLOR_INDEX.YELLOW
            where = doc.add_paragraph()
            info = where.add_run(_clean(" · ".join(_where(c))))
            info.font.size = Pt(9)
            info.font.color.rgb = grey
            src = doc.add_paragraph()
            label = src.add_run("Source: ")
            label.font.size = Pt(9)
            if re.match(r"https?://", c.source, re.I):
                _docx_link(src, c.source, _clean(c.source))
            else:
                run = src.add_run(_clean(c.source))
                run.font.size = Pt(9)
        else:
            doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_link(paragraph: object, url: str, text: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    part = paragraph.part  # type: ignore[attr-defined]
    r_id = part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:u")
    style.set(qn("w:val"), "single")
    props.append(style)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "1F4E9A")
    props.append(colour)
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "18")
    props.append(size)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)  # type: ignore[attr-defined]


# --- PDF -----------------------------------------------------------------------------------------

_LATIN1_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"',
        "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u200b": "", "\u2192": "->",
    }
)  # fmt: skip


def _latin1(text: str) -> str:
    """Text the PDF core fonts can show: fold typographic punctuation, strip accents, '?' for the rest."""
    text = _clean(text).translate(_LATIN1_FOLD)
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


class _Pdf:
    def __init__(self, title: str, generated_at: datetime | None) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(18, 16, 18)
        self.pdf.set_title(_latin1(title))
        self.pdf.set_author("cqc-assistant")
        self.pdf.set_creation_date(generated_at or datetime.now(UTC))
        self.family = "Helvetica"
        self.unicode = False
        regular, bold, oblique = (
            DEJAVU / "DejaVuSans.ttf",
            DEJAVU / "DejaVuSans-Bold.ttf",
            DEJAVU / "DejaVuSans-Oblique.ttf",
        )
        if regular.is_file():
            try:
                self.pdf.add_font("DejaVu", "", str(regular))
                self.pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
                self.pdf.add_font("DejaVu", "I", str(oblique if oblique.is_file() else regular))
                self.family, self.unicode = "DejaVu", True
            except Exception:  # noqa: BLE001 - a broken font file: fall back to the core font
                self.family, self.unicode = "Helvetica", False
        self.pdf.add_page()

    def text(self, text: str) -> str:
        return _clean(text) if self.unicode else _latin1(text)

    def para(
        self, text: str, *, size: float = 10.5, style: str = "", colour: tuple[int, int, int] = (0, 0, 0),
        indent: float = 0, gap: float = 1.5, link: str | None = None,
    ) -> None:  # fmt: skip
        from fpdf.enums import WrapMode, XPos, YPos

        pdf = self.pdf
        pdf.set_font(self.family, style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(
            w=pdf.epw - indent, h=size * 0.5, text=self.text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT,
            align="L", wrapmode=WrapMode.CHAR if _longest_word(text) > 60 else WrapMode.WORD, link=link or "",
        )  # fmt: skip
        pdf.ln(gap)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _render_pdf(blocks: Iterable[Block], title: str, generated_at: datetime | None) -> bytes:
    doc = _Pdf(title, generated_at)
    grey = (90, 90, 90)
    dot = " · " if doc.unicode else " - "
    for b in blocks:
        if b.kind == "title":
            doc.para(b.text, size=17, style="B", gap=2)
        elif b.kind == "heading":
            doc.pdf.ln(2)
            doc.para(b.text, size=13.5, style="B", gap=1.5)
        elif b.kind == "subheading":
            doc.para(b.text, size=11.5, style="B", gap=1)
        elif b.kind in ("meta", "note"):
            doc.para(b.text, size=9, style="I", colour=grey)
        elif b.kind == "item":
            doc.para(("• " if doc.unicode else "- ") + b.text, indent=3)
        elif b.kind == "ref" and b.citation is not None:
            c = b.citation
            doc.para(f"[{c.n}] {dot.join(_where(c))}", size=9.5, style="B", gap=0.5)
            doc.para(f"“{c.quote}”", style="I", indent=4, gap=0.5)
            is_url = bool(re.match(r"https?://", c.source, re.I))
            doc.para(
                f"Source: {c.source}",
                size=8.5,
                colour=grey,
                indent=4,
                gap=2.5,
                link=c.source if is_url else None,
            )
        else:
            doc.para(b.text)
    return doc.output()


# --- public API ----------------------------------------------------------------------------------


_FORMAT_ALIASES: dict[str, Format] = {
    "md": "md",
    "markdown": "md",
    "docx": "docx",
    "word": "docx",
    "pdf": "pdf",
}


def _check(fmt: str) -> Format:
    f = _FORMAT_ALIASES.get((fmt or "").strip().lower().lstrip("."))
    if f is None:
        raise QueryError(f"unknown export format {fmt!r}: use md, docx or pdf")
    return f


def render(blocks: Sequence[Block], fmt: str, *, generated_at: datetime | None = None) -> bytes:
    """Blocks as the bytes of one file in `fmt` (md, docx or pdf)."""
    f = _check(fmt)
    title = next((b.text for b in blocks if b.kind == "title"), "CQC Assistant export")
    if f == "md":
        return _render_md(blocks)
    if f == "docx":
        return _render_docx(blocks, title, generated_at)
    return _render_pdf(blocks, title, generated_at)


def export_answer(answer: Answer, fmt: str, *, library_version: int, generated_at: datetime | None = None) -> bytes:
    blocks = answer_blocks(answer, library_version=library_version, generated_at=generated_at)
    return render(blocks, fmt, generated_at=generated_at)


def export_conversation(
    answers: Sequence[Answer], fmt: str, *, library_version: int, generated_at: datetime | None = None
) -> bytes:
    blocks = conversation_blocks(answers, library_version=library_version, generated_at=generated_at)
    return render(blocks, fmt, generated_at=generated_at)


def export_briefing(briefing: Briefing, fmt: str, *, generated_at: datetime | None = None) -> bytes:
    return render(briefing_blocks(briefing, generated_at=generated_at), fmt, generated_at=generated_at)


_ASCII_FOLD = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Đ": "D",
        "đ": "d",
        "Œ": "OE",
        "œ": "oe",
    }
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def safe_filename(name: str, *, default: str = "export", max_length: int = 80) -> str:
    """A file name safe on every common system: ASCII letters, digits, '.', '_' and '-' only.

    Path separators, control characters, leading dots and Windows device names are removed, runs of
    anything else become one '-', and the result is at most `max_length` characters (extension kept).
    """
    folded = unicodedata.normalize("NFKD", (name or "").translate(_ASCII_FOLD))
    folded = folded.encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).strip(".-_ ")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"[-_]+\.|\.[-_]+", ".", cleaned)
    if not cleaned or cleaned.split(".")[0].lower() in _RESERVED:
        cleaned = (default + "-" + cleaned).strip("-.") if cleaned else default
    if len(cleaned) > max_length:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 8 and stem:
            cleaned = stem[: max_length - len(ext) - 1].rstrip(".-_") + "." + ext
        else:
            cleaned = cleaned[:max_length].rstrip(".-_")
    return cleaned or default


def export_filename(stem: str, fmt: str) -> str:
    """A safe file name for an export: the stem shortened and sanitised, with the format's extension."""
    f = _check(fmt)
    base = safe_filename(stem, default="cqc-export", max_length=60)
    return f"{base}.{f}"
