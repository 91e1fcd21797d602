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
from ..text import unwrap_lines

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES

MAX_DOCX_UNZIPPED = 200 * 1024 * 1024
MAX_HTML_NODES = 500_000
MAX_HTML_DEPTH = 10_000  # nested blocks: the parser slows quadratically (10,000 take ~0.3 s)
MAX_DOCX_XML = 64 * 1024 * 1024  # word/document.xml unpacked: a long report's is a few MB
MAX_DOCX_BLOCKS = 200_000  # paragraphs and tables in the body


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


def sniff_utf16(data: bytes) -> str | None:
    """The codec of UTF-16 text without a byte-order mark (mostly Latin text: every other byte zero)."""
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _decode_utf16(source: str, data: bytes) -> str | None:
    """UTF-16 with a BOM, or without one when it is plainly UTF-16; None when the data is not UTF-16."""
    codec = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else sniff_utf16(data)
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise InputError(source, "invalid UTF-16 text") from None


def decode_text(source: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (BOM or plainly UTF-16); Windows-1252 when it decodes cleanly."""
    utf16 = _decode_utf16(source, data)
    if utf16 is not None:
        text = utf16
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


# The closing `#`s and spaces are trimmed in Python: a lazy `(.+?)[ \t#]*$` backtracks quadratically on a
# long line of `# # # ...` (a 1 MB line took hours).
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*)$", re.M)


def load_markdown(source: str, data: bytes) -> Extracted:
    text = decode_text(source, data)
    headings = tuple(
        Heading(m.start(2), m.start(2) + len(heading), len(m.group(1)))
        for m in _MD_HEADING.finditer(text)
        if (heading := m.group(2).rstrip(" \t#"))
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


_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# Blocks whose nesting the HTML parser handles in quadratic time (100,000 nested <div>s take minutes).
_NESTING_TAG = re.compile(
    r"<(/?)(?:div|section|article|aside|blockquote|nav|main|header|footer|ul|ol|dl|menu|dir|center|details|"
    r"dialog|fieldset|figure|figcaption|hgroup|address|search|summary)\b",
    re.I,
)


def decode_html(source: str, data: bytes) -> str:
    """BOMs (UTF-8, UTF-16) first; else UTF-8, else the declared <meta charset>, else Windows-1252.

    UTF-8 with a few bad bytes keeps its good characters (the bad ones become U+FFFD); binary data is refused.
    """
    utf16 = _decode_utf16(source, data)
    if utf16 is not None:
        html = utf16
    elif b"\x00" in data[:8192]:
        raise InputError(source, "looks like a binary file, not HTML")
    else:
        try:
            html = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            declared = _CHARSET.search(data[:8192])
            codecs = [declared.group(1).decode("ascii")] if declared else []
            if not _UTF8_SEQUENCE.search(data):
                codecs.append("cp1252")
            for codec in codecs:
                try:
                    html = data.decode(codec)
                    break
                except (LookupError, UnicodeDecodeError):
                    continue
            else:
                html = data.decode("utf-8-sig", errors="replace")
    if len(_CONTROL.findall(html[:65536])) > 8:
        raise InputError(source, "looks like a binary file, not HTML")
    return html


def _nesting_depth(html: str) -> int:
    depth = deepest = 0
    for m in _NESTING_TAG.finditer(html):
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def load_html(source: str, data: bytes) -> Extracted:
    from selectolax.lexbor import LexborHTMLParser

    html = decode_html(source, data)
    if html.count("<") > MAX_HTML_NODES:
        raise InputError(source, f"HTML has too many elements (over {MAX_HTML_NODES:,})")
    if _nesting_depth(html) > MAX_HTML_DEPTH:
        raise InputError(source, f"HTML is nested too deeply (over {MAX_HTML_DEPTH:,} levels of blocks)")
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
    return Extracted(text="".join(out.parts), title=title, headings=tuple(out.headings), content_type="text/html")


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
            page_text = unwrap_lines(page_text).strip("\n")
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
        raise InputError(source, f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
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
            xml_size = zf.getinfo("word/document.xml").file_size
            if xml_size > MAX_DOCX_XML:
                raise InputError(
                    source, f"the document's text part unpacks to {xml_size:,} bytes; limit {MAX_DOCX_XML:,}"
                )
    except zipfile.BadZipFile:
        raise InputError(source, "not a valid .docx (not a zip archive)") from None
    try:
        import docx
        from docx.enum.style import WD_STYLE_TYPE
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        # Style names looked up once: python-docx's `paragraph.style` scans every style for each paragraph,
        # which takes minutes on a document of a few hundred thousand paragraphs.
        style_names = {s.style_id: s.name or "" for s in document.styles}
        default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        default_name = (default.name or "") if default is not None else ""
        out = _TextBuilder()
        body = document.element.body
        if len(body) > MAX_DOCX_BLOCKS:
            raise InputError(source, f"the document has too many paragraphs and tables (over {MAX_DOCX_BLOCKS:,})")
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                style_id = child.style
                style = style_names.get(style_id, default_name) if style_id else default_name
                out.add(Paragraph(child, document).text, _docx_heading_level(style))
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
