"""Shared fixtures: every test gets its own store and the deterministic hash embedder, never ~/.local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder, MiniLMEmbedder
from cqc_assistant.library import Library

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "cqc_assistant" / "demo"
SEEDS_DIR = REPO.parent / "shared" / "corpus" / "seeds"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the session: the ONNX export is made once (by the first test that embeds)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Path:
    """Point CQC_ASSISTANT_HOME at a temporary folder and select the hash embedder for every test."""
    home = tmp_path / "home"
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(home))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.setenv("CQC_ASSISTANT_MODEL_CACHE", str(model_cache))
    for name in ("CQC_ASSISTANT_MAX_FILE_MB", "CQC_ASSISTANT_MAX_URL_MB", "CQC_ASSISTANT_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(store=tmp_path / "store")


@pytest.fixture
def library(settings: Settings) -> Iterator[Library]:
    lib = Library.open(settings, HashEmbedder())
    yield lib
    lib.close()


@pytest.fixture
def demo_dir() -> Path:
    return DEMO_DIR


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seed corpus is not here ({SEEDS_DIR})")
    return SEEDS_DIR


@pytest.fixture(scope="session")
def minilm(model_cache: Path) -> MiniLMEmbedder:
    """The real bundled model (through ONNX Runtime, as the app runs it), loaded once per session; only for
    tests marked slow. `minilm_torch` is the PyTorch model it is checked against."""
    return MiniLMEmbedder(cache_dir=model_cache)


@pytest.fixture(scope="session")
def minilm_torch() -> MiniLMEmbedder:
    return MiniLMEmbedder(backend="torch")
