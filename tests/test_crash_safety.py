"""An ingest killed by SIGKILL at any moment leaves the store consistent; the next ingest finishes the job.

Real `cqc-assistant ingest` processes (hash embedder) are killed: at seeded random moments, many times, over a
folder of 30 generated documents whose files are edited between runs to force replacements; and at exact
points (between the catalogue write, the Chroma write, activation and the retirement of the old version) by a
driver that SIGKILLs itself there. After every kill:

- what a reader sees (the active rows, read straight from SQLite) has each source at most once, never an
  older version than it saw before, and after the first complete ingest every source all the time;
- `cqc-assistant check` (cqc_assistant.consistency) finds no problem: no chunk without its document, no
  document without its chunks, lexical rows == chunk rows, every active chunk has its vector and every vector
  belongs to a catalogue chunk;
- `cqc-assistant check --repair` (the writer's recovery) leaves Chroma's ids == the chunk ids of the active
  documents, without ever needing to delete a vector the catalogue did not know about.

Chroma's embedded index files are not written atomically: a kill while Chroma persists them can leave the
vectors unreadable (or silently missing from searches). The catalogue is the record, so that is the one
problem a kill may leave (`check` reports it); the next writer's recovery rebuilds the vectors from the
catalogue. The tests at the end break the index, and everything else the checker checks, on purpose.

Also: one writer at a time (a second ingest gets the lock message and exits non-zero) while readers go on.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from chromadb.api.client import SharedSystemClient
from helpers import run_cli

from cqc_assistant import consistency
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.ingest.pipeline import doc_id_for, ingest
from cqc_assistant.library import REBUILDING, Library

N_DOCS = 30
# A longer soak: CQC_CRASH_KILLS=200 CQC_CRASH_SEED=7 .venv/bin/pytest tests/test_crash_safety.py -k random -s
KILLS = int(os.environ.get("CQC_CRASH_KILLS", "25"))
SEED = int(os.environ.get("CQC_CRASH_SEED", "20250611"))
KILL_LOOP_SECONDS = 120 * max(1, KILLS // 25)  # bound on the random-kill loop, however slow the machine
WORDS = [
    "council", "adult", "social", "care", "waiting", "lists", "assessment", "safeguarding", "carers",
    "partnership", "leadership", "quality", "statement", "people", "outcomes", "occupational",
    "therapy", "reablement", "commissioning", "workforce", "equity", "access", "information", "advice",
    "prevention", "wellbeing", "transitions", "hospital", "discharge",
]  # fmt: skip
LOCK_MESSAGE = "another ingest or remove is writing to"
LOCKS = Path("/proc/locks")
needs_proc_locks = pytest.mark.skipif(not LOCKS.exists(), reason="watches the writer lock in /proc/locks")


def doc_text(i: int, version: int) -> str:
    rng = random.Random(i * 1000 + version)
    lines = [f"# Eastshire County Council report {i} (version {version})", ""]
    for s in range(6):
        lines += [f"## Section {s} of report {i}", ""]
        for _ in range(4):
            lines += [" ".join(rng.choice(WORDS) for _ in range(45)) + ".", ""]
    return "\n".join(lines)


class Corpus:
    """A folder of generated .md/.txt reports; each file's versions, so doc ids can be predicted."""

    def __init__(self, folder: Path, n: int = N_DOCS) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.version = dict.fromkeys(range(n), 0)
        for i in range(n):
            self.write(i, 0)

    def path(self, i: int) -> Path:
        return self.folder / f"report-{i:02d}.{'md' if i % 2 else 'txt'}"

    def write(self, i: int, version: int) -> None:
        self.version[i] = version
        self.path(i).write_text(doc_text(i, version), encoding="utf-8")

    def edit(self, which: list[int]) -> None:
        for i in which:
            self.write(i, self.version[i] + 1)

    def source(self, i: int) -> str:
        return str(self.path(i).resolve())

    def version_of(self, i: int, doc_id: str) -> int:
        """Which version of file i a doc id is (-1 when none written so far)."""
        for v in range(self.version[i], -1, -1):
            if doc_id_for(doc_text(i, v)) == doc_id:
                return v
        return -1


def env() -> dict[str, str]:
    return dict(os.environ, CQC_ASSISTANT_EMBEDDER="hash", PYTHONUNBUFFERED="1")


def cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cqc_assistant", *args],
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_ingest(corpus: Corpus, store: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cqc_assistant",
                "ingest",
                str(corpus.folder),
                "--json",
                "--store",
                str(store),
            ],
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def visible(store: Path) -> list[tuple[str, str]]:
    """(source, doc_id) of every active document, read straight from the catalogue, as a reader would."""
    path = store / "catalogue.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(str(path), timeout=30)
    try:
        return [(r[0], r[1]) for r in db.execute("SELECT source, doc_id FROM documents WHERE status = 'active'")]
    except sqlite3.OperationalError:  # killed before the schema was written
        return []
    finally:
        db.close()


def check_here(store: Path) -> tuple[list[str], dict[str, int]]:
    """The same check as `cqc-assistant check`, in this process (a fresh Chroma client each time)."""
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        return consistency.check(lib), consistency.summary(lib)
    finally:
        lib.close()
        SharedSystemClient.clear_system_cache()


def ingest_here(corpus: Corpus, store: Path) -> dict[str, Any]:
    """`cqc-assistant ingest FOLDER`, in this process; then `check --repair` likewise."""
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        report = ingest(lib, [str(corpus.folder)])
        repaired = consistency.repair(lib)
        problems = consistency.check(lib, settled=True)
        return {
            "ingest": report.to_json(),
            "ok": not problems,
            "problems": problems,
            "repaired": repaired,
            "counts": consistency.summary(lib),
        }
    finally:
        lib.close()
        SharedSystemClient.clear_system_cache()


def check(store: Path, *extra: str) -> dict[str, Any]:
    result = cli("check", "--json", "--store", str(store), *extra)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.strip(), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1)
    return report


class Observer:
    """A reader's invariants across kills: once at most, never backwards, never missing once complete."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.seen: dict[int, int] = {}
        self.complete = False
        self.by_source = {corpus.source(i): i for i in corpus.version}

    def look(self, store: Path) -> None:
        rows = visible(store)
        sources = [s for s, _ in rows]
        assert len(sources) == len(set(sources)), f"a source is active twice: {sorted(sources)}"
        for source, doc_id in rows:
            i = self.by_source[source]
            v = self.corpus.version_of(i, doc_id)
            assert v >= 0, f"{source}: active doc {doc_id} is no version of the file"
            assert v >= self.seen.get(i, 0), f"{source}: went back from version {self.seen[i]} to {v}"
            self.seen[i] = v
        if self.complete:
            assert set(sources) == set(self.by_source), "a document vanished while being replaced"


def assert_settled(report: dict[str, Any]) -> None:
    assert report["problems"] == [], report
    assert not any("no catalogue chunk owns" in line for line in report["repaired"]), report
    counts = report["counts"]
    assert counts["documents_pending"] == counts["documents_deleting"] == 0
    assert counts["chunks"] == counts["lexical_rows"] == counts["vectors"]


def finish_and_verify(corpus: Corpus, store: Path, *, in_process: bool = False) -> None:
    """A normal ingest completes the work; then every file is there once, at its current version."""
    if in_process:
        report = ingest_here(corpus, store)
        results = report["ingest"]["results"]
    else:
        done = cli("ingest", str(corpus.folder), "--json", "--store", str(store))
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads(done.stdout)["results"]
        report = check(store, "--repair")
    assert {r["status"] for r in results} <= {"added", "updated", "unchanged"}, results
    assert_settled(report)
    assert report["repaired"] == [], "the ingest itself should have recovered everything"
    expected = {(corpus.source(i), doc_id_for(doc_text(i, v))) for i, v in corpus.version.items()}
    assert set(visible(store)) == expected
    assert report["counts"]["documents_active"] == len(expected)


@needs_proc_locks
def test_random_sigkills_leave_the_store_consistent(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "docs")
    store = tmp_path / "store"
    observer = Observer(corpus)
    rng = random.Random(SEED)
    landed = completed = left_unfinished = settled = damaged = 0
    log = tmp_path / "ingest.log"
    deadline = time.monotonic() + KILL_LOOP_SECONDS
    while landed < KILLS and time.monotonic() < deadline:
        proc = start_ingest(corpus, store, log)
        try:
            if rng.random() < 0.25:  # anywhere from start-up (opening the stores) on
                rc = proc.wait(timeout=rng.uniform(0.3, 1.5))
            elif wait_until_locked(store, proc):  # while it writes, or recovers what the last one left
                rc = proc.wait(timeout=rng.uniform(0.0, 0.9))
            else:
                rc = proc.wait()
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            rc = proc.wait(timeout=30)  # 0 if the ingest finished just before the signal landed
        if rc == -signal.SIGKILL:
            landed += 1
        else:
            assert rc == 0, log.read_text()
            completed += 1
            observer.complete = True
        observer.look(store)
        if (store / "catalogue.sqlite3").exists():
            problems, counts = check_here(store)
            if problems and problems[0].startswith(consistency.DAMAGED):  # see Library.recover
                damaged += 1
                problems = problems[1:]
            assert problems == [], f"after kill {landed}: {problems}"
            left_unfinished += bool(counts["documents_pending"] or counts["documents_deleting"])
            if rc != 0 and landed % 5 == 0:  # the writer's recovery, through the CLI
                assert_settled(check(store, "--repair"))
                settled += 1
                observer.look(store)
        if rc == 0 or rng.random() < 0.25:  # edit half the files: the next runs must replace them
            corpus.edit(rng.sample(sorted(corpus.version), N_DOCS // 2))
    print(
        f"\nSIGKILLs landed: {landed}, runs that completed: {completed}, kills that left unfinished "
        f"versions: {left_unfinished}, left Chroma's index unreadable: {damaged}, "
        f"settled checks after --repair: {settled}"
    )
    assert landed >= KILLS, f"only {landed} kills landed in {KILL_LOOP_SECONDS}s"
    assert left_unfinished > 0, "no kill landed inside a document's write: the test proves little"
    finish_and_verify(corpus, store)


# --- exact kill points ----------------------------------------------------------------------------

DRIVER = r"""
import os, signal, sys
from cqc_assistant.index.catalogue import Catalogue
from cqc_assistant.index.vectors import VectorStore
from cqc_assistant.cli import cli

target, when, nth, folder, store = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
owner = {"add_pending": Catalogue, "activate": Catalogue, "purge": Catalogue, "add": VectorStore,
         "delete_doc": VectorStore}[target]
original = getattr(owner, target)
calls = [0]

def patched(self, *args, **kwargs):
    calls[0] += 1
    if when == "before" and calls[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(self, *args, **kwargs)
    if when == "after" and calls[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(owner, target, patched)
cli(["ingest", folder, "--store", store])
"""


def kill_at(target: str, when: str, nth: int, corpus: Corpus, store: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, target, when, str(nth), str(corpus.folder), str(store)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr


# (what is patched, before/after it, which call; what a reader sees for the second edited file afterwards)
POINTS = [
    ("add_pending", "after", 2, "old"),  # new version's rows pending, no vectors
    ("add", "after", 2, "old"),  # pending rows and their vectors, not yet active
    ("activate", "after", 2, "new"),  # new active, old retiring with its rows and vectors
    ("delete_doc", "after", 2, "new"),  # old version's vectors gone, its rows still retiring
]


@pytest.mark.parametrize(("target", "when", "nth", "sees"), POINTS, ids=[f"{p[1]}-{p[0]}" for p in POINTS])
def test_kill_at_each_step_of_a_replacement(tmp_path: Path, target: str, when: str, nth: int, sees: str) -> None:
    corpus = Corpus(tmp_path / "docs", n=4)
    store = tmp_path / "store"
    assert ingest_here(corpus, store)["ingest"]["added"] == 4
    corpus.edit([1, 2])
    kill_at(target, when, nth, corpus, store)

    active = dict(visible(store))
    assert len(active) == 4
    assert corpus.version_of(1, active[corpus.source(1)]) == 1, "the first edited file was replaced"
    assert corpus.version_of(2, active[corpus.source(2)]) == (1 if sees == "new" else 0)
    problems, counts = check_here(store)
    assert problems == []
    assert counts["documents_pending"] + counts["documents_deleting"] == 1
    finish_and_verify(corpus, store, in_process=True)


def test_kill_during_recovery_then_recover(tmp_path: Path) -> None:
    """A writer killed while recovering what an earlier killed writer left: the next one still finishes."""
    corpus = Corpus(tmp_path / "docs", n=4)
    store = tmp_path / "store"
    assert ingest_here(corpus, store)["ingest"]["added"] == 4
    corpus.edit([0, 1, 2, 3])
    kill_at("activate", "after", 2, corpus, store)  # leaves a retiring version
    kill_at("delete_doc", "after", 1, corpus, store)  # the next writer dies inside its recovery
    assert check_here(store)[0] == []
    finish_and_verify(corpus, store, in_process=True)


# --- one writer at a time; readers go on -------------------------------------------------------------


def holds_lock(store: Path, pid: int, *, file: str = "write.lock", kind: str = "FLOCK") -> bool:
    """Whether process `pid` holds a lock on a store file, read from /proc/locks (never taking it ourselves,
    which could make the child fail to get it): our writer lock (flock), or SQLite's (POSIX) locks."""
    try:
        inode = (store / file).stat().st_ino
    except FileNotFoundError:
        return False
    for line in LOCKS.read_text().splitlines():
        parts = line.split()
        if (
            kind in parts
            and "->" not in parts
            and len(parts) > 5
            and parts[4] == str(pid)
            and parts[5].rsplit(":", 1)[-1] == str(inode)
        ):
            return True
    return False


def freeze_outside_chroma(store: Path, proc: subprocess.Popen[bytes], tries: int = 2000) -> None:
    """SIGSTOP the writer, but not inside a transaction on Chroma's SQLite file: Chroma's own open writes,
    so a writer frozen there holds every new Chroma client (reader or writer) off the store until it goes
    on. That is Chroma's, and a real writer is never frozen: a killed one lets go of its locks."""
    for _ in range(tries):
        proc.send_signal(signal.SIGSTOP)
        if not holds_lock(store, proc.pid, file="chroma/chroma.sqlite3", kind="POSIX"):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.002)
    raise AssertionError("the writer never left Chroma's transaction")


def wait_until_locked(store: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Wait until the child holds the writer lock; False when it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holds_lock(store, proc.pid):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError("the ingest never took the writer lock")


@needs_proc_locks
def test_one_writer_at_a_time_while_readers_go_on(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "docs")
    store = tmp_path / "store"
    assert ingest_here(corpus, store)["ingest"]["added"] == N_DOCS
    corpus.edit(list(range(0, N_DOCS, 2)))
    writer = start_ingest(corpus, store, tmp_path / "writer.log")
    try:
        assert wait_until_locked(store, writer), "the ingest finished before it was caught holding the lock"
        freeze_outside_chroma(store, writer)  # frozen while holding our lock
        second = cli("ingest", str(corpus.path(1)), "--store", str(store))
        assert second.returncode != 0
        assert LOCK_MESSAGE in second.stderr and "Traceback" not in second.stderr
        assert second.stderr.strip().count("\n") == 0, second.stderr

        found = cli("search", "safeguarding carers", "--json", "--store", str(store), timeout=60)
        assert found.returncode == 0, found.stderr
        passages = json.loads(found.stdout)
        assert passages and {p["source"] for p in passages} <= {corpus.source(i) for i in range(N_DOCS)}
        busy = cli("check", "--store", str(store))
        assert busy.returncode != 0 and LOCK_MESSAGE in busy.stderr
    finally:
        writer.send_signal(signal.SIGCONT)
    assert writer.wait(timeout=90) == 0, (tmp_path / "writer.log").read_text()
    finish_and_verify(corpus, store, in_process=True)


# --- the checker and the vector rebuild, on purpose-broken stores ------------------------------------


def _ingested(library: Library, demo_dir: Path) -> list[str]:
    report = ingest(library, [str(demo_dir)])
    assert report.failed == 0
    assert consistency.check(library, settled=True) == []
    return [str(r[0]) for r in library.catalogue.db.execute("SELECT doc_id FROM documents ORDER BY doc_id")]


def _first_chunk(library: Library, doc_id: str) -> tuple[int, str]:
    row = library.catalogue.db.execute(
        "SELECT rowid, chunk_id FROM chunks WHERE doc_id = ? ORDER BY idx LIMIT 1", (doc_id,)
    ).fetchone()
    return int(row[0]), str(row[1])


def _ghost_vector(library: Library) -> None:
    library.vectors.collection.upsert(
        ids=["ghost:0"], embeddings=[[1.0] + [0.0] * 383], metadatas=[{"doc_id": "ghost"}]
    )


BREAKAGES: list[tuple[str, str, str]] = [
    ("n_chunks", "UPDATE documents SET n_chunks = n_chunks + 1 WHERE doc_id = :a", "records"),
    (
        "orphan chunk",
        'INSERT INTO chunks(chunk_id, doc_id, idx, section_idx, start, "end", kind) '
        "VALUES ('ghost:0', 'ghost', 0, 0, 0, 5, 'news')",
        "chunk rows without their document",
    ),
    (
        "orphan lexical row",
        "INSERT INTO chunks_fts(rowid, heading, body) VALUES (987654, 'x', 'y')",
        "lexical index row(s) without a chunk",
    ),
    ("chunk not in lexical", "DELETE FROM chunks_fts WHERE rowid = :rowid", "missing from the lexical index"),
    (
        "two active versions",
        "UPDATE documents SET source = (SELECT source FROM documents WHERE doc_id = :b) WHERE doc_id = :a",
        "active versions",
    ),  # fmt: skip
    ("no sections", "DELETE FROM sections WHERE doc_id = :a", "has no sections"),
    ("offsets", 'UPDATE chunks SET "end" = 999999999 WHERE rowid = :rowid', "do not fit their document"),
    ("vector missing", "", "have no vector in Chroma"),
    ("vector of no chunk", "", "are not chunks in the catalogue"),
]


@pytest.mark.parametrize(("sql", "expected"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_checker_finds_each_kind_of_damage(library: Library, demo_dir: Path, sql: str, expected: str) -> None:
    a, b, *_ = _ingested(library, demo_dir)
    rowid, chunk_id = _first_chunk(library, a)
    db = library.catalogue.db
    db.execute("PRAGMA foreign_keys=OFF")
    if sql:
        db.execute(sql, {"a": a, "b": b, "rowid": rowid})
    elif expected.startswith("have no vector"):
        library.vectors.collection.delete(ids=[chunk_id])
    else:
        _ghost_vector(library)
    problems = consistency.check(library)
    assert len(problems) >= 1 and any(expected in p for p in problems), problems

    result = run_cli("check", "--json", store=library.settings.home)
    assert result.exit_code == 1
    assert any(expected in p for p in json.loads(result.stdout)["problems"])


def test_unfinished_versions_are_fine_until_recovery_and_repair_clears_them(library: Library, demo_dir: Path) -> None:
    a, *_ = _ingested(library, demo_dir)
    library.catalogue.db.execute("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", (a,))
    _ghost_vector(library)
    assert [p for p in consistency.check(library) if "not chunks in the catalogue" not in p] == []
    assert any("pending or retiring" in p for p in consistency.check(library, settled=True))
    done = consistency.repair(library)
    assert any("removed 1 pending or retiring" in d for d in done)
    assert any("deleted 1 vector(s) no catalogue chunk owns" in d for d in done)
    assert consistency.check(library, settled=True) == []


def _all_vectors(library: Library) -> dict[str, tuple[list[float], dict[str, Any]]]:
    got = library.vectors.collection.get(include=["embeddings", "metadatas"])
    return {
        i: (list(e), dict(m or {})) for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True)
    }


def test_rebuild_makes_exactly_the_vectors_ingest_made(library: Library, demo_dir: Path) -> None:
    _ingested(library, demo_dir)
    before = _all_vectors(library)
    with library.writer(recover=False):
        assert library.rebuild_vectors() == len(before)
    after = _all_vectors(library)
    assert sorted(after) == sorted(before)
    for vid, (vec, meta) in before.items():
        assert after[vid][1] == meta
        assert after[vid][0] == pytest.approx(vec, abs=1e-6)
    assert consistency.check(library, settled=True) == []


def test_unreadable_vector_store_is_rebuilt_by_the_next_writer(
    library: Library, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma failing to read its own index (as after a kill mid-persist) makes the next writer rebuild it."""
    _ingested(library, demo_dir)
    before = _all_vectors(library)
    library.catalogue.db.execute(
        "UPDATE documents SET status = 'pending' WHERE doc_id = (SELECT min(doc_id) FROM documents)"
    )

    def broken(self: object) -> int:
        raise RuntimeError("Error executing plan: Failed to apply logs to the hnsw segment writer")

    with monkeypatch.context() as m:
        m.setattr(type(library.vectors), "count", broken)
        assert not library.vectors_readable()
        with library.writer():  # recovery: drops the pending version, rebuilds the vectors
            pass
    assert library.catalogue.get_meta(REBUILDING) is None
    assert consistency.check(library, settled=True) == []
    after = _all_vectors(library)
    assert 0 < len(after) == library.catalogue.count_chunks() < len(before)
    assert all(after[i][1] == before[i][1] for i in after)


def test_a_rebuild_cut_short_is_finished_by_the_next_writer(library: Library, demo_dir: Path) -> None:
    _ingested(library, demo_dir)
    n = library.catalogue.count_chunks()
    library.catalogue.set_meta(REBUILDING, "1")  # killed after dropping the collection, before re-adding
    library.vectors.collection.delete(ids=library.vectors.collection.get(include=[])["ids"])
    assert any(p.startswith(consistency.DAMAGED) for p in consistency.check(library))

    reopened = Library.open(library.settings, HashEmbedder())  # no "vectors are elsewhere" refusal
    try:
        assert any("rebuilt the vectors of" in d for d in consistency.repair(reopened))
        assert consistency.check(reopened, settled=True) == []
        assert reopened.vectors.count() == n
    finally:
        reopened.close()


def _damage_index(store: Path, how: str) -> None:
    """Break Chroma's on-disk index the ways a kill mid-persist can: files gone. (A file left truncated can
    crash the process that reads it, inside Chroma; that is beyond what recovery can catch.)"""
    (segment,) = [p for p in (store / "chroma").iterdir() if p.is_dir()]
    if how == "index files gone":
        shutil.rmtree(segment)
    else:
        (segment / "data_level0.bin").unlink()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, Path]:
    """Over 1,000 vectors, so that Chroma has written its index files (it keeps fewer in its log)."""
    tmp = tmp_path_factory.mktemp("big")
    corpus = Corpus(tmp / "docs", n=95)
    report = ingest_here(corpus, tmp / "store")
    assert report["counts"]["vectors"] > 1000
    return corpus, tmp / "store"


@pytest.mark.parametrize("how", ["index files gone", "vectors file gone"])
def test_a_damaged_chroma_index_is_found_and_rebuilt_by_the_next_writer(
    big_store: tuple[Corpus, Path], tmp_path: Path, how: str
) -> None:
    """In fresh processes: a copied store keeps Chroma's segment ids, which one process must not see twice."""
    corpus, template = big_store
    store = tmp_path / "store"
    shutil.copytree(template, store)
    _damage_index(store, how)

    found = check(store)
    assert len(found["problems"]) == 1 and found["problems"][0].startswith(consistency.DAMAGED), found
    searched = cli("search", "carers partnership", "--store", str(store))
    assert "Traceback" not in searched.stderr

    done = cli("ingest", str(corpus.folder), "--json", "--store", str(store))  # recovery rebuilds first
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["unchanged"] == 95
    after = check(store, "--repair")
    assert after["repaired"] == [], "the ingest's own recovery should have rebuilt the vectors"
    assert_settled(after)
    assert after["counts"]["vectors"] == after["counts"]["chunks"] > 1000
