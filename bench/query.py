"""Search (fused, and reranked as `search` does) and ask latency, p50/p95, model loaded once: dev set and ~10k chunks.

    .venv/bin/python bench/query.py [--chunks 10000] [--embedder minilm|hash]

The 10k store is built from bench/synth.py's fictional councils. Building it embeds every chunk, which takes
long with MiniLM on 2 cores, so `--bulk-embedder hash` (the default) fills the big store with hash vectors;
its questions (about the synthetic councils) then pay the real MiniLM cost for every text they embed
(bench/scale.py's MiniLMCost); the table says which embedder made what.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "bench"))


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def measure(lib, questions: list[str]) -> dict[str, float]:
    from cqc_assistant.answer import Assistant
    from cqc_assistant.index.retriever import HybridRetriever
    from cqc_assistant.rerank import search

    retriever = HybridRetriever(lib)
    assistant = Assistant(lib)
    assistant.ask(questions[0])  # warm caches
    search_ms, rerank_ms, ask_ms = [], [], []
    for q in questions:
        t = time.perf_counter()
        retriever.search(q, k=10)
        search_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        search(assistant, q, k=10, retriever=retriever)  # what `cqc-assistant search` does
        rerank_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        assistant.ask(q)
        ask_ms.append(1000 * (time.perf_counter() - t))
    return {
        "chunks": lib.count_chunks(),
        "search_p50_ms": round(statistics.median(search_ms), 1),
        "search_p95_ms": round(pct(search_ms, 0.95), 1),
        "rerank_p50_ms": round(statistics.median(rerank_ms), 1),
        "rerank_p95_ms": round(pct(rerank_ms, 0.95), 1),
        "ask_p50_ms": round(statistics.median(ask_ms), 1),
        "ask_p95_ms": round(pct(ask_ms, 0.95), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=10000)
    ap.add_argument("--embedder", default="minilm", help="embeds the questions (and the dev-set store)")
    ap.add_argument("--bulk-embedder", default="hash", help="embeds the big synthetic store")
    args = ap.parse_args()

    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import make_embedder
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    questions = [json.loads(x)["q"] for x in (SHARED / "eval" / "qa_dev.jsonl").read_text().splitlines()]
    questions += [json.loads(x)["q"] for x in (SHARED / "eval" / "unanswerable_dev.jsonl").read_text().splitlines()]
    embedder = make_embedder(args.embedder)
    rows = {}
    lib = Library.open(Settings.from_env(store=tempfile.mkdtemp(prefix="cqc-q-")), embedder)
    ingest(lib, [str(SHARED / "corpus" / "seeds")])
    rows[f"dev set ({args.embedder})"] = measure(lib, questions)

    if args.chunks:
        import scale
        import synth

        work = Path(tempfile.mkdtemp(prefix="cqc-q10k-"))
        corpus = synth.generate(work / "docs", chunks=args.chunks, seed=1)
        bulk = make_embedder(args.bulk_embedder)
        lib = Library.open(Settings.from_env(store=work / "store"), bulk)
        ingest(lib, [str(work / "docs")])
        if args.bulk_embedder == "hash":
            # Questions about the synthetic councils (the dev questions name real ones, which this store does
            # not hold: they would be refused at once), each paying the real MiniLM cost.
            lib = Library.open(Settings.from_env(store=work / "store"), scale.MiniLMCost())
            questions = scale.make_queries(corpus, 0, 40, seed=1)["ask"]
        rows[f"synthetic ({args.bulk_embedder} vectors)"] = measure(lib, questions)
    # "fused search": the fused order only (`search --no-rerank`); "search": reranked by the best sentence.
    print(
        f"{'corpus':34} {'chunks':>7} {'fused search p50':>17} {'p95':>7} {'search p50':>11} {'p95':>7} "
        f"{'ask p50':>8} {'p95':>7}"
    )
    for name, r in rows.items():
        print(
            f"{name:34} {r['chunks']:>7} {r['search_p50_ms']:>15}ms {r['search_p95_ms']:>5}ms "
            f"{r['rerank_p50_ms']:>9}ms {r['rerank_p95_ms']:>5}ms {r['ask_p50_ms']:>6}ms {r['ask_p95_ms']:>5}ms"
        )


if __name__ == "__main__":
    main()
