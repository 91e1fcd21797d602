"""A search's scope from what a user gave: checked filter values (`make_filters`), the council named, the
councils held, and the documents a search under some filters can draw on.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from .councils import canonical_council, council_key
from .domain import match_quality_statement, match_theme
from .errors import QueryError
from .filters import Filters
from .models import KINDS

if TYPE_CHECKING:
    from .index.records import DocRecord
    from .library import Library


def parse_date(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    assert value is not None
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", value.strip())
    if not m:
        raise QueryError(f"--{name} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    # "--until 2024-10" means to the end of October; "--since 2024-10" from its start.
    last = name == "until"
    y = int(m.group(1))
    mo = int(m.group(2) or (12 if last else 1))
    try:
        d = int(m.group(3) or (calendar.monthrange(y, mo)[1] if last else 1))
        date(y, mo, d)
    except (ValueError, calendar.IllegalMonthError):
        raise QueryError(f"--{name} {value!r} is not a real date") from None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def make_filters(
    library: Library,
    *,
    council: str | None = None,
    kind: str | None = None,
    theme: str | int | None = None,
    qs: str | int | None = None,
    since: str | None = None,
    until: str | None = None,
    include_demo: bool = False,
) -> Filters:
    """Validate user-facing filter values into Filters, with a clear message for each bad one."""
    if council:
        council = resolve_council(library, council, include_demo=include_demo)
    if kind:
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise QueryError(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}")
    theme_n = _theme_number(theme)
    qs_n = _qs_number(qs)
    s, u = parse_date(since, "since"), parse_date(until, "until")
    if s and u and s > u:
        raise QueryError(f"--since {since} is after --until {until}")
    return Filters(
        council=council, kind=kind, theme=theme_n, qs=qs_n, since=s, until=u, include_demo=bool(include_demo)
    )


def hidden_documents(library: Library, f: Filters) -> frozenset[str]:
    """The documents these filters leave out whatever else they say: the demo ones once real ones are in."""
    return frozenset() if f.include_demo else library.hidden_demo()


def documents_in_scope(library: Library, f: Filters) -> list[DocRecord]:
    """The documents a search under these filters can draw on (what a refusal says it searched): those
    with a chunk that passes the same filter both sides of the search apply."""
    docs = library.documents()
    ids = library.doc_ids_passing(f, hidden_documents(library, f))
    return docs if ids is None else [d for d in docs if d.doc_id in ids]


def library_councils(library: Library, *, include_demo: bool = False) -> dict[str, str]:
    """council key → display name, for every council a document names (a council only the demo documents
    name is left out once real documents are in, unless `include_demo`)."""
    out: dict[str, str] = {}
    for name in library.councils(include_demo=include_demo):
        out.setdefault(council_key(name), name)
    return out


def resolve_council(library: Library, value: str, *, include_demo: bool = False) -> str:
    known = library_councils(library, include_demo=include_demo)
    key = council_key(canonical_council(value) or value)
    if key in known:
        return known[key]
    names = ", ".join(sorted(known.values())) or "none yet"
    demo = (
        "; its documents are the demo ones, left out unless demo documents are included"
        if (key in library_councils(library, include_demo=True))
        else ""
    )
    raise QueryError(f"no documents about council {value!r} in the library (councils held: {names}{demo})")


def _theme_number(value: str | int | None) -> int | None:
    return _numbered(value, 4, match_theme, "theme", "a theme name such as 'Leadership'")


def _qs_number(value: str | int | None) -> int | None:
    def number(name: str) -> int | None:
        q = match_quality_statement(name)
        return None if q is None else q.number

    return _numbered(value, 9, number, "quality statement", "a name such as 'Safeguarding'")


def _numbered(
    value: str | int | None, top: int, by_name: Callable[[str], int | None], what: str, example: str
) -> int | None:
    """A theme or quality statement given by number (1-`top`) or by name; a clear error for anything else."""
    if value in (None, ""):
        return None
    s = str(value).strip()
    if s.isdigit() and 1 <= int(s) <= top:
        return int(s)
    n = by_name(s)
    if n is None:
        raise QueryError(f"unknown {what} {value!r}: use 1-{top} or {example}")
    return n
