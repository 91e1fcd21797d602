"""Scale benchmark: ingest, search, ask, memory, disk and start-up at 1k, 10k and 100k chunks.

    .venv/bin/python bench/scale.py --sizes 1k      # real MiniLM: store, queries, ratio (~6 min, 2 cores)
    .venv/bin/python bench/scale.py --sizes 10k     # hash-built store, MiniLM query path and ratio slice
    .venv/bin/python bench/scale.py --sizes 100k    # bulk-built store (see below); 6-12 min on 2 cores
    .venv/bin/python bench/scale.py --sizes 1k,10k --json --workdir /tmp/scale --keep

The corpus comes from bench/synth.py (fictional councils, reproducible from --seed). Every figure is
labelled with the embedder behind it, because MiniLM on 2 CPU cores embeds about 10-20 chunks a second
and a 100k-chunk store would take hours to embed:

- sizes up to --real-upto (default 1k): the store is built with the real MiniLM model through the normal
  ingest path, and search/ask use MiniLM end to end;
- larger sizes: the store's vectors come from the hash embedder (`hash-384`); search and ask run with a
  "MiniLM-cost" embedder that computes the real MiniLM embedding of every query and candidate sentence
  (so the latency includes the model) but hands back the hash vector that matches the store (so the
  lookups are real lookups in a store of that size). The ingest ratio at these sizes comes from a slice
  of --slice-chunks new chunks ingested into the full store with real MiniLM vectors (stored under the
  store's embedder name for the measurement, then removed again), against raw MiniLM on the same texts;
- 100k (above --bulk-from) is built by a bulk loader: the normal pipeline, but with vector upserts batched
  across documents and the heading and council look-ups memoised (both proposed fixes); its build time is
  reported but is not the ingest throughput, which is the slice's.

Ingest throughput vs raw: the embedder is wrapped so every text ingest asks it to embed is recorded; the
raw figure replays those calls (same texts, same batches) straight to the embedder; ratio = raw / ingest
time. Latencies are p50/p95 over the query set, per process (embedded, then the same store served by a
`chroma run` server on loopback). Start-up to first answer is a fresh process: imports, model load, open
the library, first extractive `ask`. RSS is the peak resident set (ru_maxrss) of that process; the Chroma
server's own peak (VmHWM) is shown separately.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/servers.py: the loopback servers the tests start too

from tests.servers import start_chroma, stop  # noqa: E402

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
TARGETS = {"search_p50_ms": 50, "search_p95_ms": 150, "ask_p50_ms": 200, "rss_mb": 2048, "startup_s": 10}
CHILD_TIMEOUT_S = 1500
BULK_BATCH = 4000


# --- embedders --------------------------------------------------------------------------------------


class RecordingEmbedder:
    """Wraps an embedder, recording each call's texts and the time spent inside it."""

    def __init__(self, inner: Any, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dimension = inner.dimension
        self.calls: list[list[str]] = []
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> Any:
        self.calls.append(list(texts))
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t0


class MiniLMCost:
    """Real MiniLM compute for every text (the latency), hash vectors out (to match a hash-built store)."""

    def __init__(self) -> None:
        from cqc_assistant.embedding import HashEmbedder, MiniLMEmbedder

        self.model = MiniLMEmbedder()
        self.hash = HashEmbedder()
        self.name = self.hash.name
        self.dimension = self.hash.dimension

    def embed(self, texts: list[str]) -> Any:
        self.model.embed(texts)
        return self.hash.embed(texts)


def make_embedder(kind: str) -> Any:
    from cqc_assistant.embedding import HashEmbedder, MiniLMEmbedder

    if kind == "hash":
        return HashEmbedder()
    if kind == "minilm":
        return MiniLMEmbedder()
    if kind == "minilm-cost":
        return MiniLMCost()
    raise ValueError(kind)


# --- children ------------------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memoise_lookups() -> None:
    """The bulk loader's memoised heading and council look-ups (a proposed fix in domain.py/councils.py)."""
    import functools

    from cqc_assistant import councils, domain

    match = domain._match
    memo: dict[tuple[str, int], int | None] = {}

    def memo_match(label: str, index: dict[str, int]) -> int | None:
        key = (label, id(index))
        if key not in memo:
            memo[key] = match(label, index)
        return memo[key]

    domain._match = memo_match
    index: dict[str, str] = {}
    for c in councils.known_councils():
        for form in (c.short, c.name, *c.aliases):
            index.setdefault(councils.council_key(form), c.name)

    def canonical(name: str) -> str | None:
        key = councils.council_key(name)
        return index.get(key) if key else None

    councils.canonical_council = functools.lru_cache(maxsize=65536)(canonical)  # type: ignore[assignment]


class DeferredVectors:
    """Bulk loading only: buffer each document's vectors and upsert them in large batches."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.buffer: list[tuple[list[str], Any, list[dict[str, Any]]]] = []
        self.pending = 0

    def add(self, ids: list[str], vectors: Any, metadatas: list[dict[str, Any]]) -> None:
        self.buffer.append((ids, vectors, metadatas))
        self.pending += len(ids)
        if self.pending >= BULK_BATCH:
            self.flush()

    def flush(self) -> None:
        import numpy as np

        if not self.buffer:
            return
        ids = [i for b in self.buffer for i in b[0]]
        vecs = np.concatenate([b[1] for b in self.buffer])
        metas = [m for b in self.buffer for m in b[2]]
        self.inner.add(ids, vecs, metas)
        self.buffer, self.pending = [], 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def child_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from cqc_assistant.config import Settings
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    if args.embedder == "minilm-as-hash":  # real MiniLM vectors under the hash store's name (slice only)
        from cqc_assistant.embedding import HashEmbedder

        inner = make_embedder("minilm")
        rec = RecordingEmbedder(inner, name=HashEmbedder().name)
    else:
        inner = make_embedder(args.embedder)
        rec = RecordingEmbedder(inner)
    lib = Library.open(Settings.from_env({}, store=args.store), rec)
    deferred = None
    if args.bulk:
        _memoise_lookups()
        deferred = DeferredVectors(lib.vectors)
        lib.vectors = deferred  # type: ignore[assignment]
    t0 = time.perf_counter()
    report = ingest(lib, [str(p) for p in args.inputs])
    if deferred is not None:
        deferred.flush()
        lib.vectors = deferred.inner
    ingest_s = time.perf_counter() - t0
    embed_s = rec.seconds
    t1 = time.perf_counter()
    for call in rec.calls:
        inner.embed(call)
    raw_s = time.perf_counter() - t1
    chunks = sum(len(c) for c in rec.calls)
    out: dict[str, Any] = {
        "docs": report.count("added"),
        "failed": report.failed,
        "chunks": chunks,
        "ingest_s": ingest_s,
        "embed_in_ingest_s": embed_s,
        "raw_s": raw_s,
        "ratio": raw_s / ingest_s if ingest_s else None,
        "ingest_chunks_per_s": chunks / ingest_s if ingest_s else None,
        "raw_chunks_per_s": chunks / raw_s if raw_s else None,
        "maxrss_mb": _maxrss_mb(),
    }
    if args.remove_after:
        t2 = time.perf_counter()
        for r in report.results:
            if r.doc_id and r.status == "added":
                lib.remove(r.doc_id)
        out["remove_s"] = time.perf_counter() - t2
        out["removed_docs"] = report.count("added")
    lib.close()
    return out


class Timed:
    """Accumulates the time spent in a few library calls, to say where a query's time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, obj: Any, attr: str, label: str) -> None:
        fn = getattr(obj, attr)

        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0

        setattr(obj, attr, timed)

    def take(self) -> dict[str, float]:
        out, self.seconds = self.seconds, {}
        return out


def child_serve(args: argparse.Namespace) -> dict[str, Any]:
    t_start = time.perf_counter()
    from cqc_assistant.answer import Assistant
    from cqc_assistant.config import Settings
    from cqc_assistant.index.catalogue import Catalogue
    from cqc_assistant.index.retriever import HybridRetriever
    from cqc_assistant.index.vectors import COLLECTION, VectorStore
    from cqc_assistant.library import Library
    from cqc_assistant.rerank import search
    from cqc_assistant.scope import make_filters

    t_import = time.perf_counter()
    emb = make_embedder(args.embedder)
    t_model = time.perf_counter()
    store = Path(args.store)
    settings = Settings.from_env({}, store=store)
    if args.chroma_url:  # the bench's store was built embedded: serve its collection under its own name
        settings = settings.with_(chroma_url=args.chroma_url)
        vectors = VectorStore(
            store / "chroma", embedder_name=emb.name, dimension=emb.dimension, url=args.chroma_url,
            collection=COLLECTION,
        )  # fmt: skip
        catalogue = Catalogue(store / "catalogue.sqlite3")
        lib = Library(settings=settings, embedder=emb, catalogue=catalogue, vectors=vectors)
    else:
        lib = Library.open(settings, emb)
    t_open = time.perf_counter()
    queries = json.loads(Path(args.queries).read_text())
    assistant = Assistant(lib)
    first = assistant.ask(queries["first_question"])
    t_first = time.perf_counter()
    print(json.dumps({"event": "first_answer"}), flush=True)

    timed = Timed()
    timed.wrap(lib.embedder, "embed", "embed")
    timed.wrap(lib.vectors, "query", "vectors.query")
    timed.wrap(lib.catalogue, "lexical", "catalogue.lexical")
    timed.wrap(lib.catalogue, "documents", "catalogue.documents")
    timed.wrap(lib.catalogue, "count_chunks", "catalogue.count_chunks")
    timed.wrap(lib.catalogue, "chunks_by_rowid", "catalogue.chunks_by_rowid")
    timed.wrap(lib.catalogue, "chunks_by_chunk_id", "catalogue.chunks_by_chunk_id")
    retriever = HybridRetriever(lib)
    assistant = Assistant(lib, retriever=retriever)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    search_ms: dict[str, list[float]] = {}
    search_rest_ms: list[float] = []  # each search's time outside the embedder
    for i in range(1, 49, 4):  # the model's first call at each input shape is slow: warm it up
        lib.embedder.embed(["word " * i])
        lib.embedder.embed(["word " * i] * min(i, 48))
    for q in queries["search"][:3]:
        search(assistant, q["q"], make_filters(lib, **q["filters"]), 10, retriever=retriever)
    timed.take()
    parts: dict[str, dict[str, float]] = {"search": {}, "ask": {}}

    def account(what: str) -> float:
        taken = timed.take()
        for key, value in taken.items():
            parts[what][key] = parts[what].get(key, 0.0) + value
        return taken.get("embed", 0.0) * 1000

    if profiler:
        profiler.enable()
    for q in queries["search"]:
        filters = make_filters(lib, **q["filters"])
        t0 = time.perf_counter()
        search(assistant, q["q"], filters, 10, retriever=retriever)  # as `cqc-assistant search` does: reranked
        ms = (time.perf_counter() - t0) * 1000
        search_ms.setdefault(q["cls"], []).append(ms)
        search_rest_ms.append(ms - account("search"))
    ask_ms: list[float] = []
    ask_rest_ms: list[float] = []
    refused = 0
    for question in queries["ask"]:
        t0 = time.perf_counter()
        refused += assistant.ask(question).refused
        ms = (time.perf_counter() - t0) * 1000
        ask_ms.append(ms)
        ask_rest_ms.append(ms - account("ask"))
    if profiler:
        import io
        import pstats

        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
        Path(args.profile).write_text(buf.getvalue())
    n_search = sum(len(v) for v in search_ms.values())
    return {
        "startup": {
            "import_s": t_import - t_start,
            "model_s": t_model - t_import,
            "open_s": t_open - t_model,
            "first_ask_s": t_first - t_open,
            "first_refused": first.refused,
        },
        "search_ms": search_ms,
        "search_rest_ms": search_rest_ms,
        "ask_ms": ask_ms,
        "ask_rest_ms": ask_rest_ms,
        "ask_refused": refused,
        "search_parts_ms": {k: v * 1000 / max(n_search, 1) for k, v in parts["search"].items()},
        "ask_parts_ms": {k: v * 1000 / max(len(ask_ms), 1) for k, v in parts["ask"].items()},
        "maxrss_mb": _maxrss_mb(),
        "chunks": lib.count_chunks(),
    }


# --- the parent -------------------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQC_ASSISTANT_")}
    env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def run_child(argv: list[str], timeout: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env())
    if proc.returncode != 0:
        raise SystemExit(f"child {argv[:2]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_serve(argv: list[str]) -> dict[str, Any]:
    """A fresh serving process; start-up to first answer is measured from spawn to its first line."""
    cmd = [sys.executable, __file__, "--child", "serve", *argv]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    t_first = time.perf_counter() - t0
    out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    if proc.returncode != 0 or not first:
        raise SystemExit(f"serve child failed ({proc.returncode}):\n{err[-3000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["startup"]["spawn_to_first_answer_s"] = t_first
    return result


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024 / 1024


def make_queries(corpus: Any, n_search: int, n_ask: int, seed: int) -> dict[str, Any]:
    from synth import QS_SUBJECTS

    from cqc_assistant.domain import QUALITY_STATEMENTS

    rng = random.Random(seed)
    subjects = [s for v in QS_SUBJECTS.values() for s in v]
    extras = ("waiting times", "satisfaction", "spending", "recruitment", "backlog", "in rural areas", "")
    kinds = ("cqc_assessment", "lga_peer_challenge", "cqc_press_release")
    classes = ["none", "council", "kind", "qs", "since"]
    search = []
    for i in range(n_search):
        cls = classes[i % len(classes)]
        q = f"{rng.choice(subjects)} {rng.choice(extras)}".strip()
        filters: dict[str, str] = {}
        if cls == "council":
            filters["council"] = rng.choice(corpus.councils).short
        elif cls == "kind":
            filters["kind"] = rng.choice(kinds)
        elif cls == "qs":
            filters["qs"] = str(rng.randint(1, 9))
        elif cls == "since":
            filters["since"] = "2025"
        search.append({"q": q, "filters": filters, "cls": cls})
    patterns = (
        "How many people were waiting for {s} in {c}?",
        "What did the peer team say about {s}?",
        "How much did {c} spend on {s}?",
        "What score did {c} get for {qs}?",
        "What did inspectors find about {s}?",
        "How long was the longest wait for {s}?",
    )
    ask = [
        rng.choice(patterns).format(
            s=rng.choice(subjects), c=rng.choice(corpus.councils).name, qs=rng.choice(QUALITY_STATEMENTS).name
        )
        for _ in range(n_ask)
    ]
    return {"first_question": "How many people were waiting for occupational therapy assessments?",
            "search": search, "ask": ask}  # fmt: skip


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def bench_size(label: str, n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import synth

    say = (lambda *a: None) if args.quiet else (lambda *a: print(f"[{label}]", *a, file=sys.stderr, flush=True))
    real = n <= args.real_upto
    bulk = n >= args.bulk_from
    res: dict[str, Any] = {"size": label, "target_chunks": n, "real": real, "bulk": bulk}
    for old in (work / f"corpus-{label}", work / f"store-{label}", work / f"slice-{label}"):
        shutil.rmtree(old, ignore_errors=True)
    t = time.perf_counter()
    corpus = synth.generate(work / f"corpus-{label}", chunks=n, seed=args.seed)
    res["synth_s"] = time.perf_counter() - t
    res["councils"] = len(corpus.councils)
    say(f"corpus: {len(corpus.councils)} councils, {len(corpus.files)} files, ~{corpus.chunks_estimate} chunks")

    store = work / f"store-{label}"
    build = ["ingest", "--store", str(store), "--embedder", "minilm" if real else "hash"]
    say("building the store with", "MiniLM" if real else "the hash embedder", "(bulk)" if bulk else "")
    res["build"] = run_child([*build, *(["--bulk"] if bulk else []), str(corpus.folder)])
    res["chunks"] = res["build"]["chunks"]
    res["disk_mb"] = {
        "catalogue": sum(p.stat().st_size for p in store.glob("catalogue.sqlite3*")) / 1024 / 1024,
        "chroma": dir_mb(store / "chroma"),
    }
    say(f"built {res['chunks']} chunks in {res['build']['ingest_s']:.0f} s ({sum(res['disk_mb'].values()):.0f} MB)")

    qpath = work / f"queries-{label}.json"
    qpath.write_text(json.dumps(make_queries(corpus, args.searches, args.asks, args.seed)))
    serve_embedder = "minilm" if real else "minilm-cost"
    serve = ["--store", str(store), "--embedder", serve_embedder, "--queries", str(qpath)]
    say("serving embedded")
    prof = ["--profile", str(work / f"profile-{label}-embedded.txt")] if args.profile else []
    res["embedded"] = run_serve([*serve, *prof])
    if not args.no_server:
        say("serving through chroma run")
        proc, url = start_chroma(store / "chroma", work / f"chroma-{label}.log")
        try:
            prof = ["--profile", str(work / f"profile-{label}-server.txt")] if args.profile else []
            res["server"] = run_serve([*serve, "--chroma-url", url, *prof])
            res["server"]["chroma_server_rss_mb"] = peak_rss_mb(proc.pid)
        finally:
            stop(proc, timeout=30)
    if real:
        res["ratio_from"] = "full build, MiniLM"
        res["ratio"] = res["build"]["ratio"]
    elif args.slice_chunks:
        say(f"MiniLM slice of ~{args.slice_chunks} chunks into the {label} store")
        sl = synth.generate(work / f"slice-{label}", chunks=args.slice_chunks, seed=args.seed + 1000)
        res["slice"] = run_child(
            [
                "ingest",
                "--store",
                str(store),
                "--embedder",
                "minilm-as-hash",
                "--remove-after",
                str(sl.folder),
            ]
        )
        res["ratio_from"] = f"slice of {res['slice']['chunks']} chunks, MiniLM, into the {label} store"
        res["ratio"] = res["slice"]["ratio"]
    return res


def _cell(v: Any, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def _pp(r: dict[str, Any], mode: str, what: str) -> str:
    data = r.get(mode)
    if not data:
        return "-"
    flat = [v for vs in data["search_ms"].values() for v in vs]
    values = flat if what == "search" else data[f"{what}_ms"]
    return f"{pct(values, 50):.0f} / {pct(values, 95):.0f}"


def _share(r: dict[str, Any]) -> str:
    """Time inside the embedder / ingest time, in the same run: robust to a machine whose speed drifts
    between the ingest and the raw replay (the ratio compares two runs of the model)."""
    m = r.get("slice") or r["build"]
    return f"{m['embed_in_ingest_s'] / m['ingest_s']:.2f}" if m["ingest_s"] else "-"


def _minilm(r: dict[str, Any], key: str) -> str:
    return _cell((r.get("slice") or r["build"])[key], ".1f")


def _build(r: dict[str, Any]) -> str:
    how = ("MiniLM" if r["real"] else "hash") + (", bulk" if r["bulk"] else "")
    return f"{r['build']['ingest_chunks_per_s']:.0f} ({how})"


def _startup(r: dict[str, Any], mode: str) -> str:
    return _cell(r.get(mode, {}).get("startup", {}).get("spawn_to_first_answer_s"), ".1f")


def _disk(r: dict[str, Any]) -> str:
    d = r["disk_mb"]
    return f"{d['catalogue'] + d['chroma']:.0f} ({d['catalogue']:.0f} + {d['chroma']:.0f})"


def fmt_table(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("chunks", lambda r: f"{r['chunks']:,}"),
        ("store vectors", lambda r: "MiniLM" if r["real"] else "hash-384"),
        ("query path embedder", lambda r: "MiniLM" if r["real"] else "MiniLM compute, hash vectors"),
        ("build: chunks/s (embedder)", _build),
        ("ingest/raw ratio (MiniLM)", lambda r: _cell(r.get("ratio"), ".2f")),
        ("  ratio measured on", lambda r: r.get("ratio_from", "-")),
        ("  embedder's share of that ingest", lambda r: _share(r)),
        ("  MiniLM ingest chunks/s", lambda r: _minilm(r, "ingest_chunks_per_s")),
        ("  MiniLM raw chunks/s", lambda r: _minilm(r, "raw_chunks_per_s")),
    ]
    for mode in ("embedded", "server"):
        rows += [
            (f"search p50/p95 ms ({mode})", lambda r, m=mode: _pp(r, m, "search")),
            ("  outside the embedder", lambda r, m=mode: _pp(r, m, "search_rest")),
            (f"ask p50/p95 ms ({mode})", lambda r, m=mode: _pp(r, m, "ask")),
            ("  outside the embedder", lambda r, m=mode: _pp(r, m, "ask_rest")),
            (f"peak RSS MB ({mode} app)", lambda r, m=mode: _cell(r.get(m, {}).get("maxrss_mb"))),
            (f"start-up to 1st answer s ({mode})", lambda r, m=mode: _startup(r, m)),
        ]
    rows += [
        ("chroma server peak RSS MB", lambda r: _cell(r.get("server", {}).get("chroma_server_rss_mb"))),
        ("store on disk MB (catalogue + chroma)", _disk),
        ("build wall s", lambda r: f"{r['build']['ingest_s']:.0f}"),
    ]
    width = max(len(name) for name, _ in rows) + 2
    colw = max(30, *(len(f(r)) + 2 for r in results for _, f in rows))
    lines = ["".ljust(width) + "".join(r["size"].ljust(colw) for r in results)]
    for name, f in rows:
        lines.append(name.ljust(width) + "".join(f(r).ljust(colw) for r in results))
    lines += ["", "search p50 ms by filter class, embedded / server (all / outside the embedder):"]
    for r in results:
        cells = []
        for cls, values in r["embedded"]["search_ms"].items():
            srv = r.get("server", {}).get("search_ms", {}).get(cls, [])
            cells.append(f"{cls} {pct(values, 50):.0f}/{pct(srv, 50):.0f}")
        lines.append(f"  {r['size']}: " + ", ".join(cells))
    lines.append("mean ms per query spent in: search | ask")
    for r in results:
        for mode in ("embedded", "server"):
            if mode in r:
                sp, ap = r[mode]["search_parts_ms"], r[mode]["ask_parts_ms"]
                body = ", ".join(f"{k} {sp.get(k, 0):.1f}|{ap.get(k, 0):.1f}" for k in sorted({*sp, *ap}))
                lines.append(f"  {r['size']} {mode}: {body}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k, 10k, 100k (or a number)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--searches", type=int, default=60, help="search queries per process")
    parser.add_argument("--asks", type=int, default=20, help="questions per process")
    parser.add_argument("--slice-chunks", type=int, default=300, help="MiniLM ratio slice for hash-built sizes")
    parser.add_argument("--real-upto", type=int, default=1_000, help="build with MiniLM up to this size")
    parser.add_argument("--bulk-from", type=int, default=50_000, help="bulk-load the store from this size")
    parser.add_argument("--no-server", action="store_true", help="skip the `chroma run` measurements")
    parser.add_argument("--profile", action="store_true", help="cProfile the query loops (in the workdir)")
    parser.add_argument("--workdir", type=Path, help="where corpora and stores go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _child(args.child)

    sizes = [(s, SIZES.get(s) or int(s)) for s in args.sizes.split(",") if s]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cqc-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()
    results = []
    try:
        for label, n in sizes:
            results.append(bench_size(label, n, args, work))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print(fmt_table(results))
    print(
        f"\n{os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"total {time.perf_counter() - started:.0f} s; targets at 100k: search p50 <= "
        f"{TARGETS['search_p50_ms']} ms, p95 <= {TARGETS['search_p95_ms']} ms, ask p50 <= "
        f"{TARGETS['ask_p50_ms']} ms, RSS <= {TARGETS['rss_mb']} MB, start-up <= {TARGETS['startup_s']} s"
    )
    if args.json:
        print(json.dumps(results, default=str))
    return 0


def _child(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["ingest", "serve"])
    p.add_argument("--store", required=True)
    p.add_argument("--embedder", required=True)
    p.add_argument("--bulk", action="store_true")
    p.add_argument("--remove-after", action="store_true")
    p.add_argument("--queries")
    p.add_argument("--chroma-url")
    p.add_argument("--profile")
    p.add_argument("inputs", nargs="*", type=Path)
    args = p.parse_intermixed_args(argv)
    out = child_ingest(args) if args.what == "ingest" else child_serve(args)
    print(json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
