"""The bundled model through ONNX Runtime: PyTorch's vectors, no torch once exported, PyTorch when in doubt.

Slow: loads torch and the model. The session's export is made in the `model_cache` folder by the first test
that embeds with `minilm`; PyTorch (`minilm_torch`) is the reference.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cqc_assistant import minilm_onnx
from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder
from cqc_assistant.errors import ConfigError
from cqc_assistant.index.chunk_vectors import stored_vectors
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How long do people wait for an occupational therapy assessment?",
    "What did the peer team say about the front door?",
    "DoLS backlog",
]


def test_onnx_vectors_are_pytorchs_for_what_ingest_embeds(
    minilm: MiniLMEmbedder, minilm_torch: MiniLMEmbedder, settings: Settings, demo_dir: Path
) -> None:
    """Every chunk of the demo documents (batched across documents, as ingest does) and a few questions."""
    library = Library.open(settings, minilm)
    try:
        assert ingest(library, [str(demo_dir)]).count("added") == 4
        assert minilm.backend == "onnx"
        stored = library.vectors.collection.get(include=["embeddings"])
        onnx = dict(zip(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32), strict=True))
        library.embedder = minilm_torch  # the same texts, rebuilt from the catalogue, through PyTorch
        torch_vectors = {
            i: v
            for ids, vs, _ in stored_vectors(library.catalogue, library.embedder.embed)
            for i, v in zip(ids, vs, strict=True)
        }
    finally:
        library.close()
    assert minilm_torch.backend == "torch"
    assert sorted(onnx) == sorted(torch_vectors) and len(onnx) > 50
    cosines = [float(onnx[i] @ torch_vectors[i]) for i in onnx]
    assert min(cosines) >= minilm_onnx.MIN_COSINE
    q_onnx, q_torch = minilm.embed(QUESTIONS), minilm_torch.embed(QUESTIONS)
    assert float((q_onnx * q_torch).sum(axis=1).min()) >= minilm_onnx.MIN_COSINE
    ids = sorted(onnx)
    ranked_onnx = np.argsort(-np.stack([onnx[i] for i in ids]) @ q_onnx.T, axis=0)[:5]
    ranked_torch = np.argsort(-np.stack([torch_vectors[i] for i in ids]) @ q_torch.T, axis=0)[:5]
    assert (ranked_onnx == ranked_torch).all(), "each question's five nearest chunks are the same"


def test_the_export_is_cached_once_and_used_without_torch(minilm: MiniLMEmbedder, model_cache: Path) -> None:
    minilm.load()
    path = minilm_onnx.export_path(model_cache)
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert not [p for p in model_cache.iterdir() if p.suffix == ".tmp"], "no temporary file is left"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    code = (
        "import sys; from pathlib import Path; from cqc_assistant.embedding import MiniLMEmbedder\n"
        f"e = MiniLMEmbedder(cache_dir=Path({str(model_cache)!r}))\n"
        f"v = e.embed({QUESTIONS!r})\n"
        "print(e.backend, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
        "print(' '.join(repr(float(x)) for x in v.ravel()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    first, numbers = done.stdout.splitlines()
    assert first == "onnx False False"
    there = np.array([float(x) for x in numbers.split()], dtype=np.float32).reshape(len(QUESTIONS), -1)
    assert np.allclose(there, minilm.embed(QUESTIONS), atol=1e-6)


def test_a_checked_export_is_loaded_without_checking_it_again(
    minilm: MiniLMEmbedder, model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its check passed when it was written (under a name only a checked export gets): a later start pays
    neither the check nor the export again, and the export is not rewritten."""
    minilm.load()
    path = minilm_onnx.export_path(model_cache)
    written = path.stat().st_mtime_ns

    def no_check(*args: object) -> float:
        raise AssertionError("a checked export is not checked or made again")

    monkeypatch.setattr(minilm_onnx, "agreement", no_check)
    monkeypatch.setattr(minilm_onnx, "export", no_check)
    again = MiniLMEmbedder(cache_dir=model_cache)
    assert np.allclose(again.embed(QUESTIONS), minilm.embed(QUESTIONS), atol=1e-6)
    assert again.backend == "onnx" and path.stat().st_mtime_ns == written


def test_an_export_unlike_pytorch_is_refused_and_not_retried(
    tmp_path: Path, minilm_torch: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(minilm_onnx, "MIN_COSINE", 1.5)  # no export can agree this well
    embedder = MiniLMEmbedder(cache_dir=tmp_path)
    vectors = embedder.embed(QUESTIONS)
    assert embedder.backend == "torch"
    assert "differ from PyTorch's" in embedder.fallback_reason
    assert np.allclose(vectors, minilm_torch.embed(QUESTIONS), atol=1e-6)
    assert [p.suffix for p in tmp_path.iterdir()] == [".refused"], "only the refusal is kept"

    def no_export(*args: object) -> float:
        raise AssertionError("a refused export is not made again")

    monkeypatch.setattr(minilm_onnx, "export", no_export)
    again = MiniLMEmbedder(cache_dir=tmp_path)
    again.load()
    assert again.backend == "torch" and "differ from PyTorch's" in again.fallback_reason
    with pytest.raises(ConfigError, match="the ONNX model cannot be used: .*differ"):
        MiniLMEmbedder(cache_dir=tmp_path, backend="onnx").load()


def test_a_damaged_export_falls_back_to_pytorch(tmp_path: Path) -> None:
    path = minilm_onnx.export_path(tmp_path)
    path.write_bytes(b"not an ONNX model")
    embedder = MiniLMEmbedder(cache_dir=tmp_path)
    assert embedder.embed(["waiting lists"]).shape == (1, 384)
    assert embedder.backend == "torch"
    assert "cannot be loaded" in embedder.fallback_reason


def test_setup_makes_the_export_ahead_of_time(model_cache: Path) -> None:
    """scripts/setup.sh runs this, so the first search does not pay for the export."""
    env = dict(os.environ, CQC_ASSISTANT_MODEL_CACHE=str(model_cache))
    done = subprocess.run(
        [sys.executable, "-m", "cqc_assistant.minilm_onnx"], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ONNX export of all-MiniLM-L6-v2 ready in {model_cache}"
    assert minilm_onnx.export_path(model_cache).is_file()
