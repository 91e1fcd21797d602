"""How the ONNX model's batches are cut: one padded batch of up to 64 texts against short batches of like lengths.

    .venv/bin/python bench/embed_batches.py [--draws 20] [--grid]

Two workloads drawn from the shared corpora: the ~30 sentences a question compares densely (answer.DENSE_POOL),
and 128 chunk-length texts (an ingest batch). Each way embeds the same draws; the median ms is shown, and every
vector is compared with the texts embedded one at a time (no padding at all). `--grid` adds other cuts.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def texts() -> tuple[list[str], list[str]]:
    text = " ".join(p.read_text(errors="ignore") for p in sorted(CORPUS.rglob("*.txt")))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if 20 < len(s) < 600]
    rnd = random.Random(0)
    chunks = []
    for _ in range(400):
        start = rnd.randrange(0, len(text) - 2000)
        chunks.append(text[start : start + rnd.randrange(300, 1800)])
    return sentences, chunks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()

    from cqc_assistant import answer, minilm_onnx
    from cqc_assistant.config import Settings

    folder = minilm_onnx.model_dir()
    path = minilm_onnx.export_path(Settings.from_env().model_cache, folder)
    if not path.is_file():
        raise SystemExit(f"no ONNX export at {path}: run `python -m cqc_assistant.minilm_onnx` first")
    ways = {
        "one padded batch of up to 64": (64, 0.0),
        f"like lengths ({minilm_onnx.LIKE_LENGTH}), {minilm_onnx.MAX_ROWS} rows": (
            minilm_onnx.MAX_ROWS,
            minilm_onnx.LIKE_LENGTH,
        ),
    }
    if args.grid:
        ways |= {f"like lengths ({like}), {rows} rows": (rows, like) for rows in (4, 8, 32) for like in (0.7, 0.9)}
        ways |= {f"fixed {rows} rows": (rows, 0.0) for rows in (2, 4, 8, 16)}
    single = minilm_onnx.OnnxMiniLM(path, folder, max_rows=1)
    sentences, chunks = texts()
    rnd = random.Random(1)
    pools = [rnd.sample(sentences, answer.DENSE_POOL) for _ in range(args.draws)]
    batches = [rnd.sample(chunks, 128) for _ in range(2)]
    print(f"{'way':34} {f'{answer.DENSE_POOL} sentences p50':>17} {'128 chunks p50':>15} {'max |diff|':>11}")
    for name, (rows, like) in ways.items():
        model = minilm_onnx.OnnxMiniLM(path, folder, max_rows=rows, like=like)
        model.embed(["warm"])
        timings: dict[str, list[float]] = {"pool": [], "chunks": []}
        diff = 0.0
        for kind, draws in (("pool", pools), ("chunks", batches)):
            for draw in draws:
                t = time.perf_counter()
                got = model.embed(draw)
                timings[kind].append(1000 * (time.perf_counter() - t))
                if draw is draws[0]:
                    diff = max(diff, float(np.abs(got - single.embed(draw)).max()))
        print(
            f"{name:34} {statistics.median(timings['pool']):>15.1f}ms {statistics.median(timings['chunks']):>13.0f}ms "
            f"{diff:>11.1e}"
        )


if __name__ == "__main__":
    main()
