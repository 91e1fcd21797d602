"""The checks every sentence of a model's answer must pass against the passages it cites (see `llm`): enough of
its content words in one supporting sentence, the same rating words and negation, its numbers in the passage,
and no CQC credit for a peer team's finding."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..domain import CQC_PEOPLE, NUMBER_WORDS, ratings_named
from ..index.terms import content_terms
from ..models import Passage
from ..text import looks_like_instruction, sentences

__all__ = ["MIN_COVERAGE", "Evidence", "Verdict", "verify_sentence"]

MIN_COVERAGE = (3, 5)  # a supporting sentence holds at least 3/5 of the answer sentence's content words

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.I)
_CQC = re.compile(CQC_PEOPLE, re.I)


def _numbers(text: str, *, words: bool = False) -> set[str]:
    out = set()
    for m in _NUMBER.finditer(text):
        n = m.group().replace(",", "")
        if "." in n:
            n = n.rstrip("0").rstrip(".")
        out.add(n)
    if words:
        out |= {str(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}
    return out


@dataclass(frozen=True)
class _Sentence:
    start: int  # offsets into passage.text
    end: int
    terms: frozenset[str]
    ratings: frozenset[str]
    negated: bool
    cqc: bool


@dataclass(frozen=True)
class Evidence:
    """A passage as the checks read it: its sentences (instructions left out) and every number it states."""

    passage: Passage
    sentences: tuple[_Sentence, ...]
    numbers: frozenset[str]

    @classmethod
    def of(cls, p: Passage) -> Evidence:
        kept, numbers = [], set()
        for i, j in sentences(p.text):
            s = p.text[i:j]
            if looks_like_instruction(s):
                continue
            numbers |= _numbers(s, words=True)
            kept.append(
                _Sentence(
                    i,
                    j,
                    frozenset(content_terms(s)),
                    frozenset(ratings_named(s)),
                    bool(_NEGATION.search(s)),
                    bool(_CQC.search(s)),
                )  # fmt: skip
            )
        return cls(p, tuple(kept), frozenset(numbers))


@dataclass
class Verdict:
    """The supporting sentences found for one answer sentence, or why it has none."""

    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (passage index, i, j) per good citation
    reason: str = "unsupported"  # why it was dropped, when spans is empty


def verify_sentence(sentence: str, cites: Sequence[int], evidence: Sequence[Evidence]) -> Verdict:
    """Which of the cited passages support the sentence, each with its best supporting sentence."""
    if not cites:
        return Verdict(reason="uncited")
    valid = [n for n in cites if 1 <= n <= len(evidence)]
    if not valid:
        return Verdict(reason="out_of_range")
    terms = set(content_terms(sentence))
    need = -(-MIN_COVERAGE[0] * len(terms) // MIN_COVERAGE[1])
    ratings, numbers = ratings_named(sentence), _numbers(sentence)
    negated, cqc = bool(_NEGATION.search(sentence)), bool(_CQC.search(sentence))
    verdict = Verdict()
    for n in valid:
        ev = evidence[n - 1]
        if not terms or not numbers <= ev.numbers:
            continue
        best: tuple[int, int, _Sentence] | None = None
        for k, s in enumerate(ev.sentences):
            hit = len(terms & s.terms)
            if hit < need or not ratings <= s.ratings or s.negated != negated:
                continue
            if cqc and ev.passage.kind == "lga_peer_challenge" and not s.cqc:
                verdict.reason = "misattributed"
                continue
            if best is None or (hit, -k) > (best[0], best[1]):
                best = (hit, -k, s)
        if best is not None:
            verdict.spans.append((n - 1, best[2].start, best[2].end))
    return verdict
