"""Where a document's stored text states a score, a rating or a percentage: the line or sentence a scorecard
quotes, as offsets into the stored text (so every quote is exactly `stored_text[start:end]`)."""

from __future__ import annotations

import re

from .domain import CQC_CREDIT, RATING_VERB, SCORE_LABELS, match_quality_statement, normalise_rating, rating_mentions
from .index.records import DocRecord, SectionRecord
from .ingest.facts import percent_mentions
from .models import Citation
from .text import first_line_end, paragraphs

__all__ = ["span_citation", "locate_score_lines", "percent_span", "rating_span", "score_line"]

# A list or table line that ends with a score: "Safeguarding – 3", "1. Leadership: 3", "| Safeguarding | 3 |".
_LIST_LINE = re.compile(
    r"^(?P<label>.*?[A-Za-z].*?)[\s|:\-\u2013\u2014(]+(?:score\s*:?\s*)?(?P<score>[1-4])\s*\)?\s*\|?\s*$",
    re.I,
)
_MAX_LIST_LINE = 200
_MAX_LABEL_WORDS = 16
_PERCENT = re.compile(r"\bscore of (\d{2,3}(?:\.\d+)?)\s*%", re.I)
_RATING_CUE = re.compile(rf"\b{RATING_VERB}\b", re.I)
_CQC_CUE = re.compile(rf"\b(?:{CQC_CREDIT})\b", re.I)
_SCORE_LABEL = re.compile(
    rf"[ \t]*([1-4])\s*[-\u2013\u2014:]\s*(?:{'|'.join(re.escape(v) for v in SCORE_LABELS.values())})[^\n]*", re.I
)


def _sentence(text: str, a: int, b: int) -> tuple[int, int]:
    """The sentence around text[a:b], kept within its line and trimmed."""
    line_start = text.rfind("\n", 0, a) + 1
    line_end = text.find("\n", b)
    line_end = len(text) if line_end == -1 else line_end
    dot = max(text.rfind(". ", line_start, a), text.rfind("? ", line_start, a), text.rfind("! ", line_start, a))
    s = line_start if dot == -1 else dot + 2
    m = re.compile(r"[.?!](?=\s|$)").search(text, b, line_end)
    e = line_end if m is None else m.end()
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _list_line(text: str, a: int, b: int) -> tuple[str, int] | None:
    line = text[a:b]
    if len(line) > _MAX_LIST_LINE:
        return None
    m = _LIST_LINE.match(line)
    if m is None:
        return None
    label = m.group("label").strip(" |")
    if not label or len(label.split()) > _MAX_LABEL_WORDS:
        return None
    return label, int(m.group("score"))


def locate_score_lines(text: str, scores: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Find, for each stated QS score, the list or table line that states it: {qs: (start, end)}.

    Candidate lines end with a score 1-4. A run of consecutive candidates whose digits equal the stated
    scores in QS order is mapped by position (as detection does); otherwise lines are matched by their
    label; any QS still unplaced takes the next candidate, in order, ending with its digit.
    """
    if not scores:
        return {}
    candidates: list[tuple[int, int, str, int, int]] = []  # start, end, label, score, line number
    for n, (a, b) in enumerate(paragraphs(text)):
        found = _list_line(text, a, b)
        if found:
            candidates.append((a, b, found[0], found[1], n))
    runs: list[list[tuple[int, int, str, int, int]]] = []
    for cand in candidates:
        if runs and runs[-1][-1][4] == cand[4] - 1:
            runs[-1].append(cand)
        else:
            runs.append([cand])
    order = sorted(scores)
    wanted = [scores[q] for q in order]
    located: dict[int, tuple[int, int]] = {}
    best: dict[int, tuple[int, int]] = {}
    for run in runs:
        attempt: dict[int, tuple[int, int]] = {}
        if len(run) == len(order) and [c[3] for c in run] == wanted:
            attempt = {q: (c[0], c[1]) for q, c in zip(order, run, strict=True)}
        else:
            for a, b, label, score, _n in run:
                qs = match_quality_statement(label)
                if qs is not None and scores.get(qs.number) == score and qs.number not in attempt:
                    attempt[qs.number] = (a, b)
        if len(attempt) > len(best):
            best = attempt
    located.update(best)
    pointer = 0
    for q in order:
        if q in located:
            pointer = max(pointer, located[q][1])
            continue
        for a, b, _label, score, _n in candidates:
            if a >= pointer and score == scores[q] and (a, b) not in located.values():
                located[q] = (a, b)
                pointer = b
                break
    return located


def _section_title(sections: list[SectionRecord], offset: int) -> str:
    title = ""
    for s in sections:
        if s.start <= offset < s.end:
            title = s.title  # later (inner) sections win
    return title


def span_citation(
    doc: DocRecord, text: str, sections: list[SectionRecord], span: tuple[int, int], council: str
) -> Citation:
    start, end = span
    return Citation(
        n=0,
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        section=_section_title(sections, start),
        start=start,
        end=end,
        quote=text[start:end],
        council=council,
        kind=doc.kind,
    )


def rating_span(text: str, rating: str) -> tuple[int, int] | None:
    """The sentence that states the rating, in any written form ("require improvement"): in the body if one
    does, else in the title line (a title says what the document is about; the body says what was found). Its
    paragraph says it is a rating ("rated"); failing any such, the sentence names who gave it ("the watchdog")."""
    rating = normalise_rating(rating) or rating
    said = [
        (bool(_RATING_CUE.search(text[a:b])), _sentence(text, a + s, a + e))
        for a, b in paragraphs(text)
        for named, s, e in rating_mentions(text[a:b])
        if named == rating
    ]
    cued = [span for rated, span in said if rated]
    return _past_title(text, cued or [span for _, span in said if _CQC_CUE.search(text[span[0] : span[1]])])


def percent_span(text: str, percent: int) -> tuple[int, int] | None:
    """The sentence that states the percentage, in the body if one does (as `rating_span`)."""
    said = [(int(float(m.group(1))), m.start(), m.end()) for m in _PERCENT.finditer(text)]
    found = [_sentence(text, a, b) for value, a, b in sorted(said + percent_mentions(text), key=lambda f: f[1])
             if value == percent]  # fmt: skip
    return _past_title(text, list(dict.fromkeys(found)))


def _past_title(text: str, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    title_end = first_line_end(text)
    return next((s for s in spans if s[0] >= title_end), spans[0] if spans else None)


def score_line(text: str, sections: list[SectionRecord], start: int, end: int, score: int) -> tuple[int, int]:
    """A QS page states its score over several lines (heading, `Score: 3`, `3 - Evidence shows...`): quote the
    lines from the first that is not the section's heading to the first that names the score."""
    line_end = text.find("\n", start, end)
    if line_end < 0:
        return start, end
    first = text[start:line_end].strip().lstrip("#").strip()
    if any(first == s.title and (start <= s.start <= end or s.start <= start < s.end) for s in sections):
        start = line_end + len(text[line_end:end]) - len(text[line_end:end].lstrip())
    line_end = text.find("\n", start, end)
    while line_end > 0 and str(score) not in text[start:line_end]:  # a label line, its score on the next
        line_end = text.find("\n", line_end + 1, end)
    if line_end < 0:
        return start, end
    # CQC's words for the score on the line after it ("Score: 3" / "3 – Evidence shows a good standard"):
    # they say what the number means, so the quote takes them too.
    label = _SCORE_LABEL.match(text, line_end + 1, end)
    if label is not None and label.group(1) == str(score):
        return start, label.end()
    return start, line_end
