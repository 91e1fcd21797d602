"""Time from submitting a question in the browser to its answer being visible, with the model warm.

Starts the app as `cqc-assistant ui` does (app/serve.py) on a temporary store holding the demo documents,
drives /usr/bin/chromium (opened before the app starts, as an officer's browser is) through Playwright, asks
one warm-up question (not counted), then times each question from pressing Enter to the new answer being
rendered. Target: p95 ≤ 1 s (extractive).

    .venv/bin/python bench/ui.py                     # real MiniLM embedder, 10 questions
    .venv/bin/python bench/ui.py --embedder hash     # no model (measures the app alone)
    .venv/bin/python bench/ui.py --repeat 2 --json
    .venv/bin/python bench/ui.py --first-start       # an empty store: the app adds the demo documents itself

Also times the start: server process up, first paint (the page with its chat box, from opening it) and ready
to answer (the example questions shown, which needs the model and the library, from the process start);
bench/startup.py reuses `time_start` for the same figures and the time to a first answer.
Targets (issue 18): first paint ≤ 2 s; ready ≤ 5 s on a warm store, ≤ 20 s on a first start with the demo.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/servers.py: the loopback servers the tests start too

from tests.servers import start_app, stop  # noqa: E402

DEMO = REPO / "cqc_assistant" / "demo"
CHROMIUM = "/usr/bin/chromium"
TARGET_S = 1.0
QUESTIONS = [
    "How long do people wait for occupational therapy in Wyvernshire?",
    "What did CQC say about safeguarding in Wyvernshire?",
    "How many people were waiting for a Care Act assessment?",
    "What rating did Wyvernshire County Council get?",
    "What did inspectors say about the discharge hub?",
    "How did the council support unpaid carers?",
    "What was the backlog of Deprivation of Liberty Safeguards applications?",
    "What did the peer team recommend about direct payments?",
    "How much did the council spend on adult social care in 2023/24?",
    "What did CQC say about Liverpool City Council?",
]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def prepare_store(home: Path, embedder: str, questions: list[str]) -> tuple[float, list[float]]:
    """Ingest the demo documents; then time the same questions through the Python API (no browser)."""
    from cqc_assistant.answer import Assistant
    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import make_embedder
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    lib = Library.open(Settings(home=home, embedder=embedder), make_embedder(embedder))
    try:
        t0 = time.perf_counter()
        report = ingest(lib, [str(DEMO)])
        ingest_s = time.perf_counter() - t0
        if report.failed:
            raise SystemExit(f"ingest failed: {report.summary()}")
        assistant = Assistant(lib)
        assistant.ask("What did CQC say about Wyvernshire?")
        api = []
        for q in questions:
            t0 = time.perf_counter()
            assistant.ask(q)
            api.append(time.perf_counter() - t0)
    finally:
        lib.close()  # the server process opens the store next: never two writers on one embedded Chroma
    return ingest_s, api


def launch_browser(p: Any) -> Any:
    """Debian's Chromium, headless, with nothing that reaches out to the network."""
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )  # fmt: skip


def open_app(page: Any, url: str, launched: float) -> tuple[float, float]:
    """(first paint: opening the page → chat box shown, ready: process launch → example questions shown);
    the examples need the model and the library, so they appear once the app can answer."""
    first_paint = paint(page, url)
    page.locator(".st-key-examples").wait_for(timeout=600_000)
    return first_paint, time.perf_counter() - launched


def paint(page: Any, url: str) -> float:
    """Seconds from opening the page to its chat box being shown."""
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    return time.perf_counter() - t0


def answered(page: Any, n: int) -> None:
    """Wait until the page shows its n-th answer."""
    page.wait_for_function(
        "n => document.querySelectorAll('.cqc-answer').length >= n", arg=n, polling="raf", timeout=600_000
    )


def time_start(
    home: Path, embedder: str, log: Path, *, seed: bool = False, question: str | None = None
) -> dict[str, float]:
    """Start the app on `home` (holding documents, or empty with `seed`) with the browser already open, as an
    officer's is, and time its start from the process launch: server up, first paint (from opening the page)
    and ready to answer (see `open_app`); with `question`, instead, that question is asked the moment the
    chat box shows, and `first_answer_s` is when its answer is on the page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        launched = time.perf_counter()
        proc, url = start_app(home, embedder, log, seed=seed)
        out = {"server_up_s": time.perf_counter() - launched}
        try:
            if question is None:
                out["first_paint_s"], out["ready_s"] = open_app(page, url, launched)
            else:
                out["first_paint_s"] = paint(page, url)
                box = page.get_by_test_id("stChatInputTextArea")
                box.fill(question)
                box.press("Enter")
                answered(page, 1)
                out["first_answer_s"] = time.perf_counter() - launched
        finally:
            browser.close()
            stop(proc)
    return {k: round(v, 2) for k, v in out.items()}


def run(args: argparse.Namespace) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    questions = (QUESTIONS * args.repeat)[: args.questions * args.repeat]
    with tempfile.TemporaryDirectory(prefix="cqc-ui-bench-") as tmp:
        home = Path(tmp) / "store"
        ingest_s, api = (0.0, []) if args.first_start else prepare_store(home, args.embedder, questions)
        with sync_playwright() as p:
            browser = launch_browser(p)  # open before the app starts, as an officer's browser is
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            launched = time.perf_counter()
            proc, url = start_app(home, args.embedder, Path(tmp) / "streamlit.log", seed=args.first_start)
            server_up_s = time.perf_counter() - launched
            try:
                first_load_s, ready_s = open_app(page, url, launched)
                box = page.get_by_test_id("stChatInputTextArea")

                def ask(question: str, n: int) -> float:
                    box.fill(question)
                    start = time.perf_counter()
                    box.press("Enter")
                    answered(page, n)
                    return time.perf_counter() - start

                warm_s = ask("What did CQC say about Wyvernshire?", 1)  # loads the model: not counted
                times = [ask(q, i + 2) for i, q in enumerate(questions)]
            finally:
                browser.close()
                stop(proc)
    return {
        "embedder": args.embedder,
        "questions": len(times),
        "ingest_s": round(ingest_s, 2),
        "server_up_s": round(server_up_s, 2),
        "first_page_load_s": round(first_load_s, 2),
        "ready_from_launch_s": round(ready_s, 2),
        "first_start": args.first_start,
        "warm_up_question_s": round(warm_s, 3),
        "p50_s": round(statistics.median(times), 3),
        "p95_s": round(percentile(times, 95), 3),
        "mean_s": round(statistics.fmean(times), 3),
        "max_s": round(max(times), 3),
        "api_p50_s": round(statistics.median(api), 3) if api else None,
        "api_p95_s": round(percentile(api, 95), 3) if api else None,
        "ui_overhead_p50_s": round(statistics.median(times) - statistics.median(api), 3) if api else None,
        "target_s": TARGET_S,
        "meets_target": percentile(times, 95) <= TARGET_S,
        "times_s": [round(t, 3) for t in times],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", choices=["minilm", "hash"], default="minilm")
    ap.add_argument("--questions", type=int, default=len(QUESTIONS), help="how many distinct questions (≤10)")
    ap.add_argument("--repeat", type=int, default=1, help="ask the list this many times")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--first-start", action="store_true", help="start on an empty store (the app adds the demo)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is not installed")
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return
    print(f"embedder            {result['embedder']}")
    print(f"questions           {result['questions']} (after one warm-up question)")
    print(f"ingest (demo docs)  {result['ingest_s']} s")
    print(f"server process up   {result['server_up_s']} s")
    print(f"first paint         {result['first_page_load_s']} s (opening the page → chat box shown)")
    print(f"ready to answer     {result['ready_from_launch_s']} s from launch (example questions shown)")
    print(f"warm-up question    {result['warm_up_question_s']} s (model load, not counted)")
    print(f"submit → visible    p50 {result['p50_s']} s · p95 {result['p95_s']} s · "
          f"mean {result['mean_s']} s · max {result['max_s']} s")  # fmt: skip
    print(f"per question        {' '.join(f'{t:.3f}' for t in result['times_s'])}")  # type: ignore[attr-defined]
    print(f"Python API alone    p50 {result['api_p50_s']} s · p95 {result['api_p95_s']} s "
          f"(same questions, no browser); UI overhead at p50 {result['ui_overhead_p50_s']} s")  # fmt: skip
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"target              p95 ≤ {TARGET_S} s: {verdict}")


if __name__ == "__main__":
    main()
