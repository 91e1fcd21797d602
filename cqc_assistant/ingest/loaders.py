"""Turn a file's bytes into the stored text that every offset indexes into.

Each loader uses a well-kept library (selectolax, pypdf, python-docx); `.txt` and `.md` are stored exactly as
decoded, with line endings normalised to `\\n`, so offsets can be checked against the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePath

from ..errors import InputError
from ..models import Extracted, Heading

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES

MAX_DOCX_UNZIPPED = 200 * 1024 * 1024
MAX_HTML_NODES = 500_000


def suffix_for(name: str, content_type: str | None = None) -> str:
    """The loader key for a file name or, for URLs, a content type."""
    if content_type:
        ct = content_type.split(";")[0].strip().lower()
        by_type = {
            "text/html": ".html",
            "application/xhtml+xml": ".html",
            "text/plain": ".txt",
            "text/markdown": ".md",
            "application/pdf": ".pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
        }
        if ct in by_type:
            return by_type[ct]
    return PurePath(name).suffix.lower()


def load_bytes(source: str, data: bytes, suffix: str) -> Extracted:
    """Dispatch on the suffix; raise InputError naming the source and the reason."""
    loaders: dict[str, Callable[[str, bytes], Extracted]] = {}
    for s in TEXT_SUFFIXES:
        loaders[s] = load_text
    for s in MARKDOWN_SUFFIXES:
        loaders[s] = load_markdown
    for s in HTML_SUFFIXES:
        loaders[s] = load_html
    loaders[".pdf"] = load_pdf
    loaders[".docx"] = load_docx
    loader = loaders.get(suffix)
    if loader is None:
        kinds = ", ".join(sorted(SUPPORTED))
        raise InputError(source, f"unsupported file type {suffix or '(none)'!r}; supported: {kinds}")
    if not data.strip():
        raise InputError(source, "the file is empty")
    result = loader(source, data)
    if not result.text.strip():
        raise InputError(source, "no text could be extracted")
    return result


# --- plain text and Markdown -------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(source: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; Windows-1252 only when it decodes cleanly."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(source, "invalid UTF-16 text") from None
    else:
        if b"\x00" in data[:8192]:
            raise InputError(source, "looks like a binary file, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise InputError(
                    source, f"cannot decode the text: not UTF-8 (bad byte at position {exc.start})"
                ) from None
    if len(_CONTROL.findall(text[:65536])) > 8:
        raise InputError(source, "looks like a binary file, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_text(source: str, data: bytes) -> Extracted:
    text = decode_text(source, data)
    return Extracted(text=text, title=_first_line(text), content_type="text/plain")


_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


def load_markdown(source: str, data: bytes) -> Extracted:
    text = decode_text(source, data)
    headings = tuple(
        Heading(m.start(2), m.start(2) + len(m.group(2)), len(m.group(1))) for m in _MD_HEADING.finditer(text)
    )
    title = text[headings[0].start : headings[0].end] if headings else _first_line(text)
    return Extracted(text=text, title=title, headings=headings, content_type="text/markdown")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return ""


# --- HTML --------------------------------------------------------------------------------------------

_BLOCK = {
    "p", "li", "dt", "dd", "blockquote", "pre", "caption", "figcaption",
    "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article", "main", "tr", "summary", "address",
}  # fmt: skip
_DROP = "script, style, noscript, template, svg, iframe, object, embed, nav, footer, form, button, select"
_HEAD = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _TextBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []

    def add(self, line: str, level: int | None = None) -> None:
        line = " ".join(line.split())
        if not line:
            return
        if self.parts:
            self.parts.append("\n")
            self.length += 1
        if level is not None:
            self.headings.append(Heading(self.length, self.length + len(line), level))
        self.parts.append(line)
        self.length += len(line)


def load_html(source: str, data: bytes) -> Extracted:
    from selectolax.lexbor import LexborHTMLParser

    html = (
        data.decode("utf-8", errors="replace") if not data.startswith(b"\xff\xfe") else data.decode("utf-16")
    )
    if html.count("<") > MAX_HTML_NODES:
        raise InputError(source, f"HTML has too many elements (over {MAX_HTML_NODES:,})")
    try:
        tree = LexborHTMLParser(html)
    except Exception as exc:  # noqa: BLE001 - the parser's own errors are not typed
        raise InputError(source, f"cannot parse HTML ({exc})") from None
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node else ""
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.body or tree.root
    out = _TextBuilder()
    if root is not None:
        _walk_html(root, out)
    if not title and out.headings:
        h = out.headings[0]
        title = "".join(out.parts)[h.start : h.end]
    return Extracted(
        text="".join(out.parts), title=title, headings=tuple(out.headings), content_type="text/html"
    )


def _walk_html(root: object, out: _TextBuilder) -> None:
    """Emit each block's own inline text as one line, iteratively (deep nesting cannot blow the stack)."""
    stack: list[tuple[object, bool]] = [(root, False)]
    pending: list[str] = []
    while stack:
        node, closing = stack.pop()
        tag = getattr(node, "tag", None)
        if closing:
            out.add("".join(pending), _HEAD.get(str(tag)))
            pending = []
            continue
        if tag == "-text":
            pending.append(getattr(node, "text_content", "") or "")
            continue
        if tag in ("td", "th") and "".join(pending).strip():
            pending.append(" | ")  # a table row is one line, its cells separated as in .docx tables
        if tag == "br":
            out.add("".join(pending))
            pending = []
            continue
        if tag in _BLOCK:
            out.add("".join(pending))
            pending = []
            stack.append((node, True))
        children = []
        child = getattr(node, "child", None)
        while child is not None:
            children.append(child)
            child = child.next
        for c in reversed(children):
            stack.append((c, False))
    out.add("".join(pending))


# --- PDF ---------------------------------------------------------------------------------------------


def load_pdf(source: str, data: bytes) -> Extracted:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise InputError(source, "not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = bool(reader.decrypt(""))
            except Exception:  # noqa: BLE001
                ok = False
            if not ok:
                raise InputError(source, "the PDF is encrypted (password protected)")
        pages: list[int] = []
        parts: list[str] = []
        length = 0
        for page in reader.pages:
            page_text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n")
            page_text = "\n".join(line.rstrip() for line in page_text.split("\n")).strip("\n")
            if parts:
                parts.append("\n\n")
                length += 2
            pages.append(length)
            parts.append(page_text)
            length += len(page_text)
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise InputError(
            source, f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many untyped errors on broken files
        raise InputError(source, f"corrupt or unreadable PDF ({type(exc).__name__})") from None
    text = "".join(parts)
    return Extracted(
        text=text,
        title=title.strip() or _first_line(text),
        pages=tuple(pages),
        content_type="application/pdf",
    )


# --- DOCX --------------------------------------------------------------------------------------------


def load_docx(source: str, data: bytes) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > MAX_DOCX_UNZIPPED:
                raise InputError(
                    source, f"the .docx unpacks to {total:,} bytes (a zip bomb?); limit {MAX_DOCX_UNZIPPED:,}"
                )
            if "word/document.xml" not in zf.namelist():
                raise InputError(source, "not a Word document (no word/document.xml inside)")
    except zipfile.BadZipFile:
        raise InputError(source, "not a valid .docx (not a zip archive)") from None
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        out = _TextBuilder()
        body = document.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                para = Paragraph(child, document)
                style = (para.style.name if para.style is not None else "") or ""
                level = _docx_heading_level(style)
                out.add(para.text, level)
            elif tag == "tbl":
                for row in Table(child, document).rows:
                    out.add(" | ".join(c.text.strip() for c in row.cells if c.text.strip()))
        title = document.core_properties.title or ""
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx/lxml raise many error types on broken files
        raise InputError(source, f"corrupt or unreadable .docx ({type(exc).__name__})") from None
    text = "".join(out.parts)
    if not title and out.headings:
        title = text[out.headings[0].start : out.headings[0].end]
    return Extracted(
        text=text,
        title=title or _first_line(text),
        headings=tuple(out.headings),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


def _docx_heading_level(style: str) -> int | None:
    if style == "Title":
        return 1
    m = re.match(r"Heading (\d)", style)
    return int(m.group(1)) if m else None
