"""Safe file names for exports: ASCII, no path parts, no device names, shortened at a word boundary."""

from __future__ import annotations

import re
import unicodedata

_ASCII_FOLD = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Đ": "D", "đ": "d", "Œ": "OE",
     "œ": "oe"}
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
# A cut goes back to the last word boundary unless that would lose more than this share of the room.
WORD_CUT_SHARE = 0.5


def _cut(text: str, room: int) -> str:
    """`text` in at most `room` characters, ending at a whole word where one ends in the second half."""
    if len(text) <= room:
        return text
    if text[room] in "-_.":
        return text[:room].rstrip(".-_")
    head = text[:room]
    boundary = max(head.rfind("-"), head.rfind("_"), head.rfind("."))
    if boundary >= room * WORD_CUT_SHARE:
        head = head[:boundary]
    return head.rstrip(".-_")


def safe_filename(name: str, *, default: str = "export", max_length: int = 80) -> str:
    """A file name safe on every common system: ASCII letters, digits, '.', '_' and '-' only.

    Path separators, control characters, leading dots and Windows device names are removed, runs of
    anything else become one '-', and the result is at most `max_length` characters (extension kept),
    shortened at a word boundary so no word is cut in half.
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
            cleaned = _cut(stem, max_length - len(ext) - 1) + "." + ext
        else:
            cleaned = _cut(cleaned, max_length)
    return cleaned or default


def with_extension(stem: str, ext: str) -> str:
    """A safe file name for an export: the stem shortened at a word boundary, then the extension."""
    base = safe_filename(stem.replace(".", " "), default="cqc-export", max_length=60)  # no false extension
    return f"{base}.{ext}"
