"""Helpers the test modules share: the command line run in-process, the check behind every citation, and what
a store shows (to prove a failed command changed nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cqc_assistant.cli import cli
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.library import Library
from cqc_assistant.models import Citation


def run_cli(*args: str, store: Path | str | None = None, env: Mapping[str, str | None] | None = None) -> Result:
    """`cqc-assistant ARGS [--store STORE]` in this process. An exception escaping the command fails the test
    rather than becoming exit code 1: a user must never see a traceback."""
    argv = [*args, "--store", str(store)] if store is not None else list(args)
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


def assert_exact_citations(
    texts: Library | str | Callable[[str], str], citations: Iterable[Citation | Mapping[str, Any]]
) -> None:
    """Each citation's quote is exactly the stored text at its offsets: the project's core promise.

    `texts` is the library the citations came from, the one document's stored text, or a function from a doc id
    to its stored text (e.g. read through the CLI); a citation is a Citation or its JSON form.
    """
    if isinstance(texts, Library):
        text_of: Callable[[str], str] = texts.text
    elif isinstance(texts, str):
        text_of = lambda _doc_id, text=texts: text  # noqa: E731
    else:
        text_of = texts
    for c in citations:
        doc_id, start, end, quote = (
            (c["doc_id"], c["start"], c["end"], c["quote"])
            if isinstance(c, Mapping)
            else (c.doc_id, c.start, c.end, c.quote)
        )
        text = text_of(doc_id)
        assert 0 <= start < end <= len(text), f"{doc_id} {start}-{end} is outside its {len(text)} characters"
        assert quote == text[start:end], f"the quote of {doc_id} {start}-{end} is not the stored text there: {quote!r}"


def store_snapshot(store: Path) -> dict[str, Any]:
    """What a user or a search could see of a store: its documents, its catalogue's row counts, its version and
    its vector ids. Equal before and after a failed command means nothing already stored changed."""
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        db = lib.catalogue.db
        return {
            "docs": [d.to_json() for d in lib.documents()],
            "rows": {
                t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("documents", "sections", "chunks", "chunks_fts")
            },
            "version": lib.version(),
            "ids": sorted(lib.vectors.collection.get(include=[])["ids"]),
        }
    finally:
        lib.close()
