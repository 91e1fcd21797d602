"""Other processes write to the store while this one keeps reading it (issue 19).

`python -m cqc_assistant ingest`, `remove` and `check --repair` run as real subprocesses on the store that a
Library (and the Streamlit app, through AppTest) in this process has open. While each runs, this process asks
at random moments; after each, its next questions must cite the new document and never the removed one, with
`quote == text[start:end]`, and its view of the vectors must be exactly the catalogue's active documents
(embedded Chroma keeps an in-memory index per process that another process's writes leave stale). Also: a
second process that asks while this one ingests (two app processes, one uploading), server mode (no reload
needed), and a vector side that cannot be refreshed (answers from the lexical side, marked degraded).
Hash embedder and small fictional documents throughout.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cqc_assistant.answer import Assistant
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.ingest.loaders import load_bytes
from cqc_assistant.ingest.pipeline import doc_id_for, ingest
from cqc_assistant.library import REBUILDING, Library
from cqc_assistant.models import Answer

ROUNDS = int(os.environ.get("CQC_MULTIPROCESS_ROUNDS", "20"))
MAX_SECONDS = 240  # the whole loop (it stops early past this); each subprocess has its own timeout too
STEP_TIMEOUT_S = 120
COUNCIL = "Tarnwick District Council"  # fictional
SYLLABLES = ["brin", "dle", "quay", "mor", "vask", "tel", "orn", "pim", "sary", "gol", "wen", "thar"]
TESTS = Path(__file__).resolve().parent


def word(n: int) -> str:
    """An invented word, different for each n: only document n uses it."""
    rng = random.Random(n)
    return "".join(rng.choice(SYLLABLES) for _ in range(3)) + "ite"


def doc_text(n: int) -> str:
    w = word(n)
    return (
        f"# {COUNCIL}: improvement note {n}\n\nPublished: {1 + n % 27} March 2025\n\n## Home adaptations\n\n"
        f"The {w} scheme cut the wait for a home adaptation to {n + 3} weeks. Residents said the {w} scheme "
        f"was easy to use, and {40 + n} people took part in it in its first year.\n"
    )


def question(n: int) -> str:
    return f"What did {COUNCIL} say about the {word(n)} scheme?"


@dataclass
class Store:
    """The store, the files written for it and every text a citation may quote (doc ids are content hashes)."""

    home: Path
    docs: Path
    texts: dict[str, str] = field(default_factory=dict)
    by_n: dict[int, str] = field(default_factory=dict)  # document n -> its doc id

    def write_doc(self, n: int) -> Path:
        path = self.docs / f"note-{n:02d}.md"
        path.write_text(doc_text(n), encoding="utf-8")
        text = load_bytes(str(path), path.read_bytes(), ".md").text
        self.by_n[n] = doc_id_for(text)
        self.texts[self.by_n[n]] = text
        return path

    def problems(self, answer: Answer) -> list[str]:
        out = [] if answer.refused or answer.citations else ["an answer without citations"]
        for c in answer.citations:
            text = self.texts.get(c.doc_id)
            if text is None:
                out.append(f"cites unknown document {c.doc_id}")
            elif text[c.start : c.end] != c.quote:
                out.append(f"quote of {c.doc_id} {c.start}-{c.end} is not the stored text there")
        return out


def make_store(tmp_path: Path, first: int = 3, url: str | None = None) -> Store:
    """A store holding the demo documents and notes 0..first-1."""
    from fictional import DEMO

    store = Store(tmp_path / "store", tmp_path / "docs")
    store.docs.mkdir()
    for p in DEMO.iterdir():
        store.texts[doc_id_for(load_bytes(str(p), p.read_bytes(), p.suffix).text)] = load_bytes(
            str(p), p.read_bytes(), p.suffix
        ).text
    for n in range(first):
        store.write_doc(n)
    lib = open_library(store, url)
    try:
        assert ingest(lib, [str(DEMO), str(store.docs)]).failed == 0
    finally:
        lib.close()
    return store


def open_library(store: Store, url: str | None = None) -> Library:
    return Library.open(Settings.from_env({}, store=store.home).with_(chroma_url=url), HashEmbedder())


def cli(store: Store, *args: str, url: str | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ, CQC_ASSISTANT_EMBEDDER="hash")
    env.pop("CQC_ASSISTANT_CHROMA_URL", None)
    if url:
        env["CQC_ASSISTANT_CHROMA_URL"] = url
    return subprocess.Popen(
        [sys.executable, "-m", "cqc_assistant", *args, "--store", str(store.home)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def dense_docs(lib: Library) -> set[str]:
    """The documents this process's view of the vectors holds (every vector: the stores here are small)."""
    with lib.reading():
        vec = lib.embed_query("home adaptation scheme")
        return {cid.split(":")[0] for cid, _ in lib.vectors.query(vec, 2000, None)}


def active(lib: Library) -> set[str]:
    return {d.doc_id for d in lib.documents()}


def cites(answer: Answer) -> set[str]:
    return {c.doc_id for c in answer.citations}


def sabotage_vectors(store: Store) -> None:
    """Mark the vectors as a rebuild cut short, so that `check --repair` rebuilds the whole collection."""
    db = sqlite3.connect(str(store.home / "catalogue.sqlite3"))
    try:
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (REBUILDING,))
        db.commit()
    finally:
        db.close()


# --- this process reads while other processes write -----------------------------------------------------


def checked_ask(assistant: Assistant, store: Store, k: int, errors: list[str], when: str) -> Answer | None:
    """Ask note k's question; any exception, inexact quote or notice is recorded in `errors`."""
    try:
        answer = assistant.ask(question(k))
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and asserted on
        errors.append(f"round {when}, note {k}: {type(exc).__name__}: {exc}")
        return None
    errors += [f"round {when}, note {k}: {p}" for p in store.problems(answer)]
    if answer.notice:
        errors.append(f"round {when}, note {k}: notice {answer.notice!r}")
    return answer


def test_a_reader_follows_ingest_remove_and_repair_in_other_processes(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    rng = random.Random(19)
    lib = open_library(store)
    assistant = Assistant(lib)
    present = {0, 1, 2}
    removed: set[int] = set()
    errors: list[str] = []
    asked = 0  # questions answered
    deadline = time.monotonic() + MAX_SECONDS
    ops: list[str] = []
    try:
        for r in range(ROUNDS):
            if time.monotonic() > deadline:
                break
            op = rng.choice(["ingest", "ingest", "remove", "repair"]) if len(present) > 1 else "ingest"
            if r < 3:
                op = ["ingest", "remove", "repair"][r]  # each kind at least once
            ops.append(op)
            n = 0
            if op == "ingest":
                n = 3 + r
                proc = cli(store, "ingest", str(store.write_doc(n)))
            elif op == "remove":
                n = rng.choice(sorted(present))
                proc = cli(store, "remove", store.by_n[n])
            else:
                sabotage_vectors(store)
                proc = cli(store, "check", "--repair")
            # Questions at random moments while the other process writes: never an error or an inexact quote.
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(rng.uniform(0, 0.2))
                k = rng.choice(sorted(present | removed))
                asked += checked_ask(assistant, store, k, errors, f"{r} {op} during") is not None
            out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
            assert proc.returncode == 0, f"{op}: {out}"
            if op == "ingest":
                present.add(n)
            elif op == "remove":
                present.discard(n)
                removed.add(n)
            # After it: the new document is cited, the removed one never, and the vectors match the catalogue.
            for k in {n, *rng.sample(sorted(present | removed), 2)}:
                answer = checked_ask(assistant, store, k, errors, f"{r} {op} after")
                if answer is None:
                    continue
                asked += 1
                if k in present and store.by_n[k] not in cites(answer):
                    errors.append(f"round {r} ({op}) after: note {k} not cited for its own question")
                if k in removed and store.by_n[k] in cites(answer):
                    errors.append(f"round {r} ({op}) after: removed note {k} cited")
            try:
                seen, expected = dense_docs(lib), active(lib)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"round {r} ({op}): the vectors cannot be read: {type(exc).__name__}: {exc}")
            else:
                if seen != expected:
                    errors.append(
                        f"round {r} ({op}): the vectors here hold {len(seen - expected)} document(s) the catalogue "
                        f"does not and miss {len(expected - seen)} it has"
                    )
            assert len(errors) < 40, "\n".join(errors)
    finally:
        lib.close()
    print(f"\n{len(ops)} rounds ({', '.join(ops)}), {asked} questions, {lib.refreshes} refreshes")
    assert errors == [], "\n".join(errors[:20])
    assert len(ops) >= 3, f"only {len(ops)} rounds in {MAX_SECONDS} s"  # each kind of writer at least once


# --- another process reads while this one writes (two app processes, one uploading) ------------------------

ASKER = """
import json, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from typing import Any
from test_multiprocess import Store, open_library, question, dense_docs, active, cites
from cqc_assistant.answer import Assistant
lib = open_library(Store(Path({home!r}), Path({home!r})))
assistant = Assistant(lib)
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    try:
        a = assistant.ask(question(n))
        out = dict(cites=sorted(cites(a)), refused=a.refused, notice=a.notice,
                   quotes=[[c.doc_id, c.start, c.end, c.quote] for c in a.citations],
                   vectors_match=dense_docs(lib) == active(lib))
    except Exception as exc:
        out = dict(error=f"{{type(exc).__name__}}: {{exc}}")
    print(json.dumps(out), flush=True)
"""


@pytest.fixture
def asker(tmp_path: Path) -> Iterator[tuple[Store, subprocess.Popen[str]]]:
    store = make_store(tmp_path)
    env = dict(os.environ, CQC_ASSISTANT_EMBEDDER="hash")
    code = ASKER.format(tests=str(TESTS), home=str(store.home))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield store, proc
    finally:
        proc.kill()
        proc.communicate(timeout=30)  # waits and closes both pipes


def ask_there(proc: subprocess.Popen[str], n: int) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{n}\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())  # type: ignore[no-any-return]


def test_another_process_asks_while_this_one_ingests(asker: tuple[Store, subprocess.Popen[str]]) -> None:
    store, proc = asker
    lib = open_library(store)
    try:
        for n in range(3, 9):
            assert ingest(lib, [str(store.write_doc(n))]).count("added") == 1
            got = ask_there(proc, n)
            assert "error" not in got, got
            assert store.by_n[n] in got["cites"] and got["notice"] is None and got["vectors_match"], got
            for doc_id, start, end, quote in got["quotes"]:
                assert store.texts[doc_id][start:end] == quote
            if n % 2:  # and a removal here, seen there
                lib.remove(store.by_n[n - 1])
                got = ask_there(proc, n - 1)
                assert store.by_n[n - 1] not in got["cites"] and got["vectors_match"], got
        # This process's own view stays right too, though the other process only read.
        assert dense_docs(lib) == active(lib)
    finally:
        lib.close()


def test_a_writer_in_this_process_first_catches_up_with_another_processes_writes(tmp_path: Path) -> None:
    """A long-lived process that uploads (the app) after a terminal's ingest writes on a fresh view."""
    store = make_store(tmp_path)
    lib = open_library(store)
    try:
        proc = cli(store, "ingest", str(store.write_doc(3)))
        out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
        assert proc.returncode == 0, out
        assert ingest(lib, [str(store.write_doc(4))]).count("added") == 1
        out, _ = cli(store, "check").communicate(timeout=STEP_TIMEOUT_S)
        assert out.startswith("consistent"), out
        assert dense_docs(lib) == active(lib) >= {store.by_n[3], store.by_n[4]}
    finally:
        lib.close()


# --- the app ---------------------------------------------------------------------------------------------


def test_the_app_keeps_answering_while_a_terminal_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from cqc_assistant.app import runtime

    store = make_store(tmp_path)
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(store.home))
    monkeypatch.delenv(runtime.FACTORY_ENV, raising=False)
    app = Path(runtime.__file__).resolve().parent / "main.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.run()
    assert not at.exception, at.exception

    def ask(n: int) -> Answer:
        at.chat_input[0].set_value(question(n)).run()
        assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
        answer: Answer = at.session_state["turns"][-1]
        assert store.problems(answer) == [] and answer.notice is None, answer
        return answer

    assert store.by_n[0] in cites(ask(0))
    steps = [("ingest", str(store.write_doc(3))), ("remove", store.by_n[1]), ("check", "--repair")]
    for name, arg in steps:
        if name == "check":
            sabotage_vectors(store)
        proc = cli(store, name, arg)
        out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
        assert proc.returncode == 0, f"{name}: {out}"
        for k in (0, 1, 2, 3):
            cited = store.by_n[k] in cites(ask(k))
            assert cited if k != 1 or name == "ingest" else not cited, (name, k)


# --- a vector side that cannot be refreshed ---------------------------------------------------------------


def test_vectors_that_cannot_be_refreshed_give_lexical_answers_marked_degraded(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    lib = open_library(store)
    assistant = Assistant(lib)
    try:
        assert assistant.ask(question(0)).notice is None
        proc = cli(store, "ingest", str(store.write_doc(3)))
        out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
        assert proc.returncode == 0, out
        chroma, away = store.home / "chroma", store.home / "chroma-away"
        chroma.rename(away)  # the new vectors cannot be read here now
        try:
            answer = assistant.ask(question(3))
            assert not chroma.exists()  # nothing was made in its place
        finally:
            away.rename(chroma)
        assert store.by_n[3] in cites(answer) and store.problems(answer) == []
        assert answer.notice and "keyword index only" in answer.notice and "check --repair" in answer.notice
        assert "\n" not in answer.notice and "Traceback" not in answer.notice
        answer = assistant.ask(question(3))  # readable again: the next question is whole
        assert answer.notice is None and store.by_n[3] in cites(answer)
        assert dense_docs(lib) == active(lib)
    finally:
        lib.close()


# --- server mode ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from servers import CHROMA, start_chroma, stop

    if not CHROMA.exists():
        pytest.skip(f"no chroma CLI at {CHROMA}")
    root = tmp_path_factory.mktemp("chroma-server")
    proc, url = start_chroma(root / "data", root / "server.log", timeout=60)
    try:
        yield url
    finally:
        stop(proc)


@pytest.mark.slow
def test_server_mode_needs_no_refresh(tmp_path: Path, chroma_url: str) -> None:
    """On a `chroma run` server every process reads the server's state: other processes' ingest and remove
    are seen with no refresh; a repair that rebuilds the collection makes the reader open it again by name."""
    store = make_store(tmp_path, url=chroma_url)
    lib = open_library(store, chroma_url)
    assistant = Assistant(lib)

    def check(expect: dict[int, bool]) -> None:
        for k, cited in expect.items():
            answer = assistant.ask(question(k))
            assert store.problems(answer) == [] and answer.notice is None, answer
            assert (store.by_n[k] in cites(answer)) is cited, k
        assert dense_docs(lib) == active(lib)

    try:
        check({0: True, 1: True})
        for args, expect in [
            (("ingest", str(store.write_doc(3))), {3: True}),
            (("remove", store.by_n[1]), {1: False, 3: True}),
            (("ingest", str(store.write_doc(4))), {4: True, 1: False}),
        ]:
            proc = cli(store, *args, url=chroma_url)
            out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
            assert proc.returncode == 0, out
            check(expect)
        assert lib.refreshes == 0
        sabotage_vectors(store)
        proc = cli(store, "check", "--repair", url=chroma_url)
        out, _ = proc.communicate(timeout=STEP_TIMEOUT_S)
        assert proc.returncode == 0 and "rebuilt the vectors" in out, out
        check({0: True, 1: False, 3: True, 4: True})
        assert lib.refreshes == 1
    finally:
        lib.close()
