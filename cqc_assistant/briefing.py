"""Interview-prep briefings: what the library says about one council on one quality statement (or all nine).

Every line is cited. Findings, strengths, areas for improvement and peer practice are extractive sentences:
the line's text is the citation's quote, and `quote == stored_text[start:end]`. The score line and the
"questions staff may be asked" are written from templates, each citing the passage it is based on.

Sentences are found with the hybrid retriever under the council and quality-statement filters (and the
theme filter for documents, such as LGA peer challenges, that are organised by theme), then sorted into
strengths and areas for improvement by simple cue words. Offline and deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .briefing_model import Briefing, BriefingLine, StatementBriefing
from .councils import council_key
from .domain import QS_KEYWORDS, QUALITY_STATEMENTS, SCORE_LABELS, QualityStatement, quality_statement
from .errors import CqcAssistantError, QueryError
from .filters import Filters
from .index.records import SectionRecord
from .index.retriever import HybridRetriever
from .library import Library
from .models import Citation, Passage
from .quotes import candidate_sentences
from .scope import library_councils, resolve_council
from .scorecard import build_scorecard

__all__ = [
    "Briefing",
    "BriefingLine",
    "StatementBriefing",
    "build_briefing",
    "classify",
]

MAX_FINDINGS = 4
MAX_STRENGTHS = 5
MAX_IMPROVEMENTS = 5
MAX_PEER_LINES = 6
MAX_PEER_LINES_EACH = 2
MAX_IMPROVEMENT_QUESTIONS = 3
MIN_WORDS = 6
PASSAGES_QS = 30
PASSAGES_THEME = 20
PASSAGES_PEER = 15

CQC_KINDS = ("cqc_assessment", "cqc_press_release")

_STRENGTH = re.compile(
    r"\b(strengths?|strong(ly)?|positive(ly)?|good|praised|effective(ly)?|valued|spoke highly|excellent|"
    r"exceptional|outstanding|innovative|well[- ](established|developed|led|understood|embedded|received)|"
    r"works? well|commended|notable practice|proud|impressive|improved|success(ful|fully)?|"
    r"dignity|timely|robust|clear vision|appreciated|an improvement (on|from))\b",
    re.I,
)
_IMPROVE = re.compile(
    r"\b(improve|waiting( lists?| times?)?|waited|wait|delays?|delayed|concerns?|backlogs?|"
    r"inconsistent(ly)?|inconsistency|for consideration|however|not always|too long|gaps?|shortfalls?|"
    r"challeng(e|es|ing)|lack(ed|s)?|limited|did not|could not|was not|were not|unclear|weak(ness|nesses)?|"
    r"variable|variation|pressures?|should|needs? to|areas? for (development|improvement)|"
    r"fewer|slow(er)?|struggled|overdue|difficult(y|ies)?|ha(d|s|ve) not|but (some|several|many|a few))\b",
    re.I,
)
# Technical terms that contain a cue word but say nothing good or bad.
_NEUTRAL_PHRASES = re.compile(r"safeguarding concerns?|an improvement (on|from)|improvement plan", re.I)
_IMPROVE_SECTIONS = re.compile(r"for consideration|areas? for (development|improvement)|next steps", re.I)
_STRENGTH_SECTIONS = re.compile(r"\bstrengths?\b|what (is|was) working well|notable practice", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")

# One opening question per quality statement: what inspectors commonly probe (DOMAIN.md, the CQC framework).
QS_QUESTIONS: dict[int, str] = {
    1: "How do you make sure people's needs, including unpaid carers' needs, are assessed in a timely and "
    "consistent way, and how do you know?",
    2: "How do you help people to stay independent and prevent, delay or reduce their need for care and support?",
    3: "Which groups get poorer experiences or outcomes here, how do you know, and what are you doing about it?",
    4: "How do you make sure there is enough good-quality, affordable care and support to meet people's "
    "needs now and in future?",
    5: "Which partnerships make the biggest difference to people, and how do you know they are working?",
    6: "How do you keep people safe when they move between services, for example from hospital or from "
    "children's services?",
    7: "How do you make sure safeguarding enquiries are timely and that people's wishes shape the outcome?",
    8: "How do leaders and councillors know what is happening in practice, and how does that shape decisions?",
    9: "Give an example of something you changed because of feedback, a complaint or a review. What "
    "difference did it make?",
}

# Cue → topic, for questions written from areas for improvement (first match wins).
_TOPICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"occupational therap", re.I), "waits for occupational therapy"),
    (re.compile(r"deprivation of liberty|dols", re.I), "Deprivation of Liberty Safeguards waits"),
    (re.compile(r"carer", re.I), "support for unpaid carers"),
    (re.compile(r"backlog", re.I), "the backlog"),
    (re.compile(r"wait|delay|too long|overdue|slow", re.I), "waiting times and delays"),
    (re.compile(r"inconsisten|variab|variation", re.I), "inconsistent practice"),
    (re.compile(r"rural", re.I), "access in rural areas"),
    (re.compile(r"ethnic|communit|equit|equalit", re.I), "reaching communities with poorer access"),
    (re.compile(r"workforce|recruit|vacanc|staff", re.I), "workforce capacity"),
    (re.compile(r"financ|budget|overspen|saving", re.I), "financial pressures"),
    (re.compile(r"information|advice|format", re.I), "accessible information and advice"),
    (re.compile(r"\bdata\b|performance", re.I), "how data and performance information are used"),
    (re.compile(r"transition", re.I), "transitions between services"),
    (re.compile(r"market|provider|home care|care home", re.I), "the care market"),
    (re.compile(r"feedback|complaint|co-produc|coproduc", re.I), "learning from people's feedback"),
)


# --- sentences -----------------------------------------------------------------------------------


@dataclass
class _Sentence:
    citation: Citation
    rank: int
    kind: str  # "strength" | "improvement" | "neutral"
    cqc: bool


def classify(sentence: str, section: str = "") -> str:
    """'strength', 'improvement' or 'neutral', from cue words in the sentence and its section heading."""
    imp = len(_IMPROVE.findall(_NEUTRAL_PHRASES.sub(" ", sentence)))
    good = len(_STRENGTH.findall(sentence))
    if _IMPROVE_SECTIONS.search(section):
        imp += 2
    if _STRENGTH_SECTIONS.search(section):
        good += 2
    if imp and imp >= good:
        return "improvement"
    if good:
        return "strength"
    return "neutral"


class _Collector:
    """Turns passages into cited sentences, skipping headings, boilerplate and score lines."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._texts: dict[str, str] = {}
        self._sections: dict[str, list[SectionRecord]] = {}

    def text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self.library.text(doc_id)
        return self._texts[doc_id]

    def sections(self, doc_id: str) -> list[SectionRecord]:
        if doc_id not in self._sections:
            self._sections[doc_id] = self.library.sections(doc_id)
        return self._sections[doc_id]

    def _section_at(self, doc_id: str, offset: int) -> SectionRecord | None:
        found = None
        for s in self.sections(doc_id):
            if s.start <= offset < s.end:
                found = s  # later (inner) sections win
        return found

    def sentences(
        self, passages: list[Passage], *, council: str, keywords: tuple[str, ...] | None, rank0: int = 0
    ) -> list[_Sentence]:
        """The answer machinery's candidate sentences (answer.candidate_sentences), less what a briefing line
        may not be: a fragment, a score line, standard CQC text, an inner section's heading."""
        out: list[_Sentence] = []
        texts = {p.doc_id: self.text(p.doc_id) for p in passages}
        for c in candidate_sentences(texts, passages):
            if c.heading:
                continue
            p, text, s, e = c.passage, texts[c.passage.doc_id], c.start, c.end
            m = _BULLET.match(text, s, e)
            if m:
                s = m.end()
            quote = text[s:e]
            if not _usable(quote):
                continue
            if keywords is not None and not any(k in quote.lower() for k in keywords):
                continue
            sec = self._section_at(p.doc_id, s)
            if sec is not None and (sec.boilerplate or _is_heading(text, sec, s, e)):
                continue
            section_title = sec.title if sec is not None else p.section
            cite = Citation(
                n=0, doc_id=p.doc_id, title=p.title, source=p.source, section=section_title, start=s,
                end=e, quote=quote, page=p.page, council=council, kind=p.kind,
            )  # fmt: skip
            out.append(_Sentence(cite, rank0 + c.rank, classify(quote, section_title), (p.kind or "") in CQC_KINDS))
        return out


def _usable(quote: str) -> bool:
    words = quote.split()
    if len(words) < MIN_WORDS or quote.startswith(("#", "|")):
        return False
    if re.match(r"^\s*score\s*:", quote, re.I):
        return False
    return quote[-1] in ".!?\"'”’)" or len(words) >= 12


def _is_heading(text: str, sec: SectionRecord, s: int, e: int) -> bool:
    return text[sec.start : sec.start + len(sec.title) + 8].lstrip("# ").startswith(text[s:e])


def _dedupe(items: list[_Sentence]) -> list[_Sentence]:
    seen: set[str] = set()
    out = []
    for it in items:
        key = " ".join(it.citation.quote.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(it)
    return out


# --- building ------------------------------------------------------------------------------------


def _query(qs: QualityStatement) -> str:
    return " ".join([qs.name, *qs.variants[:1]])


def _statement_sentences(
    retriever: HybridRetriever,
    collector: _Collector,
    council: str,
    qs: QualityStatement,
    k_qs: int,
    k_theme: int,
) -> list[_Sentence]:
    query = _query(qs)
    by_qs = retriever.search(query, Filters(council=council, qs=qs.number), k_qs)
    by_theme = [p for p in retriever.search(query, Filters(council=council, theme=qs.theme), k_theme) if p.qs is None]
    found = collector.sentences(by_qs, council=council, keywords=None)
    found += collector.sentences(by_theme, council=council, keywords=QS_KEYWORDS.get(qs.number, ()), rank0=len(by_qs))
    return _dedupe(found)


def _question_lines(qs: QualityStatement, anchor: Citation | None, improvements: list[Citation]) -> list[BriefingLine]:
    out: list[BriefingLine] = []
    if anchor is not None:
        out.append(BriefingLine(QS_QUESTIONS[qs.number], anchor))
    topics: set[str] = set()
    for cite in improvements:
        topic = next((t for pat, t in _TOPICS if pat.search(cite.quote)), None)
        if topic is None or topic in topics:
            continue
        topics.add(topic)
        out.append(
            BriefingLine(
                f"The evidence points to {topic}. What are you doing about it, and how will you know it has worked?",
                cite,
            )
        )
        if len(topics) >= MAX_IMPROVEMENT_QUESTIONS:
            break
    return out


def _lines(items: list[_Sentence]) -> tuple[BriefingLine, ...]:
    return tuple(BriefingLine(x.citation.quote, x.citation) for x in items)


def _one_statement(
    library: Library,
    retriever: HybridRetriever,
    collector: _Collector,
    council: str,
    qs: QualityStatement,
    peers: list[str],
    card_entries: dict[int, tuple[int | None, Citation | None]],
) -> StatementBriefing:
    found = _statement_sentences(retriever, collector, council, qs, PASSAGES_QS, PASSAGES_THEME)
    ranked = sorted(found, key=lambda x: (not x.cqc, x.rank, x.citation.start))
    findings = [x for x in ranked if x.cqc][:MAX_FINDINGS] or ranked[:MAX_FINDINGS]
    used = {id(x) for x in findings}
    by_rank = sorted(found, key=lambda x: (x.rank, x.citation.start))
    strengths = [x for x in by_rank if x.kind == "strength" and id(x) not in used][:MAX_STRENGTHS]
    improvements = [x for x in by_rank if x.kind == "improvement" and id(x) not in used][:MAX_IMPROVEMENTS]

    peer_lines: list[_Sentence] = []
    for peer in peers:
        got = _statement_sentences(retriever, collector, peer, qs, PASSAGES_PEER, PASSAGES_PEER // 2)
        good = [x for x in sorted(got, key=lambda x: (x.rank, x.citation.start)) if x.kind == "strength"]
        peer_lines.extend(good[:MAX_PEER_LINES_EACH])
        if len(peer_lines) >= MAX_PEER_LINES:
            break

    score, score_cite = card_entries.get(qs.number, (None, None))
    score_line = None
    if score is not None and score_cite is not None:
        label = SCORE_LABELS.get(score, "")
        score_line = BriefingLine(f"Score {score} of 4: {label}.", replace(score_cite, council=council))

    anchor = findings[0].citation if findings else (score_line.citation if score_line is not None else None)
    all_improvements = [x.citation for x in improvements] + [
        x.citation for x in by_rank if x.kind == "improvement" and id(x) in used
    ]
    questions = _question_lines(qs, anchor, all_improvements)
    return StatementBriefing(
        qs=qs.number,
        name=qs.name,
        theme=qs.theme,
        score=score,
        score_line=score_line,
        key_findings=_lines(findings),
        strengths=_lines(strengths),
        improvements=_lines(improvements),
        peers=_lines(peer_lines[:MAX_PEER_LINES]),
        questions=tuple(questions),
    )


def _scorecard_entries(
    library: Library, council: str, include_demo: bool
) -> dict[int, tuple[int | None, Citation | None]]:
    try:
        card = build_scorecard(library, council, include_demo=include_demo)
    except CqcAssistantError:
        return {}
    out: dict[int, tuple[int | None, Citation | None]] = {}
    for c in card.councils:
        if council_key(c.council) == council_key(council):
            for e in c.entries:
                out[e.qs] = (e.score, e.citation)
    return out


def _number(statements: list[StatementBriefing]) -> tuple[StatementBriefing, ...]:
    """Number citations 1.. in reading order; the same passage keeps the same number."""
    numbers: dict[tuple[str, int, int], int] = {}

    def renumber(line: BriefingLine) -> BriefingLine:
        c = line.citation
        n = numbers.setdefault((c.doc_id, c.start, c.end), len(numbers) + 1)
        return replace(line, citation=replace(c, n=n))

    out = []
    for s in statements:
        score_line = None if s.score_line is None else renumber(s.score_line)
        out.append(
            replace(
                s,
                score_line=score_line,
                key_findings=tuple(renumber(x) for x in s.key_findings),
                strengths=tuple(renumber(x) for x in s.strengths),
                improvements=tuple(renumber(x) for x in s.improvements),
                peers=tuple(renumber(x) for x in s.peers),
                questions=tuple(renumber(x) for x in s.questions),
            )
        )
    return tuple(out)


def build_briefing(
    library: Library,
    council: str,
    qs: int | str | None = None,
    *,
    retriever: HybridRetriever | None = None,
    include_demo: bool = False,
) -> Briefing:
    """A briefing for `council` on one quality statement (number, name or slug) or, with qs=None, all nine.

    Raises QueryError for an unknown council or quality statement, or an empty library.
    """
    if not library.count_chunks():
        raise QueryError("the library is empty: add documents before preparing a briefing")
    if not (council or "").strip():
        raise QueryError("choose a council for the briefing")
    name = resolve_council(library, council, include_demo=include_demo)
    if qs in (None, "", "all"):
        chosen = list(QUALITY_STATEMENTS)
    else:
        try:
            chosen = [quality_statement(qs if isinstance(qs, int) else str(qs).strip())]
        except CqcAssistantError:
            raise QueryError(f"unknown quality statement {qs!r}: use 1-9 or a name such as 'Safeguarding'") from None
    retriever = retriever or HybridRetriever(library, include_demo=include_demo)
    collector = _Collector(library)
    held = library_councils(library, include_demo=include_demo)
    peers = sorted(v for k, v in held.items() if k != council_key(name))
    entries = _scorecard_entries(library, name, include_demo)
    statements = [_one_statement(library, retriever, collector, name, q, peers, entries) for q in chosen]
    notes: list[str] = []
    if not peers:
        notes.append("No other council is in the library, so there is no peer comparison.")
    if not entries:
        notes.append(f"No document in the library states quality statement scores for {name}.")
    return Briefing(
        council=name,
        statements=_number(statements),
        library_version=library.version(),
        peers_considered=tuple(peers),
        notes=tuple(notes),
    )
