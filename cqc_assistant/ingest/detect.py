"""Deterministic rules that read council, kind, date, rating and per-section theme, QS and score.

Unknown values stay empty rather than guessed (see shared DOMAIN.md §5).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from ..councils import find_councils
from ..domain import match_quality_statement, match_theme, normalise_rating
from ..models import DocMeta, Extracted, Heading, Section

_RATING = r"(outstanding|good|requires\s+improvement|inadequate)"
_Q = r"[\"'‘’“”]?"
_RATING_PATTERNS = [
    re.compile(rf"\boverall\s+rating\s*(?:of|is|was|:|-|–)?\s*{_Q}{_RATING}\b", re.I),
    re.compile(
        rf"\brated\b[^.\n]{{0,90}}?\b(?:adult social care|adults'? services|care act)"
        rf"[^.\n]{{0,60}}?\bas\s+{_Q}{_RATING}\b",
        re.I,
    ),
    re.compile(
        rf"\brates\b[^.\n]{{0,90}}?\b(?:adult social care|care act)[^.\n]{{0,40}}?\bas\s+{_Q}{_RATING}\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:received|receive|receiving|given|awarded|achieved|gets?)\s+(?:an?\s+)?(?:overall\s+)?{_Q}{_RATING}{_Q}\s+rating\b",
        re.I,
    ),
    re.compile(rf"\b(?:gave|given)\s+(?:\w+\s+){{0,3}}?a\s+rating\s+of\s+{_Q}{_RATING}\b", re.I),
    re.compile(
        rf"\b(?:adult social care|adults'? services)\b[^.\n]{{0,40}}?\brated\s+(?:as\s+)?{_Q}{_RATING}\b",
        re.I,
    ),
    re.compile(rf"\bindicative\s+rating\s*(?:of|:)?\s*{_Q}{_RATING}\b", re.I),
]
_RATING_EXCLUDE = re.compile(r"care homes?|provider|hospital|quality statement|safeguarding rated", re.I)

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS.split("|"))}
_DAY_DATE = re.compile(
    rf"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS}|"
    rf"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?,?\s+(\d{{4}})\b",
    re.I,
)
_MONTH_DATE = re.compile(rf"\b({_MONTHS})\s+(\d{{4}})\b", re.I)
_ISO_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_DATE_CUES = [
    re.compile(r"assessment published\s*:?\s*", re.I),
    re.compile(r"(?<!last updated)(?<!updated)\bpublished\s*:\s*", re.I),
    re.compile(r"\b(?:final|feedback)\s+report\s*[:\-–—]?\s*", re.I),
    re.compile(r"\b(?:report|assessment)\s+was\s+(?:officially\s+)?published\s+on\s+", re.I),
    re.compile(r"\bpublished\s+on\s+", re.I),
    re.compile(r"^\s*date\s*:\s*", re.I | re.M),
]

_SCORE = re.compile(r"\bScore\s*:\s*([1-4])\b")
_SCORE_ITEM = re.compile(
    r"^\s*(?:\d{1,2}[.)]\s*|[-•*]\s*)?(?P<label>[A-Za-z][^|\n]{2,120}?)\s*(?:[–—:|-]|\|\s*)\s*(?P<score>[1-4])\s*$"
)
# A `Theme | Area | Score` table row (Markdown, .docx, HTML): the label is the cell before the score.
_SCORE_ROW = re.compile(r"^\s*\|?(?:[^|\n]*\|)*?\s*(?P<label>[A-Za-z][^|\n]{2,120}?)\s*\|\s*(?P<score>[1-4])\s*\|?\s*$")
_PERCENT = re.compile(r"\bscore of (\d{2,3}(?:\.\d+)?)\s*%", re.I)

_RESET_HEADINGS = re.compile(
    r"^(background|key messages|executive summary|summary|contents|introduction|case file audit|top tips|"
    r"lessons learned|(immediate )?next steps|recommendations|contact details|about |demographics|"
    r"financial facts|overview|notes to editors|methodology|the peer team|what we did)",
    re.I,
)
_BOILERPLATE = re.compile(r"^(what people expect|the local authority commitment|i statements?|we statements?)\b", re.I)
_COUNCIL_RATING_LINE = re.compile(
    r"^[A-Z][\w’'&. -]{2,60}\((?:indicative |overall )?(?:rating|rated)\s*:?\s*[\w ]{3,30}\)\.?$", re.I
)
_BULLET = re.compile(r"^\s*(?:[-•*▪◦]|\d{1,2}[.)])\s+")
_THEME_HINTS = {
    1: ("assessing needs", "healthier lives", "wellbeing", "equity", "working with people", "prevention"),
    2: (
        "care provision",
        "integration",
        "partnership",
        "market shaping",
        "commissioning",
        "providing support",
    ),
    3: ("safeguarding", "safe systems", "safe pathways", "transitions", "ensuring safety"),
    4: ("leaders", "leadership", "governance", "learning, improvement", "innovation"),
}


def detect(ex: Extracted, source: str = "") -> tuple[DocMeta, list[Section]]:
    text = ex.text
    headings = list(ex.headings) or _line_headings(text)
    sections = _sections(text, headings, ex.title)
    sections = _split_at_theme_intros(text, sections)
    sections = _tag_sections(text, sections)
    head = text[:1500]
    title = _title(ex, headings)
    kind = _kind(title, head, sections, source)
    councils = _doc_councils(title, head, text, sections)
    council = "; ".join(councils) if councils else None
    rating = _rating(text, single_council=len(councils) <= 1)
    date, precision = _date(text)
    percent = _percent(text)
    scores = {s.qs: s.score for s in sections if s.qs and s.score}
    if kind == "cqc_press_release" or (kind in ("news", "cqc_assessment") and not scores):
        scores = _score_list(text) or scores
    if kind == "lga_peer_challenge":
        # Peer challenges carry no scores and no ratings (DOMAIN §1.2); a QS tag would be a guess.
        rating, percent, scores = None, None, {}
        sections = [replace(s, qs=None, score=None) for s in sections]
    meta = DocMeta(
        title=title.strip()[:300] or source,
        council=council,
        councils=tuple(councils),
        kind=kind,
        date=date,
        date_precision=precision,
        rating=rating,
        percent=percent,
        scores=scores,
    )
    return meta, sections


_TITLE_CUE = re.compile(
    r"peer challenge|preparation for assurance|local authority assessment|^CQC (rates|publishes)|peer review",
    re.I,
)


def _title(ex: Extracted, headings: list[Heading]) -> str:
    """The loader's title, unless a title-like line near the top beats a site banner."""
    lines = [ln.strip().lstrip("#").strip() for ln in ex.text[:3000].split("\n") if ln.strip()][:8]
    for ln in lines:
        if _TITLE_CUE.search(ln) and len(ln) < 200:
            return ln
    if ex.title:
        return ex.title
    return ex.text[headings[0].start : headings[0].end] if headings else (lines[0] if lines else "")


# --- headings and sections -----------------------------------------------------------------------------


def _line_headings(text: str) -> list[Heading]:
    """Headings in plain text: short title-like lines followed by more text."""
    out: list[Heading] = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*", text)]
    nonblank = [(s, e) for s, e in lines if text[s:e].strip()]
    for i, (s, e) in enumerate(nonblank):
        line = text[s:e].strip()
        if i + 1 >= len(nonblank):
            break
        nxt = text[nonblank[i + 1][0] : nonblank[i + 1][1]].strip()
        if _is_heading_line(line, nxt):
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            out.append(Heading(s + lead, s + lead + len(line), 2))
    return out


def _is_heading_line(line: str, nxt: str) -> bool:
    if len(line) > 90 or len(line) < 3 or _BULLET.match(line) or _SCORE.search(line):
        return False
    if match_quality_statement(line) or match_theme(line):
        return True
    words = line.split()
    if _COUNCIL_RATING_LINE.match(line) and find_councils(line):
        return True  # "Nottingham (indicative rating: requires improvement)." opens that council's part of a round-up
    if len(words) > 12 or line[-1] in ".,;:!?\"”’'" or not (line[0].isupper() or line[0].isdigit()):
        return False
    if re.search(r"\b(said|says|told|according)\b", line):
        return False
    # A heading is followed by a longer line of prose or a list.
    return len(nxt) > len(line) or bool(_BULLET.match(nxt))


def _sections(text: str, headings: list[Heading], title: str) -> list[Section]:
    if not headings:
        return [Section(title=title or "Document", start=0, end=len(text))]
    out: list[Section] = []
    first = _heading_line_start(text, headings[0])
    if text[:first].strip():
        out.append(Section(title=title or "Introduction", start=0, end=first))
    for i, h in enumerate(headings):
        end = _heading_line_start(text, headings[i + 1]) if i + 1 < len(headings) else len(text)
        out.append(Section(title=text[h.start : h.end].strip(), start=h.start, end=end))
    return [replace(s, boilerplate=bool(_BOILERPLATE.match(s.title))) for s in out]


_THEME_INTRO = re.compile(r"^[ \t]*This relates to\b[^\n]{0,300}$", re.I | re.M)
_LGA_THEME_TITLES = {1: "Working with people", 2: "Providing support", 3: "Ensuring safety", 4: "Leadership"}


def _heading_line_start(text: str, h: Heading) -> int:
    """Where a heading's line starts, so a Markdown "## " ends no section; else the heading itself."""
    line_start = text.rfind("\n", 0, h.start) + 1
    return line_start if not text[line_start : h.start].strip("# \t") else h.start


def _split_at_theme_intros(text: str, sections: list[Section]) -> list[Section]:
    """Start a theme section at a "This relates to ..." line whose heading was lost (seed 001's Leadership).

    A line that opens its section already follows its theme heading and is handled by `_tag_sections`.
    """
    out: list[Section] = []
    for s in sections:
        first = re.search(r"\n[ \t]*\S", text[s.start : s.end])  # the first body line after the heading
        for m in _THEME_INTRO.finditer(text, s.start, s.end):
            if first is None or m.start() <= s.start + first.start() + 1:
                continue
            theme = _theme_from_hint(m.group(0))
            if theme is None:
                continue
            out.append(replace(s, end=m.start()))
            s = replace(s, title=_LGA_THEME_TITLES[theme], start=m.start())
        out.append(s)
    return out


def _tag_sections(text: str, sections: list[Section]) -> list[Section]:
    """Theme, QS and score per section, inherited by the sub-sections that follow until a reset."""
    out: list[Section] = []
    theme: int | None = None
    qs: int | None = None
    score: int | None = None
    council: tuple[str, ...] = ()
    for s in sections:
        title = s.title
        q = match_quality_statement(title)
        t = match_theme(title)
        body = text[s.start : s.end]
        if q is not None:
            qs, theme = q.number, q.theme
            score = None
        elif t is not None:
            theme, qs, score = t, None, None
        elif _RESET_HEADINGS.match(title):
            theme = qs = score = None
        elif theme is None and re.match(r"\s*this relates to", _first_body_line(body), re.I):
            theme = _theme_from_hint(_first_body_line(body))
        m = _SCORE.search(body[:600])
        if m and qs is not None:
            score = int(m.group(1))
        heading_councils = tuple(dict.fromkeys(c for c, _, _ in find_councils(title)))
        body_councils = Counter(c for c, _, _ in find_councils(body))
        if heading_councils:
            council = heading_councils
        elif _RESET_HEADINGS.match(title) or (len(body_councils) == 1):
            council = tuple(body_councils)
        out.append(replace(s, theme=theme, qs=qs, score=score if qs else None, councils=council))
    return out


def _first_body_line(body: str) -> str:
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    return lines[1] if len(lines) > 1 else ""


def _theme_from_hint(line: str) -> int | None:
    low = line.lower()
    hits = {t: sum(low.count(k) for k in keys) for t, keys in _THEME_HINTS.items()}
    best = max(hits, key=lambda t: hits[t])
    return best if hits[best] else None


# --- document-level facts ------------------------------------------------------------------------------

_CQC = re.compile(r"\bCQC\b|Care Quality Commission", re.I)


def _kind(title: str, head: str, sections: list[Section], source: str) -> str:
    top = f"{title}\n{head[:800]}"
    if re.search(r"peer challenge|preparation for assurance|peer review report", top, re.I):
        return "lga_peer_challenge"
    if re.search(r"^CQC (rates|publishes report on)\b", title.strip(), re.I) or (
        "cqc.org.uk/press-release" in source.lower()
    ):
        return "cqc_press_release"
    if re.search(r":\s*local authority assessment\b", top, re.I) or "local-authority-assessment-reports" in source:
        return "cqc_assessment"
    if sum(1 for s in sections if s.qs and s.score) >= 3:
        return "cqc_assessment"
    if _CQC.search(head) or re.search(r"adult social care", head, re.I):
        return "news"
    return "other"


def _doc_councils(title: str, head: str, text: str, sections: list[Section]) -> list[str]:
    in_title = list(dict.fromkeys(c for c, _, _ in find_councils(title)))
    if in_title:
        return in_title
    counts = Counter(c for c, _, _ in find_councils(text))
    if not counts:
        return []
    in_head = list(dict.fromkeys(c for c, _, _ in find_councils(head[:600])))
    top = counts.most_common(1)[0][1]
    if len(in_head) == 1 and counts[in_head[0]] >= top / 2:
        return in_head
    # several councils share the document: keep those that are a real subject of it, in order of appearance
    order = list(dict.fromkeys(c for c, _, _ in find_councils(text)))
    major = [c for c in order if counts[c] >= max(2, top * 0.3)]
    return major or [counts.most_common(1)[0][0]]


def _rating(text: str, *, single_council: bool) -> str | None:
    if not single_council:
        return None
    best: tuple[int, str] | None = None
    for rx in _RATING_PATTERNS:
        for m in rx.finditer(text):
            sent_start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
            sentence = text[sent_start : m.end()]
            if _RATING_EXCLUDE.search(sentence):
                continue
            rating = normalise_rating(m.group(1))
            if rating and (best is None or m.start() < best[0]):
                best = (m.start(), rating)
            break
    return best[1] if best else None


def _date(text: str) -> tuple[str | None, str | None]:
    for cue in _DATE_CUES:
        for m in cue.finditer(text):
            window = text[m.end() : m.end() + 40]
            d = _parse_date(window, anchored=True)
            if d:
                return d
    return None, None


def _parse_date(s: str, *, anchored: bool) -> tuple[str, str] | None:
    for rx, prec in ((_ISO_DATE, "day"), (_DAY_DATE, "day"), (_MONTH_DATE, "month")):
        m = rx.match(s.lstrip()) if anchored else rx.search(s)
        if not m:
            continue
        if rx is _ISO_DATE:
            return f"{m.group(1)}-{m.group(2)}-{m.group(3)}", prec
        if rx is _DAY_DATE:
            day, month, year = int(m.group(1)), _MONTH_ABBR[m.group(2).lower()[:3]], m.group(3)
            if 1 <= day <= 31:
                return f"{year}-{month:02d}-{day:02d}", prec
            continue
        return f"{m.group(2)}-{_MONTH_ABBR[m.group(1).lower()[:3]]:02d}", prec
    return None


def _percent(text: str) -> int | None:
    m = _PERCENT.search(text)
    return int(float(m.group(1))) if m else None


def _score_list(text: str) -> dict[int, int]:
    """The nine (or eight) QS scores of a press release, mapped by position (DOMAIN §5.3)."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    best: list[tuple[str, int]] = []
    run: list[tuple[str, int]] = []
    for ln in lines:
        m = _SCORE_ITEM.match(ln) or _SCORE_ROW.match(ln)
        if m and len(m.group("label").split()) <= 14:
            run.append((m.group("label").strip(), int(m.group("score"))))
            continue
        if len(run) > len(best):
            best = run
        run = []
    if len(run) > len(best):
        best = run
    if len(best) == 9:
        return {i + 1: score for i, (_, score) in enumerate(best)}
    if len(best) == 8:
        mapped = {}
        for label, score in best:
            q = match_quality_statement(label)
            if q is None or q.number in mapped:
                return {}
            mapped[q.number] = score
        return mapped
    return {}
