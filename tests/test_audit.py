"""The audit log: each answer with its question, filters, citations (doc id and offsets) and library version."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import assert_exact_citations, run_cli

from cqc_assistant.answer import Assistant
from cqc_assistant.audit import FILE_NAME, AuditLog
from cqc_assistant.config import Settings
from cqc_assistant.errors import ConfigError, QueryError, StoreError
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library
from cqc_assistant.models import Answer, Citation


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def answer(question: str = "What did CQC say about carers?", *, refused: bool = False) -> Answer:
    cites = () if refused else (
        Citation(1, "abc123", "Report", "/r.md", "Carers", 10, 42, "quoted text", page=2),
        Citation(2, "def456", "News", "/n.txt", "News", 0, 7, "quoted"),
    )  # fmt: skip
    return Answer(
        question=question,
        answer="The library does not say." if refused else "Carers were supported [1] quickly [2].",
        refused=refused,
        citations=cites,
        filters={"council": "Wyvernshire County Council", "since": "2024-01-01"},
        mode="extractive",
    )


def test_record_and_read_back(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 6, 1, 9, 30, 5, 123, tzinfo=UTC))
    with AuditLog(tmp_path / FILE_NAME, clock=clock) as log:
        first = log.record(answer(), library_version=7, user="analyst@council")
        second = log.record(answer("Was anything refused?", refused=True), library_version=8)
        entries = log.entries()
    assert [e.id for e in entries] == [first, second]
    e = entries[0]
    assert e.at == "2025-06-01T09:30:05+00:00"
    assert (e.user, e.question, e.refused, e.mode, e.library_version) == (
        "analyst@council", "What did CQC say about carers?", False, "extractive", 7,
    )  # fmt: skip
    assert e.filters == {"council": "Wyvernshire County Council", "since": "2024-01-01"}
    assert e.answer == "Carers were supported [1] quickly [2]."
    assert e.citations == [{"doc_id": "abc123", "start": 10, "end": 42}, {"doc_id": "def456", "start": 0, "end": 7}]
    r = entries[1]
    assert (r.refused, r.citations, r.user, r.library_version) == (True, [], None, 8)


def test_times_are_stored_in_utc(tmp_path: Path) -> None:
    plus_two = datetime(2025, 6, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    with AuditLog(tmp_path / FILE_NAME, clock=Clock(plus_two)) as log:
        log.record(answer(), library_version=1)
        assert log.entries()[0].at == "2025-06-01T11:00:00+00:00"


def test_a_real_answer_is_recorded_with_its_exact_offsets(library: Library, demo_dir: Path) -> None:
    ingest(library, [str(demo_dir)])
    result = Assistant(library).ask("How long were people waiting for occupational therapy assessments?")
    assert not result.refused and result.citations
    with AuditLog.for_settings(library.settings) as log:
        log.record(result, library_version=library.version())
        (entry,) = log.entries()
    assert entry.library_version == library.version() > 0
    assert entry.answer == result.answer and entry.question == result.question
    assert entry.filters == result.filters
    for cite, stored in zip(result.citations, entry.citations, strict=True):
        assert stored == {"doc_id": cite.doc_id, "start": cite.start, "end": cite.end}
    assert_exact_citations(library, result.citations)
    assert (library.settings.home / FILE_NAME).is_file()


def test_since_filters_by_utc_date(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 5, 31, 23, 59, 59, tzinfo=UTC))
    with AuditLog(tmp_path / FILE_NAME, clock=clock) as log:
        for day in range(4):
            log.record(answer(f"q{day}"), library_version=day)
            clock.now += timedelta(days=1)
        assert [e.question for e in log.entries("2025-06-01")] == ["q1", "q2", "q3"]
        assert [e.question for e in log.entries("2025-06-03")] == ["q3"]
        assert [e.question for e in log.entries("2025-06-01T23:59:59+00:00")] == ["q1", "q2", "q3"]
        assert [e.question for e in log.entries("2025-06-02T02:00:00+02:00")] == ["q2", "q3"]
        assert log.entries("2030-01-01") == []
        for bad in ("yesterday", "2025-13-01", "2025-02-30", "01/06/2025"):
            with pytest.raises(QueryError, match="--since"):
                log.entries(bad)


def test_old_entries_are_pruned_when_the_log_is_opened(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    with AuditLog(path, clock=clock) as log:
        for days in (0, 100, 200, 300):
            clock.now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=days)
            log.record(answer(f"day {days}"), library_version=1)
    clock.now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=330)
    with AuditLog(path, retention_days=365, clock=clock) as log:
        assert len(log.entries()) == 4
    with AuditLog(path, retention_days=150, clock=clock) as log:
        assert [e.question for e in log.entries()] == ["day 200", "day 300"]
        assert log.prune(40) == 1
        assert [e.question for e in log.entries()] == ["day 300"]
        with pytest.raises(ValueError):
            log.prune(0)


def test_retention_comes_from_settings_and_the_environment(tmp_path: Path) -> None:
    assert Settings.from_env({}, store=tmp_path).audit_retention_days == 365
    settings = Settings.from_env({"CQC_ASSISTANT_AUDIT_RETENTION_DAYS": "30"}, store=tmp_path)
    assert settings.audit_retention_days == 30
    for bad in ("0", "-5", "a month"):
        with pytest.raises(ConfigError, match="CQC_ASSISTANT_AUDIT_RETENTION_DAYS"):
            Settings.from_env({"CQC_ASSISTANT_AUDIT_RETENTION_DAYS": bad}, store=tmp_path)
    clock = Clock(datetime(2025, 1, 1, tzinfo=UTC))
    with AuditLog.for_settings(settings, clock=clock) as log:
        log.record(answer("old"), library_version=1)
    clock.now += timedelta(days=31)
    with AuditLog.for_settings(settings, clock=clock) as log:
        assert log.entries() == []
        assert log.path == tmp_path / FILE_NAME


def test_wal_and_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    shared = AuditLog(path)
    assert shared.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    errors: list[BaseException] = []

    def work(n: int) -> None:
        own = AuditLog(path) if n % 2 else None
        try:
            for i in range(25):
                (own or shared).record(answer(f"t{n}-{i}"), library_version=n)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            if own is not None:
                own.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(shared.entries()) == 8 * 25
    assert len({e.id for e in shared.entries()}) == 8 * 25
    shared.close()


def test_a_file_that_is_not_an_audit_log_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable audit log"):
        AuditLog(path)


# --- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Path:
    home = tmp_path / "store"
    clock = Clock(datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    with AuditLog(home / FILE_NAME, clock=clock) as log:
        log.record(answer("What about carers, “café” style?"), library_version=3, user="ana")
        clock.now += timedelta(days=2)
        log.record(answer("Refused one", refused=True), library_version=4)
    return home


def audit(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = run_cli("audit", *args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_cli_json(store: Path) -> None:
    code, out, _ = audit("--json", "--store", str(store), env={"CQC_ASSISTANT_AUDIT_RETENTION_DAYS": "100000"})
    assert code == 0
    data = json.loads(out)
    assert [d["question"] for d in data] == ["What about carers, “café” style?", "Refused one"]
    assert data[0]["citations"][0] == {"doc_id": "abc123", "start": 10, "end": 42}
    assert data[0]["at"] == "2025-06-01T08:00:00+00:00" and data[0]["library_version"] == 3
    assert data[1]["refused"] is True and data[1]["citations"] == []


def test_cli_csv_and_since(store: Path) -> None:
    env = {"CQC_ASSISTANT_AUDIT_RETENTION_DAYS": "100000"}
    code, out, _ = audit("--csv", "--since", "2025-06-02", "--store", str(store), env=env)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["question"] for r in rows] == ["Refused one"]
    assert rows[0]["refused"] == "1" and rows[0]["citations"] == "[]" and rows[0]["library_version"] == "4"
    code, out, _ = audit("--csv", "--store", str(store), env=env)
    first = list(csv.DictReader(io.StringIO(out)))[0]
    assert json.loads(first["citations"])[1] == {"doc_id": "def456", "start": 0, "end": 7}
    assert json.loads(first["filters"]) == {"council": "Wyvernshire County Council", "since": "2024-01-01"}


def test_cli_text(store: Path) -> None:
    code, out, _ = audit("--store", str(store), env={"CQC_ASSISTANT_AUDIT_RETENTION_DAYS": "100000"})
    assert code == 0
    assert "2025-06-01T08:00:00+00:00  #1 answered by ana (extractive, library version 3)" in out
    assert "  cited: abc123 10-42; def456 0-7" in out
    assert "#2 refused" in out


def test_cli_prunes_by_retention(store: Path) -> None:
    code, out, _ = audit("--json", "--store", str(store))  # default 365 days: both are long gone
    assert code == 0 and json.loads(out) == []
    assert sqlite3.connect(str(store / FILE_NAME)).execute("SELECT count(*) FROM audit").fetchone()[0] == 0


def test_cli_errors_are_one_line(store: Path, tmp_path: Path) -> None:
    code, _, err = audit("--since", "June", "--store", str(store))
    assert code == 1 and err.strip() == "Error: --since 'June' is not a date: use YYYY-MM-DD"
    code, _, err = audit("--json", "--csv", "--store", str(store))
    assert code == 2 and "give --json or --csv, not both" in err
    empty = tmp_path / "empty-store"
    code, out, _ = audit("--store", str(empty))
    assert code == 0 and out.strip() == "No answers recorded yet."
    assert not (empty / FILE_NAME).exists(), "reading the log must not create one"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / FILE_NAME).write_bytes(b"garbage" * 200)
    code, _, err = audit("--store", str(broken))
    assert code == 1 and "not a usable audit log" in err and "Traceback" not in err
