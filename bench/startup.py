"""Cold start of each command: wall time and peak RSS of a fresh `cqc-assistant` process, median of N runs.

    .venv/bin/python bench/startup.py --store DIR            # a store holding the 22 dev2 documents
    .venv/bin/python bench/startup.py                        # builds that store first (minutes), then times
    .venv/bin/python bench/startup.py --store DIR --code ../base   # another checkout's code, same store

Wall time depends on what else the machine runs; the CPU time (user + system) of the process is steadier.
Every run is a new process (the operating system's file cache is warm, as it is for an officer's second
command); `remove` runs on a fresh copy of the store each time (the copy is not timed). Targets (issue 18):
`docs --json` <= 0.6 s, `--help` <= 0.3 s, `search` <= 2.5 s, `ask` <= 3 s. The embedding model's ONNX export
must already be in the model cache (`python -m cqc_assistant.minilm_onnx`), as scripts/setup.sh leaves it.

Then the app (this checkout's, not `--code`'s; skipped by `--no-app` or without Chromium), started as
`cqc-assistant ui` starts it on a copy of the store with the browser already open (bench/ui.py's
`time_start`), N times each way: first paint and ready to answer (example questions shown), and, in runs of
their own, first answer (a question asked the moment the chat box shows, until its answer is on the page).
Targets: first paint <= 2 s, ready <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV2 = REPO.parent / "shared" / "corpus" / "dev2"
SEARCH = "occupational therapy waiting"
QUESTION = "How long do people wait for an occupational therapy assessment?"
CHROMIUM = "/usr/bin/chromium"
TARGETS = {"--help": 0.3, "docs --json": 0.6, "search": 2.5, "ask": 3.0}
APP_TARGETS = {"first_paint_s": 2.0, "ready_s": 5.0}


def commands(doc_id: str) -> list[tuple[str, list[str]]]:
    """(label, arguments) of each command timed; `remove` is handled apart (it changes the store)."""
    return [
        ("--help", ["--help"]),
        ("docs --json", ["docs", "--json"]),
        ("show --json", ["show", doc_id, "--json"]),
        ("rate --json", ["rate", "3", "3", "2", "3", "4", "3", "3", "3", "3", "--json"]),
        ("audit --json", ["audit", "--json"]),
        ("check --json", ["check", "--json"]),
        ("search", ["search", SEARCH, "--json", "-k", "5"]),
        ("ask", ["ask", QUESTION, "--json"]),
        ("remove", ["remove", doc_id]),
    ]


def run_once(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s, peak RSS MB, exit code, stderr tail) of one fresh process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cqc_assistant", *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip()[-300:]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, tail


def build_store(store: Path, env: dict[str, str], cwd: Path) -> None:
    print(f"building a store from {DEV2} in {store} ...", file=sys.stderr)
    done = subprocess.run(
        [sys.executable, "-m", "cqc_assistant", "ingest", str(DEV2), "--store", str(store), "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"ingest failed: {done.stderr.strip()[-300:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="a store holding the dev2 documents (default: build one)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is shown)")
    parser.add_argument("--code", type=Path, help="time this checkout's package instead (put first on PYTHONPATH)")
    parser.add_argument("--only", help="comma-separated labels to time, 'app' for the app (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-app", action="store_true", help="time the commands only, not the app")
    args = parser.parse_args(argv)

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("CQC_ASSISTANT_EMBEDDER", None)  # the default model, as an officer runs it
    env.pop("CQC_ASSISTANT_CHROMA_URL", None)
    code = (args.code or REPO).resolve()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH")) if p)
    work = Path(tempfile.mkdtemp(prefix="cqc-startup-"))  # also the processes' working folder: `python -m`
    # puts it first on sys.path, so the package comes from `code`, not from wherever this was started
    try:
        store = args.store
        if store is None:
            store = work / "store"
            build_store(store, env, work)
        listed = subprocess.run(
            [sys.executable, "-m", "cqc_assistant", "docs", "--json", "--store", str(store)],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )
        docs = json.loads(listed.stdout or "[]")
        if not docs:
            sys.exit(f"no documents in {store}: {listed.stderr.strip()[-300:]}")
        wanted = set(args.only.split(",")) if args.only else None
        rows = []
        for label, cmd in commands(docs[-1]["doc_id"]):
            if wanted and label not in wanted:
                continue
            walls, cpus, rsss = [], [], []
            for _ in range(args.runs):
                target = store
                if label == "remove":
                    target = work / "copy"
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(store, target)
                extra = [] if label == "--help" else ["--store", str(target)]
                wall, cpu, rss, status, tail = run_once([*cmd, *extra], env, work)
                if status != 0:
                    sys.exit(f"{label} exited {status}: {tail}")
                walls.append(wall)
                cpus.append(cpu)
                rsss.append(rss)
            rows.append(
                {
                    "command": label,
                    "wall_s": round(statistics.median(walls), 3),
                    "wall_min_s": round(min(walls), 3),
                    "cpu_s": round(statistics.median(cpus), 3),
                    "peak_rss_mb": round(statistics.median(rsss), 1),
                    "target_s": TARGETS.get(label),
                }
            )
        timed = not (args.no_app or args.code or (wanted and "app" not in wanted)) and Path(CHROMIUM).exists()
        app = time_app(store, work, args.runs) if timed else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"documents": len(docs), "runs": args.runs, "code": str(code), "commands": rows, "app": app}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{len(docs)} documents, median of {args.runs} cold runs each ({result['code']})")
    print(f"{'command':14} {'wall s':>8} {'min s':>8} {'CPU s':>8} {'peak RSS MB':>12}  target (wall)")
    for r in rows:
        target = "" if r["target_s"] is None else f"<= {r['target_s']} s"
        if target:
            target += "  ok" if r["wall_s"] <= r["target_s"] else "  MISSED"
        cells = f"{r['wall_s']:8.3f} {r['wall_min_s']:8.3f} {r['cpu_s']:8.3f} {r['peak_rss_mb']:12.1f}"
        print(f"{r['command']:14} {cells}  {target}")
    if app:
        print(f"app (median of {args.runs} starts each way, from the process launch unless said)")
        for key, label in APP_LABELS.items():
            target = f"<= {APP_TARGETS[key]} s" if key in APP_TARGETS else ""
            if target:
                target += "  ok" if app[key] <= APP_TARGETS[key] else "  MISSED"
            print(f"  {label:38} {app[key]:6.2f} s  {target}")
    return 0


APP_LABELS = {
    "server_up_s": "server answers",
    "first_paint_s": "first paint (from opening the page)",
    "ready_s": "ready to answer (examples shown)",
    "first_answer_s": "first answer (asked at first paint)",
}


def time_app(store: Path, work: Path, runs: int) -> dict[str, float]:
    """Median start-up figures of the app over `runs` starts each way, each on a fresh copy of the store."""
    from ui import time_start  # bench/ui.py, beside this script

    seen: dict[str, list[float]] = {}
    for i in range(runs):
        for question in (None, QUESTION):
            home = work / f"app-{i}-{question is not None}" / "store"
            shutil.copytree(store, home)
            got = time_start(home, "minilm", home.parent / "streamlit.log", question=question)
            for key, value in got.items():
                seen.setdefault(key, []).append(value)
            shutil.rmtree(home.parent, ignore_errors=True)
    return {key: round(statistics.median(seen[key]), 2) for key in APP_LABELS if key in seen}


if __name__ == "__main__":
    sys.exit(main())
