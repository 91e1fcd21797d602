"""Answers with cited passages.

Extractive by default (offline, no model): the answering sentences themselves are quoted, each with its exact
offsets, so `quote == stored_text[start:end]` holds by construction. With a chat model configured, the model
writes the answer from fenced passages and every sentence's [n] is checked against them (see `llm.py`).
A refusal names what was searched when the evidence is weak.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .audit import AuditLog
from .councils import council_key, find_councils
from .domain import normalise_rating, quality_statements_named
from .errors import QueryError
from .index.retriever import Filters, HybridRetriever, band_words, documents_in_scope, library_councils
from .index.terms import RELATED_STEMS, content_terms, glossary_topics, stem, synonym_pairs, tokens
from .library import Library
from .models import Answer, Citation, Passage
from .questions import FORM_WORDS, answer_type, has_two_parts, same_year, years_named
from .rating import bands_asked
from .text import looks_like_instruction, sentences

MAX_QUESTION_CHARS = 1000
TOP_PASSAGES = 6
DENSE_POOL = 14
# Choosing the answering sentences: lexical coverage of the question, dense similarity, passage rank.
W_LEXICAL = 0.5
W_DENSE = 0.7
W_RANK = 0.05
# Deciding whether the best sentence supports an answer at all: the same signals weighted for support, less
# the share of the question's known words (words the library holds somewhere) that no sentence able to answer
# holds (see `_score`).
S_LEXICAL = 1.0
S_DENSE = 1.0
S_RANK = 0.2
S_ABSENT = 0.4
S_TOPIC = 0.5
# Calibrated on the dev set's answerable and unanswerable questions (bench/eval.py prints the sweep).
REFUSAL_THRESHOLD = 0.61
# A question word's share of its weight when only a glossary synonym of it, or only the sentence's heading or
# lead-in, has it.
SYNONYM_CREDIT = 0.6
CONTEXT_CREDIT = 0.5
SECOND_CITATION_RATIO = 0.5
MAX_CITATIONS = 3
MIN_WORDS = 5
W_SOURCE = 0.1  # a sentence from the kind of report the question says the finding came from
# Who the question says found it: CQC (its report or press release) or the LGA's peer team.
_SOURCES = (
    (re.compile(r"\b(cqc|care quality commission|inspectors?|inspection|regulator|assessors?)\b", re.I),
     {"cqc_assessment", "cqc_press_release"}),
    (re.compile(r"\b(lga|peer (team|challenge|review)|peers|reviewers)\b", re.I), {"lga_peer_challenge"}),
)  # fmt: skip


@dataclass
class Candidate:
    passage: Passage
    rank: int
    start: int
    end: int
    text: str
    lexical: float = 0.0
    literal: float = 0.0  # lexical coverage without glossary synonyms
    dense: float = 0.0
    score: float = 0.0
    support: float = 0.0
    typed: bool = True
    about: bool = True  # about the quality statement the question names (True when it names none)


@dataclass
class Conversation:
    """What a follow-up keeps from the previous turn: the council and the filters, unless changed."""

    filters: Filters = field(default_factory=Filters)
    turns: list[Answer] = field(default_factory=list)


class Assistant:
    """Ask questions of a library. The chat model is optional; without one answers are extractive."""

    def __init__(
        self,
        library: Library,
        *,
        retriever: HybridRetriever | None = None,
        chat: object | None = None,
        audit: AuditLog | None = None,
    ):
        self.library = library
        self.retriever = retriever or HybridRetriever(library)
        self.chat = chat
        self.audit = audit

    # --- public -------------------------------------------------------------------------------------

    def ask(self, question: str, filters: Filters | None = None, conversation: Conversation | None = None) -> Answer:
        """Every read of one question sees one version of the library, even while a writer replaces documents."""
        with self.library.reading():
            return self._ask(question, filters, conversation)

    def _ask(self, question: str, filters: Filters | None, conversation: Conversation | None) -> Answer:
        question = _validate(question)
        if not self.library.catalogue.count_chunks():
            raise QueryError("the library is empty: add documents with `cqc-assistant ingest PATH` first")
        scoped = self._filters_for(question, filters, conversation)
        if isinstance(scoped, Answer):
            return self._remember(conversation, scoped)
        passages = self.retriever.search(question, scoped, TOP_PASSAGES)
        result = self._extractive(question, passages, scoped)
        if self.chat is not None and not result.refused:
            from .llm import llm_answer

            result = llm_answer(self.chat, question, passages, scoped, fallback=result)
        return self._remember(conversation, result)

    # --- steps --------------------------------------------------------------------------------------

    def _filters_for(self, question: str, filters: Filters | None, conv: Conversation | None) -> Filters | Answer:
        base = filters if filters is not None else (conv.filters if conv else Filters())
        named = list(dict.fromkeys(name for name, _, _ in find_councils(question)))
        if not named or (filters is not None and filters.council):
            return base
        held = library_councils(self.library, include_demo=base.include_demo)
        in_library = [held[council_key(n)] for n in named if council_key(n) in held]
        if in_library:
            return replace(base, council=in_library[0])
        names = " or ".join(named)
        return self._refusal(question, base, f"The library holds no documents about {names}.")

    def _remember(self, conv: Conversation | None, result: Answer) -> Answer:
        if self.audit is not None:
            self.audit.record(result, library_version=self.library.version())
        if conv is not None:
            conv.filters = Filters(**{k: v for k, v in result.filters.items()})
            conv.turns.append(result)
        return result

    def _refusal(self, question: str, filters: Filters, reason: str, confidence: float = 0.0) -> Answer:
        titles = tuple(d.title for d in documents_in_scope(self.library, filters))
        scope = f"{len(titles)} document{'s' if len(titles) != 1 else ''} ({filters.describe()})"
        text = f"The library does not say. {reason} Searched {scope}.".replace("  ", " ")
        return Answer(
            question=question, answer=text, refused=True, filters=filters.active(), searched=titles,
            confidence=confidence,
        )  # fmt: skip

    def rank(self, question: str, passages: Sequence[Passage], filters: Filters) -> list[Candidate]:
        """The candidate sentences of the retrieved passages, scored, best first (only those of the asked-for
        type when the question asks for a date, a number, a name...)."""
        cands = self._candidates(passages)
        self._score(question, cands, filters)
        return sorted((c for c in cands if c.typed), key=lambda c: -c.score)

    def _extractive(self, question: str, passages: Sequence[Passage], filters: Filters) -> Answer:
        cands = self.rank(question, passages, filters)
        if not cands:
            kind = answer_type(question)
            what = f"states the {kind[0]} asked for" if kind and passages else "matched the question"
            return self._refusal(question, filters, f"No passage {what}.")
        best = cands[0]
        if best.support < REFUSAL_THRESHOLD:
            return self._refusal(question, filters, "No passage answers it closely enough.", best.support)
        chosen = [best]
        for c in cands[1:]:
            if len(chosen) >= MAX_CITATIONS or c.score < best.score * SECOND_CITATION_RATIO:
                break
            if not c.about:
                continue  # a further citation stays on the quality statement asked about
            if not any(_overlaps(c, o) for o in chosen):
                chosen.append(c)
        citations = tuple(_citation(i + 1, c) for i, c in enumerate(chosen))
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(
            question=question, answer=text, refused=False, citations=citations, filters=filters.active(),
            searched=tuple(dict.fromkeys(p.title for p in passages)), confidence=best.support,
        )  # fmt: skip

    def _candidates(self, passages: Sequence[Passage]) -> list[Candidate]:
        texts = self.library.catalogue.texts(p.doc_id for p in passages)
        out: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for rank, p in enumerate(passages):
            doc_text = texts[p.doc_id]
            spans = list(sentences(doc_text, p.start, p.end))
            for i, (s, e) in enumerate(spans):
                if (p.doc_id, s) in seen or len(doc_text[s:e].split()) < 3 or _is_heading(doc_text[s:e], p):
                    continue
                seen.add((p.doc_id, s))
                if looks_like_instruction(doc_text[s:e]):
                    continue
                s, e = _extend(doc_text, spans, i)
                out.append(Candidate(p, rank, s, e, doc_text[s:e]))
        return out

    def _score(self, question: str, cands: list[Candidate], filters: Filters) -> None:
        """Lexical coverage of the question's terms (IDF-weighted, glossary synonyms, heading context) and
        dense similarity of the best lexical candidates, plus a small prior for the passage's rank; and each
        candidate's support for answering at all."""
        qterms = _question_terms(question, filters)
        band = _BandTerms.of(question, qterms)
        hints = band.hints
        total, df = self.library.catalogue.document_frequencies(qterms + hints)
        idf = {t: math.log((total + 1) / (df.get(t, 0) + 0.5)) for t in qterms + hints}
        weight = sum(idf[t] for t in qterms) or 1.0
        synonyms = synonym_pairs(question)
        # A sentence that names no glossary thing the question asks about (its "occupational therapy") is about
        # something else; in a question of two parts, it may answer the other part.
        topics = [] if has_two_parts(question) else glossary_topics(question)
        kind = answer_type(question)
        asked_qs = quality_statements_named(question)
        kinds = {k for pattern, named in _SOURCES if pattern.search(question) for k in named}
        years = years_named(question)
        covered: set[str] = set()
        unnamed: dict[int, float] = {}
        for c in cands:
            around = c.passage.section + " " + _previous_text(c)  # the heading and lead-in
            own, ctx = _stems(c.text), _stems(around)
            if topics:
                held = own | ctx
                unnamed[id(c)] = sum(not any(set(n) <= held for n in group) for group in topics) / len(topics)
            said, stated = band.credited(own)
            syn_hit = _synonym_stems(synonyms, own) | stated
            bonus = sum(idf[t] * _credit(t, own, set(), ctx) for t in hints) / weight
            c.lexical = sum(idf[t] * _credit(t, said, syn_hit, ctx) for t in qterms) / weight + bonus
            c.literal = sum(idf[t] * _credit(t, said, stated, ctx) for t in qterms) / weight + bonus
            # A fragment ("- direct payments and charging") answers only a question for a figure or a name.
            # A rating may be said by a heading that is nothing else ("Good" over "63 to 87%").
            heading = c.passage.section if kind and kind[0] == "rating" and normalise_rating(c.passage.section) else ""
            c.typed = bool(kind[1].search(c.text + "\n" + heading)) if kind else len(tokens(c.text)) >= MIN_WORDS
            if years and not same_year(years, years_named(c.text + " " + around)):
                c.typed = False  # "spend in 2021/22" is not answered by the spend of 2023/24
            c.score = W_LEXICAL * c.lexical + W_RANK / (1 + c.rank) + (W_SOURCE if c.passage.kind in kinds else 0.0)
            if asked_qs:
                # "What score for safeguarding?" is not answered by a sentence about partnerships.
                named = quality_statements_named(c.text)
                if named and not named & asked_qs:
                    c.typed = False
                c.about = c.passage.qs in asked_qs or bool(named & asked_qs)
            if c.typed:
                covered |= own | ctx
        # Words the library holds somewhere that no sentence able to answer (nor its heading or lead-in)
        # holds: those sentences are about something else (another council's waiting list, another
        # report's date). Words the library never uses are only the question's paraphrase.
        absent = sum(idf[t] for t in qterms if df.get(t, 0) and t not in covered | band.pointers) / weight
        # Dense similarity only for the most promising sentences: embedding is the slow part of an answer.
        pool = sorted((c for c in cands if c.typed), key=lambda c: -c.score)[:DENSE_POOL]
        if pool:
            vecs = self.library.embedder.embed([(_context(c) + c.text)[:400] for c in pool])
            sims = vecs @ self.library.embed_query(question)
            for c, sim in zip(pool, sims, strict=True):
                c.dense = max(float(sim), 0.0)
                c.score += W_DENSE * c.dense
        pooled = {id(c) for c in pool}
        for c in cands:
            c.support = S_LEXICAL * c.literal + S_DENSE * c.dense + S_RANK / (1 + c.rank) - S_ABSENT * absent
            c.support -= S_TOPIC * unnamed.get(id(c), 0.0)
            if id(c) not in pooled:
                c.score -= 1.0  # never chosen over a sentence that was compared densely


@dataclass(frozen=True)
class _BandTerms:
    """The rating band a question points at ("75%", "the lowest grade") in the words a report states it in
    ("Good", "63", "87"): hints that add credit and no weight, and that stand for the question's pointing
    words when a sentence states the band's bounds."""

    hints: list[str]
    pointers: frozenset[str]
    bounds: frozenset[str]

    @classmethod
    def of(cls, question: str, qterms: list[str]) -> _BandTerms:
        asked = bands_asked(question)
        hints = dict.fromkeys(t for phrase in band_words(asked) for t in map(stem, phrase) if t not in qterms)
        return cls(
            list(hints),
            frozenset(_stems(" ".join(asked.words))),
            frozenset(str(b) for low, high, _ in asked.bands for b in (low, high)),
        )

    def credited(self, own: set[str]) -> tuple[set[str], set[str]]:
        """The sentence's words that count for the question, and the pointing words its band stands for:
        "38% or lower" states the band; "good" alone does not, nor does a "70%" of something else."""
        if own & self.bounds:
            return own, set(self.pointers)
        return own - {p for p in self.pointers if p[0].isdigit()}, set()


def _question_terms(question: str, filters: Filters) -> list[str]:
    """The question's content terms, less the council's name (the scope, not the topic)."""
    council_stems = {stem(t) for n, _, _ in find_councils(question) for t in tokens(n)}
    if filters.council:
        council_stems |= {stem(t) for t in tokens(filters.council)}
    kind = answer_type(question)
    form = FORM_WORDS.get(kind[0], frozenset()) if kind else frozenset()
    terms = list(dict.fromkeys(RELATED_STEMS.get(t, t) for t in content_terms(question)))
    return [t for t in terms if t not in council_stems and t not in form] or terms


_ANAPHOR = re.compile(
    r"^(?:it|its|this|these|those|they|their|he|she|his|her|such|however|but|also|similarly|"
    r"in addition|additionally|as a result|the team|the peer team saw it|both|neither|"
    r"(?:each|one|some|many|most|all|none) of (?:these|them|those)|of these|"
    # an elliptical "The most urgent is...", "The first was...": the noun is in the sentence before
    r"the (?:most|least) \w+ (?:is|are|was|were)|"
    r"the (?:main|biggest|largest|greatest|first|second|third|last|latter|former|other)(?: ones?)? "
    r"(?:is|are|was|were))\b",
    re.I,
)


def _extend(text: str, spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
    """A sentence that leans on its neighbour is quoted with it: one opening with 'It', 'This', 'However'...
    takes the sentence before; one ending in ':' takes the list lines after it (same passage, bounded)."""
    s, e = spans[i]
    if i > 0 and _ANAPHOR.match(text[s:e]) and e - spans[i - 1][0] <= 600:
        s = spans[i - 1][0]
    if text[s:e].rstrip().endswith(":"):
        j = i + 1
        while j < len(spans) and j <= i + 4 and spans[j][1] - s <= 700:
            e = spans[j][1]
            j += 1
    return s, e


def _validate(question: str) -> str:
    q = (question or "").strip()
    if not q:
        raise QueryError("the question is empty")
    if len(q) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is {len(q):,} characters; the limit is {MAX_QUESTION_CHARS:,}")
    return q


def _stems(text: str) -> set[str]:
    out = set()
    for tok in tokens(text):
        out.add(stem(tok))
        for piece in re.split(r"[-/]", tok):
            if piece:
                out.add(stem(piece))
    return out | {RELATED_STEMS[s] for s in out if s in RELATED_STEMS}


def _synonym_stems(synonyms: list[tuple[tuple[str, ...], tuple[str, ...]]], own: set[str]) -> set[str]:
    """The question's stems credited because a glossary synonym of their phrase is in the sentence
    ("first point of contact" asked, "front door" written)."""
    credited: set[str] = set()
    used: set[tuple[str, ...]] = set()
    for asked, synonym in synonyms:
        # One written phrase stands for one asked phrase: "inspection" in a sentence does not also answer
        # the question's "local authority assessment" once it has answered its "inspector".
        if synonym not in used and all(p in own for p in synonym) and not set(asked) <= credited:
            credited |= set(asked)
            used.add(synonym)
    return credited


def _credit(term: str, own: set[str], synonym: set[str], context: set[str]) -> float:
    if term in own:
        return 1.0
    if term in synonym:
        return SYNONYM_CREDIT
    return CONTEXT_CREDIT if term in context else 0.0


def _is_heading(text: str, p: Passage) -> bool:
    """The section's own heading line says what the passage is about, never what was found."""
    return " ".join(text.split()).rstrip(":.") == " ".join(p.section.split()).rstrip(":.")


def _context(c: Candidate) -> str:
    return f"{c.passage.section}: " if c.passage.section and not c.text.startswith(c.passage.section) else ""


def _previous_text(c: Candidate) -> str:
    before = c.passage.text[: max(0, c.start - c.passage.start)]
    return before[-300:]


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.doc_id == b.passage.doc_id and a.start < b.end and b.start < a.end


def _citation(n: int, c: Candidate) -> Citation:
    p = c.passage
    return Citation(
        n=n, doc_id=p.doc_id, title=p.title, source=p.source, section=p.section, start=c.start, end=c.end,
        quote=c.text, page=p.page, council=p.council, kind=p.kind,
    )  # fmt: skip
