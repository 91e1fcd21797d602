"""Hybrid retrieval: BM25 (SQLite FTS5) and dense (Chroma) over the same chunks, fused, with filters on both.

Also a LangChain `BaseRetriever` (index/lc_retriever.py, apart so that a search does not import LangChain),
so the library plugs into any LangChain chain.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np

from ..councils import canonical_council, council_key, council_token, find_councils
from ..domain import match_quality_statement, match_theme
from ..errors import QueryError, StoreError
from ..library import CatalogueChunks, Library
from ..models import KINDS, Passage
from ..ranker import PASSAGE_FEATURES, default_fusion
from ..rating_questions import BandsAsked, bands_asked
from .catalogue import ChunkRow, DocRecord, date_num
from .terms import STOPWORDS, expansions, tokens

MAX_QUERY_CHARS = 2000
CANDIDATES = 40
RRF_K = 60
BOILERPLATE_WEIGHT = 0.5
COUNCIL_BOOST = 1.3


@dataclass(frozen=True)
class Filters:
    council: str | None = None
    kind: str | None = None
    theme: int | None = None
    qs: int | None = None
    since: str | None = None
    until: str | None = None
    include_demo: bool = False  # the demo documents too, even when real documents are in the library

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") and v is not False}

    def describe(self) -> str:
        act = self.active()
        return ", ".join(f"{k}={v}" for k, v in act.items()) if act else "no filters"


def parse_date(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    assert value is not None
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", value.strip())
    if not m:
        raise QueryError(f"--{name} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    # "--until 2024-10" means to the end of October; "--since 2024-10" from its start.
    last = name == "until"
    y = int(m.group(1))
    mo = int(m.group(2) or (12 if last else 1))
    try:
        d = int(m.group(3) or (calendar.monthrange(y, mo)[1] if last else 1))
        date(y, mo, d)
    except (ValueError, calendar.IllegalMonthError):
        raise QueryError(f"--{name} {value!r} is not a real date") from None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def since_bounds(since: str) -> tuple[int, list[int]]:
    """The date_num a document dated on or after `since` has, and the month- and year-only dates that may be.

    A document dated "October 2024" (20241000) is kept by `--since 2024-10-15`: it may be from after the 15th.
    """
    n = date_num(since) or 0
    return n, [n - n % 100, n - n % 10000]


def make_filters(
    library: Library,
    *,
    council: str | None = None,
    kind: str | None = None,
    theme: str | int | None = None,
    qs: str | int | None = None,
    since: str | None = None,
    until: str | None = None,
    include_demo: bool = False,
) -> Filters:
    """Validate user-facing filter values into Filters, with a clear message for each bad one."""
    if council:
        council = resolve_council(library, council, include_demo=include_demo)
    if kind:
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise QueryError(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}")
    theme_n = _theme_number(theme)
    qs_n = _qs_number(qs)
    s, u = parse_date(since, "since"), parse_date(until, "until")
    if s and u and s > u:
        raise QueryError(f"--since {since} is after --until {until}")
    return Filters(
        council=council, kind=kind, theme=theme_n, qs=qs_n, since=s, until=u, include_demo=bool(include_demo)
    )


def hidden_documents(library: Library, f: Filters) -> frozenset[str]:
    """The documents these filters leave out whatever else they say: the demo ones once real ones are in."""
    return frozenset() if f.include_demo else library.catalogue.hidden_demo()


def documents_in_scope(library: Library, f: Filters) -> list[DocRecord]:
    """The documents a search under these filters can draw on (what a refusal says it searched): those
    with a chunk that passes the same filter both sides of the search apply."""
    docs = library.documents()
    where = chunk_where(f, hidden_documents(library, f))
    ids = CatalogueChunks(library.catalogue).doc_ids_where(where) if where else None
    return docs if ids is None else [d for d in docs if d.doc_id in ids]


def chunk_where(f: Filters, hidden: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """The filters as a Chroma `where` on chunk metadata; the lexical side runs the same one as SQL.
    `hidden`: documents left out (see `hidden_documents`)."""
    clauses: list[dict[str, Any]] = []
    if hidden:
        clauses.append({"doc_id": {"$nin": sorted(hidden)}})
    if f.council:
        clauses.append({f"c_{council_token(f.council)}": True})
    if f.kind:
        clauses.append({"kind": f.kind})
    if f.theme:
        clauses.append({"theme": f.theme})
    if f.qs:
        clauses.append({"qs": f.qs})
    if f.since:
        n, vague = since_bounds(f.since)
        clauses.append({"$or": [{"date_num": {"$gte": n}}, {"date_num": {"$in": vague}}]})
    if f.until:
        clauses.append({"date_num": {"$lte": date_num(f.until)}})
    return clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)


def library_councils(library: Library, *, include_demo: bool = False) -> dict[str, str]:
    """council key → display name, for every council a document names (a council only the demo documents
    name is left out once real documents are in, unless `include_demo`)."""
    out: dict[str, str] = {}
    for name in library.catalogue.councils(include_demo=include_demo):
        out.setdefault(council_key(name), name)
    return out


def resolve_council(library: Library, value: str, *, include_demo: bool = False) -> str:
    known = library_councils(library, include_demo=include_demo)
    key = council_key(canonical_council(value) or value)
    if key in known:
        return known[key]
    names = ", ".join(sorted(known.values())) or "none yet"
    demo = (
        "; its documents are the demo ones, left out unless demo documents are included"
        if (key in library_councils(library, include_demo=True))
        else ""
    )
    raise QueryError(f"no documents about council {value!r} in the library (councils held: {names}{demo})")


def _theme_number(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    s = str(value).strip()
    if s.isdigit() and 1 <= int(s) <= 4:
        return int(s)
    t = match_theme(s)
    if t is None:
        raise QueryError(f"unknown theme {value!r}: use 1-4 or a theme name such as 'Leadership'")
    return t


def _qs_number(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    s = str(value).strip()
    if s.isdigit() and 1 <= int(s) <= 9:
        return int(s)
    q = match_quality_statement(s)
    if q is None:
        raise QueryError(f"unknown quality statement {value!r}: use 1-9 or a name such as 'Safeguarding'")
    return q.number


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
        self, library: Library, *, fusion: str = "fitted", dense_weight: float = 0.5, include_demo: bool = False
    ) -> None:
        self.library = library
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.include_demo = include_demo  # as if every search's Filters said so (briefings)

    def search(
        self, query: str, filters: Filters | None = None, k: int = 10, *, councils: Sequence[str] | None = None
    ) -> list[Passage]:
        """`councils`: the councils the query names, when the caller has read them already (an Intent)."""
        with self.library.reading():
            return self._search(query, filters, k, councils)

    def _search(self, query: str, filters: Filters | None, k: int, councils: Sequence[str] | None) -> list[Passage]:
        query = query.strip()
        if not query:
            raise QueryError("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}")
        if k < 1 or k > 200:
            raise QueryError("-k must be between 1 and 200")
        filters = filters or Filters()
        n = max(CANDIDATES, k * 3)
        # The two sides at once: the model and Chroma release the GIL while SQLite's FTS5 runs (p50 48 -> 30 ms
        # a search at 100k chunks on 2 cores). The dense side's chunk ids are read back in this thread's
        # snapshot, so the answer still sees one version of the library.
        dense_side = _dense_pool().submit(self._dense, query, filters, n)
        lexical = self._lexical(query, filters, n)
        try:
            dense = dense_side.result()
        except StoreError as exc:  # the vectors cannot be read even afresh: lexical only, marked degraded
            self.library.degrade(exc)
            dense = []
        if councils is None:
            councils = [c for c, _, _ in find_councils(query)]
        named = {council_token(c) for c in councils}
        return self._fuse(lexical, dense, named, k)

    def pool(
        self, query: str, filters: Filters | None = None, *, councils: Sequence[str] | None = None
    ) -> list[tuple[Passage, dict[str, float]]]:
        """Every fused candidate with its fusion features (for fitting the fusion): RRF's order."""
        with self.library.reading():
            filters = filters or Filters()
            lexical = self._lexical(query, filters, CANDIDATES)
            dense = self._dense(query, filters, CANDIDATES)
            if councils is None:
                councils = [c for c, _, _ in find_councils(query)]
            feats = self._features(lexical, dense, {council_token(c) for c in councils})
            rows = self.library.catalogue.chunks_by_chunk_id(list(feats))
            order = sorted((c for c in feats if c in rows), key=lambda c: -_rrf(feats[c]))
            passages = self._passages([(rows[c], _rrf(feats[c])) for c in order])
            return [(p, feats[c]) for p, c in zip(passages, order, strict=True)]

    # --- the two sides -----------------------------------------------------------------------------

    def _hidden(self, f: Filters) -> frozenset[str]:
        """The documents every search leaves out (the demo ones, once real ones are in)."""
        return frozenset() if self.include_demo else hidden_documents(self.library, f)

    def _lexical(self, query: str, f: Filters, n: int) -> list[tuple[str, float]]:
        match = fts_query(query)
        if not match:
            return []
        where = chunk_where(f, self._hidden(f))
        sql = CatalogueChunks(self.library.catalogue).where_sql(where) if where else None
        if where and sql is None:
            raise AssertionError(f"filter not translated to SQL: {where}")
        clause, params = (f"AND ({sql[0]})", sql[1]) if sql else ("", [])
        hits = self.library.catalogue.lexical(match, clause, params, n)
        rows = self.library.catalogue.chunks_by_rowid([r for r, _ in hits])
        return [(rows[r].chunk_id, s) for r, s in hits if r in rows]

    def _dense(self, query: str, f: Filters, n: int) -> list[tuple[str, float]]:
        vec = self.library.embed_query(query)
        # A similarity of zero or less carries no evidence; its order would only add noise to the fusion.
        return [
            (cid, sim) for cid, sim in self.library.search_vectors(vec, n, chunk_where(f, self._hidden(f))) if sim > 0
        ]

    # --- fusion ------------------------------------------------------------------------------------

    def _features(
        self, lexical: list[tuple[str, float]], dense: list[tuple[str, float]], named: set[str]
    ) -> dict[str, dict[str, float]]:
        """Each candidate's fusion features (`ranker.PASSAGE_FEATURES`)."""
        feats: dict[str, dict[str, float]] = {}
        best_lex = min((s for _, s in lexical), default=-1.0) or -1.0  # FTS5's bm25: lower is better
        for rank, (cid, score) in enumerate(lexical):
            f = feats.setdefault(cid, dict.fromkeys(PASSAGE_FEATURES, 0.0))
            f["lex_rr"], f["lex_norm"] = 1.0 / (1 + rank), score / best_lex
        for rank, (cid, sim) in enumerate(dense):
            f = feats.setdefault(cid, dict.fromkeys(PASSAGE_FEATURES, 0.0))
            f["dense_rr"], f["dense_sim"] = 1.0 / (1 + rank), sim
        rows = self.library.catalogue.chunks_by_chunk_id(list(feats))
        keys = self._council_keys(rows) if named else {}
        for cid, row in rows.items():
            feats[cid]["boilerplate"] = float(row.boilerplate)
            feats[cid]["council"] = float(bool(named and keys.get(cid, set()) & named))
        return feats

    def _fuse(
        self, lexical: list[tuple[str, float]], dense: list[tuple[str, float]], named: set[str], k: int
    ) -> list[Passage]:
        feats = self._features(lexical, dense, named)
        model = default_fusion() if self.fusion == "fitted" else None
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
        rows = self.library.catalogue.chunks_by_chunk_id(list(scores))
        ranked_ids = sorted((c for c in scores if c in rows), key=lambda c: -scores[c])[:k]
        return self._passages([(rows[c], scores[c]) for c in ranked_ids])

    def _council_keys(self, rows: dict[str, ChunkRow]) -> dict[str, set[str]]:
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        found = self.library.catalogue.db.execute(
            f"SELECT chunk_id, council_keys FROM chunks WHERE chunk_id IN ({marks})", list(rows)
        ).fetchall()
        return {cid: set(keys.split()) for cid, keys in found}

    def _passages(self, hits: list[tuple[ChunkRow, float]]) -> list[Passage]:
        cat = self.library.catalogue
        docs = {d: cat.document(d) for d in {r.doc_id for r, _ in hits}}
        texts = cat.texts(docs)
        sections = {d: cat.sections(d) for d in docs}
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
