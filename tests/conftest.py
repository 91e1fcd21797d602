"""Shared fixtures: every test gets its own store and the deterministic hash embedder, never ~/.local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder, MiniLMEmbedder
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "cqc_assistant" / "demo"
SEEDS_DIR = REPO.parent / "shared" / "corpus" / "seeds"
STORE = "store"  # the folder under tmp_path that holds a test's store


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
def store(tmp_path: Path) -> Path:
    """This test's store folder, empty until the test adds to it: the folder `settings` and `library` open
    (a module may override `store` with a filled one; those two keep this folder)."""
    return tmp_path / STORE


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(store=tmp_path / STORE)


@pytest.fixture
def library(settings: Settings) -> Iterator[Library]:
    lib = Library.open(settings, HashEmbedder())
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the demo documents (hash embedder), built once per test module: read it, never change it."""
    home = tmp_path_factory.mktemp("demo") / "store"
    lib = Library.open(Settings(home=home, embedder="hash"), HashEmbedder())
    try:
        report = ingest(lib, [str(DEMO_DIR)])
        assert report.failed == 0, report.summary()
    finally:
        lib.close()
    return home


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
