"""English councils with adult social care duties: finding them in text and matching user input.

The list ships as package data (`data/councils.tsv`); names not on it are still found when written in full
("Anytown Borough Council").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from .domain import NHS_BODY_AFTER_PLACE

# Short names that are also ordinary words: only their full council name counts.
_AMBIGUOUS = {"reading", "bury", "sutton", "halton", "rutland", "york", "derby", "bath", "poole"}
_FULL = re.compile(
    r"\b((?:[A-Z][a-zA-Z'’-]+[ \t]+){0,3}?(?:[A-Z][a-zA-Z'’-]+))[ \t]+"
    r"(City|County|Borough|Metropolitan Borough|District|Unitary)[ \t]+Council\b"
)
# A place's name that opens an NHS body's ("Derbyshire Integrated Care Board") names that body, not the council.
_NHS_BODY = re.compile(rf"[ \t]+(?:{NHS_BODY_AFTER_PLACE})\b")
_LONDON = re.compile(
    r"\b(?:London|Royal) Borough of ((?:[A-Z][a-z]+)(?:\s+(?:and|upon)\s+[A-Z][a-z]+|\s+[A-Z][a-z]+)?)"
)


@dataclass(frozen=True)
class Council:
    name: str
    short: str
    aliases: tuple[str, ...]

    @property
    def key(self) -> str:
        return council_key(self.short)


@lru_cache(maxsize=8192)
def council_key(name: str) -> str:
    """A stable lower-case key: 'Liverpool City Council' and 'liverpool' both give 'liverpool'.

    Memoised: a refusal compares every document's councils with the filter (19k calls, 120 ms at 100k
    chunks), and the names repeat."""
    s = name.lower().replace("’", "'").replace("&", "and")
    s = re.sub(r"'s\b", "", s)
    s = re.sub(
        r"\b(the|london borough of|royal borough of|city of|borough of|council|county|city|"
        r"metropolitan|borough|district|unitary|corporation|mbc|cc)\b",
        " ",
        s,
    )
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return s or name.lower().strip()


def council_token(name: str) -> str:
    """The council key as one token (spaces → '_'): how chunks are tagged in SQLite and in Chroma metadata,
    so ingest and search encode it the same way."""
    return council_key(name).replace(" ", "_")


@cache
def known_councils() -> tuple[Council, ...]:
    raw = resources.files("cqc_assistant").joinpath("data/councils.tsv").read_text(encoding="utf-8")
    out = []
    for line in raw.splitlines()[1:]:
        if not line.strip():
            continue
        name, short, aliases = (line.split("\t") + ["", ""])[:3]
        out.append(Council(name.strip(), short.strip(), tuple(a.strip() for a in aliases.split("|") if a.strip())))
    return tuple(out)


@cache
def _lookup() -> tuple[re.Pattern[str], dict[str, Council]]:
    by_form: dict[str, Council] = {}
    for c in known_councils():
        forms = [c.name, *c.aliases]
        if c.short.lower() not in _AMBIGUOUS:
            forms.append(c.short)
        for f in forms + [f.replace(" and ", " & ") for f in forms if " and " in f]:  # "Hammersmith & Fulham"
            by_form.setdefault(f.lower().replace("’", "'"), c)
    alternation = "|".join(re.escape(f) for f in sorted(by_form, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.I), by_form


def canonical_council(name: str) -> str | None:
    """Resolve user input ("liverpool", "Liverpool City Council") to the canonical name, or None."""
    key = council_key(name)
    return _by_key().get(key) if key else None


@cache
def _by_key() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in known_councils():
        for form in (c.short, c.name, *c.aliases):
            out.setdefault(council_key(form), c.name)
    return out


def find_councils(text: str) -> list[tuple[str, int, int]]:
    """Every council mention as (canonical name, start, end), in order, longest match first."""
    pattern, by_form = _lookup()
    found: list[tuple[str, int, int]] = []
    covered = bytearray(len(text) + 1)  # characters already inside a mention: a linear overlap test
    for m in pattern.finditer(text):
        form = m.group(0)
        if form[0].islower():  # place names are capitalised; 'wirral' in a URL slug is not a mention
            continue
        if _NHS_BODY.match(text, m.end()):
            continue
        c = by_form[form.lower().replace("’", "'")]
        found.append((c.name, m.start(), m.end()))
        covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for rx in (_FULL, _LONDON):
        for m in rx.finditer(text):
            if covered[m.start()] or covered[m.end() - 1]:
                continue
            full = m.group(0)
            canon = canonical_council(full) or _tidy(full)
            if canon:
                found.append((canon, m.start(), m.end()))
                covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    found.sort(key=lambda t: t[1])
    return found


def _tidy(full: str) -> str | None:
    words = full.split()
    # "The Council" / "Our County Council" are not names
    while words and words[0].lower() in {
        "the", "our", "a", "each", "every", "this", "that", "local", "their", "its", "about", "from", "by", "for",
    }:  # fmt: skip
        words = words[1:]
    if len(words) < 2 or words[0] in {"County", "City", "Borough", "District"}:
        return None
    return " ".join(words)


def council_matches(filter_value: str, council: str | None) -> bool:
    """Case-insensitive match on common variants: 'Liverpool' matches 'Liverpool City Council'."""
    if not council:
        return False
    return council_key(filter_value) == council_key(council)
