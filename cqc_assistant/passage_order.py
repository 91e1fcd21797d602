"""Passages ordered by their best sentence's probability of answering (the fitted sentence ranker's): a
reranked search's top, and the closest passages a refusal lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .models import Passage


def best_sentence_order(
    passages: Sequence[Passage], scored: Iterable[tuple[str, float]], pool: int | None = None
) -> list[Passage]:
    """The first `pool` passages (default: all) by their best sentence's score ((chunk id, probability)
    pairs), each with its `answer_score`; a passage with no quotable sentence after those that have one; the
    rest as they were."""
    best: dict[str, float] = {}
    for chunk_id, p in scored:
        best[chunk_id] = max(best.get(chunk_id, 0.0), p)
    pool = len(passages) if pool is None else pool
    head = list(passages[:pool])
    order = sorted(range(len(head)), key=lambda i: (-best.get(head[i].chunk_id, -1.0), i))
    scored_head = [replace(head[i], answer_score=round(best[head[i].chunk_id], 6)) if head[i].chunk_id in best
                   else head[i] for i in order]  # fmt: skip
    return [*scored_head, *passages[pool:]]
