"""Quality-statement scores in every published form, each with the exact passage that states it.

Forms (DOMAIN.md §5.2-5.3): a QS page's `Score: 3` / `Score 3` / `(Score 2)` / `3 - Evidence shows a good
standard` under its heading; an overview's label line followed by its `Score: N` line; press-release lists
(bullets or numbers, any dash, colon or pipe, upper or lower case, theme names in place of QS1/6/8) and tables
with or without a theme column. Works on the stored text alone, so the scorecard can call it on any document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..domain import SCORE_LABELS, match_quality_statement, match_theme
from ..models import ScoreStatement

_EVIDENCE = (
    r"evidence\s+shows\s+(?:significant\s+shortfalls|some\s+shortfalls|a\s+good\s+standard|an\s+exceptional\s+standard)"
)
_OUT_OF = r"(?:\s*(?:/\s*4|out\s+of\s+(?:4|four)))?"
# A line that is only a score: "Score: 3", "Score 3", "(Score 2)", "Score:2 Evidence shows...", "3 - Evidence shows..."
_SCORE_ONLY = re.compile(
    rf"^\W{{0,3}}\(?\s*score\s*:?\s*(?P<a>[1-4]){_OUT_OF}\s*\)?(?:\s*[-–—:]?\s*{_EVIDENCE})?\s*\.?\s*$"
    rf"|^\W{{0,3}}(?P<b>[1-4])\s*[-–—:]\s*(?P<label>{_EVIDENCE})\s*\.?\s*$",
    re.I,
)
# A label and its score on one line: "Safeguarding – 3", "7. safeguarding: 2", "Safeguarding (Score 2)".
_ITEM = re.compile(
    r"^(?P<lead>\s*(?:[-•*▪◦·]\s*)?(?:\(?(?P<num>\d{1,2})[.)]\s*)?)(?P<label>[^\d\s|].*?)"
    r"\s*(?:(?:[-–—:]\s*)?\(?\s*score\s*:?\s*|[-–—:]\s*)"
    rf"(?P<score>[1-4]){_OUT_OF}\s*\)?\s*\.?\s*$",
    re.I,
)
# A table cell that holds a score: "3", "Score: 3", "3 - Evidence shows a good standard", "3/4".
_CELL = re.compile(rf"^\s*(?:score\s*:?\s*)?(?P<score>[1-4]){_OUT_OF}(?:\s*[-–—:]?\s*{_EVIDENCE})?\s*$", re.I)
_NUMBERED = re.compile(r"^\s*\(?(\d{1,2})[.)]\s*")
_BULLET_LEAD = re.compile(r"^\s*(?:[-•*▪◦·]|\(?\d{1,2}[.)])\s*")
_SCORE_WORD = re.compile(r"\bscor(?:e|es|ed|ing)\b", re.I)
MAX_LABEL_WORDS = 14
MAX_LIST_ITEMS = 40
MAX_LINE = 300  # characters: a longer line is prose, not a score line
MAX_GAP_LINES = 2  # short lines (theme sub-headings, an item with its score missing) a list may skip


class SectionLike(Protocol):
    """What is read of a section: a detection `Section` or the catalogue's `SectionRecord`."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def qs(self) -> int | None: ...


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Item:
    line: int  # index into the non-blank lines
    label: str
    score: int
    number: int | None
    weak: bool = False  # label and score separated by spaces only (a PDF table): needs a list around it


def _lines(text: str) -> list[_Line]:
    out = []
    for m in re.finditer(r"[^\n]+", text):
        raw = m.group(0)
        if raw.strip():
            lead = len(raw) - len(raw.lstrip())
            body = raw.strip()
            out.append(_Line(m.start() + lead, m.start() + lead + len(body), body))
    return out


def _evidence_agrees(m: re.Match[str]) -> bool:
    """A `3 - Evidence shows ...` line names the label that goes with its digit."""
    label = m.group("label")
    if label is None:
        return True
    return " ".join(label.lower().split()) == SCORE_LABELS[int(m.group("b"))].lower()


def _score_only(line: str) -> int | None:
    if len(line) > MAX_LINE:
        return None
    m = _SCORE_ONLY.match(line)
    if m is None or not _evidence_agrees(m):
        return None
    return int(m.group("a") or m.group("b"))


def _item(idx: int, line: str) -> _Item | None:
    if len(line) > MAX_LINE or not line.rstrip(" .)|").endswith(("1", "2", "3", "4")) and "|" not in line:
        return None
    if "|" in line:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        cells = [c for c in cells if c]
        if len(cells) < 2:
            return None
        cm = _CELL.match(cells[-1])
        if cm is None:
            return None
        label = cells[-2]
        num = _NUMBERED.match(label)
        return _checked(idx, label, int(cm.group("score")), int(num.group(1)) if num else None)
    m = _ITEM.match(line)
    if m is not None:
        return _checked(idx, m.group("label"), int(m.group("score")), int(m.group("num")) if m.group("num") else None)
    weak = re.match(r"^\s*(?:[-•*▪◦·]\s*)?(?:\(?(\d{1,2})[.)]\s*)?([^\d\s].*?)\s{1,}([1-4])\s*$", line)
    if weak is not None:
        found = _checked(idx, weak.group(2), int(weak.group(3)), int(weak.group(1)) if weak.group(1) else None)
        return None if found is None else _Item(found.line, found.label, found.score, found.number, weak=True)
    return None


def _checked(idx: int, label: str, score: int, number: int | None) -> _Item | None:
    label = label.strip(" \t|-–—:(")
    if not re.search(r"[A-Za-z]{3}", label) or len(label.split()) > MAX_LABEL_WORDS or label.endswith((".", ",")):
        return None
    return _Item(idx, label, score, number)


def _label_qs(label: str) -> int | None:
    q = match_quality_statement(_BULLET_LEAD.sub("", label))
    return None if q is None else q.number


def _is_gap(line: str) -> bool:
    """A short line a score list may skip: a theme sub-heading, or an item whose score is missing."""
    return len(line) <= 80 and len(line.split()) <= 10 and not line.rstrip().endswith((".", "?", "!"))


def _blocks(lines: list[_Line], items: dict[int, _Item]) -> list[list[_Item]]:
    blocks: list[list[_Item]] = []
    current: list[_Item] = []
    gap = 0
    for i, ln in enumerate(lines):
        if i in items:
            current.append(items[i])
            gap = 0
            continue
        if current and gap < MAX_GAP_LINES and _is_gap(ln.text):
            gap += 1
            continue
        if current:
            blocks.append(current)
        current, gap = [], 0
    if current:
        blocks.append(current)
    return blocks


def _map_block(block: list[_Item], lines: list[_Line]) -> dict[int, _Item]:
    """QS -> item for one list: by label, by the list's own numbers 1-9, or by position in a list of nine."""
    by_label = {id(it): _label_qs(it.label) for it in block}
    numbers = [it.number for it in block]
    numbered = all(n is not None and 1 <= n <= 9 for n in numbers) and numbers == sorted(set(numbers))  # type: ignore[type-var]
    labelled = sum(1 for it in block if by_label[id(it)] is not None or match_theme(it.label) is not None)
    positional = len(block) == 9 and labelled >= 5
    out: dict[int, _Item] = {}
    for pos, it in enumerate(block, 1):
        q = by_label[id(it)]
        if numbered and it.number is not None and q is not None and q != it.number and labelled < len(block):
            continue  # the list's number and its label disagree: say nothing
        if q is None and numbered and len(block) >= 8 and labelled >= 5:
            q = it.number
        if q is None and positional and all(by_label[id(o)] in (None, p) for p, o in enumerate(block, 1)):
            q = pos
        if q is not None and q not in out:
            out[q] = it
    if not out:
        return {}
    if any(it.weak for it in out.values()) and (len(out) < 3 or not _near_score_word(block, lines)):
        return {}
    stated = any(_SCORE_WORD.search(lines[it.line].text) for it in out.values())
    if len(out) < 3 and not stated and not _near_score_word(block, lines):
        return {}
    return out


def _near_score_word(block: list[_Item], lines: list[_Line]) -> bool:
    first = block[0].line
    return any(_SCORE_WORD.search(lines[j].text) for j in range(max(0, first - 3), first))


def _section_qs(sections: Sequence[SectionLike], offset: int) -> int | None:
    owner = None
    for s in sections:
        if s.start <= offset < s.end and s.qs is not None and offset - s.start <= 600:
            owner = s.qs
    return owner


def find_score_statements(text: str, sections: Sequence[SectionLike] = ()) -> list[ScoreStatement]:
    """Every QS score the text states, in document order, each with the passage (offsets) that states it."""
    lines = _lines(text)
    out: list[ScoreStatement] = []
    used: set[int] = set()
    # 1. Score lines under a label: a QS page (`Assessing needs` / `Score: 2`) or an overview bullet.
    i = 0
    while i < len(lines):
        score = _score_only(lines[i].text)
        if score is None:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and _score_only(lines[j].text) == score:
            j += 1  # "Score: 2" then "2 - Evidence shows some shortfalls": one statement
        qs = _label_qs(lines[i - 1].text) if i > 0 and len(lines[i - 1].text) <= 120 else None
        start = lines[i - 1].start if qs is not None else lines[i].start
        if qs is None:
            qs = _section_qs(sections, lines[i].start)
        if qs is not None:
            out.append(ScoreStatement(qs, score, start, lines[j - 1].end, "page"))
            used.update(range(i - 1 if start < lines[i].start else i, j))
        i = j
    # 2. Lists and tables of scores.
    items = {
        k: it
        for k, ln in enumerate(lines)
        if k not in used and _score_only(ln.text) is None and (it := _item(k, ln.text)) is not None
    }
    for block in _blocks(lines, items):
        if len(block) > MAX_LIST_ITEMS:
            continue  # a long table of figures, not the nine scores
        for qs, it in _map_block(block, lines).items():
            ln = lines[it.line]
            out.append(ScoreStatement(qs, it.score, ln.start, ln.end, "list"))
    out.sort(key=lambda s: (s.start, s.qs))
    return out


def scores_from(statements: Sequence[ScoreStatement]) -> dict[int, int]:
    """One score per QS: CQC's own page or overview first, then lists, each in document order."""
    chosen: dict[int, int] = {}
    for form in ("page", "list"):
        for st in statements:
            if st.form == form and st.qs not in chosen:
                chosen[st.qs] = st.score
    return dict(sorted(chosen.items()))
