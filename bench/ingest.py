"""Ingest throughput against the embedder's raw throughput on exactly the same chunk texts.

    .venv/bin/python bench/ingest.py                 # seeds + demo, once
    .venv/bin/python bench/ingest.py --repeat 5      # five edited copies of each text file, for more text
    .venv/bin/python bench/ingest.py DIR ... --json

Ingest runs into a temporary store with the real bundled MiniLM embedder, wrapped so that every text it is
asked to embed is recorded. The raw figure replays those same calls (same texts, same batches) straight to
the embedder, so the ratio is the share of ingest time that is not overhead (target: at least 0.8).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUTS = [REPO.parent / "shared" / "corpus" / "seeds", REPO / "cqc_assistant" / "demo"]
EDITABLE = {".txt", ".md", ".markdown", ".html", ".htm"}
TARGET_RATIO = 0.8


class RecordingEmbedder:
    """Wraps an embedder, recording each call's texts and the time spent inside it."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.calls: list[list[str]] = []
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> object:
        self.calls.append(list(texts))
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts)  # type: ignore[attr-defined]
        finally:
            self.seconds += time.perf_counter() - t0


def stage_inputs(inputs: list[Path], repeat: int, into: Path) -> list[Path]:
    """Copy the inputs; with repeat > 1, add edited copies of the text files so each one is new content."""
    staged: list[Path] = []
    into.mkdir(parents=True, exist_ok=True)
    files = [p for root in inputs for p in (sorted(root.rglob("*")) if root.is_dir() else [root]) if p.is_file()]
    for i, src in enumerate(files):
        for copy in range(repeat if src.suffix.lower() in EDITABLE else 1):
            dst = into / f"{i:03d}-{copy:03d}-{src.name}"
            data = src.read_bytes()
            if copy:
                marker = f"\n\nBenchmark copy {copy} of {src.name}.\n"
                data += (
                    f"<p>{marker.strip()}</p>".encode() if src.suffix.lower() in (".html", ".htm") else marker.encode()
                )
            dst.write_bytes(data)
            staged.append(dst)
    return staged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="files or folders (default: seeds and demo)")
    parser.add_argument("--repeat", type=int, default=1, help="copies of each text file (edited to be unique)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--embedder", default="minilm", help="minilm (default) or minilm-int8")
    args = parser.parse_args(argv)
    inputs = [p for p in (args.inputs or DEFAULT_INPUTS) if p.exists()]
    if not inputs:
        parser.error("none of the inputs exist")

    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import make_embedder
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    t0 = time.perf_counter()
    model = make_embedder(args.embedder)
    model.embed(["warm-up sentence so that both timings start from a loaded, warmed model"] * 8)
    load_s = time.perf_counter() - t0

    work = Path(tempfile.mkdtemp(prefix="cqc-bench-"))
    try:
        staged = stage_inputs(inputs, max(1, args.repeat), work / "docs")
        recorder = RecordingEmbedder(model)
        lib = Library.open(Settings.from_env({}, store=work / "store"), recorder)  # type: ignore[arg-type]
        try:
            t0 = time.perf_counter()
            report = ingest(lib, [str(work / "docs")])
            ingest_s = time.perf_counter() - t0
            stored_chunks = lib.catalogue.count_chunks()
        finally:
            lib.close()
        calls = recorder.calls
        texts = [t for call in calls for t in call]
        n = len(texts)

        t0 = time.perf_counter()
        for call in calls:  # the same texts in the same batches as ingest made
            model.embed(call)
        raw_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.embed(texts)  # for reference: everything in one call
        one_call_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ingest_cps = n / ingest_s if ingest_s else 0.0
    raw_cps = n / raw_s if raw_s else 0.0
    result = {
        "documents": len(staged),
        "added": report.count("added"),
        "failed": report.failed,
        "embed_calls": len(calls),
        "chunks": n,
        "stored_chunks": stored_chunks,
        "chunk_chars": sum(len(t) for t in texts),
        "model_load_s": round(load_s, 2),
        "ingest_s": round(ingest_s, 3),
        "ingest_embed_s": round(recorder.seconds, 3),
        "raw_s": round(raw_s, 3),
        "ingest_chunks_per_s": round(ingest_cps, 1),
        "raw_chunks_per_s": round(raw_cps, 1),
        "raw_one_call_chunks_per_s": round(n / one_call_s, 1) if one_call_s else 0.0,
        "ratio": round(ingest_cps / raw_cps, 3) if raw_cps else 0.0,
        "target_ratio": TARGET_RATIO,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"documents         {result['documents']} ({result['added']} added, {result['failed']} failed)")
        print(f"chunks embedded   {n} in {len(calls)} calls ({result['chunk_chars']:,} characters)")
        print(f"model load        {load_s:.2f} s")
        embed_share = f"(embedding {recorder.seconds:.3f} s of it)"
        print(f"ingest            {ingest_s:.3f} s  {ingest_cps:8.1f} chunks/s  {embed_share}")
        print(f"raw embed         {raw_s:.3f} s  {raw_cps:8.1f} chunks/s  (same calls replayed)")
        print(f"raw, one call     {one_call_s:.3f} s  {result['raw_one_call_chunks_per_s']:8.1f} chunks/s")
        verdict = "ok" if result["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        print(f"ratio             {result['ratio']:.3f}  (target >= {TARGET_RATIO}: {verdict})")
        print(f"peak RSS          {result['peak_rss_mb']:.1f} MB")
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
