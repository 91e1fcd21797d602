"""How deep the answer's passages need to go, from the cross-validation caches (run `bench/eval.py --cv` first).

Prints, over the answerable CV questions, the share whose asked passage is in reciprocal-rank fusion's top k
and in the fitted fusion's (held out: each fold's fusion fitted on the others), the library unfiltered,
council names boosting as in search; and the spread of a question's candidate-sentence count under the
shipped TOP_PASSAGES: what `answer.TOP_PASSAGES`, `rerank.RERANK_POOL` and `ranker.TYPED_OVER` are read against.

    .venv/bin/python bench/pool_depth.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv  # noqa: E402
import fit_ranker  # noqa: E402


def main() -> None:
    qs = cv.questions()
    pools = fit_ranker.pools(None, qs, reuse=True)
    firsts = [next((i + 1 for i, hit in enumerate(p.y) if hit > 0), None) for p in pools]
    # The fitted fusion's order (what `search` reranks the top RERANK_POOL of), each fold's fitted on the others.
    fused: list[int | None] = []
    for fold in range(cv.FOLDS):
        fusion = fit_ranker.make_fusion([p for p in pools if p.fold != fold], "cv")
        fused += [fit_ranker.fused_rank(fusion, p) for p in pools if p.fold == fold]
    for name, ranks in (("RRF", firsts), ("fitted fusion", fused)):
        for k in (5, 8, 10, 12, 16, 20):
            share = sum(1 for r in ranks if r and r <= k) / len(ranks)
            print(f"{name} top {k:2}: asked passage for {share:.3f} of {len(ranks)} answerable questions")
    counts = [len(i.x) for i in fit_ranker.load_cached(qs) if len(i.x)]
    pct = np.percentile(counts, [10, 25, 50, 75, 90])
    print("candidate sentences a question (10th/25th/50th/75th/90th percentile):", " / ".join(f"{v:.0f}" for v in pct))


if __name__ == "__main__":
    main()
