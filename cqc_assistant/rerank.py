"""Search results reordered by their best sentence: each of the fused top RERANK_POOL passages is scored by the
fitted sentence ranker's probability that its best sentence answers the question.

Held out (bench/eval.py --cv) this raised recall@5 and MRR@5 well above the fusion's order, because the ranker
reads each sentence against the question rather than the passage as a whole. No sentence is embedded for it
(the ranker's lexical, structural and heading features order the passages as well), so it costs a few
milliseconds; `search(..., rerank=False)` keeps the fused order.
"""

from __future__ import annotations

from .answer import Assistant
from .filters import Filters
from .index.retriever import HybridRetriever, checked_k
from .intent import Intent
from .models import Passage
from .passage_order import best_sentence_order

# Chosen on the reranked search's held-out recall@5 (bench/eval.py --cv; with 40-deep fusion lists 10 -> 0.926,
# 12 -> 0.932, one-off 15 -> 0.935, 20 -> 0.929): a deeper pool holds more asked passages (the fitted fusion's
# top 12 0.969, top 20 0.988: bench/pool_depth.py) but gives the ranker more to misplace.
RERANK_POOL = 12


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
    if not rerank:
        return retriever.search(question, filters, k)
    with library.reading():
        intent = Intent.of(question, library)
        found = retriever.search(question, filters, max(checked_k(k), RERANK_POOL), councils=intent.councils)
        # No sentence is compared densely (the slow part of an answer): held out the order is the same
        # (recall@5 0.932 either way, MRR@5 0.803 against 0.806) at a tenth of the cost.
        cands = assistant.rank(intent, found[:RERANK_POOL], filters or Filters(), dense_pool=0)
        scored = ((c.passage.chunk_id, c.score) for c in cands)
        return best_sentence_order(found, scored, RERANK_POOL)[:k]
