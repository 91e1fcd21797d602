"""Generated reports about fictional Eastshire and the questions asked of them under load, shared by
tests/test_concurrency.py and bench/concurrency.py: each report's text depends only on its number and version."""

from __future__ import annotations

import random

WORDS = [
    "carers", "waiting", "lists", "occupational", "therapy", "safeguarding", "reablement",
    "partnership", "leadership", "workforce", "assessment", "outcomes", "transitions", "hospital",
    "discharge", "commissioning", "advocacy",
]  # fmt: skip
QUESTIONS = [
    "How long were people waiting for occupational therapy assessments?",
    "What did CQC say about support for unpaid carers?",
    "What rating did Wyvernshire County Council receive?",
    "How did the council work with partners on hospital discharge?",
    "What did the peer challenge say about leadership?",
    "What about carers waiting lists and reablement in report 3?",
    "Which council had safeguarding partnership workforce problems?",
    "What did the report say about the moon landing?",
]


def report_text(i: int, version: int) -> str:
    rng = random.Random(i * 100 + version)
    lines = [f"# Eastshire County Council report {i} (version {version})", ""]
    for s in range(4):
        lines += [f"## Carers and waiting lists, part {s}", ""]
        for _ in range(3):
            words = [rng.choice(WORDS) for _ in range(30)]
            lines += [f"People said the {' '.join(words[:12])} took {rng.randint(2, 40)} weeks. "
                      f"The council's {' '.join(words[12:])} improved.", ""]  # fmt: skip
    return "\n".join(lines)
