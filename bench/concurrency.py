"""Concurrent askers on one store while another process keeps replacing documents in it.

    .venv/bin/python bench/concurrency.py                          # 20 askers, hash embedder, 20 s
    .venv/bin/python bench/concurrency.py --embedder minilm --seconds 30
    .venv/bin/python bench/concurrency.py --no-writer --json       # the same load with nothing written
    .venv/bin/python bench/concurrency.py --shared                 # one Library for all the threads

A temporary store gets the demo documents and generated reports. Then ASKERS threads, each with its own
Library and Assistant (--shared: one for all), ask questions in a loop for SECONDS, each question inside
`library.reading()`, while `cqc-assistant ingest` runs again and again in a subprocess (embedded Chroma),
each round editing half the reports so that they are replaced. Reported: answers per second, p50/p95/p99
latency, refusals, ingest rounds completed, and errors: any exception, or a citation whose quote is not
exactly the stored text at its offsets (doc ids are content hashes, so every version's text is known).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/eastshire.py: the reports and questions the concurrency test asks too

from tests.eastshire import QUESTIONS, report_text  # noqa: E402

DEMO = REPO / "cqc_assistant" / "demo"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--askers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--reports", type=int, default=40, help="generated reports besides the demo")
    parser.add_argument("--embedder", choices=["hash", "minilm"], default="hash")
    parser.add_argument("--shared", action="store_true", help="one Library shared by all the threads")
    parser.add_argument("--no-writer", action="store_true", help="no ingest while asking")
    parser.add_argument(
        "--lock-stemmer",
        action="store_true",
        help="serialise the snowball stemmer (work around its thread-safety bug in index/terms.py)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    os.environ["CQC_ASSISTANT_EMBEDDER"] = args.embedder
    from cqc_assistant.answer import Assistant
    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import make_embedder
    from cqc_assistant.ingest.loaders import load_bytes
    from cqc_assistant.ingest.pipeline import doc_id_for, ingest
    from cqc_assistant.library import Library

    if args.lock_stemmer:
        from cqc_assistant.index import terms

        inner, lock = terms._STEMMER, threading.Lock()

        class Locked:
            def stemWord(self, word: str) -> str:  # noqa: N802
                with lock:
                    return str(inner.stemWord(word))

        terms._STEMMER = Locked()  # type: ignore[assignment]

    tmp = Path(tempfile.mkdtemp(prefix="cqc-concurrency-"))
    folder, store = tmp / "docs", tmp / "store"
    folder.mkdir()
    for p in DEMO.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    versions = dict.fromkeys(range(args.reports), 0)
    for i in versions:
        (folder / f"report-{i:03d}.md").write_text(report_text(i, 0))
    texts: dict[str, str] = {}

    def remember(path: Path) -> None:
        ex = load_bytes(str(path), path.read_bytes(), path.suffix)
        texts[doc_id_for(ex.text)] = ex.text

    for p in folder.iterdir():
        remember(p)
    embedder = make_embedder(args.embedder)
    settings = Settings.from_env(store=store)
    setup = Library.open(settings, embedder)
    t0 = time.perf_counter()
    ingest(setup, [str(folder)])
    build_s = time.perf_counter() - t0
    n_chunks = setup.count_chunks()
    setup.close()

    stop = threading.Event()
    rounds = {"completed": 0, "failed": 0}

    def writer() -> None:
        rng = random.Random(1)
        while not stop.is_set():
            for i in rng.sample(sorted(versions), len(versions) // 2):
                versions[i] += 1
                path = folder / f"report-{i:03d}.md"
                path.write_text(report_text(i, versions[i]))
                remember(path)
            proc = subprocess.run(
                [sys.executable, "-m", "cqc_assistant", "ingest", str(folder), "--json", "--store", str(store)],
                capture_output=True,
                env=dict(os.environ),
            )
            rounds["completed" if proc.returncode == 0 else "failed"] += 1

    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    refused = 0
    shared = Library.open(settings, embedder) if args.shared else None
    opened: list[Library] = []
    barrier = threading.Barrier(args.askers + 1)

    def asker(n: int) -> None:
        nonlocal refused
        rng = random.Random(n)
        lib = shared or Library.open(settings, embedder)
        if shared is None:
            with lock:
                opened.append(lib)
        assistant = Assistant(lib)
        barrier.wait()
        while not stop.is_set():
            q = rng.choice(QUESTIONS)
            t = time.perf_counter()
            try:
                with lib.reading():
                    answer = assistant.ask(q)
            except Exception as exc:  # noqa: BLE001 - counted, with where it came from
                frames = traceback.extract_tb(exc.__traceback__)
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:100]} at {frames[-1].name}")
                continue
            elapsed = time.perf_counter() - t
            bad = [c.doc_id for c in answer.citations if texts.get(c.doc_id, "\0")[c.start : c.end] != c.quote]
            with lock:
                latencies.append(elapsed)
                refused += answer.refused
                errors.extend(f"citation not the stored text: {d}" for d in bad)

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(args.askers)]
    for t in threads:
        t.start()
    barrier.wait()
    write_thread = None if args.no_writer else threading.Thread(target=writer)
    if write_thread:
        write_thread.start()
    started = time.perf_counter()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if write_thread:
        write_thread.join()
    for lib in opened + ([shared] if shared else []):
        lib.close()

    kinds: dict[str, int] = {}
    for e in errors:
        kinds[e] = kinds.get(e, 0) + 1
    result: dict[str, Any] = {
        "askers": args.askers,
        "embedder": args.embedder,
        "shared_library": args.shared,
        "writer": not args.no_writer,
        "stemmer_locked": args.lock_stemmer,
        "store_chunks": n_chunks,
        "build_seconds": round(build_s, 2),
        "seconds": round(wall, 2),
        "answers": len(latencies),
        "refused": refused,
        "answers_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "ingest_rounds": rounds["completed"],
        "ingest_rounds_failed": rounds["failed"],
        "errors": len(errors),
        "error_kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:5]),
        "store": str(store),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['askers']} askers ({args.embedder} embedder, "
            f"{'one shared Library' if args.shared else 'a Library each'}), "
            f"{'with' if result['writer'] else 'without'} a writer, {result['seconds']} s over "
            f"{n_chunks} chunks:\n"
            f"  {result['answers']} answers ({refused} refused), {result['answers_per_second']}/s; "
            f"latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms\n"
            f"  ingest rounds completed {result['ingest_rounds']} (failed {result['ingest_rounds_failed']}); "
            f"errors {result['errors']}"
        )
        for kind, n in result["error_kinds"].items():
            print(f"    {n} x {kind}")
    return 1 if errors or rounds["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
