"""Sentences keep exact offsets and join a line broken only to fit the page (PDF text, hard-wrapped Markdown)."""

from __future__ import annotations

import pytest

from cqc_assistant.text import sentences, straighten


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # carried on in lower case
    ("There were 912 people waiting for an\noccupational therapy assessment. Waits fell.",
     ["There were 912 people waiting for an\noccupational therapy assessment.", "Waits fell."]),
    # carried on after a word no sentence ends with, or after a comma
    ("Leadership was praised by the\nCare Quality Commission in its report.",
     ["Leadership was praised by the\nCare Quality Commission in its report."]),
    ("Carers, staff and partners,\nNHS colleagues included, were positive.",
     ["Carers, staff and partners,\nNHS colleagues included, were positive."]),
])  # fmt: skip
def test_a_line_broken_to_fit_the_page_is_one_sentence(text: str, expected: list[str]) -> None:
    assert split(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Leadership and staff support\nVisible leadership was highlighted.",
     ["Leadership and staff support", "Visible leadership was highlighted."]),  # a heading
    ("Waits fell in 2024.\nthe council hired staff.", ["Waits fell in 2024.", "the council hired staff."]),
    ("Gaps remain in:\n- nursing care and\n- respite", ["Gaps remain in:", "- nursing care and", "- respite"]),
    ("The review was done by the\n\nNext section", ["The review was done by the", "Next section"]),  # a blank line
])  # fmt: skip
def test_lines_that_end_where_they_should_stay_apart(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_offsets_are_exact_inside_a_larger_text() -> None:
    text = "# Title\n\nStaff told the peer team about gaps in\nthe market. The most urgent is respite.\n"
    start = text.index("Staff")
    spans = list(sentences(text, start, len(text)))
    assert [text[s:e] for s, e in spans] == [
        "Staff told the peer team about gaps in\nthe market.",
        "The most urgent is respite.",
    ]


def test_straighten_folds_typographic_marks_one_for_one() -> None:
    text = "\u201cPeople\u2019s needs\u201d \u2013 assessed\u00a0in 2023\u20122024"
    plain = straighten(text)
    assert plain == '"People\'s needs" - assessed in 2023-2024'
    assert len(plain) == len(text)  # offsets into the original still hold
