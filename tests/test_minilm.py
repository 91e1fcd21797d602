"""The real bundled all-MiniLM-L6-v2 model end to end (slow: loads torch and the model)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder
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
