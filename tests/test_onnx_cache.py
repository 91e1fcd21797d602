"""The ONNX export cache: stale exports are removed when a new one is written, never one a process holds.

No model is loaded here: the files are stand-ins with the export's names; the locks are real (flock), held
by another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cqc_assistant import minilm_onnx

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="exports are pruned only where flock exists")

CURRENT = "all-MiniLM-L6-v2-1111111111111111.onnx"
OLD = "all-MiniLM-L6-v2-2222222222222222.onnx"
HELD = "all-MiniLM-L6-v2-3333333333333333.onnx"


def touch(path: Path, age_s: float = 0.0) -> Path:
    path.write_bytes(b"stand-in")
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def holder(path: Path) -> subprocess.Popen[str]:
    """Another process holding `path` as a process using an export does, until its stdin closes."""
    code = (
        "import sys; from pathlib import Path; from cqc_assistant.minilm_onnx import hold\n"
        f"h = hold(Path({str(path)!r})); print('held', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()


def test_prune_removes_stale_exports_but_not_held_current_or_fresh_ones(tmp_path: Path) -> None:
    current = touch(tmp_path / CURRENT)
    touch(tmp_path / CURRENT.replace(".onnx", ".json"))
    old = touch(tmp_path / OLD, age_s=10)
    old_manifest = touch(tmp_path / OLD.replace(".onnx", ".json"))
    held = touch(tmp_path / HELD)
    held_manifest = touch(tmp_path / HELD.replace(".onnx", ".json"))
    refused = touch(tmp_path / ("all-MiniLM-L6-v2-4444444444444444.onnx" + minilm_onnx.REFUSED))
    killed = touch(tmp_path / (CURRENT + ".k1ll3d.tmp"), age_s=minilm_onnx.PARTIAL_AGE_S + 60)
    making = touch(tmp_path / (OLD + ".m4k1ng.tmp"), age_s=minilm_onnx.PARTIAL_AGE_S + 60)
    fresh = touch(tmp_path / (OLD + ".fr3sh.tmp"))  # an export being made right now
    other = touch(tmp_path / "notes.txt", age_s=10**6)

    holders = [holder(held), holder(making)]
    try:
        removed = minilm_onnx.prune(tmp_path, current)
        assert sorted(removed) == sorted([old, old_manifest, refused, killed])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            p.name for p in (current, current.with_suffix(".json"), held, held_manifest, making, fresh, other)
        )
    finally:
        for proc in holders:
            release(proc)
    assert sorted(minilm_onnx.prune(tmp_path, current)) == sorted([held, held_manifest, making]), "once let go"


def test_a_new_export_prunes_the_stale_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = minilm_onnx.model_dir()
    current = minilm_onnx.export_path(tmp_path, folder)
    old = touch(tmp_path / OLD)
    held = touch(tmp_path / HELD)

    def fake_export(st_model: Any, path: Path, folder: Path) -> float:
        path.write_bytes(b"the new export")
        return 1.0

    monkeypatch.setattr(minilm_onnx, "export", fake_export)
    proc = holder(held)
    try:
        assert minilm_onnx.ensure_export(object(), tmp_path) == (current, "")
    finally:
        release(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([current.name, current.with_suffix(".json").name, HELD])
    assert not old.exists()


def test_texts_are_embedded_in_short_batches_of_like_lengths() -> None:
    """Padding and wide batches cost as much as text: each batch holds texts near its longest's length."""
    lengths = [5, 120, 7, 118, 60, 61, 6, 119, 58, 5, 250, 7] + [30] * 40
    batches = minilm_onnx.batches(lengths, max_rows=16)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 16
        assert [lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True)
        assert min(lengths[i] for i in b) >= minilm_onnx.LIKE_LENGTH * lengths[b[0]]
    assert [lengths[b[0]] for b in batches][:4] == [250, 120, 61, 30]  # a long text is not padded to
    assert [len(b) for b in batches if lengths[b[0]] == 30] == [16, 16, 8]
    assert minilm_onnx.batches([]) == []
