"""Search reranked by each passage's best sentence (`rerank.py`, `search --rerank/--no-rerank`), over the
fictional Wyvernshire and Fenmoor documents (hash embedder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fictional import PASSAGE_FIELDS, copy_docs, ingested
from helpers import run_cli

from cqc_assistant.answer import Assistant
from cqc_assistant.errors import QueryError
from cqc_assistant.filters import Filters
from cqc_assistant.index.retriever import HybridRetriever
from cqc_assistant.library import Library
from cqc_assistant.models import Passage
from cqc_assistant.passage_order import best_sentence_order
from cqc_assistant.rerank import RERANK_POOL, search

QUESTION = "How long did people wait for an occupational therapy assessment?"


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    root = tmp_path_factory.mktemp("rerank")
    with ingested(root / "store", copy_docs(root / "docs", other_council=True), added=5) as library:
        yield library


def passage(n: int) -> Passage:
    return Passage(f"c{n}", "d", "T", "s", "S", None, None, n * 10, n * 10 + 5, "text", score=1.0 - n / 100)


def test_the_top_passages_are_ordered_by_their_best_sentence_and_the_rest_kept() -> None:
    found = [passage(n) for n in range(RERANK_POOL + 3)]
    scored = [("c0", 0.2), ("c3", 0.9), ("c3", 0.4), ("c5", 0.7), ("c0", 0.3), (f"c{RERANK_POOL + 1}", 0.99)]
    out = best_sentence_order(found, scored, RERANK_POOL)
    assert [p.chunk_id for p in out[:3]] == ["c3", "c5", "c0"]
    assert [p.answer_score for p in out[:3]] == [0.9, 0.7, 0.3]
    # No quotable sentence: after the scored ones, in the fused order, with no answer score.
    assert [p.chunk_id for p in out[3:RERANK_POOL]] == [f"c{n}" for n in range(RERANK_POOL) if n not in (0, 3, 5)]
    assert all(p.answer_score is None for p in out[3:])
    # Beyond the pool nothing moves, even with a score (it was never scored by a search).
    assert out[RERANK_POOL:] == found[RERANK_POOL:]
    assert sorted(p.chunk_id for p in out) == sorted(p.chunk_id for p in found)


def test_search_puts_the_passage_of_the_best_sentence_first(lib: Library) -> None:
    assistant = Assistant(lib)
    out = search(assistant, QUESTION, k=5)
    assert len(out) == 5 and out[0].answer_score is not None
    fused = HybridRetriever(lib).search(QUESTION, k=RERANK_POOL)
    best = assistant.rank(QUESTION, fused, Filters())
    assert out[0].chunk_id == max(best, key=lambda c: c.score).passage.chunk_id
    scores = [p.answer_score for p in out if p.answer_score is not None]
    assert scores == sorted(scores, reverse=True)
    for p in out:
        assert p.text == lib.catalogue.text(p.doc_id)[p.start : p.end]
    # Without reranking: the fused order exactly, and no answer scores.
    plain = search(assistant, QUESTION, k=5, rerank=False)
    assert [p.chunk_id for p in plain] == [p.chunk_id for p in fused[:5]]
    assert all(p.answer_score is None for p in plain)


def test_search_respects_filters_and_k(lib: Library) -> None:
    assistant = Assistant(lib)
    only = search(assistant, QUESTION, Filters(council="Fenmoor Borough Council"), k=2)
    assert 1 <= len(only) <= 2 and {p.council for p in only} == {"Fenmoor Borough Council"}
    with pytest.raises(QueryError, match="between 1 and 200"):
        search(assistant, QUESTION, k=0)
    with pytest.raises(QueryError, match="empty"):
        search(assistant, "   ", k=3)


def test_cli_search_json_gains_the_answer_score_and_no_rerank_keeps_the_fused_order(lib: Library) -> None:
    store = str(lib.settings.home)
    reranked = json.loads(run_cli("search", QUESTION, "-k", "4", "--json", store=store).output)
    plain = json.loads(run_cli("search", QUESTION, "-k", "4", "--json", "--no-rerank", store=store).output)
    assert all(set(p) >= PASSAGE_FIELDS | {"answer_score"} for p in reranked + plain)
    assert reranked[0]["answer_score"] is not None and all(p["answer_score"] is None for p in plain)
    fused = HybridRetriever(lib).search(QUESTION, k=4)
    assert [p["chunk_id"] for p in plain] == [p.chunk_id for p in fused]
    text = run_cli("search", QUESTION, "-k", "2", store=store).output
    assert "answers 0." in text or "answers 1." in text


def test_a_passage_keeps_its_fields_when_scored() -> None:
    p = passage(1)
    assert best_sentence_order([p], [("c1", 0.5)])[0] == replace(p, answer_score=0.5)


def test_a_refusals_closest_passages_come_by_their_best_sentence(lib: Library) -> None:
    assistant = Assistant(lib)
    question = "What did Wyvernshire say about the council's fleet of electric buses?"
    result = assistant.ask(question)
    assert result.refused and len(result.closest) == 3
    intent_filters = Filters(council="Wyvernshire County Council")
    passages = assistant.retriever.search(question, intent_filters, 8)
    cands = assistant.rank(question, passages, intent_filters)
    best = {}
    for c in cands:
        best[c.passage.chunk_id] = max(best.get(c.passage.chunk_id, 0.0), c.score)
    by_chunk = {(p.doc_id, p.start, p.end): p.chunk_id for p in passages}
    shown = [best.get(by_chunk[(c.doc_id, c.start, c.end)], -1.0) for c in result.closest]
    assert shown == sorted(shown, reverse=True) and shown[0] == max(best.values())
