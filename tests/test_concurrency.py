"""Twenty askers at once while an ingest replaces documents in another process (embedded Chroma).

Each asker thread opens its own Library and Assistant on the store (the hash embedder), and asks in a loop
until the ingest subprocess has finished. No ask may raise, and every citation must be whole: its quote is
exactly the text at its offsets in a version of the document that the library held (doc ids are content
hashes, so the text of every version is known here). Once the ingest has finished, every asker asks every
question again, and each of those answers must be the one a single thread gets from the same library. One
Library shared by all the threads is tried too, and the same askers on a library nothing writes to.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eastshire import QUESTIONS, report_text  # bench/concurrency.py asks the same

from cqc_assistant.answer import Assistant
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.filters import Filters
from cqc_assistant.ingest.loaders import load_bytes
from cqc_assistant.ingest.pipeline import doc_id_for, ingest
from cqc_assistant.library import Library
from cqc_assistant.models import Answer

ASKERS = 20
N_DOCS = 24
MIN_ASKS = 3  # per asker, even if the ingest is quick
MAX_SECONDS = 60


@dataclass
class Known:
    """Every text the library may hold, by doc id (a content hash): what each citation is checked against."""

    texts: dict[str, str] = field(default_factory=dict)

    def add_file(self, path: Path) -> None:
        ex = load_bytes(str(path), path.read_bytes(), path.suffix)
        self.texts[doc_id_for(ex.text)] = ex.text

    def problems(self, answer: Answer) -> list[str]:
        out = []
        for c in answer.citations:
            text = self.texts.get(c.doc_id)
            if text is None:
                out.append(f"cites unknown document {c.doc_id}")
            elif not (0 <= c.start < c.end <= len(text)) or text[c.start : c.end] != c.quote:
                out.append(f"quote of {c.doc_id} {c.start}-{c.end} is not the stored text there")
        if not answer.refused and not answer.citations:
            out.append("an answer without citations")
        return out


@dataclass
class Load:
    asks: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    settled: list[Answer] = field(default_factory=list)  # asked after the writer finished: one library state
    lock: threading.Lock = field(default_factory=threading.Lock)


Outcome = tuple[str, bool, tuple[object, ...]]


def outcome(answer: Answer) -> Outcome:
    """What must not depend on threads: the answer text, whether it refused, and its citations."""
    return answer.answer, answer.refused, answer.citations


def single_threaded(store: Path) -> dict[str, Outcome]:
    """Each question's answer from one thread on a fresh Library over the store as it is now."""
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        assistant = Assistant(lib)
        return {q: outcome(assistant.ask(q)) for q in QUESTIONS}
    finally:
        lib.close()


def differences(load: Load, expected: dict[str, Outcome]) -> list[str]:
    return [
        f"{a.question!r}: a thread answered {a.answer[:80]!r} with {len(a.citations)} citations, one thread "
        f"{expected[a.question][0][:80]!r} with {len(expected[a.question][2])}"
        for a in load.settled
        if outcome(a) != expected[a.question]
    ]


def prepare(tmp_path: Path, demo_dir: Path) -> tuple[Path, Path, Known]:
    """A store with the demo and N_DOCS reports; then half the reports edited and 6 added, not yet ingested."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for p in demo_dir.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    for i in range(N_DOCS):
        (folder / f"report-{i:02d}.md").write_text(report_text(i, 0))
    store = tmp_path / "store"
    known = Known()
    for p in folder.iterdir():
        known.add_file(p)
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        assert ingest(lib, [str(folder)]).failed == 0
    finally:
        lib.close()
    for i in range(0, N_DOCS, 2):
        (folder / f"report-{i:02d}.md").write_text(report_text(i, 1))
    for i in range(N_DOCS, N_DOCS + 6):
        (folder / f"report-{i:02d}.md").write_text(report_text(i, 0))
    for p in folder.iterdir():
        known.add_file(p)
    return folder, store, known


def ask(assistant: Assistant, question: str) -> Answer:
    """One question; Assistant.ask holds one consistent view of the catalogue itself
    (test_ask_and_search_hold_one_snapshot)."""
    return assistant.ask(question)


def run_load(known: Known, writing: Callable[[], bool], open_assistant: Callable[[], Assistant]) -> Load:
    """ASKERS threads asking until nothing is `writing` (and at least MIN_ASKS each), then every question once."""
    load = Load()
    deadline = time.monotonic() + MAX_SECONDS
    start = threading.Barrier(ASKERS)

    def asker(n: int) -> None:
        rng = random.Random(n)
        try:
            assistant = open_assistant()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and asserted on
            with load.lock:
                load.errors.append(f"asker {n} could not open the library: {type(exc).__name__}: {exc}")
            start.abort()
            return
        start.wait()
        done = 0
        while time.monotonic() < deadline and (writing() or done < MIN_ASKS):
            question = rng.choice(QUESTIONS)
            t0 = time.perf_counter()
            try:
                answer = ask(assistant, question)
            except Exception as exc:  # noqa: BLE001
                where = " <- ".join(f"{f.name}:{f.lineno}" for f in reversed(traceback.extract_tb(exc.__traceback__)))
                with load.lock:
                    load.errors.append(f"{question!r}: {type(exc).__name__}: {exc} (at {where})")
                continue
            finally:
                done += 1
            elapsed = time.perf_counter() - t0
            found = known.problems(answer)
            with load.lock:
                load.asks += 1
                load.refused += answer.refused
                load.latencies.append(elapsed)
                load.errors.extend(f"{question!r}: {p}" for p in found)
        if writing():
            return  # out of time: the answers below would not all see one library state
        for question in QUESTIONS:
            try:
                answer = ask(assistant, question)
            except Exception as exc:  # noqa: BLE001
                with load.lock:
                    load.errors.append(f"{question!r} after the writer: {type(exc).__name__}: {exc}")
                continue
            with load.lock:
                load.settled.append(answer)

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(ASKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=MAX_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "an asker hung"
    return load


def start_writer(folder: Path, store: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CQC_ASSISTANT_EMBEDDER="hash")
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cqc_assistant", "ingest", str(folder), "--json", "--store", str(store)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def summary(load: Load) -> str:
    lat = sorted(load.latencies) or [0.0]
    p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.95))]
    return (
        f"{load.asks} answers ({load.refused} refused) from {ASKERS} askers, p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, errors {len(load.errors)}"
    )


@contextmanager
def assistants(store: Path, shared: bool) -> Iterator[Callable[[], Assistant]]:
    """A function giving each asker its Assistant: over its own Library, or over one shared by all (`shared`)."""
    settings = Settings.from_env(store=store)
    libraries: list[Library] = []
    lock = threading.Lock()
    shared_lib = Library.open(settings, HashEmbedder()) if shared else None

    def open_assistant() -> Assistant:
        if shared_lib is not None:
            return Assistant(shared_lib)
        lib = Library.open(settings, HashEmbedder())
        with lock:
            libraries.append(lib)
        return Assistant(lib)

    try:
        yield open_assistant
    finally:
        for lib in libraries + ([shared_lib] if shared_lib else []):
            lib.close()


@pytest.mark.parametrize("shared", [False, True], ids=["library-per-thread", "one-shared-library"])
def test_twenty_askers_while_an_ingest_replaces_documents(tmp_path: Path, demo_dir: Path, shared: bool) -> None:
    folder, store, known = prepare(tmp_path, demo_dir)
    log = tmp_path / "ingest.log"
    with assistants(store, shared) as open_assistant:
        writer = start_writer(folder, store, log)
        try:
            load = run_load(known, lambda: writer.poll() is None, open_assistant)
            assert writer.wait(timeout=120) == 0, log.read_text()
        finally:
            if writer.poll() is None:
                writer.kill()
    print("\n" + summary(load))
    assert load.errors == [], "\n".join(load.errors[:20])
    assert load.asks >= ASKERS * MIN_ASKS
    assert load.refused < load.asks, "every question was refused: the load proves little"
    assert len(load.settled) == ASKERS * len(QUESTIONS), "askers ran out of time before the writer finished"
    assert differences(load, single_threaded(store)) == []


@pytest.mark.parametrize("shared", [False, True], ids=["library-per-thread", "one-shared-library"])
def test_twenty_askers_get_the_single_threaded_answers(tmp_path: Path, demo_dir: Path, shared: bool) -> None:
    """Nothing writing: every answer from every thread is the one a single thread gets."""
    _, store, known = prepare(tmp_path, demo_dir)
    expected = single_threaded(store)
    assert any(not refused for _, refused, _ in expected.values()), "every question was refused"
    with assistants(store, shared) as open_assistant:
        load = run_load(known, lambda: False, open_assistant)
    assert load.errors == [], "\n".join(load.errors[:20])
    assert len(load.settled) == ASKERS * len(QUESTIONS)
    assert differences(load, expected) == []


# --- the snapshot a question needs ------------------------------------------------------------------


def test_a_snapshot_keeps_the_version_it_saw_readable(library: Library, tmp_path: Path) -> None:
    """The race behind the asks above, made deterministic: a document replaced (in another thread, on the
    same Library) while a reader holds `reading()` stays whole for that reader, and is gone after it."""
    path = tmp_path / "report.md"
    path.write_text(report_text(1, 0))
    assert ingest(library, [str(path)]).count("added") == 1
    old = doc_id_for(report_text(1, 0))
    cat = library.catalogue
    with library.reading():
        assert cat.document(old).doc_id == old
        rowids = [r for r, _ in cat.lexical('"carers"', Filters(), 50)]
        assert rowids

        def replace() -> None:
            path.write_text(report_text(1, 1))
            assert ingest(library, [str(path)]).count("updated") == 1

        writer = threading.Thread(target=replace)
        writer.start()
        writer.join()
        assert cat.document(old).doc_id == old
        assert cat.texts([old])[old] == report_text(1, 0)
        assert set(cat.chunks_by_rowid(rowids)) == set(rowids)
    assert cat.active_for_source(str(path)).doc_id == doc_id_for(report_text(1, 1))  # type: ignore[union-attr]
    assert cat.texts([old]) == {}


def test_ask_and_search_hold_one_snapshot(library: Library, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cqc_assistant.index.catalogue import Catalogue
    from cqc_assistant.index.retriever import HybridRetriever

    ingest(library, [str(demo_dir)])
    outside: list[str] = []
    for name in ("document", "texts", "sections", "chunks_by_rowid", "chunks_by_chunk_id", "lexical"):
        original = getattr(Catalogue, name)

        def spy(self: Catalogue, *args: object, _original: object = original, _name: str = name) -> object:
            if not self.db.in_transaction:
                outside.append(_name)
            return _original(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(Catalogue, name, spy)
    Assistant(library).ask("How long were people waiting for occupational therapy assessments?")
    HybridRetriever(library).search("carers", None, 5)
    assert outside == []


def test_stemming_is_thread_safe() -> None:
    from cqc_assistant.index.terms import stem

    failures: list[BaseException] = []

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(20_000):
                word = "".join(rng.choice("abcdeilmnoprstuy") for _ in range(rng.randint(4, 12)))
                stem(word + rng.choice(["ing", "ational", "ness", "ities", "ed", "ly", "izer"]))
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
