"""A document's overall facts: publication date (with precision), overall rating and overall percentage.

Each is read from the sentence patterns of publication (a document header line, `Published:` lines, embargo
lines, "has rated X as good", "scored 78 out of 100") and returned with the passage that states it. A meeting
date, a quoted data date, a care home's rating or a quality statement's percentage is never taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..councils import council_key, find_councils
from ..domain import CQC_NAMES, PUBLISHED_WORD, RATING_WORDS, normalise_rating
from ..text import MONTH_FORMS, MONTH_NAMES

Span = tuple[int, int]
_Q = r"[\"'‘’“”]?"
_R = rf"({RATING_WORDS})"

_MONTH_NO = {m[:3]: i + 1 for i, m in enumerate(MONTH_NAMES.split("|"))}
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|wed|thu|fri|sat|sun)\.?,?\s+"
_DATE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(20\d\d)-(\d\d)-(\d\d)\b"), "iso"),
    (re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_FORMS})\.?,?\s+(\d{{4}})\b", re.I), "dmy"),
    (re.compile(rf"({MONTH_FORMS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,\s*(\d{{4}})\b", re.I), "mdy"),
    (re.compile(rf"({MONTH_NAMES})\s+(\d{{4}})\b", re.I), "my"),
]
_YEAR = re.compile(r"(20\d\d)\b(?![-/]\d)")


def parse_date(s: str, *, allow_year: bool = False) -> tuple[str, str, int] | None:
    """A date at the start of `s` (after an optional weekday): (iso, precision, length)."""
    lead = re.match(_WEEKDAY, s, re.I)
    skip = lead.end() if lead else 0
    rest = s[skip:]
    for rx, form in _DATE_FORMS:
        m = rx.match(rest)
        if not m:
            continue
        end = skip + m.end()
        if form == "iso":
            return f"{m.group(1)}-{m.group(2)}-{m.group(3)}", "day", end
        if form == "my":
            return f"{m.group(2)}-{_MONTH_NO[m.group(1).lower()[:3]]:02d}", "month", end
        day, mon = (m.group(1), m.group(2)) if form == "dmy" else (m.group(2), m.group(1))
        if 1 <= int(day) <= 31:
            return f"{m.group(3)}-{_MONTH_NO[mon.lower()[:3]]:02d}-{int(day):02d}", "day", end
    if allow_year and (y := _YEAR.match(rest)):
        return y.group(1), "year", skip + y.end()
    return None


@dataclass(frozen=True)
class Fact:
    value: str | int
    span: Span
    precision: str | None = None


def _trimmed(text: str, a: int, b: int) -> Span:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def sentence_span(text: str, a: int, b: int) -> Span:
    """The sentence around text[a:b], kept within its line."""
    line_start = text.rfind("\n", 0, a) + 1
    line_end = text.find("\n", b)
    line_end = len(text) if line_end == -1 else line_end
    stops = [text.rfind(p, line_start, a) for p in (". ", "? ", "! ")]
    s = line_start if max(stops) == -1 else max(stops) + 2
    m = re.compile(r"[.?!](?=\s|$)").search(text, b, line_end)
    return _trimmed(text, s, line_end if m is None else m.end())


def header_line(text: str) -> Span | None:
    """The document's first line when it is a header that describes it (title, date, result)."""
    m = re.search(r"\S[^\n]*", text[:2000])
    if m is None:
        return None
    line = m.group(0)
    if len(line) < 40 or not re.search(r"\bpublished\b|\brat(?:ing|ed)\b|\breport\b", line, re.I):
        return None
    if not re.search(rf"{CQC_NAMES}|assessment|peer challenge|peer review", line, re.I):
        return None
    return m.start(), m.end()


# --- dates ---------------------------------------------------------------------------------------------

_PUBLISHED_CUES = [
    re.compile(r"\bassessment published\s*:\s*", re.I),
    re.compile(r"(?<![Uu]pdated )\bpublished\s*:\s*", re.I),
    re.compile(
        r"\bembargo(?:ed)?\s*(?:to|until|till|:)\s*(?:\d{1,2}[.:]\d{2}\s*(?:am|pm|hrs|hours)?,?\s+(?:on\s+)?)?", re.I
    ),
    re.compile(r"^[ \t]*published\s+(?:on\s+)?", re.I | re.M),  # a dateline: "Published 20 November 2024"
]
# Sentences of publication; in a peer challenge they name other reports, so its own `Final report:` line wins.
_PUBLISHED_SENTENCES = [
    re.compile(r"\b(?:report|assessment|findings|results)\b[^.\n]{0,40}?\bpublished\s+(?:on\s+|in\s+)?", re.I),
    re.compile(r"\bpublished\s+on\s+", re.I),
]
_LGA_CUES = [re.compile(r"\b(?:final|feedback)\s+report\s*[:\-–—(]?\s*", re.I)]
_DATELINE = re.compile(r"^\s*(?:published\s+|date\s*:?\s+|posted\s+(?:on\s+)?)?", re.I)
_MEETING = re.compile(r"\b(?:committee|meeting|agenda|minutes|held|visit|on-?site)\b", re.I)


def _cue_dates(text: str, cues: list[re.Pattern[str]], lo: int, hi: int, *, allow_year: bool) -> Fact | None:
    best: Fact | None = None
    for cue in cues:
        for m in cue.finditer(text, lo, hi):
            d = parse_date(text[m.end() : m.end() + 50], allow_year=allow_year)
            if d is None or re.search(r"\bnot\s*$", text[max(lo, m.start() - 12) : m.start()], re.I):
                continue
            fact = Fact(d[0], sentence_span(text, m.start(), m.end() + d[2]), d[1])
            if best is None or m.start() < best.span[0]:
                best = fact
            break
        if best is not None:
            return best
    return None


def find_date(text: str, kind: str) -> Fact | None:
    """The publication date, from the header line, `Published:`/embargo lines, publication sentences, an LGA
    report's `Final report:` line, else a dateline among the first lines; never a meeting or data date."""
    header = header_line(text)
    lga = kind == "lga_peer_challenge"
    if header is not None:
        found = _cue_dates(text, [re.compile(r"\bpublished\b(?:\s+on)?\s*:?\s*", re.I)], *header, allow_year=True)
        if found is None and lga:
            found = _cue_dates(text, _LGA_CUES, *header, allow_year=False)
        if found is not None:
            return found
    body = header[1] if header else 0
    found = _cue_dates(text, _PUBLISHED_CUES, body, len(text), allow_year=False)
    if found is None:
        cues = _LGA_CUES if lga else _PUBLISHED_SENTENCES
        found = _cue_dates(text, cues, body, len(text), allow_year=False)
    if found is None:
        found = _dateline(text, body)
    if found is None:
        found = _cue_dates(text, [re.compile(r"^\s*date\s*:\s*", re.I | re.M)], body, len(text), allow_year=False)
    return found


def dates_in(text: str) -> list[tuple[str, str, int, int]]:
    """Every full date written in `text`, as (iso, precision, start, end), in order."""
    found: list[tuple[str, str, int, int]] = []
    taken = bytearray(len(text) + 1)
    for rx, _ in _DATE_FORMS:
        for m in rx.finditer(text):
            d = parse_date(text[m.start() : m.end() + 1])
            if d is not None and not any(taken[m.start() : m.end()]):
                found.append((d[0], d[1], m.start(), m.end()))
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return sorted(found, key=lambda d: d[2])


_PUBLISHED = re.compile(PUBLISHED_WORD, re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_FORMS})\b", re.I)
_MONTH_DAY = re.compile(rf"\b({MONTH_FORMS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)


def month_days_in(text: str) -> set[str]:
    """Every day of a month written in `text`, with or without its year, as "mm-dd" ("Thursday, October 30"
    in a report of that year is its date)."""
    out = set()
    for rx, day, mon in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        for m in rx.finditer(text):
            if 1 <= int(m.group(day)) <= 31:
                out.add(f"{_MONTH_NO[m.group(mon).lower()[:3]]:02d}-{int(m.group(day)):02d}")
    return out


def publication_span(text: str, kind: str, date: str) -> tuple[str, Span] | None:
    """The publication date `date` (as detected) and the line stating it, from the body when a sentence there
    says it, at the body's precision when finer ("Published 29th Jan 2026" under a title's "January 2026")."""
    found = find_date(text, kind)
    if found is None or found.value != date:
        return None  # a date a user's correction gave, or one no longer found: not quoted
    header = header_line(text)
    if header is None or found.span[0] >= header[1]:
        return date, found.span
    for iso, _, a, b in dates_in(text[header[1] :]):
        if iso.startswith(date):
            span = sentence_span(text, header[1] + a, header[1] + b)
            if _PUBLISHED.search(text, *span):
                return iso, span
    return date, found.span


def _dateline(text: str, start: int) -> Fact | None:
    """A line among the document's first five that is only a date ("15 Oct 2025", "Published 12th Feb 2026")."""
    for n, m in enumerate(re.finditer(r"[^\n]*\S[^\n]*", text[start : start + 3000])):
        if n >= 5:
            break
        line = m.group(0)
        lead = _DATELINE.match(line)
        at = lead.end() if lead else 0
        d = parse_date(line[at:], allow_year=False)
        if d is None or _MEETING.search(line) or len(line) - at - d[2] > 60:
            continue
        a = start + m.start()
        return Fact(d[0], _trimmed(text, a, a + at + d[2]), d[1])
    return None


# --- ratings -------------------------------------------------------------------------------------------

_HEADER_RATING = [
    re.compile(rf"\brating\b[^:;.\n]{{0,40}}?:\s*{_Q}{_R}\b", re.I),
    re.compile(rf"\(\s*published\b[^;()\n]{{0,40}};\s*{_Q}{_R}{_Q}\s*\)", re.I),
    re.compile(rf"\brated\s+(?:as\s+)?{_Q}{_R}\b", re.I),
]
_RATING_PATTERNS = [
    re.compile(rf"\boverall\s+rating\b[^.\n]{{0,50}}?(?:\b(?:of|is|was)\b|:|-|–|\|)\s*{_Q}{_R}\b", re.I),
    re.compile(rf"\bhas\s+rated\s+[^.\n]{{0,90}}?\bas\s+{_Q}{_R}\b", re.I),
    re.compile(rf"\brating\s+(?:the|its|their)\s+[^.\n]{{0,60}}?\bas\s+{_Q}{_R}\b", re.I),
    re.compile(
        rf"\brated\b[^.\n]{{0,90}}?\b(?:adult social care|adults'? services|care act)"
        rf"[^.\n]{{0,60}}?\bas\s+{_Q}{_R}\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:adult|social)\s+(?:social\s+)?(?:care|services)(?:\s+services)?\b[^.\n]{{0,50}}?"
        rf"\b(?:rated|judged)\s*:?\s*(?:as\s+)?{_Q}{_R}\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:council|authority|borough|county)(?:'s)?\s+(?:had\s+been|has\s+been|have\s+been|was|is|been)\s+"
        rf"(?:rated|judged)\s+(?:as\s+)?{_Q}{_R}\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:local authority|council|overall)\s+rating\s+(?:had\s+been|has\s+been|was|is)\s*:?\s*{_Q}{_R}\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:received|receive|receiving|given|awarded|achieved|gets?)\s+(?:an?\s+)?(?:overall\s+)?"
        rf"{_Q}{_R}{_Q}\s+rating\b",
        re.I,
    ),
    re.compile(rf"\b(?:were|was|been)\s+awarded\s+(?:an?\s+)?{_Q}{_R}\b", re.I),
    re.compile(rf"\b(?:gave|given)\s+(?:\w+\s+){{0,3}}?a\s+rating\s+of\s+{_Q}{_R}\b", re.I),
    re.compile(rf"\b(?:our|its|their|the)\s+{_Q}{_R}{_Q}\s+rating\b", re.I),
    re.compile(rf"\bindicative\s+rating\s*(?:of|:)?\s*{_Q}{_R}\b", re.I),
]
_RATING_EXCLUDE = re.compile(
    r"care homes?|provider|hospital|quality statements?|safeguarding rated|criteria|\bareas?\b|"
    r"\b\d+\s+(?:local authorities|councils|reports)\b|\bif\b",
    re.I,
)
# "rated good in four of the nine areas", "an outstanding rating for equity": a part, not the whole.
_RATED_PART = re.compile(
    r"^\W{0,3}\s*(?:rating\s+)?(?:for\s+(?!(?:the\s+|its\s+)?(?:overall|council|authority|local))"
    r"|in\s+(?:\d+|one|two|three|four|five|six|seven|eight|nine|some|most|all|each|several|both|many)\b)",
    re.I,
)
_RATING_HEADING = re.compile(r"^\s*(?:local authority |overall )?rating(?: and score)?\s*:?\s*$", re.I | re.M)
_BARE_RATING = re.compile(rf"^\W{{0,3}}{_Q}{_R}{_Q}\.?\s*$", re.I)


def find_rating(text: str, *, header_only: bool = False) -> Fact | None:
    """The council's overall rating, stated in words tied to the whole assessment."""
    header = header_line(text)
    if header is not None:
        for rx in _HEADER_RATING:
            m = rx.search(text, *header)
            rating = normalise_rating(m.group(1)) if m else None
            if m and rating and not re.search(r"\bno\b[^.;]{0,20}$", text[header[0] : m.start()], re.I):
                return Fact(rating, sentence_span(text, m.start(), m.end()))
    if header_only:
        return None
    body = header[1] if header else 0
    best: Fact | None = None
    for rx in _RATING_PATTERNS:
        for m in rx.finditer(text, body):
            span = sentence_span(text, m.start(), m.end())
            if _RATING_EXCLUDE.search(text[span[0] : m.end()]) or _RATED_PART.match(text[m.end() : m.end() + 30]):
                continue
            rating = normalise_rating(m.group(1))
            if rating and (best is None or m.start() < best.span[0]):
                best = Fact(rating, span)
            break
    for m in _RATING_HEADING.finditer(text, body):
        following = re.finditer(r"[^\n]*\S[^\n]*", text[m.end() : m.end() + 300])
        for n, ln in enumerate(following):
            bare = _BARE_RATING.match(ln.group(0))
            if bare and (rating := normalise_rating(bare.group(1))):
                a = m.end() + ln.start()
                if best is None or a < best.span[0]:
                    best = Fact(rating, _trimmed(text, m.start(), m.end() + ln.end()))
                break
            if n >= 2:
                break
    return best


# --- the overall percentage ----------------------------------------------------------------------------

_HEADER_PERCENT = re.compile(
    rf"{_R}{_Q}\s*\(\s*(?:overall\s+)?(?:score[ds]?\s*:?\s*)?(\d{{2,3}})\s*(?:%|per\s*cent|out\s+of\s+100)?\s*\)",
    re.I,
)
_PERCENT_PATTERNS = [
    re.compile(r"\bscored\s+(\d{2,3})\s*(?:%|per\s*cent|out\s+of\s+100|points)", re.I),
    re.compile(r"\b(?:overall|cqc)\s+score\s*(?:of\s+|was\s+|is\s+|[:|]\s*)?(\d{2,3})(?!\.\d)\b", re.I),
    re.compile(r"\bscore\s+(?:of|was|is)\s+(\d{2,3})\s*(?:%|per\s*cent|out\s+of\s+100)", re.I),
    re.compile(r"\bwith\s+a\s+score\s+of\s+(\d{2,3})(?!\.\d)\b", re.I),
    re.compile(r"\boverall\s+rating\b[^.\n]{0,40}?:\s*(\d{2,3})\s*%", re.I),
]
_PART_PERCENT = re.compile(r"^\s*(?:%|per\s*cent)?\s*(?:in|for|on|across)\s+(?!(?:the\s+)?overall)", re.I)


def percent_mentions(text: str) -> list[tuple[int, int, int]]:
    """Every (value, start, end) where the text states a percentage the way an overall one is stated: what a
    quote of the overall percentage may be (the scorecard's line, or a candidate sentence saying it)."""
    found = [(int(m.group(1)), m.start(), m.end()) for rx in _PERCENT_PATTERNS for m in rx.finditer(text)]
    header = header_line(text)
    if header is not None:
        found += [(int(m.group(m.lastindex or 1)), m.start(), m.end()) for m in _HEADER_PERCENT.finditer(text, *header)]
    return sorted(found, key=lambda f: f[1])


def find_percent(text: str, council: str | None, *, header_only: bool = False) -> Fact | None:
    """The overall percentage (25-100) for this council: never a QS percentage or another council's."""
    header = header_line(text)
    if header is not None:
        m = _HEADER_PERCENT.search(text, *header) or re.compile(
            r"\boverall\s+score\s*(?:of\s+)?(\d{2,3})\b", re.I
        ).search(text, *header)
        if m is not None:
            value = int(m.group(m.lastindex or 1))
            if 25 <= value <= 100:
                return Fact(value, sentence_span(text, m.start(), m.end()))
    if header_only:
        return None
    body = header[1] if header else 0
    own = council_key(council) if council else None
    best: Fact | None = None
    for rx in _PERCENT_PATTERNS:
        for m in rx.finditer(text, body):
            value = int(m.group(1))
            if not 25 <= value <= 100 or _PART_PERCENT.match(text[m.end() : m.end() + 20]):
                continue
            span = sentence_span(text, m.start(), m.end())
            named = {council_key(c) for c, _, _ in find_councils(text[span[0] : m.start()])}
            if own is not None and named and own not in named:
                continue  # "Derbyshire County Council scored 67%": another council's figure
            if best is None or m.start() < best.span[0]:
                best = Fact(value, span)
            break
    return best
