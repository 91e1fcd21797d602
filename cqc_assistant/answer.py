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

import numpy as np

from .audit import AuditLog
from .councils import council_key
from .domain import normalise_rating, quality_statements_named
from .errors import QueryError
from .facts import Stated, fact_answer
from .filters import Filters
from .index.retriever import HybridRetriever, band_words
from .index.terms import RELATED_STEMS, content_terms, glossary_topics, stem, synonym_pairs, tokens
from .intent import Intent
from .library import Library
from .models import Answer, Citation, Passage
from .passage_order import best_sentence_order
from .protocols import ChatModel
from .questions import FORM_WORDS, count_windows, same_year, states_count_of, years_named
from .quotes import (
    Candidate,
    candidate_sentences,
    closest_citations,
    overlaps,
    quote_citation,
    with_neighbours,
)
from .ranker import Ranker, default_lead, default_ranker, default_support, support_features
from .rating_questions import bands_asked
from .scope import documents_in_scope, library_councils

MAX_QUESTION_CHARS = 1000
# Passages whose sentences are candidates, and how many candidates are compared densely: chosen under grouped
# cross-validation (README "How it works": 12/30; over the whole library RRF's top 8 holds the asked passage for
# 0.907 of the questions, its top 12 for 0.947, bench/pool_depth.py; the ranker, knowing each sentence's gap to
# the best, picks it out).
TOP_PASSAGES = 12
# Dense similarity is computed for the best candidates by lexical coverage and passage rank.
DENSE_POOL = 30
# A question word's share of its weight when only a glossary synonym of it, or only the sentence's heading or
# lead-in, has it.
SYNONYM_CREDIT = 0.6
CONTEXT_CREDIT = 0.5
# At most this many sentences quoted (their neighbours may join their quotes): README "Choices".
MAX_CITATIONS = 4
SOURCE_TIE = 0.01
MIN_WORDS = 5


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
        chat: ChatModel | None = None,
        audit: AuditLog | None = None,
        ranker: Ranker | None = None,
        support: Ranker | None = None,
        lead: Ranker | None = None,
        facts_first: bool = True,
    ):
        self.library = library
        self.ranker = ranker or default_ranker()
        self.lead = lead or default_lead()
        self.support = support or default_support()
        self.facts_first = facts_first
        # The answer ranker was fitted on the candidates of the reciprocal-rank fusion's top passages.
        self.retriever = retriever or HybridRetriever(library, fusion="rrf")
        self.chat = chat
        self.audit = audit

    # --- public -------------------------------------------------------------------------------------

    def ask(self, question: str, filters: Filters | None = None, conversation: Conversation | None = None) -> Answer:
        """Every read of one question sees one version of the library, even while a writer replaces documents."""
        with self.library.reading():
            return self._ask(question, filters, conversation)

    def _ask(self, question: str, filters: Filters | None, conversation: Conversation | None) -> Answer:
        question = _validate(question)
        if not self.library.count_chunks():
            raise QueryError("the library is empty: add documents with `cqc-assistant ingest PATH` first")
        intent = Intent.of(question, self.library)
        scoped = self._filters_for(intent, filters, conversation)
        if isinstance(scoped, Answer):
            return self._remember(conversation, scoped)
        fact = fact_answer(self.library, intent, scoped) if self.facts_first else None
        if isinstance(fact, Answer):
            return self._remember(conversation, fact)
        passages = self.retriever.search(question, scoped, TOP_PASSAGES, councils=intent.councils)
        cands = self.rank(intent, passages, scoped)
        result = self._extractive(intent, passages, scoped, cands)
        if isinstance(fact, Stated):  # a figure the library states: said first, quoted exactly
            quotes = [quote_citation(0, c, c.start, c.end, c.text) for c in cands if c.quotable]
            result = fact.settle(self.library, result, quotes)
        if self.chat is not None and not result.refused:
            from .llm import llm_answer

            result = llm_answer(self.chat, question, passages, scoped, fallback=result)
        degraded = self.library.degraded()
        if degraded:
            result = replace(result, notice=f"{result.notice}; {degraded}" if result.notice else degraded)
        return self._remember(conversation, result)

    def featurize(
        self, question: str, filters: Filters | None = None
    ) -> tuple[Intent, Filters | Answer, list[Passage], list[Candidate]]:
        """Everything the ranker sees for one question, before it scores: for fitting and evaluation."""
        intent = Intent.of(_validate(question), self.library)
        scoped = self._filters_for(intent, filters, None)
        if isinstance(scoped, Answer):
            return intent, scoped, [], []
        passages = self.retriever.search(question, scoped, TOP_PASSAGES, councils=intent.councils)
        return intent, scoped, passages, self.candidates(intent, passages, scoped)

    def candidates(
        self, intent: Intent, passages: Sequence[Passage], filters: Filters, dense_pool: int = DENSE_POOL
    ) -> list[Candidate]:
        """The candidate sentences of these passages with the ranker's features, not yet scored; `dense_pool`:
        how many are compared densely (the ranker knows the rest as not compared)."""
        cands = self._candidates(passages)
        self._features(intent, cands, filters, dense_pool)
        return cands

    def _filters_for(self, intent: Intent, filters: Filters | None, conv: Conversation | None) -> Filters | Answer:
        base = filters if filters is not None else (conv.filters if conv else Filters())
        named = list(intent.councils)
        if not named or (filters is not None and filters.council):
            return base
        held = library_councils(self.library, include_demo=base.include_demo)
        in_library = [held[council_key(n)] for n in named if council_key(n) in held]
        if in_library:
            return replace(base, council=in_library[0])
        names = " or ".join(named)
        return self._refusal(intent.question, base, f"The library holds no documents about {names}.")

    def _remember(self, conv: Conversation | None, result: Answer) -> Answer:
        if self.audit is not None:
            self.audit.record(result, library_version=self.library.version())
        if conv is not None:
            conv.filters = Filters(**{k: v for k, v in result.filters.items()})
            conv.turns.append(result)
        return result

    def _refusal(
        self, question: str, filters: Filters, reason: str, confidence: float = 0.0, near: Sequence[Passage] = ()
    ) -> Answer:
        titles = tuple(d.title for d in documents_in_scope(self.library, filters))
        scope = f"{len(titles)} document{'s' if len(titles) != 1 else ''} ({filters.describe()})"
        text = f"The library does not say. {reason} Searched {scope}.".replace("  ", " ")
        return Answer(
            question=question, answer=text, refused=True, filters=filters.active(), searched=titles,
            confidence=confidence, closest=closest_citations(near),
        )  # fmt: skip

    def rank(
        self, question: str | Intent, passages: Sequence[Passage], filters: Filters, dense_pool: int = DENSE_POOL
    ) -> list[Candidate]:
        """The candidate sentences of the retrieved passages, scored by the fitted ranker, best first (see `score`)."""
        intent = question if isinstance(question, Intent) else Intent.of(question, self.library)
        return self.score(self.candidates(intent, passages, filters, dense_pool))

    def score(self, cands: list[Candidate]) -> list[Candidate]:
        """Each candidate's probability of answering, from its features; the lead model's choice first, then
        the rest by that probability."""
        if not cands:
            return []
        x = np.array([[c.x[f] for f in self.ranker.features] for c in cands], dtype=np.float64)
        for c, p in zip(cands, self.ranker.score(x), strict=True):
            c.score = float(p)
        # Between near-equal sentences (within SOURCE_TIE), the one from whoever the question says found it:
        # CQC is never credited with the peer team's words. (The ranker gives the source no weight of its own:
        # as a feature it did not move the cross-validated figures.)
        tie = np.array([SOURCE_TIE * c.x.get("source_agree", 0.0) for c in cands])
        first = int(np.argmax(self.lead.score(x) + tie))
        rest = sorted((i for i in range(len(cands)) if i != first), key=lambda i: -(cands[i].score + tie[i]))
        return [cands[first], *(cands[i] for i in rest)]

    def _extractive(
        self, intent: Intent, passages: Sequence[Passage], filters: Filters, cands: list[Candidate]
    ) -> Answer:
        """`cands`: the passages' candidate sentences, ranked (`rank`)."""
        question = intent.question
        if not cands:
            return self._refusal(question, filters, "No passage matched the question.", near=passages)
        best = max(cands, key=lambda c: c.score)  # the ranker's own best: the gates are set on its probability
        x = np.array([[c.x[f] for f in self.ranker.features] for c in cands], dtype=np.float64)
        supported = float(self.support.score(np.array([support_features(x, np.array([c.score for c in cands]))]))[0])
        # Two fitted gates: the answer-or-refuse model over all the candidates, set for the stated
        # false-refusal rate, and a floor under the best sentence's own probability that only a question
        # nothing in the library speaks to falls below (set for 1% of answerable questions: a higher one
        # refused answerable questions in small libraries, README).
        if best.score < self.ranker.threshold or supported < self.support.threshold:
            kind_missing = intent.kind and not any(c.typed for c in cands)
            why = (
                f"No passage states the {intent.kind} asked for."
                if kind_missing
                else "No passage answers it closely enough."
            )
            # The closest passages a refusal lists come by their best sentence, as a search's top does.
            near = best_sentence_order(passages, ((c.passage.chunk_id, c.score) for c in cands))
            return self._refusal(question, filters, why, supported, near=near)
        quotable = [c for c in cands if c.quotable]
        if not quotable:
            return self._refusal(question, filters, "No passage answers it closely enough.", supported, near=passages)
        chosen = [quotable[0]]  # the lead model's choice, unless it is only a heading
        for c in quotable[1:]:
            if len(chosen) >= MAX_CITATIONS or c.score < best.score * self.ranker.second_ratio:
                break
            if not c.about:
                continue  # a further citation stays on the quality statement asked about
            if not any(overlaps(c, o) for o in chosen):
                chosen.append(c)
        texts = self.library.texts({c.passage.doc_id for c in chosen})
        citations: list[Citation] = []
        joined = list(chosen)  # a sentence joins one quote at most
        for c in chosen:
            s, e = with_neighbours(c, quotable, joined, self.ranker.neighbour_ratio)
            citations.append(quote_citation(len(citations) + 1, c, s, e, texts[c.passage.doc_id][s:e]))
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(
            question=question, answer=text, refused=False, citations=tuple(citations), filters=filters.active(),
            searched=tuple(dict.fromkeys(p.title for p in passages)), confidence=supported,
        )  # fmt: skip

    def _candidates(self, passages: Sequence[Passage]) -> list[Candidate]:
        return candidate_sentences(self.library.texts(p.doc_id for p in passages), passages)

    def _heading_similarities(self, titles: set[str], qvec: np.ndarray) -> dict[str, float]:
        """Each section title's cosine similarity to the question: what the section is about."""
        vecs = self.library.embed_recurring(t for t in titles if t)
        return {t: max(float(v @ qvec), 0.0) for t, v in vecs.items()}

    def _count_similarities(self, intent: Intent, pool: list[Candidate]) -> None:
        """A "how many" question's sentences that name what they count in other words ("75 factual errors"
        for mistakes): `counts_asked` from -1 to 1 by how close in meaning their numbers' words come."""
        if not intent.counted:
            return
        owners = [
            (c, w) for c in pool if c.x["counts_asked"] < 0 and not c.x["topic_miss"] for w in count_windows(c.text)
        ]
        if not owners:
            return
        vecs = self.library.embed_recurring([intent.counted, *(w for _, w in owners)])
        for c, w in owners:
            sim = float(vecs[w] @ vecs[intent.counted])
            c.x["counts_asked"] = max(c.x["counts_asked"], 2 * max(sim, 0.0) - 1)

    def _features(self, intent: Intent, cands: list[Candidate], filters: Filters, dense_pool: int = DENSE_POOL) -> None:
        """Each candidate's features for the ranker (see `ranker.FEATURES`): lexical coverage of the question's
        terms (IDF-weighted, glossary synonyms, heading context), dense similarity of the best lexical
        candidates, the passage's rank and score, and agreement with what the question asks (kind of answer,
        year, quality statement, source, council)."""
        question = intent.question
        qterms = _question_terms(intent, filters)
        band = _BandTerms.of(question, qterms)
        hints = band.hints
        total, df = self.library.document_frequencies(qterms + hints)
        idf = {t: math.log((total + 1) / (df.get(t, 0) + 0.5)) for t in qterms + hints}
        weight = sum(idf[t] for t in qterms) or 1.0
        synonyms = synonym_pairs(question)
        # A sentence that names no glossary thing the question asks about (its "occupational therapy") is about
        # something else; in a question of two parts, it may answer the other part.
        topics = [] if intent.two_parts else glossary_topics(question)
        council_keys = {council_key(c) for c in intent.councils}
        if filters.council:
            council_keys.add(council_key(filters.council))
        top = max((c.passage.score for c in cands), default=0.0) or 1.0
        covered: set[str] = set()
        for c in cands:
            around = c.passage.section + " " + _previous_text(c)  # the heading and lead-in
            own, ctx = _stems(c.text), _stems(around)
            topic_miss = 0.0
            if topics:
                held = own | ctx
                topic_miss = sum(not any(set(n) <= held for n in group) for group in topics) / len(topics)
            said, stated = band.credited(own)
            syn_hit = _synonym_stems(synonyms, own) | stated
            bonus = sum(idf[t] * _credit(t, own, set(), ctx) for t in hints) / weight
            c.lexical = sum(idf[t] * _credit(t, said, syn_hit, ctx) for t in qterms) / weight + bonus
            c.literal = sum(idf[t] * _credit(t, said, stated, ctx) for t in qterms) / weight + bonus
            # A rating may be said by a heading that is nothing else ("Good" over "63 to 87%").
            rated = intent.kind == "rating" and normalise_rating(c.passage.section)
            heading = c.passage.section if rated else ""
            has_kind = bool(intent.finder.search(c.text + "\n" + heading)) if intent.finder else True
            year_miss = bool(intent.years) and not same_year(set(intent.years), years_named(c.text + " " + around))
            named = quality_statements_named(c.text) if intent.qs else set()
            qs_other = bool(named) and not named & intent.qs
            c.about = (c.passage.qs in intent.qs or bool(named & intent.qs)) if intent.qs else True
            c.typed = (
                has_kind
                and not year_miss
                and not qs_other
                and len(tokens(c.text)) >= (0 if intent.finder else MIN_WORDS)
            )
            if c.typed:
                covered |= own | ctx
            spoken = {council_key(x) for x in (c.passage.council or "").split("; ") if x}
            words = len(c.text.split())
            c.x = {
                "lexical": c.lexical,
                "literal": c.literal,
                "rank_prior": 1.0 / (1 + c.rank),
                "passage_rel": c.passage.score / top,
                "kind_match": float(intent.finder is not None and has_kind),
                "kind_miss": float(intent.finder is not None and not has_kind),
                "year_miss": float(year_miss),
                "qs_about": float(bool(intent.qs) and c.about),
                "qs_other": float(qs_other),
                "qs_meaning": intent.qs_meaning(c.passage.qs),
                "source_agree": float(bool(intent.sources) and c.passage.kind in intent.sources),
                "source_miss": float(bool(intent.sources) and c.passage.kind not in intent.sources),
                "council_agree": float(bool(council_keys & spoken)),
                "topic_miss": topic_miss,
                "log_words": math.log(1 + words),
                "position": (c.start - c.passage.start) / max(1, c.passage.end - c.passage.start),
                "opening": float(c.opening),
                "heading_line": float(c.heading),
                "counts_asked": _counts_asked(intent, c.text, topic_miss),
                "dense": 0.0,
                "pooled": 0.0,
            }
        # Words the library holds somewhere that no sentence able to answer (nor its heading or lead-in)
        # holds: those sentences are about something else (another council's waiting list, another
        # report's date). Words the library never uses are only the question's paraphrase.
        absent = sum(idf[t] for t in qterms if df.get(t, 0) and t not in covered | band.pointers) / weight
        # Dense similarity only for the most promising sentences: embedding is the slow part of an answer.
        qvec = intent.vector if intent.vector is not None else self.library.embed_query(question)
        pool = sorted(cands, key=lambda c: (not c.typed, -(c.lexical + 0.1 / (1 + c.rank))))[:dense_pool]
        if pool:  # (none when dense_pool is 0: a reranked search)
            # Officers ask many questions of one council's documents: a sentence met before is not embedded again.
            texts = [(_context(c) + c.text)[:400] for c in pool]
            known = self.library.embed_recurring(texts)
            for c, text in zip(pool, texts, strict=True):
                c.dense = max(float(known[text] @ qvec), 0.0)
                c.x["dense"], c.x["pooled"] = c.dense, 1.0
        self._count_similarities(intent, pool)
        heading_sims = self._heading_similarities({c.passage.section for c in cands}, qvec)
        # How far each sentence falls short of the question's best: a similarity means little on its own
        # (a question phrased in other words is far from every sentence).
        best_dense = max((c.x["dense"] for c in cands), default=0.0)
        best_lexical = max((c.lexical for c in cands), default=0.0)
        for c in cands:
            c.x["absent"] = absent
            c.x["heading_dense"] = heading_sims.get(c.passage.section, 0.0)
            c.x["dense_gap"] = c.x["dense"] - best_dense
            c.x["lexical_gap"] = c.lexical - best_lexical


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


def _question_terms(intent: Intent, filters: Filters) -> list[str]:
    """The question's content terms, less the council's name (the scope, not the topic)."""
    council_stems = {stem(t) for n in intent.councils for t in tokens(n)}
    if filters.council:
        council_stems |= {stem(t) for t in tokens(filters.council)}
    form = FORM_WORDS.get(intent.kind or "", frozenset())
    terms = list(dict.fromkeys(RELATED_STEMS.get(t, t) for t in content_terms(intent.question)))
    return [t for t in terms if t not in council_stems and t not in form] or terms


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


def _counts_asked(intent: Intent, text: str, topic_miss: float) -> float:
    """For a "how many" question: 1 when the sentence counts what it asks about, -1 when it does not (the dense
    pool then scores how close what its numbers count comes); 0 for another question, and at most 0 for a
    sentence about another service than the one asked about (people waiting for OT are not those for DoLS)."""
    if not intent.counted:
        return 0.0
    counts = 1.0 if states_count_of(text, intent.counted) else -1.0
    return min(counts, 0.0) if topic_miss else counts


def _context(c: Candidate) -> str:
    return f"{c.passage.section}: " if c.passage.section and not c.text.startswith(c.passage.section) else ""


def _previous_text(c: Candidate) -> str:
    before = c.passage.text[: max(0, c.start - c.passage.start)]
    return before[-300:]
