"""Where an export says its quotes come from: each document's own web address, and the library's date.

A reader of a filed export needs an address they can open, not the store's internal source label
("upload:report.pdf"): the URL a document was fetched from; else the address the document prints of
itself (a browser's "Save as PDF" of a CQC page prints the page's URL on a line near the top); else the
file's name.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from ..errors import NotFoundError
from ..models import Citation

if TYPE_CHECKING:
    from ..library import Library

# How far into a document its printed address may sit, and how many other words its line may hold (a page
# counter, a date, "Source:"; a sentence that mentions a link in passing is not the document's address).
ADDRESS_WINDOW = 3000
ADDRESS_LINE_WORDS = 4

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.I)
_TRAILING = ".,;:!?)]}»”’"


def is_web_address(value: str) -> bool:
    return bool(re.match(r"https?://\S", value or "", re.I))


def printed_address(text: str) -> str | None:
    """The first web address near the top of `text` that stands on a line of its own (give or take a page
    counter or a date), or None."""
    for line in (text or "")[:ADDRESS_WINDOW].splitlines():
        stripped = line.strip()
        m = _URL.search(stripped)
        if m is None:
            continue
        url = m.group(0).rstrip(_TRAILING)
        rest = stripped[: m.start()] + " " + stripped[m.end() :]
        if len(rest.split()) <= ADDRESS_LINE_WORDS and len(url) > len("https://x.y"):
            return url
    return None


def file_name(source: str) -> str:
    """A source label as the file name a reader would recognise: "upload:dir/Report.pdf" → "Report.pdf"."""
    label = source or ""
    scheme, sep, rest = label.partition(":")
    if sep and scheme.isalpha() and len(scheme) > 1 and not rest.startswith("//"):
        label = rest  # "upload:", "file:" and the like; a one-letter scheme is a Windows drive
    name = PureWindowsPath(label).name if "\\" in label else PurePosixPath(label).name
    return name or label


def document_address(source: str, text: str = "") -> str:
    """The address an export prints for a document: its source URL, else the URL it prints, else its file name."""
    if is_web_address(source):
        return source
    return printed_address(text) or file_name(source)


@dataclass(frozen=True)
class LibraryFacts:
    """What an export states about the library it was made from."""

    version: int = 0
    changed: date | None = None  # when the library last changed (its newest document's ingest)
    addresses: Mapping[str, str] = field(default_factory=dict)  # doc_id -> document_address

    def address(self, citation: Citation) -> str:
        found = self.addresses.get(citation.doc_id)
        return found if found is not None else document_address(citation.source)


def _day(stamp: str) -> date | None:
    try:
        return datetime.fromisoformat(stamp).date()
    except ValueError:
        return None


def library_facts(lib: Library, citations: Iterable[Citation] = ()) -> LibraryFacts:
    """The library's version and date, and the address of every document the citations quote."""
    days = [d for d in (_day(doc.ingested_at) for doc in lib.documents()) if d is not None]
    addresses: dict[str, str] = {}
    for c in citations:
        if c.doc_id in addresses:
            continue
        text = ""
        if not is_web_address(c.source):
            with contextlib.suppress(NotFoundError):  # removed since quoted: its file name still tells
                text = lib.text(c.doc_id)[:ADDRESS_WINDOW]
        addresses[c.doc_id] = document_address(c.source, text)
    return LibraryFacts(version=lib.version(), changed=max(days, default=None), addresses=addresses)
