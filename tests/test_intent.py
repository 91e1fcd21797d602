"""The question read once: paraphrase families (four or more wordings of one ask about the fictional Wyvernshire
demo council) must resolve to the same council, quality statement, kind of answer, years and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder
from cqc_assistant.intent import Intent
from cqc_assistant.library import Library

WYVERNSHIRE = "Wyvernshire County Council"

# (wordings, the quality statement they ask about by meaning): none names the statement.
BY_MEANING = [
    (
        [
            "How well does Wyvernshire keep adults safe from abuse and neglect?",
            "What did inspectors find about protecting vulnerable adults from harm in Wyvernshire?",
            "Are people in Wyvernshire protected from abuse?",
            "How does Wyvernshire respond to concerns that an adult is being abused or neglected?",
        ],
        7,
    ),
    (
        [
            "How long do people in Wyvernshire wait for a Care Act assessment of their needs?",
            "Is there a backlog of needs assessments in Wyvernshire?",
            "How quickly does Wyvernshire assess what care someone needs?",
            "What did CQC say about waiting for an assessment of care needs in Wyvernshire?",
        ],
        1,
    ),
    (
        [
            "How does Wyvernshire support young people moving from children's to adult services?",
            "What happens when people leave hospital and go home in Wyvernshire?",
            "Is hospital discharge in Wyvernshire safe?",
            "How are transitions into adulthood handled in Wyvernshire?",
        ],
        6,
    ),
]

# (wordings, the kind of answer wanted)
KINDS = [
    (
        [
            "When was the Wyvernshire assessment published?",
            "What date did CQC publish its report on Wyvernshire?",
            "On what date was Wyvernshire's report published?",
            "Which month was the Wyvernshire report released?",
            "On what days were the inspectors in Wyvernshire?",
        ],
        "date",
    ),
    (
        [
            "How many carers are there in Wyvernshire?",
            "Roughly how many carers are there in Wyvernshire?",
            "In how many areas did the peer team find strengths in Wyvernshire?",
            "What is the number of people waiting in Wyvernshire?",
        ],
        "count",
    ),
    (
        [
            "What percentage score did Wyvernshire get?",
            "What overall percentage did CQC give Wyvernshire?",
            "What proportion of the maximum score did Wyvernshire reach?",
            "What percentage was Wyvernshire's overall score?",
        ],
        "percent",
    ),
    (
        [
            "What rating did Wyvernshire get?",
            "What overall rating did CQC give Wyvernshire?",
            "Which rating was Wyvernshire given?",
            "What grade was Wyvernshire awarded overall?",
        ],
        "rating",
    ),
]


@pytest.fixture(scope="module")
def library(minilm: MiniLMEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """An empty library: the Intent needs only its embedder."""
    store: Path = tmp_path_factory.mktemp("intent") / "store"
    return Library.open(Settings.from_env({}, store=store), minilm)


@pytest.mark.parametrize(("wordings", "qs"), BY_MEANING)
def test_a_quality_statement_is_found_by_meaning_in_every_wording(
    library: Library, wordings: list[str], qs: int
) -> None:
    intents = [Intent.of(w, library) for w in wordings]
    assert [i.best_qs() for i in intents] == [qs] * len(wordings), [i.qs_similarity for i in intents]
    assert all(i.councils == (WYVERNSHIRE,) for i in intents)
    assert all(i.qs_meaning(qs) == 1.0 for i in intents)


@pytest.mark.parametrize(
    "question",
    [
        "What score did {} get for helping residents stay healthy and independent?",
        "How did {} score on keeping adults safe from abuse and neglect?",
    ],
)
def test_the_statement_asked_about_does_not_depend_on_the_council_named(library: Library, question: str) -> None:
    """The council is the question's scope, not its topic: its name, however long, does not move the
    question's closeness to each statement."""
    plain = Intent.of(question.format(""), library)
    for council in ("Wyvernshire", "Telford and Wrekin", "Bath and North East Somerset Council"):
        named = Intent.of(question.format(council), library)
        assert named.councils and named.best_qs() == plain.best_qs()
        assert named.qs_similarity == pytest.approx(plain.qs_similarity, abs=1e-5)


@pytest.mark.parametrize(("wordings", "kind"), KINDS)
def test_the_kind_of_answer_is_the_same_in_every_wording(wordings: list[str], kind: str) -> None:
    assert [Intent.of(w).kind for w in wordings] == [kind] * len(wordings)


def test_a_statement_named_wins_over_meaning_and_needs_no_embedder() -> None:
    for w in (
        "What score did Wyvernshire get for safeguarding?",
        "How did Wyvernshire do on Safeguarding?",
        "Wyvernshire: safeguarding score?",
        "Tell me Wyvernshire's safeguarding result",
    ):
        intent = Intent.of(w)
        assert intent.qs == {7} and intent.best_qs() == 7 and intent.qs_similarity == ()


def test_years_and_who_found_it() -> None:
    cqc = ["What did CQC find in Wyvernshire in 2024?", "What did the inspectors say about Wyvernshire in 2024?"]
    lga = ["What did the peer team find in Wyvernshire in 2024?", "What did the LGA peer challenge say in 2024?"]
    for w in cqc:
        assert Intent.of(w).sources == {"cqc_assessment", "cqc_press_release"}
    for w in lga:
        assert Intent.of(w).sources == {"lga_peer_challenge"}
    for w in cqc + lga:
        assert Intent.of(w).years == {(2024, 2024)}
    assert Intent.of("What was spent in 2023/24?").years == {(2023, 2024)}
    assert Intent.of("What did Wyvernshire say?").sources == frozenset()
