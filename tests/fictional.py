"""The fictional documents tests share: the demo library, and a second fictional council beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import cqc_assistant

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
