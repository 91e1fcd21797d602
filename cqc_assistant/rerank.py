"""Search results reordered by their best sentence: each of the fused top RERANK_POOL passages is scored by the
fitted sentence ranker's probability that its best sentence answers the question.

Held out (bench/eval.py --cv) this raised recall@5 and MRR@5 well above the fusion's order, because the ranker
reads each sentence against the question rather than the passage as a whole. No sentence is embedded for it
(the ranker's lexical, structural and heading features order the passages as well), so it costs a few
milliseconds; `search(..., rerank=False)` keeps the fused order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .answer import Assistant
from .filters import Filters
from .index.retriever import HybridRetriever, checked_k
from .intent import Intent
from .models import Passage

RERANK_POOL = 10


def best_sentence_order(passages: Sequence[Passage], scored: Iterable[tuple[str, float]]) -> list[Passage]:
    """The top RERANK_POOL passages by their best sentence's score ((chunk id, probability) pairs), each with
    its `answer_score`; a passage with no quotable sentence after those that have one; the rest as they were."""
    best: dict[str, float] = {}
    for chunk_id, p in scored:
        best[chunk_id] = max(best.get(chunk_id, 0.0), p)
    head = list(passages[:RERANK_POOL])
    order = sorted(range(len(head)), key=lambda i: (-best.get(head[i].chunk_id, -1.0), i))
    scored_head = [replace(head[i], answer_score=round(best[head[i].chunk_id], 6)) if head[i].chunk_id in best
                   else head[i] for i in order]  # fmt: skip
    return [*scored_head, *passages[RERANK_POOL:]]


def search(
    assistant: Assistant,
    question: str,
    filters: Filters | None = None,
    k: int = 10,
    *,
    retriever: HybridRetriever | None = None,
    rerank: bool = True,
) -> list[Passage]:
    """The k best passages for `question`: the fitted fusion's, its top RERANK_POOL reordered by their best
    sentence (unless `rerank` is False)."""
    library = assistant.library
    retriever = retriever or HybridRetriever(library)
    with library.reading():
        intent = Intent.of(question, library)
        if not rerank:
            return retriever.search(question, filters, k, councils=intent.councils)
        found = retriever.search(question, filters, max(checked_k(k), RERANK_POOL), councils=intent.councils)
        # No sentence is compared densely (the slow part of an answer): held out the order is the same
        # (recall@5 0.932 either way, MRR@5 0.803 against 0.806) at a tenth of the cost.
        cands = assistant.rank(intent, found[:RERANK_POOL], filters or Filters(), dense_pool=0)
        return best_sentence_order(found, ((c.passage.chunk_id, c.score) for c in cands))[:k]
