"""Text as every export format can hold it: control characters dropped, PDF line breaks joined, Latin-1 folding."""

from __future__ import annotations

import re
import unicodedata

from ..text import straighten

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

# What the PDF core fonts lack, beyond the typographic quotes and dashes `straighten` folds.
_LATIN1_FOLD = str.maketrans({"\u2026": "...", "\u2022": "*", "\u2009": " ", "\u200b": "", "\u2192": "->"})


def clean(text: str) -> str:
    """Drop control characters and lone surrogates, which no export format can hold."""
    return _XML_BAD.sub("", text or "")


def one_line(text: str) -> str:
    """The text as one line: a PDF's hard line breaks inside a sentence become single spaces.

    Only what an export shows is changed; stored text and its offsets are untouched.
    """
    return " ".join(clean(text).split())


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each as one line (the breaks a writer meant are kept)."""
    return [p for p in (one_line(part) for part in _BLANK_LINE.split(text or "")) if p]


def latin1(text: str) -> str:
    """Text the PDF core fonts can show: fold typographic punctuation, strip accents, '?' for the rest."""
    text = straighten(clean(text)).translate(_LATIN1_FOLD)
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)
