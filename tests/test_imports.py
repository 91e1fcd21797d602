"""Each command imports only what it uses, checked in a fresh interpreter from `sys.modules` after the run.

Listing, showing, rating, auditing and checking never load the model (torch, sentence-transformers), LangChain
or Streamlit; Chroma is opened only by the commands that touch vectors (check, remove, search, ask). The model
is configured (`minilm`) wherever the command must not embed, so loading it by mistake would show here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fictional import DEMO, ingested

from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library

HEAVY = {
    "torch",
    "sentence_transformers",
    "transformers",
    "langchain",
    "langchain_core",
    "langchain_openai",
    "langchain_ollama",
    "langchain_text_splitters",
    "streamlit",
    "chromadb",
    "onnxruntime",
}

# Runs one command as the program does, then prints the heavy top-level packages it imported.
PROBE = r"""
import json, sys
from cqc_assistant.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="cqc-assistant")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("\nPROBE " + json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def imported(args: list[str], store: Path, embedder: str) -> set[str]:
    """The heavy packages `cqc-assistant ARGS --store STORE` imported; the command must succeed."""
    env = dict(os.environ, CQC_ASSISTANT_EMBEDDER=embedder, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    extra = [] if args == ["--help"] else ["--store", str(store)]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args, *extra], capture_output=True, text=True, env=env, timeout=300
    )
    line = done.stdout.rstrip().splitlines()[-1]
    assert line.startswith("PROBE "), done.stdout + done.stderr
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe["code"] == 0, done.stdout + done.stderr
    return set(probe["modules"]) & HEAVY


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo documents, ingested with the hash embedder (no model needed to build it), and one doc id."""
    path = tmp_path_factory.mktemp("imports") / "store"
    with ingested(path, DEMO, added=4) as library:
        return path, library.documents()[0].doc_id


@pytest.fixture
def store(built: tuple[Path, str]) -> Path:
    return built[0]


@pytest.fixture
def doc_id(built: tuple[Path, str]) -> str:
    return built[1]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["docs", "--json"],
        ["docs"],
        ["show", "DOC", "--json"],
        ["show", "DOC", "--text"],
        ["rate", "3", "3", "2", "3", "4", "3", "3", "3", "3", "--what-if", "--json"],
        ["audit", "--json"],
        ["audit", "--csv"],
    ],
    ids=lambda a: " ".join(a),
)
def test_commands_that_need_no_vectors_import_nothing_heavy(store: Path, doc_id: str, args: list[str]) -> None:
    args = [doc_id if a == "DOC" else a for a in args]
    assert imported(args, store, "minilm") == set()


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--json"],
        ["search", "occupational therapy waiting", "--json"],
        ["ask", "How long do people wait for an occupational therapy assessment?", "--json"],
    ],
    ids=lambda a: a[0],
)
def test_commands_that_touch_vectors_open_chroma_and_no_more(store: Path, args: list[str]) -> None:
    """With the hash embedder the store was built with: no LangChain for a search or an extractive answer."""
    assert imported(args, store, "hash") == {"chromadb"}


def test_remove_opens_chroma_to_delete_the_vectors(store: Path, doc_id: str, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    assert imported(["remove", doc_id], copy, "hash") == {"chromadb"}
    with ingested(copy, DEMO, added=1) as library:  # it was gone from the catalogue and from Chroma
        assert library.vectors.count() == library.catalogue.count_chunks()


@pytest.mark.slow
def test_with_the_model_a_search_needs_no_torch(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    """A store built by the bundled model: search and ask embed through ONNX Runtime (its export made by the
    session's first use of the model); check and remove do not load the model at all."""
    path = tmp_path / "store"
    library = Library.open(Settings.from_env({}, store=path), minilm)
    try:
        assert ingest(library, [str(DEMO / "wyvernshire-news.txt")]).count("added") == 1
        news = library.documents()[0].doc_id
    finally:
        library.close()
    for args in (["search", "discharge hub", "--json"], ["ask", "What did the council say about carers?", "--json"]):
        assert imported(args, path, "minilm") == {"chromadb", "onnxruntime"}
    assert imported(["check", "--json"], path, "minilm") == {"chromadb"}
    assert imported(["remove", news], path, "minilm") == {"chromadb"}
