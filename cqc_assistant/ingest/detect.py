"""Deterministic rules that read council, kind, date, rating and per-section theme, QS and score.

Unknown values stay empty rather than guessed (see shared DOMAIN.md §5).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from ..councils import find_councils
from ..domain import CQC_NAMES, PRESS_RELEASE_TITLE, REPORT_PAGE_LINES, match_quality_statement, match_theme
from ..index.terms import STOPWORDS
from ..models import DocMeta, Extracted, Heading, Section
from .facts import find_date, find_percent, find_rating, header_line
from .scores import find_score_statements, scores_from

# A QS page's score line: "Score: 3", "Score 3", "(Score 2)" (DOMAIN.md §5.2).
_SCORE = re.compile(r"\bScore\s*:?\s*([1-4])\b(?!\s*%)")

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
    kind = _kind(title, text, sections, source)
    councils = _doc_councils(title, head, text, sections)
    council = "; ".join(councils) if councils else None
    single = len(councils) <= 1
    lga = kind == "lga_peer_challenge"
    date = find_date(text, kind)
    # Peer challenges carry no scores or ratings of their own (DOMAIN §1.2): only a header line that states
    # CQC's later result counts; a document about several councils has no single rating or percentage.
    rating = find_rating(text, header_only=lga) if single else None
    percent = find_percent(text, council, header_only=lga) if single else None
    statements = () if lga or not single else tuple(find_score_statements(text, sections))
    scores = scores_from(statements)
    if lga:
        sections = [replace(s, qs=None, score=None) for s in sections]
    if single and councils and kind in _ONE_COUNCIL_KINDS:
        # A CQC report or a peer challenge is about its one council throughout: the peers and comparators
        # it names ("Area director peer: Jo Bloggs, Cornwall Council") are not what a section is about.
        sections = [s if not s.councils or councils[0] in s.councils else replace(s, councils=(councils[0],))
                    for s in sections]  # fmt: skip
    meta = DocMeta(
        title=title.strip()[:300] or source,
        council=council,
        councils=tuple(councils),
        kind=kind,
        date=None if date is None else str(date.value),
        date_precision=None if date is None else date.precision,
        rating=None if rating is None else str(rating.value),
        percent=None if percent is None else int(percent.value),
        scores=scores,
        score_statements=statements,
        date_span=None if date is None else date.span,
        rating_span=None if rating is None else rating.span,
        percent_span=None if percent is None else percent.span,
    )
    return meta, sections


# The kinds of document about one council throughout (DOMAIN.md §5): CQC's report and an LGA peer challenge.
_ONE_COUNCIL_KINDS = ("cqc_assessment", "lga_peer_challenge")
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


# A labelled entry of a list ("Area director peer: Jo Bloggs, Northshire County Council") is not a heading.
_FIELD_LINE = re.compile(r"^[^:]{2,40}:\s+[^,]+,\s")


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
    if re.search(r"\b(said|says|told|according)\b", line) or _FIELD_LINE.match(line):
        return False
    # Prose wrapped at a fixed width (minutes, PDF text): the line's sentence goes on in the next one.
    if words[-1].lower() in STOPWORDS or words[-1] in {"&", "+", "-", "–"} or nxt[:1].islower():
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

_CQC = re.compile(CQC_NAMES, re.I)
_REPORT_LINE = re.compile(
    r"^[ \t#]*(?:" + "|".join(re.escape(x) for x in REPORT_PAGE_LINES) + r"|assessment published\s*:.*"
    r"|[^\n]{3,90}:\s*local authority assessment)[ \t]*$",
    re.I | re.M,
)
_PRESS_TITLE = re.compile(r"^[^\n]{0,80}?" + PRESS_RELEASE_TITLE + r"[^\n]{0,40}$", re.I | re.M)
_LGA_REPORT = re.compile(
    r"preparation\s+for\s+assurance\W{1,3}peer\s+challenge|peer\s+challenge\s+report|peer\s+review\s+report"
    r"|^[ \t]*(?:final|feedback)\s+report\s*[:\-–—]|members\s+of\s+the\s+peer\s+(?:challenge\s+)?team",
    re.I | re.M,
)


def _kind(title: str, text: str, sections: list[Section], source: str) -> str:
    """What the document is, from the structure of its parts (DOMAIN.md §5), wherever it was published.

    A document holding CQC report pages is a report; else an LGA peer challenge report or a CQC press release
    (the earlier of the two); else news about CQC's assessment; else other. A header line that describes a
    compilation is not one of its parts.
    """
    header = header_line(text)
    body_start = header[1] if header else 0
    src = source.lower()
    if "local-authority-assessment-reports" in src or _REPORT_LINE.search(text, body_start):
        return "cqc_assessment"
    if sum(1 for s in sections if s.qs and s.score) >= 3:
        return "cqc_assessment"
    found = []
    # A short title naming a peer challenge or review is one ("Adult Social Care Peer Challenge: X"); a long
    # header line that describes a compilation only mentions one.
    described = header is not None and title.strip() in text[header[0] : header[1]]
    sentence = title.rstrip().endswith((".", "!", "?"))
    if len(title) <= 150 and not described and not sentence and re.search(r"peer\s+(?:challenge|review)", title, re.I):
        found.append((0, "lga_peer_challenge"))
    elif (m := _LGA_REPORT.search(title) or _LGA_REPORT.search(text, body_start)) is not None:
        found.append((0 if _LGA_REPORT.search(title) else m.start(), "lga_peer_challenge"))
    if "cqc.org.uk/press-release" in src:
        found.append((-1, "cqc_press_release"))
    elif (m := _PRESS_TITLE.search(title) or _PRESS_TITLE.search(text, body_start)) is not None:
        found.append((0 if _PRESS_TITLE.search(title) else m.start(), "cqc_press_release"))
    elif re.search(r"\bembargo(?:ed)?\b", text[:3000], re.I) and _CQC.search(text[:3000]):
        found.append((1, "cqc_press_release"))
    if found:
        return min(found)[1]
    head = text[:1500]
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
