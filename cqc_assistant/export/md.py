"""The Markdown renderer: inert text (HTML entities, escaped Markdown punctuation), header and footer as lines."""

from __future__ import annotations

import html
import re
from urllib.parse import quote as url_quote

from .model import ExportDocument, Reference
from .text import one_line

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~$!])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])(?=\s|$)")


def md_escape(text: str) -> str:
    """Document text as inert Markdown: HTML entities for < > &, backslashes before Markdown punctuation."""
    escaped = html.escape(one_line(text), quote=False)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return _MD_LINE_START.sub(r"\1\\\2", escaped)


def md_link(address: str) -> str:
    href = url_quote(address, safe=":/?#@!$&'*+,;=%~-._")
    href = href.replace("(", "%28").replace(")", "%29").replace("'", "%27")
    return f"[{md_escape(address)}]({href})"


class MarkdownRenderer:
    """A Markdown file has no pages: the header's council and date follow the title, the footer ends it."""

    def __init__(self, doc: ExportDocument) -> None:
        self.doc = doc
        self.out: list[str] = []

    def heading(self, text: str, level: int) -> None:
        self.out.append(f"{'#' * (level + 1)} {md_escape(text)}\n")
        if level == 0:
            self.out.append(f"_{md_escape(self.doc.subtitle)}_\n")

    def paragraph(self, text: str) -> None:
        self.out.append(f"{md_escape(text)}\n")

    def aside(self, text: str) -> None:
        self.out.append(f"_{md_escape(text)}_\n")

    def bullet(self, text: str) -> None:
        self.out.append(f"- {md_escape(text)}")

    def reference(self, ref: Reference) -> None:
        self.out.append(f"**\\[{ref.n}\\]** {md_escape(' · '.join(ref.where))}\n")
        self.out.append(f"> {md_escape(ref.quote)}\n")
        self.out.append(f"Source: {md_link(ref.address) if ref.is_url else md_escape(ref.address)}\n")

    def finish(self) -> bytes:
        self.out.append(f"---\n\n_{md_escape(self.doc.footer)}_\n")
        text = "\n".join(self.out)
        text = re.sub(r"(?m)^(- .*)\n(?!- )", r"\1\n\n", text)  # a blank line after each list
        return (text.rstrip() + "\n").encode("utf-8")
