"""The real bundled all-MiniLM-L6-v2 model end to end (slow: loads torch and the model)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder, make_embedder
from cqc_assistant.errors import ConfigError, StoreError
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library

pytestmark = pytest.mark.slow


def test_minilm_vectors_are_384d_normalised_and_meaningful(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed(
        [
            "Waiting lists for occupational therapy assessments were too long.",
            "People waited many weeks for an OT assessment.",
            "The council's budget for highways maintenance rose this year.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert minilm.embed([]).shape == (0, 384)


def test_minilm_ingest_of_the_demo_folder(minilm: MiniLMEmbedder, settings: Settings, demo_dir: Path) -> None:
    lib = Library.open(settings, minilm)
    try:
        report = ingest(lib, [str(demo_dir)])
        assert report.failed == 0
        assert report.count("added") == 4
        got = lib.vectors.collection.get(include=["embeddings", "metadatas"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        assert vectors.shape == (lib.catalogue.count_chunks(), 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        assert lib.vectors.collection.metadata["embedder"] == "all-MiniLM-L6-v2"
        # The nearest chunk to a question about discharge comes from a document that discusses it.
        (query,) = minilm.embed(["joint hospital discharge hub with the NHS"])
        (best_id, _), *_ = lib.vectors.query(query, 1, None)
        rows = lib.catalogue.chunks_by_chunk_id([best_id])
        chunk = rows[best_id]
        assert "discharge" in lib.text(chunk.doc_id)[chunk.start : chunk.end].lower()
        again = ingest(lib, [str(demo_dir)])
        assert again.count("unchanged") == 4
    finally:
        lib.close()


def test_loading_the_model_prints_nothing() -> None:
    """Every command loads the model: no progress bar or warning may reach the officer's terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    code = "from cqc_assistant.embedding import MiniLMEmbedder; print(MiniLMEmbedder().embed(['x']).shape)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 384)"
    assert done.stderr == ""


def test_the_quantised_model_is_its_own_embedder(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    """int8 vectors are close to the float model's but not the same: a store built by one refuses the other."""
    int8 = make_embedder("minilm-int8")
    assert int8.name != minilm.name and int8.dimension == minilm.dimension
    texts = ["People waited many weeks for an OT assessment.", "Occupational therapy waiting lists were long."]
    q, f = int8.embed(texts), minilm.embed(texts)
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    assert 0.8 < float((q * f).sum(axis=1).min()) < 0.9999
    assert float(q[0] @ q[1]) > 0.5

    settings = Settings.from_env({}, store=tmp_path / "store")
    Library.open(settings, minilm).close()
    with pytest.raises(StoreError, match="all-MiniLM-L6-v2-int8"):
        Library.open(settings, int8)


def test_the_embedder_setting_names_the_choices() -> None:
    assert Settings.from_env({"CQC_ASSISTANT_EMBEDDER": "MiniLM-int8"}).embedder == "minilm-int8"
    with pytest.raises(ConfigError, match="'minilm', 'minilm-int8', 'hash'"):
        Settings.from_env({"CQC_ASSISTANT_EMBEDDER": "bert"})
