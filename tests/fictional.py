"""The fictional documents tests share: the demo library, and a second fictional council beside it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cqc_assistant
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library

DEMO = Path(cqc_assistant.__file__).resolve().parent / "demo"
WYVERNSHIRE = "Wyvernshire County Council"
OTHER_COUNCIL = "Fenmoor Borough Council"  # fictional, not on the packaged council list: found by its full name
OTHER_DOC = """# Fenmoor Borough Council: local authority assessment

Assessment published: 2 June 2025

## Overall summary

Overall rating: Requires improvement

We have given Fenmoor Borough Council an overall rating of requires improvement.

## Assessing needs

Score: 2

2 - Evidence shows some shortfalls

### Waiting lists and timeliness

Waits for occupational therapy assessments in Fenmoor were very long. There were 912 people waiting for an
occupational therapy assessment, and the longest wait was 58 weeks.
"""
PASSAGE_FIELDS = {"doc_id", "title", "source", "section", "theme", "qs", "start", "end", "text", "score"}


def copy_docs(target: Path, *, other_council: bool) -> Path:
    shutil.copytree(DEMO, target)
    if other_council:
        (target / "fenmoor-cqc-assessment.md").write_text(OTHER_DOC, encoding="utf-8")
    return target


@contextmanager
def ingested(store: Path, docs: Path, *, added: int) -> Iterator[Library]:
    """A library (hash embedder) holding `docs`, which must all be added, closed afterwards."""
    library = Library.open(Settings.from_env({}, store=store), HashEmbedder())
    try:
        report = ingest(library, [str(docs)])
        assert report.failed == 0 and report.count("added") == added, report.summary()
        yield library
    finally:
        library.close()
