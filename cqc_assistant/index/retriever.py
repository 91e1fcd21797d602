"""Hybrid retrieval: BM25 (SQLite FTS5) and dense (Chroma) over the same chunks, fused, with filters on both.

Also a LangChain `BaseRetriever` (index/lc_retriever.py, apart so that a search does not import LangChain),
so the library plugs into any LangChain chain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from ..councils import council_token, find_councils
from ..errors import QueryError, StoreError
from ..filters import Filters
from ..library import Library
from ..models import Passage
from ..ranker import PASSAGE_FEATURES, Ranker, default_fusion
from ..rating_questions import BandsAsked, bands_asked
from ..scope import hidden_documents
from .records import ChunkRow
from .terms import STOPWORDS, expansions, tokens

__all__ = ["HybridRetriever", "band_words", "fts_query"]

MAX_QUERY_CHARS = 2000
# How deep each side's list goes before fusion: a passage one side ranks 5th and the other 50th is fused with both
# ranks only when both lists reach that far. Held out (bench/eval.py --cv --repeats 5), answers 0.853 / 0.911 /
# 0.053 at 40, 0.862 / 0.919 / 0.052 at 100; one-off runs: 0.858 / 0.913 / 0.050 at 60, 200 as 100.
CANDIDATES = 100
RRF_K = 60
BOILERPLATE_WEIGHT = 0.5
COUNCIL_BOOST = 1.3


def fts_query(text: str) -> str:
    """An OR query of the question's words and the glossary synonyms of its phrases."""
    words = [t for t in tokens(text) if t not in STOPWORDS]
    parts: list[str] = []
    for w in words:
        for piece in re.split(r"[-/]", w):
            if piece and piece not in STOPWORDS and f'"{piece}"' not in parts:
                parts.append(f'"{piece}"')
    for phrase in [*expansions(text), *band_words(bands_asked(text))]:
        q = '"' + " ".join(phrase) + '"'
        if q not in parts:
            parts.append(q)
    return " OR ".join(parts)


def checked_k(k: int) -> int:
    """How many passages a search may ask for."""
    if k < 1 or k > 200:
        raise QueryError("-k must be between 1 and 200")
    return k


def band_words(asked: BandsAsked) -> list[tuple[str, ...]]:
    """How a report writes the rating band a question points at: its name and its bounds ("good", "63", "87")."""
    out: list[tuple[str, ...]] = []
    for low, high, rating in asked.bands:
        out += [tuple(tokens(rating)), (str(low),), (str(high),)]
    return out


@cache
def _dense_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="cqc-dense")


class HybridRetriever:
    """Lexical and dense candidates under the same filters, fused by the fitted fusion (default: a logistic
    model over both sides' ranks and scores, the council named and boilerplate, `data/ranker.json`), by
    reciprocal rank ("rrf") or by normalised scores ("convex")."""

    def __init__(
        self,
        library: Library,
        *,
        fusion: str = "fitted",
        dense_weight: float = 0.5,
        include_demo: bool = False,
        fusion_model: Ranker | None = None,
    ) -> None:
        self.library = library
        self.fusion = fusion
        self.fusion_model = fusion_model  # the fitted fusion to use (default: the shipped one)
        self.dense_weight = dense_weight
        self.include_demo = include_demo  # as if every search's Filters said so (briefings)

    def search(
        self, query: str, filters: Filters | None = None, k: int = 10, *, councils: Sequence[str] | None = None
    ) -> list[Passage]:
        """`councils`: the councils the query names, when the caller has read them already (an Intent)."""
        checked_k(k)
        with self.library.reading():
            query = _checked(query)
            feats = self._candidates(query, filters, max(CANDIDATES, k * 3), councils)
            return self._fuse(feats, k)

    def pool(
        self, query: str, filters: Filters | None = None, *, councils: Sequence[str] | None = None
    ) -> list[tuple[Passage, dict[str, float]]]:
        """Every fused candidate with its fusion features (for fitting the fusion): RRF's order."""
        with self.library.reading():
            feats = self._candidates(_checked(query), filters, CANDIDATES, councils)
            rows = self.library.chunks(list(feats))
            order = sorted((c for c in feats if c in rows), key=lambda c: -_rrf(feats[c]))
            passages = self._passages([(rows[c], _rrf(feats[c])) for c in order])
            return [(p, feats[c]) for p, c in zip(passages, order, strict=True)]

    # --- the two sides -----------------------------------------------------------------------------

    def _candidates(
        self, query: str, filters: Filters | None, n: int, councils: Sequence[str] | None
    ) -> dict[str, dict[str, float]]:
        """Up to `n` candidates from each side under the same filters, with their fusion features."""
        f = filters or Filters()
        # The documents every search leaves out: the demo ones, once real ones are in (unless asked for).
        hidden = frozenset() if self.include_demo else hidden_documents(self.library, f)
        # The two sides at once: the model and Chroma release the GIL while SQLite's FTS5 runs (p50 48 -> 30 ms
        # a search at 100k chunks on 2 cores). The dense side's chunk ids are read back in this thread's
        # snapshot, so the answer still sees one version of the library.
        dense_side = _dense_pool().submit(self._dense, query, f, n, hidden)
        match = fts_query(query)
        lexical = self.library.search_lexical(match, f, n, hidden) if match else []
        try:
            dense = dense_side.result()
        except StoreError as exc:  # the vectors cannot be read even afresh: lexical only, marked degraded
            self.library.degrade(exc)
            dense = []
        if councils is None:
            councils = [c for c, _, _ in find_councils(query)]
        return self._features(lexical, dense, {council_token(c) for c in councils})

    def _dense(self, query: str, f: Filters, n: int, hidden: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        vec = self.library.embed_query(query)
        # A similarity of zero or less carries no evidence; its order would only add noise to the fusion.
        return [(cid, sim) for cid, sim in self.library.search_vectors(vec, n, f, hidden) if sim > 0]

    # --- fusion ------------------------------------------------------------------------------------

    def _features(
        self, lexical: list[tuple[str, float]], dense: list[tuple[str, float]], named: set[str]
    ) -> dict[str, dict[str, float]]:
        """Each candidate's fusion features (`ranker.PASSAGE_FEATURES`)."""
        feats: dict[str, dict[str, float]] = {}
        # The lexical side's scores are FTS5's bm25 negated (higher is better): each over the best, in (0, 1].
        best_lex = max((s for _, s in lexical), default=1.0) or 1.0
        for rank, (cid, score) in enumerate(lexical):
            f = feats.setdefault(cid, dict.fromkeys(PASSAGE_FEATURES, 0.0))
            f["lex_rr"], f["lex_norm"] = 1.0 / (1 + rank), score / best_lex
        for rank, (cid, sim) in enumerate(dense):
            f = feats.setdefault(cid, dict.fromkeys(PASSAGE_FEATURES, 0.0))
            f["dense_rr"], f["dense_sim"] = 1.0 / (1 + rank), sim
        rows = self.library.chunks(list(feats))
        keys = self.library.council_keys(rows) if named and rows else {}
        for cid, row in rows.items():
            feats[cid]["boilerplate"] = float(row.boilerplate)
            feats[cid]["council"] = float(bool(named and keys.get(cid, set()) & named))
        return feats

    def _fuse(self, feats: dict[str, dict[str, float]], k: int) -> list[Passage]:
        model = (self.fusion_model or default_fusion()) if self.fusion == "fitted" else None
        if model is not None and model.embedder not in ("", self.library.embedder.name):
            model = None  # fitted on another embedder's similarities: reciprocal rank instead
        if model is not None:
            ids = list(feats)
            x = np.array([[feats[c][f] for f in model.features] for c in ids], dtype=np.float64)
            scores = dict(zip(ids, (float(v) for v in model.score(x)), strict=True))
        elif self.fusion in ("rrf", "fitted"):
            scores = {c: _rrf(f) for c, f in feats.items()}
        else:
            scores = {
                c: (1 - self.dense_weight) * f["lex_norm"] + self.dense_weight * f["dense_norm"]
                for c, f in _with_dense_norm(feats).items()
            }
        rows = self.library.chunks(list(scores))
        ranked_ids = sorted((c for c in scores if c in rows), key=lambda c: -scores[c])[:k]
        return self._passages([(rows[c], scores[c]) for c in ranked_ids])

    def _passages(self, hits: list[tuple[ChunkRow, float]]) -> list[Passage]:
        lib = self.library
        docs = {d: lib.document(d) for d in {r.doc_id for r, _ in hits}}
        texts = lib.texts(docs)
        sections = {d: lib.sections(d) for d in docs}
        out = []
        for row, score in hits:
            doc = docs[row.doc_id]
            sec = sections[row.doc_id][row.section_idx]
            out.append(
                Passage(
                    chunk_id=row.chunk_id,
                    doc_id=row.doc_id,
                    title=doc.title,
                    source=doc.source,
                    section=sec.title,
                    theme=row.theme,
                    qs=row.qs,
                    start=row.start,
                    end=row.end,
                    text=texts[row.doc_id][row.start : row.end],
                    score=round(score, 6),
                    council="; ".join(sec.councils) if sec.councils else doc.council,
                    kind=doc.kind,
                    date=doc.date,
                    page=row.page,
                )  # fmt: skip
            )
        return out


def _checked(query: str) -> str:
    query = query.strip()
    if not query:
        raise QueryError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    return query


def _rrf(f: dict[str, float]) -> float:
    """Reciprocal-rank fusion of the two sides, boilerplate down-weighted, the council named boosted."""
    score = sum(1.0 / (RRF_K + 1 / f[side] - 1 + 1) for side in ("lex_rr", "dense_rr") if f[side] > 0)
    score *= BOILERPLATE_WEIGHT if f["boilerplate"] else 1.0
    return score * (COUNCIL_BOOST if f["council"] else 1.0)


def _with_dense_norm(feats: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Min-max normalised dense similarity, for convex fusion; a side's absent candidates score 0."""
    sims = [f["dense_sim"] for f in feats.values() if f["dense_rr"] > 0]
    lo, hi = (min(sims), max(sims)) if sims else (0.0, 0.0)
    for f in feats.values():
        present = f["dense_rr"] > 0
        f["dense_norm"] = ((f["dense_sim"] - lo) / (hi - lo) if hi > lo else 1.0) if present else 0.0
    return feats
