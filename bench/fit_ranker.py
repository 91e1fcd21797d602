"""Fit the sentence ranker (logistic regression, plain numpy) on labelled (question, candidate sentence) pairs.

A candidate is positive when it comes from the question's document and contains one of its `expect` strings;
every candidate of an unanswerable question is negative. Whether to answer is a second model over the scored
candidates (label: the question is answerable), whose threshold lets at most TARGET_FALSE_REFUSAL of the
answerable training questions be refused. Writes cqc_assistant/data/ranker.json.

    .venv/bin/python bench/fit_ranker.py            # featurise seeds + dev2 (bench/out/cv-store), fit, write
    .venv/bin/python bench/fit_ranker.py --reuse    # refit from the cached features (bench/out/cv-features.json)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
FEATURES_CACHE = ROOT / "bench" / "out" / "cv-features.json"
# The stated false-refusal rate the support model's threshold is set for (on the training questions); chosen
# under grouped cross-validation among 0.04-0.06 (bench/eval.py --cv --repeats 5, mean over five ways of dealing
# the folds: 0.04 -> 0.820 / 0.860 / 0.048, 0.05 -> 0.816 / 0.870 / 0.054, 0.06 -> 0.813 / 0.872 / 0.061; again in
# session 11, with the year and heading support features: 0.829 / 0.883 / 0.044, 0.827 / 0.897 / 0.050, 0.824 /
# 0.899 / 0.055; in session 12, with 12 passages, the gap features and four quotes: 0.05 -> 0.855 / 0.891 /
# 0.050, 0.055 -> 0.852 / 0.899 / 0.055, 0.06 -> 0.849 / 0.907 / 0.059).
TARGET_FALSE_REFUSAL = 0.05
# The sentence ranker's floor: the best sentence's probability that all but this share of the answerable
# training questions reach (0.01 refused 1% more near misses than no floor, at the same false refusals).
FLOOR_FALSE_REFUSAL = 0.01
L2 = 1.0
# The first-citation model's L2 (chosen among 0.1, 1 and 10 under grouped cross-validation: top-1 0.669, 0.672,
# 0.659 held out).
LEAD_L2 = 1.0


@dataclass
class Item:
    """One question's candidates: features, labels and what a citation needs."""

    qid: str
    fold: int
    answerable: bool
    x: np.ndarray  # (n, features)
    y: np.ndarray  # (n,)
    about: list[bool]
    spans: list[tuple[str, int, int]]  # (doc_id, start, end)
    refused_early: bool  # refused before ranking (a council the library does not hold)
    fact: tuple[bool, bool] | None = None  # a facts-first answer's (refused, hit), when the question asks one
    quotable: list[bool] | None = None  # None: every candidate may be quoted
    # For a question asking an overall figure the library states: which candidates state it (the answer
    # quotes the first of them in the fold's ranker order; `fact` is the answer when none does).
    fact_states: list[bool] | None = None
    fact_title: bool = False  # the scorecard's line for that figure is the document's title line


def featurise(lib: Any, qs: list[Any]) -> list[Item]:
    """Each question's candidates through the product's own code path (Assistant.featurize)."""
    import cv

    from cqc_assistant.models import Answer

    assistant = unfitted_assistant(lib)
    ids = cv.doc_ids(lib)
    items = []
    for qn in qs:
        intent, scoped, _, cands = assistant.featurize(qn.q)
        want = ids.get(qn.doc or "")
        y = [float(c.passage.doc_id == want and any(cv.norm(e) in cv.norm(c.text) for e in qn.expect)) for c in cands]
        items.append(
            Item(
                qn.id,
                qn.fold,
                qn.answerable,
                feature_rows(cands),
                np.array(y),
                [c.about for c in cands],
                [(c.passage.doc_id, c.start, c.end) for c in cands],
                isinstance(scoped, Answer),
                quotable=[c.quotable for c in cands],
            )
        )
        if not isinstance(scoped, Answer):
            facts_first(lib, intent, scoped, items[-1], qn, want)
    return items


def facts_first(lib: Any, intent: Any, scoped: Any, item: Item, qn: Any, want: str | None) -> None:
    """The facts-first answer's (refused, hit) into `item.fact`, and for an overall figure the library states,
    which candidates state it (`item.fact_states`) with the figure quoted alone from the scorecard's line as
    `item.fact` (what the answer falls back to when no candidate states it: `fact_row`)."""
    from cqc_assistant.facts import Stated, fact_answer, on_title_line

    fact = fact_answer(lib, intent, scoped)
    item.fact_states = None
    if isinstance(fact, Stated):
        ok = item.quotable or [True] * len(item.spans)
        item.fact_states = [
            bool(q) and fact.states(d, lib.text(d)[s:e]) is not None
            for q, (d, s, e) in zip(ok, item.spans, strict=True)
        ]
        fact = fact.answer(lib, [])
        item.fact_title = fact is not None and any(on_title_line(lib, c) for c in fact.citations)
    item.fact = None if fact is None else (fact.refused, any(cited(c, qn, want) for c in fact.citations))


def fact_row(r: Any, lead: Any, item: Item, chosen: list[int] | None) -> tuple[bool, bool] | None:
    """A facts-first answer's (refused, hit) under this fold's models, given the ranker's answer (`chosen`, None
    when refused): for an overall figure, that answer when it quotes the figure, else the first candidate
    stating it in the ranker's order (the lead model's choice first), else the scorecard's line."""
    if item.fact_states and chosen is not None and any(item.fact_states[j] for j in chosen):
        return (False, hit(chosen, item))
    if item.fact_states and any(item.fact_states):
        from cqc_assistant.ranker import FEATURES

        p = r.score(item.x)
        first = int(np.argmax(lead.score(item.x))) if lead is not None else int(np.argmax(p))
        order = [first, *(j for j in np.argsort(-p, kind="stable") if j != first)]
        title = item.x[:, FEATURES.index("opening")] > 0
        body = [j for j in order if item.fact_states[j] and not title[j]]
        if body:
            return (False, bool(item.y[body[0]] > 0))
        if item.fact is None or item.fact_title:  # the scorecard's own line is a title line too
            j = next(j for j in order if item.fact_states[j])
            return (False, bool(item.y[j] > 0))
    return item.fact


def add_facts(lib: Any, qs: list[Any], items: list[Item]) -> None:
    """Recompute the facts-first answers only (cheap): for cached features from before a facts change."""
    import cv

    from cqc_assistant.intent import Intent
    from cqc_assistant.models import Answer

    ids = cv.doc_ids(lib)
    assistant = unfitted_assistant(lib)
    for qn, item in zip(qs, items, strict=True):
        intent = Intent.of(qn.q, lib)
        scoped = assistant._filters_for(intent, None, None)
        if isinstance(scoped, Answer):
            item.fact = item.fact_states = None
            continue
        facts_first(lib, intent, scoped, item, qn, ids.get(qn.doc or ""))


def cited(c: Any, qn: Any, want: str | None) -> bool:
    import cv

    return bool(c.doc_id == want and any(cv.norm(e) in cv.norm(c.quote) for e in qn.expect))


POOL_CACHE = ROOT / "bench" / "out" / "cv-pool.json"


@dataclass
class Pool:
    """One answerable question's retrieval candidates: fusion features, and which hold an expected string."""

    qid: str
    fold: int
    x: np.ndarray
    y: np.ndarray


def pools(lib: Any, qs: list[Any], reuse: bool = False) -> list[Pool]:
    """The fused candidates of every answerable question, through HybridRetriever.pool (cached)."""
    import cv

    from cqc_assistant.index.retriever import HybridRetriever
    from cqc_assistant.intent import Intent
    from cqc_assistant.ranker import PASSAGE_FEATURES

    if reuse and POOL_CACHE.exists():
        return [
            Pool(d["qid"], d["fold"], np.array(d["x"]).reshape(-1, len(PASSAGE_FEATURES)), np.array(d["y"]))
            for d in json.loads(POOL_CACHE.read_text())
        ]
    hr, ids, out = HybridRetriever(lib), cv.doc_ids(lib), []
    for qn in qs:
        if not qn.answerable:
            continue
        found = hr.pool(qn.q, councils=Intent.of(qn.q).councils)
        y = [float(cv.first_hit([(p.doc_id, p.text)], qn, ids) == 1) for p, _ in found]
        x = [[f[k] for k in PASSAGE_FEATURES] for _, f in found]
        out.append(Pool(qn.id, qn.fold, np.array(x, dtype=np.float64).reshape(-1, len(PASSAGE_FEATURES)), np.array(y)))
    POOL_CACHE.write_text(
        json.dumps([{"qid": p.qid, "fold": p.fold, "x": p.x.tolist(), "y": p.y.tolist()} for p in out])
    )
    return out


RERANK_CACHE = ROOT / "bench" / "out" / "cv-rerank.pkl"


def rerank_inputs(lib: Any, qs: list[Any], fusions: dict[int, Any], reuse: bool = False) -> dict[str, Any]:
    """What a reranked search sees for each answerable question, under its fold's fusion (`fusions`): the
    fused top passages and their candidate sentences' features with their chunk ids (cached)."""
    import pickle

    from cqc_assistant.filters import Filters
    from cqc_assistant.index.retriever import HybridRetriever
    from cqc_assistant.intent import Intent
    from cqc_assistant.rerank import RERANK_POOL

    if reuse and RERANK_CACHE.exists():
        return dict(pickle.loads(RERANK_CACHE.read_bytes()))
    assistant, out = unfitted_assistant(lib), {}
    for qn in qs:
        if not qn.answerable:
            continue
        intent = Intent.of(qn.q, lib)
        found = HybridRetriever(lib, fusion_model=fusions[qn.fold]).search(
            qn.q, None, RERANK_POOL, councils=intent.councils
        )
        cands = assistant.candidates(intent, found, Filters(), dense_pool=0)  # as rerank.search does
        x = feature_rows(cands)
        out[qn.id] = (found, x, [c.passage.chunk_id for c in cands])
    RERANK_CACHE.write_bytes(pickle.dumps(out))
    return out


def reranked_rank(r: Any, qn: Any, inputs: Any, ids: dict[str, str]) -> int | None:
    """Where the first expected passage ranks (1-based) once the ranker `r` reorders the search's top."""
    import cv

    from cqc_assistant.passage_order import best_sentence_order
    from cqc_assistant.rerank import RERANK_POOL

    found, x, chunk_ids = inputs
    ordered = best_sentence_order(found, zip(chunk_ids, r.score(x), strict=True) if len(x) else [], RERANK_POOL)
    return cv.first_hit([(p.doc_id, p.text) for p in ordered], qn, ids)


def make_fusion(pools_: list[Pool], data_version: str, embedder: str = "all-MiniLM-L6-v2") -> Any:
    """Logistic fusion of the two sides' evidence, fitted on these questions' candidates."""
    from cqc_assistant.ranker import PASSAGE_FEATURES, Ranker

    x = np.vstack([p.x for p in pools_ if len(p.x)])
    y = np.concatenate([p.y for p in pools_ if len(p.x)])
    mean, scale, w, b = fit_logistic(x, y)
    return Ranker(PASSAGE_FEATURES, mean, scale, w, float(b), threshold=0.0, second_ratio=1.0,
                  data_version=data_version, embedder=embedder)  # fmt: skip


def fused_rank(fusion: Any, pool: Pool) -> int | None:
    """Where the first expected passage ranks (1-based) when the pool is ordered by this fusion."""
    if not len(pool.x):
        return None
    order = np.argsort(-fusion.score(pool.x), kind="stable")
    return next((i + 1 for i, j in enumerate(order) if pool.y[j] > 0), None)


def unfitted(features: tuple[str, ...] | None = None) -> Any:
    """A model of zeros: what computing features needs before there is a fitted one."""
    from cqc_assistant.ranker import FEATURES, Ranker

    features = features or FEATURES
    n = len(features)
    return Ranker(features, np.zeros(n), np.ones(n), np.zeros(n), 0.0, threshold=0.0, second_ratio=0.5)


def unfitted_assistant(lib: Any) -> Any:
    """An Assistant whose features are computed with no fitted model (they do not depend on one)."""
    from cqc_assistant.answer import Assistant
    from cqc_assistant.ranker import SUPPORT_FEATURES

    return Assistant(lib, ranker=unfitted(), support=unfitted(SUPPORT_FEATURES), lead=unfitted())


def save(items: list[Item]) -> None:
    FEATURES_CACHE.parent.mkdir(parents=True, exist_ok=True)
    FEATURES_CACHE.write_text(
        json.dumps(
            [
                {
                    "qid": i.qid,
                    "fold": i.fold,
                    "answerable": i.answerable,
                    "x": i.x.tolist(),
                    "y": i.y.tolist(),
                    "about": i.about,
                    "spans": i.spans,
                    "refused_early": i.refused_early,
                    "quotable": i.quotable,
                }  # fmt: skip
                for i in items
            ]
        )
    )


def load_cached(qs: list[Any] | None = None) -> list[Item]:
    """The cached items, those of `qs` only and in their order when given."""
    from cqc_assistant.ranker import FEATURES

    items = [
        Item(
            d["qid"],
            d["fold"],
            d["answerable"],
            np.array(d["x"], dtype=np.float64).reshape(-1, len(FEATURES)),
            np.array(d["y"]),
            d["about"],
            [tuple(s) for s in d["spans"]],
            d["refused_early"],
            quotable=d.get("quotable"),
        )  # fmt: skip
        for d in json.loads(FEATURES_CACHE.read_text())
    ]
    if qs is None:
        return items
    by_id = {i.qid: i for i in items}
    return [replace(by_id[qn.id], fold=qn.fold) for qn in qs]


def feature_rows(cands: list[Any]) -> np.ndarray:
    """The candidates' features as rows, in `ranker.FEATURES` order."""
    from cqc_assistant.ranker import FEATURES

    return np.array([[c.x[f] for f in FEATURES] for c in cands], dtype=np.float64).reshape(-1, len(FEATURES))


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and spread (1 where it does not vary), as the fitted models store them."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iters: int = 50) -> tuple[np.ndarray, ...]:
    """Standardised features, L2-penalised logistic regression by Newton's method (deterministic)."""
    mean, scale = standardise(x)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    # Positives are rare (a few sentences among ~40 a question): weigh the classes equally.
    pos = max(y.sum(), 1.0)
    sw = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * max(len(y) - pos, 1.0)))
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (sw * (p - y)) + reg * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], np.array(w[-1])


def make_lead(items: list[Item], data_version: str, l2: float = LEAD_L2) -> Any:
    """The first citation's model: a conditional logit over each answerable question's candidates, fitted to
    put an answering sentence first among them (the pointwise ranker weighs every candidate on its own)."""
    from scipy.optimize import minimize

    from cqc_assistant.ranker import FEATURES, Ranker

    x = np.vstack([i.x for i in items if len(i.x)])
    mean, scale = standardise(x)
    groups = [((i.x - mean) / scale, i.y > 0) for i in items if i.answerable and len(i.x) and i.y.max() > 0]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for z, pos in groups:
            s = z @ w
            e = np.exp(s - s.max())
            p, pp = e / e.sum(), e[pos] / e[pos].sum()
            total -= float(np.log(e[pos].sum()) - np.log(e.sum()))
            grad = grad - (pp @ z[pos] - p @ z)
        return total, grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    return Ranker(FEATURES, mean, scale, w, 0.0, threshold=0.0, second_ratio=1.0, data_version=data_version)


def make_ranker(items: list[Item], data_version: str, floor: float = FLOOR_FALSE_REFUSAL, lead: Any = None) -> Any:
    """Fit on these items; choose the floor and the second-citation ratio on them too (with `lead` choosing
    the first citation)."""
    from cqc_assistant.ranker import FEATURES, Ranker

    x = np.vstack([i.x for i in items if len(i.x)])
    y = np.concatenate([i.y for i in items if len(i.x)])
    mean, scale, w, b = fit_logistic(x, y)
    r = Ranker(FEATURES, mean, scale, w, float(b), threshold=0.0, second_ratio=0.5, data_version=data_version)
    best = sorted(float(r.score(i.x).max()) if len(i.x) else 0.0 for i in items if i.answerable)
    threshold = best[int(floor * len(best))] if best else 0.0
    r = replace(r, threshold=threshold, second_ratio=choose_ratio(r, items, lead), target_false_refusal=floor)
    return replace(r, neighbour_ratio=choose_neighbour_ratio(r, items, lead))


def make_support(r: Any, items: list[Item], data_version: str, target: float = TARGET_FALSE_REFUSAL) -> Any:
    """The answer-or-refuse model: label = the question is answerable; its threshold lets at most `target` of
    these answerable questions be refused."""
    from cqc_assistant.ranker import SUPPORT_FEATURES, Ranker, support_features

    usable = [i for i in items if len(i.x) and not i.refused_early]
    x = np.array([support_features(i.x, r.score(i.x)) for i in usable])
    y = np.array([float(i.answerable) for i in usable])
    mean, scale, w, b = fit_logistic(x, y)
    s = Ranker(SUPPORT_FEATURES, mean, scale, w, float(b), threshold=0.0, second_ratio=1.0,
               data_version=data_version, target_false_refusal=target)  # fmt: skip
    answerable = sorted(float(p) for p, i in zip(s.score(x), usable, strict=True) if i.answerable)
    threshold = answerable[int(target * len(answerable))] if answerable else 0.5
    return Ranker(SUPPORT_FEATURES, mean, scale, w, float(b), threshold=threshold, second_ratio=1.0,
                  data_version=data_version, target_false_refusal=target)  # fmt: skip


def answered(r: Any, support: Any, item: Item) -> bool:
    from cqc_assistant.ranker import support_features

    if item.refused_early or not len(item.x):
        return False
    x = np.array([support_features(item.x, r.score(item.x))])
    return bool(support.score(x)[0] >= support.threshold)


def confident(r: Any, item: Item) -> bool:
    """The best sentence's probability reaches the ranker's floor."""
    return bool(len(item.x)) and float(r.score(item.x).max()) >= r.threshold


def choose_ratio(r: Any, items: list[Item], lead: Any = None) -> float:
    """The second-citation ratio with the most cited hits on these items (fewer citations on a tie)."""
    best, best_ratio = -1.0, 0.5
    for ratio in (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3):
        hits = sum(hit(choose(r, i, ratio, threshold=0.0, lead=lead), i) for i in items if i.answerable)
        if hits > best:
            best, best_ratio = hits, ratio
    return best_ratio


def choose_neighbour_ratio(r: Any, items: list[Item], lead: Any = None) -> float:
    """The share of a cited sentence's probability its neighbour needs to join the quote: the one with the most
    cited hits on these items (the shorter quotes on a tie)."""
    best, best_ratio = -1, 2.0
    for ratio in (2.0, 0.8, 0.6, 0.4, 0.2):
        hits = sum(hit(choose(replace(r, neighbour_ratio=ratio), i, r.second_ratio, 0.0, lead=lead), i)
                   for i in items if i.answerable)  # fmt: skip
        if hits > best:
            best, best_ratio = hits, ratio
    return best_ratio


def choose(
    r: Any, item: Item, ratio: float, threshold: float, max_citations: int | None = None, lead: Any = None
) -> list[int] | None:
    """The candidates answer() would cite (indices), or None for a refusal: the same rule as answer.py (`lead`
    chooses the first; the further ones come in the ranker's order, within `ratio` of its best; after them, the
    neighbours that join their quotes)."""
    from cqc_assistant.answer import MAX_CITATIONS
    from cqc_assistant.quotes import adjacent

    max_citations = max_citations or MAX_CITATIONS
    if item.refused_early or not len(item.x):
        return None
    p = r.score(item.x)
    order = list(np.argsort(-p, kind="stable"))
    if p[order[0]] < threshold:
        return None
    ok = item.quotable or [True] * len(order)
    if not any(ok):
        return None
    lead_first = order[0] if lead is None else int(np.argmax(lead.score(item.x)))
    first = lead_first if ok[lead_first] else next(j for j in order if ok[j])
    chosen = [first]
    for j in order:
        if j == first or not ok[j]:
            continue
        if len(chosen) >= max_citations or p[j] < p[order[0]] * ratio:
            break
        if not item.about[j]:
            continue
        d, s, e = item.spans[j]
        if not any(item.spans[k][0] == d and s < item.spans[k][2] and item.spans[k][1] < e for k in chosen):
            chosen.append(j)
    joined = [
        j for j in range(len(order))
        if ok[j] and j not in chosen
        and any(p[j] >= r.neighbour_ratio * p[k] and adjacent(item.spans[k], item.spans[j]) for k in chosen)
    ]  # fmt: skip
    return chosen + joined


def hit(chosen: list[int] | None, item: Item) -> bool:
    return chosen is not None and any(item.y[j] > 0 for j in chosen)


def data_version() -> str:
    """A hash of the questions the ranker was fitted on."""
    import cv

    h = hashlib.sha1()
    for _, qa, un in cv.SETS.values():
        h.update((cv.SHARED / "eval" / qa).read_bytes())
        h.update((cv.SHARED / "eval" / un).read_bytes())
    return "seeds+dev2:" + h.hexdigest()[:12]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", action="store_true", help="refit from the cached features")
    args = ap.parse_args()
    import cv

    lib, qs = cv.open_store(), cv.questions()
    items = load_cached(qs) if args.reuse else featurise(lib, qs)
    if not args.reuse:
        save(items)
    version = data_version()
    lead = make_lead(items, version)
    r = make_ranker(items, version, lead=lead)
    fusion = make_fusion(pools(lib, qs, reuse=args.reuse), version)
    support = make_support(r, items, version)
    data = {
        "sentences": r.to_json(),
        "lead": lead.to_json(),
        "support": support.to_json(),
        "passages": fusion.to_json(),
    }
    out = ROOT / "cqc_assistant" / "data" / "ranker.json"
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
