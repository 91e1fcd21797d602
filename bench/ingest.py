"""Ingest throughput: PyTorch against ONNX Runtime, one document per embedding call against batches drawn from
several documents, in one run over the same files, with the vectors each makes compared.

    .venv/bin/python bench/ingest.py                      # seeds + dev2, the four ways, 2 rounds
    .venv/bin/python bench/ingest.py --rounds 3 --json
    .venv/bin/python bench/ingest.py DIR ... --ways onnx-batched
    .venv/bin/python bench/ingest.py --embedder minilm-int8 --ways torch-per-doc,torch-batched

Each way ingests every file into a fresh temporary store with the real bundled model; the rounds run the ways
in turn (rotating the order), and the median chunks/s of each is shown, so a busy machine slows all alike.
`torch-per-doc` is how ingest ran before cross-document batching and ONNX (issue 18: target >= 1.5x it).
"Embedding share" is the part of ingest time spent in the embedder (the rest is loading, detection, chunking,
SQLite and Chroma). Every way's stored vectors are compared with the first way's, chunk by chunk.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
DEFAULT_INPUTS = [CORPUS / "seeds", CORPUS / "dev2"]
WAYS = ("torch-per-doc", "torch-batched", "onnx-per-doc", "onnx-batched")
TARGET_SPEEDUP = 1.5


class TimedEmbedder:
    """Wraps an embedder, counting the texts it embeds and the time spent inside it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.calls = 0
        self.texts = 0
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> Any:
        self.calls += 1
        self.texts += len(texts)
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t0


def run_way(way: str, embedders: dict[str, Any], inputs: list[Path], work: Path) -> dict[str, Any]:
    from cqc_assistant.config import Settings
    from cqc_assistant.ingest import pipeline
    from cqc_assistant.library import Library

    backend, _, batching = way.partition("-")
    timed = TimedEmbedder(embedders[backend])
    store = work / f"store-{way}"
    shutil.rmtree(store, ignore_errors=True)
    lib = Library.open(Settings.from_env({}, store=store), timed)  # type: ignore[arg-type]
    batch = pipeline.BATCH_CHUNKS
    pipeline.BATCH_CHUNKS = 1 if batching == "per-doc" else batch  # 1: each document embedded on its own
    try:
        t0 = time.perf_counter()
        report = pipeline.ingest(lib, [str(p) for p in inputs])
        seconds = time.perf_counter() - t0
        got = lib.vector_page(0, lib.vector_count(), ["embeddings"])
        vectors = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
    finally:
        pipeline.BATCH_CHUNKS = batch
        lib.close()
    return {
        "seconds": seconds,
        "chunks": timed.texts,
        "calls": timed.calls,
        "embed_seconds": timed.seconds,
        "added": report.count("added"),
        "failed": report.failed,
        "vectors": vectors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="files or folders (default: seeds and dev2)")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    parser.add_argument("--rounds", type=int, default=2, help="times each way runs (the median is shown)")
    parser.add_argument("--embedder", default="minilm", help="minilm (default) or minilm-int8 (torch ways only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    inputs = [p for p in (args.inputs or DEFAULT_INPUTS) if p.exists()]
    ways = [w for w in args.ways.split(",") if w]
    if not inputs or not ways or any(w not in WAYS for w in ways):
        parser.error("give existing inputs and ways among " + ", ".join(WAYS))

    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import MiniLMEmbedder

    quantised = args.embedder == "minilm-int8"
    cache = Settings.from_env().model_cache
    embedders: dict[str, Any] = {}
    load_s: dict[str, float] = {}
    for backend in sorted({w.split("-")[0] for w in ways}):
        t0 = time.perf_counter()
        model = MiniLMEmbedder(quantised=quantised, backend=backend, cache_dir=cache)
        model.embed(["warm-up sentence so that every way starts from a loaded, warmed model"] * 8)
        embedders[backend], load_s[backend] = model, time.perf_counter() - t0

    work = Path(tempfile.mkdtemp(prefix="cqc-bench-ingest-"))
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in ways}
    try:
        for r in range(max(1, args.rounds)):
            for way in ways[r % len(ways) :] + ways[: r % len(ways)]:
                runs[way].append(run_way(way, embedders, inputs, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    reference = runs[ways[0]][0]["vectors"]
    rows = []
    for way in ways:
        done = runs[way]
        if any(d["failed"] for d in done):
            sys.exit(f"{way}: {done[0]['failed']} documents failed")
        vectors = done[0]["vectors"]
        same_ids = sorted(vectors) == sorted(reference)
        cosine = min(float(vectors[i] @ reference[i]) for i in reference) if same_ids else None
        rows.append(
            {
                "way": way,
                "chunks_per_s": round(statistics.median(d["chunks"] / d["seconds"] for d in done), 1),
                "seconds": round(statistics.median(d["seconds"] for d in done), 2),
                "embed_share": round(statistics.median(d["embed_seconds"] / d["seconds"] for d in done), 3),
                "embed_calls": done[0]["calls"],
                "min_cosine_vs_first": None if cosine is None else round(cosine, 7),
            }
        )
    base = next((r["chunks_per_s"] for r in rows if r["way"] == "torch-per-doc"), None)
    for row in rows:
        row["speedup_vs_torch_per_doc"] = round(row["chunks_per_s"] / base, 2) if base else None
    first = runs[ways[0]][0]
    result = {
        "inputs": [str(p) for p in inputs],
        "documents": first["added"],
        "chunks": first["chunks"],
        "rounds": max(1, args.rounds),
        "model_load_s": {k: round(v, 2) for k, v in load_s.items()},
        "ways": rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['documents']} documents, {result['chunks']} chunks, median of {result['rounds']} rounds")
    print("model load (with warm-up): " + ", ".join(f"{k} {v:.2f} s" for k, v in result["model_load_s"].items()))
    print(
        f"{'way':15} {'chunks/s':>9} {'seconds':>8} {'calls':>6} {'embed share':>12} {'vs torch-per-doc':>17}  min cos"
    )
    for row in rows:
        speed = "" if row["speedup_vs_torch_per_doc"] is None else f"{row['speedup_vs_torch_per_doc']:.2f}x"
        cos = "ids differ" if row["min_cosine_vs_first"] is None else f"{row['min_cosine_vs_first']:.7f}"
        cells = f"{row['chunks_per_s']:9.1f} {row['seconds']:8.2f} {row['embed_calls']:6d} {row['embed_share']:12.3f}"
        print(f"{row['way']:15} {cells} {speed:>17}  {cos}")
    best = max(rows, key=lambda r: r["chunks_per_s"])
    if base:
        verdict = "ok" if best["chunks_per_s"] >= TARGET_SPEEDUP * base else "BELOW TARGET"
        print(f"best: {best['way']} at {best['chunks_per_s'] / base:.2f}x (target >= {TARGET_SPEEDUP}x: {verdict})")
    print(f"peak RSS {result['peak_rss_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
