"""Extractive answers over the demo documents (hash embedder): cited facts, refusals, filters, follow-ups,
bad input, and the `search` / `ask` / `ask --batch` command-line contract.

The hash embedder is not semantic, so every answerable question shares distinctive words with the sentence
that answers it. Answers are checked for the fact and for exact citations, never against a stored answer.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fictional import DEMO, OTHER_COUNCIL, OTHER_DOC, PASSAGE_FIELDS, WYVERNSHIRE, copy_docs, ingested
from helpers import assert_exact_citations, run_cli

from cqc_assistant.answer import MAX_QUESTION_CHARS, Assistant, Conversation
from cqc_assistant.config import Settings
from cqc_assistant.domain import quality_statements_named
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.errors import QueryError
from cqc_assistant.filters import Filters
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.intent import Intent
from cqc_assistant.library import Library
from cqc_assistant.models import Answer, Passage
from cqc_assistant.questions import answer_type, count_windows, states_count_of
from cqc_assistant.quotes import Candidate, candidate_sentences
from cqc_assistant.ranker import default_ranker

ANSWER_FIELDS = {"question", "answer", "refused", "citations"}
CITATION_FIELDS = {"n", "doc_id", "title", "source", "section", "start", "end", "quote"}

# (question, what a cited quote must say): a rating, a score, a waiting time, a count, a person, a price.
FACTS = [
    ("What overall rating did CQC give Wyvernshire?", r"\brat(?:ed|ing)\W+(?:of\W+|as\W+)?good\b"),
    ("What percentage score did the council achieve?", re.escape("75%")),
    ("How long was the longest wait for an occupational therapy assessment?", re.escape("27 weeks")),
    ("How many Deprivation of Liberty Safeguards applications were waiting to be completed?", re.escape("1,137")),
    ("Who commissioned the peer challenge?", re.escape("Joanna Whitlock")),
    ("What standard rate per hour did the council pay for home care?", re.escape("£24.60")),
]
RATING_Q, _ = FACTS[0]
PEER_Q, _ = FACTS[4]
# (question, the words naming its topic, which no demo document uses)
ABSENT = [
    ("What did the council say about cryptocurrency mining?", ("cryptocurrency", "mining")),
    ("What is the council's policy on space travel for unicorns?", ("unicorn", "space travel")),
]
FOLLOW_UP = "How many people were waiting for an occupational therapy assessment?"


@pytest.fixture(autouse=True)
def _extractive(monkeypatch: pytest.MonkeyPatch) -> None:
    """No chat model, whatever the environment says: these are the extractive answers."""
    for name in ("CQC_ASSISTANT_LLM_PROVIDER", "CQC_ASSISTANT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The four demo documents, shared read-only by the tests of this module."""
    with ingested(tmp_path_factory.mktemp("answers") / "store", DEMO, added=4) as library:
        yield library


@pytest.fixture(scope="module")
def assistant(lib: Library) -> Assistant:
    return Assistant(lib)


@pytest.fixture
def two_councils(library: Library, tmp_path: Path) -> Library:
    docs = copy_docs(tmp_path / "docs", other_council=True)
    assert ingest(library, [str(docs)]).failed == 0
    return library


def normalise(text: str) -> str:
    return " ".join(text.split())


def ranked_in_page(library: Library, tmp_path: Path, page: str, question: str) -> list[Candidate]:
    """The candidate sentences for `question`, best first, once the one Markdown `page` is in the library."""
    doc = tmp_path / "page.md"
    doc.write_text(page)
    assert ingest(library, [str(doc)]).failed == 0
    assistant = Assistant(library)
    return assistant.rank(question, assistant.retriever.search(question, Filters(), 6), Filters())


def assert_cited(lib: Library, result: Answer) -> None:
    """A non-refused extractive answer: citations numbered 1..n, each quoting the stored text exactly."""
    assert not result.refused, result.answer
    assert result.citations
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    assert "[1]" in result.answer
    for c in result.citations:
        doc = lib.document(c.doc_id)
        assert (c.title, c.source, c.kind) == (doc.title, doc.source, doc.kind)
        assert c.section in {s.title for s in lib.sections(c.doc_id)}
    assert_exact_citations(lib, result.citations)
    for c in result.citations:
        assert f"[{c.n}]" in result.answer
        assert normalise(c.quote) in normalise(result.answer)  # extractive: the answer quotes its sources


# --- answerable questions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "fact"), FACTS)
def test_a_demo_fact_is_answered_with_an_exact_citation(
    lib: Library, assistant: Assistant, question: str, fact: str
) -> None:
    result = assistant.ask(question)
    assert_cited(lib, result)
    assert result.question == question
    assert any(re.search(fact, c.quote, re.I) for c in result.citations), [c.quote for c in result.citations]
    assert result.confidence > 0


WHO_Q = "Who chairs the safeguarding adults board?"
HOW_FAR_Q = "How far along is the council in its programme of change?"
GRADE_Q = "What overall grade did CQC award the council?"
DATES_Q = "On which dates were the inspectors in the county?"


@pytest.mark.parametrize(("question", "kind", "text", "answers"), [
    (WHO_Q, "person", "The board has a new chair (Duncan DooleyRobinson, appointed in 2023).", True),
    (WHO_Q, "person", "Mary McAllister, the principal social worker, said so.", True),
    (WHO_Q, "person", "Sean O'Neill leads the front door.", True),
    (WHO_Q, "person", "Cllr Patel opened the hub.", True),
    (WHO_Q, "person", "The Care Quality Commission published the report.", False),
    (WHO_Q, "person", "Adult Social Care Services were rated good.", False),
    (WHO_Q, "person", "Waits for Deprivation of Liberty Safeguards assessments fell.", False),
    (WHO_Q, "person", "The Better Care Fund paid for the North Wyvernshire Carers Hub.", False),
    (WHO_Q, "person", "Cabinet Member for Adults and Health", False),  # a job title names nobody
    (WHO_Q, "person", "Executive Director Priya Holloway opened the hub.", True),
    (WHO_Q, "person", "Priya Holloway, Director of Adult Social Services, opened the hub.", True),
    (HOW_FAR_Q, "progress", "The council reports being halfway through its transformation journey.", True),
    (HOW_FAR_Q, "progress", "The programme is in its second phase and on track to finish in 2026.", True),
    (HOW_FAR_Q, "progress", "About 60% of the planned changes had been completed.", True),
    (HOW_FAR_Q, "progress", "A significant factor behind the rating is the council's transformation programme.", False),
    (HOW_FAR_Q, "progress", "The transformation programme is led by the director.", False),
    (GRADE_Q, "rating", "The Care Quality Commission has rated the council as good.", True),
    (GRADE_Q, "rating", "Each quality statement is scored from 1 to 4.", False),
    (GRADE_Q, "rating", "The rating is outstanding, good, requires improvement or inadequate.", False),
    (DATES_Q, "date", "Our on-site assessment took place between 4 and 7 November 2024.", True),
])  # fmt: skip
def test_a_question_for_a_name_progress_or_a_rating_is_answered_by_a_sentence_giving_one(
    question: str, kind: str, text: str, answers: bool
) -> None:
    asked = answer_type(question)
    assert asked is not None and asked[0] == kind
    assert bool(asked[1].search(text)) is answers


@pytest.mark.parametrize(("question", "sentence"), [
    ("How long did people wait for a review of their care?", "People waited about 9 weeks for a review of their care."),
    ("How far along is the care technology programme?", "The care technology programme is halfway through."),
])  # fmt: skip
def test_the_words_asking_how_long_or_how_far_are_not_looked_for(
    library: Library, tmp_path: Path, question: str, sentence: str
) -> None:
    """ "How long" asks for a duration: a sentence stating one covers the question without the word "long"."""
    page = (
        "# Fenmoor Council: local authority assessment\n\n## Assessing needs\n\n"
        f"People in long-term care were reviewed. {sentence} Nobody knew how far it was.\n"
    )
    best = ranked_in_page(library, tmp_path, page, question)[0]
    assert best.text == sentence
    assert best.literal == pytest.approx(1.0)


def test_words_of_one_root_the_stemmer_leaves_apart_match(library: Library, tmp_path: Path) -> None:
    """ "Strengths" asked, "strong" written; "safety" asked, "safe" written."""
    page = (
        "# Fenmoor Council: local authority assessment\n\n## Safeguarding\n\n"
        "Safeguarding practice was reviewed every week by managers. "
        "Safeguarding practice was strong and kept people safe.\n"
    )
    question = "What strengths in safeguarding practice and safety did the inspectors see?"
    ranked = ranked_in_page(library, tmp_path, page, question)
    by_text = {c.text: c for c in ranked}
    strong = by_text["Safeguarding practice was strong and kept people safe."]
    weekly = by_text["Safeguarding practice was reviewed every week by managers."]
    assert ranked[0] is strong
    assert strong.literal > weekly.literal


def test_answers_are_deterministic_and_read_only(lib: Library, assistant: Assistant) -> None:
    version = lib.version()
    first, second = assistant.ask(PEER_Q), Assistant(lib).ask(PEER_Q)
    assert first.to_json() == second.to_json()
    assert lib.version() == version


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().embed(texts)


def test_the_question_section_titles_and_sentences_are_embedded_once_per_library(settings: Settings) -> None:
    embedder = CountingEmbedder()
    library = Library.open(settings, embedder)
    try:
        assert ingest(library, [str(DEMO)]).failed == 0
        embedder.texts.clear()
        first = Assistant(library).ask(FOLLOW_UP)
        assert embedder.texts.count(FOLLOW_UP) == 1  # the dense search and the sentence choice share it
        assert len(embedder.texts) > 1  # the candidate sentences were compared densely too
        seen = set(embedder.texts)
        embedder.texts.clear()
        # A new Assistant (the app makes one per question) finds what recurs embedded for the open library:
        # the question, the section titles and the candidate sentences compared with it.
        assert Assistant(library).ask(FOLLOW_UP).to_json() == first.to_json()
        assert embedder.texts == []
        # Another question over the same documents embeds only what it has not met.
        Assistant(library).ask(PEER_Q)
        assert PEER_Q in embedder.texts and not set(embedder.texts) & seen
        assert len(embedder.texts) == len(set(embedder.texts))
    finally:
        library.close()


def test_a_glossary_synonym_of_the_question_chooses_the_answering_sentence(library: Library, tmp_path: Path) -> None:
    """The officer asks about the "first point of contact"; the report calls it the "front door"."""
    page = (
        "# Fenmoor Council: adult social care update\n\n## Access\n\n"
        "Staff turnover in the finance team is changing quickly this year. "
        "The front door will be separated from the housing options service by next spring.\n"
    )
    best = ranked_in_page(library, tmp_path, page, "What is changing at the first point of contact?")[0]
    assert "front door" in best.text


def test_a_sentence_that_leans_on_the_one_before_is_quoted_with_it(library: Library, tmp_path: Path) -> None:
    """ "The most urgent is dementia nursing care" says nothing without the sentence naming the gaps."""
    page = (
        "# Fenmoor Council: peer challenge\n\n## Market shaping\n\n"
        "Managers told the peer team about gaps in the care market. The most urgent is dementia nursing care. "
        "The first was closed in 2023. Both homes reopened later.\n"
    )
    texts = {
        c.text for c in ranked_in_page(library, tmp_path, page, "Where are the most urgent gaps in the care market?")
    }
    assert (
        "Managers told the peer team about gaps in the care market. The most urgent is dementia nursing care." in texts
    )
    assert "The most urgent is dementia nursing care. The first was closed in 2023." in texts
    assert not texts & {
        "The most urgent is dementia nursing care.",
        "The first was closed in 2023.",
        "Both homes reopened later.",
    }


@pytest.mark.parametrize(("question", "band"), [
    ("Which grade would a council on 70% get?", "63 to 87%"),
    ("Below what percentage does a council fall into the lowest grade?", "38% or lower"),
])  # fmt: skip
def test_a_question_pointing_at_a_rating_band_cites_the_band(
    library: Library, tmp_path: Path, question: str, band: str
) -> None:
    """The question says "70%" or "the lowest grade"; the page states the band by its name and bounds."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "fenmoor.md").write_text(OTHER_DOC, encoding="utf-8")
    doc = tmp_path / "docs" / "ratings.md"
    doc.write_text(
        "# How Fenmoor Council is assessed\n\n## The ratings\n\n"
        "Each council is visited every three years and the visit is followed by a published report.\n\n"
        "### Outstanding\n\nThe council is performing exceptionally well: 88% and above.\n\n"
        "### Good\n\nThe council is performing well and meeting expectations: 63 to 87%.\n\n"
        "### Requires improvement\n\nThe council is not performing as well as it should: 39 to 62%.\n\n"
        "### Inadequate\n\nThe council is performing badly and action has been taken: 38% or lower.\n"
    )
    assert ingest(library, [str(doc.parent)]).failed == 0
    result = Assistant(library).ask(question)
    assert_cited(library, result)
    assert band in result.citations[0].quote, result.citations


@pytest.mark.parametrize(("question", "section", "score"), [
    ("What score did Wyvernshire get for safeguarding?", "Safeguarding", "3"),
    ("What score did Wyvernshire get for equity in experience and outcomes?", "Equity in experience and outcomes", "2"),
])  # fmt: skip
def test_a_score_question_cites_the_quality_statement_it_names(
    lib: Library, assistant: Assistant, question: str, section: str, score: str
) -> None:
    result = assistant.ask(question)
    assert_cited(lib, result)
    asked = quality_statements_named(question)
    first = result.citations[0]
    assert re.search(rf"(?<![\d.]){score}(?![\d.%])", first.quote), first.quote
    for c in result.citations:  # the score's own section or a line naming its quality statement; no other
        assert c.section == section or quality_statements_named(c.quote) & asked, c


def test_a_section_heading_is_never_the_quote(lib: Library, assistant: Assistant) -> None:
    result = assistant.ask("What did CQC find about equity in experience and outcomes in Wyvernshire?")
    assert_cited(lib, result)
    assert all(normalise(c.quote) != normalise(c.section) for c in result.citations), result.citations


def test_a_heading_line_may_be_quoted_only_when_it_states_the_kind_asked() -> None:
    """A short line the chunker took for a heading ("Cllr Jo Marsh", "Assessment published: 14 March 2025")
    may be the very fact asked for: it is a candidate, marked, and quotable only when it has the kind of
    answer the question wants (an open question never gets a heading as its quote: the test above)."""
    text = "Assessment published: 14 March 2025\n\nThe council was assessed in January. Staff were well trained.\n"
    end = len(text.rstrip())
    passage = Passage("d:0", "d", "Report", "report.md", "Assessment published: 14 March 2025", None, None, 0, end,
                      text[:end], 1.0)  # fmt: skip
    cands = candidate_sentences({"d": text}, [passage])
    heading = [c for c in cands if c.heading]
    assert [c.text for c in heading] == ["Assessment published: 14 March 2025"]
    assert all(not c.heading for c in cands if c.text.startswith("The council"))
    heading[0].x = {"kind_match": 1.0}
    assert heading[0].quotable
    heading[0].x = {"kind_match": 0.0}
    assert not heading[0].quotable


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("How many people were waiting for an OT assessment in Wyvernshire?", "people"),
        ("Roughly how many unpaid carers are there in Wyvernshire?", "unpaid carers"),
        ("In how many of the nine areas was Wyvernshire judged good?", "nine areas"),
        ("What is the number of occupational therapists in Wyvernshire?", "occupational therapists"),
        ("How many British Sign Language interpreters were being used?", "british sign language interpreters"),
        ("What did CQC find about waiting lists in Wyvernshire?", ""),
    ],
)
def test_what_a_how_many_question_counts(question: str, counted: str) -> None:
    assert Intent.of(question).counted == counted


def test_a_count_of_something_else_does_not_count_what_was_asked(lib: Library) -> None:
    """ "341 people were waiting" counts people; "four quality themes" and "31 weeks" do not: a sentence
    whose number counts what the question asks is marked 1, one whose numbers count other things less."""
    assert states_count_of("At the time, 341 people were waiting for an OT assessment.", "people")
    assert not states_count_of("The assessment looks at four quality themes for people.", "people")
    assert not states_count_of("The longest wait was 31 weeks for people in the west.", "people")
    # A date's day and a label's number name something; they count nothing.
    assert not states_count_of("Published October 15, 2025 Care Act reviews", "care act reviews")
    assert not states_count_of("### Theme 3: Safeguarding concerns", "safeguarding concerns")
    assert not states_count_of("the share of Section 42 safeguarding enquiries", "safeguarding enquiries")
    assert states_count_of("Of 300 people asked, most were satisfied.", "people")
    question = "How many people were waiting for an OT assessment in Wyvernshire?"
    assistant = Assistant(lib)
    intent, scoped, passages, cands = assistant.featurize(question)
    assert intent.counted == "people" and cands
    counts = {c.text: c.x["counts_asked"] for c in cands}
    assert max(v for t, v in counts.items() if "341 people were waiting" in t) == 1.0
    assert all(v == -1.0 for t, v in counts.items() if not count_windows(t))  # no number: counts nothing
    assert all(-1.0 <= v <= 1.0 for v in counts.values())
    other = assistant.featurize("What did the peer team say about waits for occupational therapy?")[3]
    assert other and all(c.x["counts_asked"] == 0.0 for c in other)


def test_each_sentence_knows_how_far_it_falls_short_of_the_questions_best(lib: Library) -> None:
    """A similarity means little on its own (a paraphrased question is far from every sentence): each candidate
    carries its gap to the question's best, and the shipped ranker learned that a wider gap argues against it."""
    assistant = Assistant(lib)
    cands = assistant.featurize("How long do people wait for an occupational therapy assessment in Wyvernshire?")[3]
    assert len(cands) > 1
    best_dense, best_lexical = max(c.x["dense"] for c in cands), max(c.lexical for c in cands)
    for c in cands:
        assert c.x["dense_gap"] == pytest.approx(c.x["dense"] - best_dense)
        assert c.x["lexical_gap"] == pytest.approx(c.lexical - best_lexical)
    assert max(c.x["dense_gap"] for c in cands) == 0.0 and min(c.x["dense_gap"] for c in cands) < 0.0
    ranker = default_ranker()
    x = np.array([[cands[0].x[f] for f in ranker.features]])
    for gap in ("dense_gap", "lexical_gap"):
        behind = x.copy()
        behind[0, ranker.features.index(gap)] -= 0.3
        assert ranker.score(behind)[0] < ranker.score(x)[0], gap


def test_a_cited_sentence_is_quoted_with_the_neighbours_that_score_near_it(lib: Library) -> None:
    """The fitted neighbour ratio decides whether the sentences beside a cited one join its quote; the
    citations themselves are the same either way, and every quote stays exact."""
    q = "How long do people wait for an occupational therapy assessment in Wyvernshire?"
    alone = Assistant(lib, ranker=replace(default_ranker(), neighbour_ratio=2.0)).ask(q)
    joined = Assistant(lib, ranker=replace(default_ranker(), neighbour_ratio=0.0)).ask(q)
    assert_cited(lib, alone)
    assert_cited(lib, joined)
    assert len(alone.citations) == len(joined.citations)
    for a, j in zip(alone.citations, joined.citations, strict=True):
        assert a.doc_id == j.doc_id and j.start <= a.start and a.end <= j.end
        assert a.quote in j.quote
    assert any(j.end - j.start > a.end - a.start for a, j in zip(alone.citations, joined.citations, strict=True))


def test_an_open_question_is_not_answered_by_a_list_fragment(lib: Library, assistant: Assistant) -> None:
    """The peer challenge lists "- direct payments and charging" among its themes; that says nothing."""
    assert "direct payments and charging" in lib.catalogue.text(
        next(d.doc_id for d in lib.documents() if d.kind == "lga_peer_challenge")
    )
    result = assistant.ask("What did CQC say about direct payments?")
    assert_cited(lib, result)
    assert all(len(re.findall(r"\w+", c.quote)) >= 5 for c in result.citations), result.citations


@pytest.fixture
def cqc_and_peers(library: Library, tmp_path: Path) -> Library:
    """A CQC assessment and a peer challenge that say the same thing about the carers hub."""
    finding = "The Fenmoor carers hub answers every call within two working days, and carers value it.\n"
    (tmp_path / "cqc.md").write_text(
        "# Fenmoor Council: local authority assessment\n\nCare Quality Commission\n\n"
        "## Partnerships and communities\n\n" + finding
    )
    (tmp_path / "lga.md").write_text(
        "# Adult Social Care Peer Challenge: Fenmoor Council\n\nLocal Government Association\n\n"
        "## Key messages\n\n" + finding
    )
    assert ingest(library, [str(tmp_path / "cqc.md"), str(tmp_path / "lga.md")]).failed == 0
    assert {d.kind for d in library.documents()} == {"cqc_assessment", "lga_peer_challenge"}
    return library


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What did CQC say about the carers hub?", "cqc_assessment"),
        ("What did the peer team say about the carers hub?", "lga_peer_challenge"),
    ],
)
def test_who_the_question_says_found_it_decides_between_equal_passages(
    cqc_and_peers: Library, question: str, kind: str
) -> None:
    result = Assistant(cqc_and_peers).ask(question)
    assert_cited(cqc_and_peers, result)
    assert result.citations[0].kind == kind, result.citations


def test_a_named_council_in_the_library_scopes_the_answer(lib: Library, assistant: Assistant) -> None:
    result = assistant.ask(RATING_Q)
    assert result.filters.get("council") == WYVERNSHIRE
    assert_cited(lib, result)
    assert all(WYVERNSHIRE in lib.document(c.doc_id).councils for c in result.citations)


# --- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What did CQC say about Manchester City Council's waiting lists?", "Manchester"),
        ("What rating did Manchester get?", "Manchester"),
        ("How long do people wait for an occupational therapy assessment in Liverpool?", "Liverpool"),
    ],
)
def test_a_council_not_in_the_library_is_refused_naming_what_was_searched(
    lib: Library, assistant: Assistant, question: str, named: str
) -> None:
    result = assistant.ask(question)
    assert result.refused
    assert result.citations == ()
    assert named in result.answer
    docs = lib.documents()
    assert set(result.searched) == {d.title for d in docs}
    assert f"{len(docs)} documents" in result.answer
    assert "[1]" not in result.answer


@pytest.mark.parametrize(("question", "topic"), ABSENT)
def test_a_topic_the_documents_do_not_cover_is_refused(
    lib: Library, assistant: Assistant, question: str, topic: tuple[str, ...]
) -> None:
    for doc in lib.documents():  # the topic really is absent
        text = lib.catalogue.text(doc.doc_id).lower()
        assert not [w for w in topic if w in text]
    result = assistant.ask(question)
    assert result.refused, result.answer
    assert result.citations == ()
    assert result.searched and set(result.searched) <= {d.title for d in lib.documents()}
    assert "[1]" not in result.answer


# --- filters that exclude ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "fact", "kind"),
    [
        (PEER_Q, "Joanna Whitlock", "cqc_assessment"),
        ("What standard rate per hour did the council pay for home care?", "£24.60", "lga_peer_challenge"),
        ("How long was the longest wait for an occupational therapy assessment?", "27 weeks", "news"),
        ("What percentage score did the council achieve?", "75%", "lga_peer_challenge"),
    ],
)
def test_a_kind_filter_that_excludes_the_answering_document(
    lib: Library, assistant: Assistant, question: str, fact: str, kind: str
) -> None:
    allowed = {d.doc_id for d in lib.documents() if d.kind == kind}
    holders = {d.doc_id for d in lib.documents() if fact in lib.catalogue.text(d.doc_id)}
    assert holders and not holders & allowed  # the filter excludes every document that states the fact
    assert any(fact in c.quote for c in assistant.ask(question).citations)  # unfiltered, it is found
    result = assistant.ask(question, Filters(kind=kind))
    assert result.filters == {"kind": kind}
    assert {c.doc_id for c in result.citations} <= allowed
    assert all(fact not in c.quote for c in result.citations)
    if not result.refused:
        assert_cited(lib, result)


def test_a_refusal_under_a_filter_names_only_the_documents_it_searched(lib: Library, assistant: Assistant) -> None:
    result = assistant.ask(ABSENT[0][0], Filters(kind="cqc_assessment"))
    assert result.refused, result.answer
    assessments = [d.title for d in lib.documents() if d.kind == "cqc_assessment"]
    assert set(result.searched) == set(assessments)
    assert f"{len(assessments)} document" in result.answer


# --- follow-ups --------------------------------------------------------------------------------------------


def test_a_sentence_about_another_glossary_service_does_not_answer(two_councils: Library) -> None:
    """Fenmoor's report counts people waiting for occupational therapy, not for DoLS; its sentence is
    hard-wrapped and quoted whole."""
    assistant = Assistant(two_councils)
    ot = assistant.ask(f"How many people in {OTHER_COUNCIL} were waiting for an OT assessment?")
    assert_cited(two_councils, ot)
    assert "912 people waiting for an occupational therapy assessment" in normalise(ot.citations[0].quote)
    dols = assistant.ask(f"How many people in {OTHER_COUNCIL} were waiting for a DoLS assessment?")
    assert dols.refused, dols.answer


@pytest.fixture
def spend_and_waits(library: Library, tmp_path: Path) -> Library:
    doc = tmp_path / "fenmoor.md"
    doc.write_text(
        "# Fenmoor Council: local authority assessment\n\n## Finance\n\n"
        "The council spent £212.4 million on adult social care in 2023/24, more than it had planned.\n\n"
        "## Waiting times\n\n"
        "People waited an average of 31 days for an occupational therapy assessment in 2024.\n"
    )
    assert ingest(library, [str(doc)]).failed == 0
    return library


@pytest.mark.parametrize(("question", "answered"), [
    ("How much did the council spend on adult social care in 2023/24?", True),
    ("How much did the council spend on adult social care in 2023-24?", True),
    ("How much did the council spend on adult social care in 2021/22?", False),  # another year's spend
    ("How many days did people wait for an occupational therapy assessment?", True),
    ("How many days did people wait for a Shared Lives placement?", False),  # another service's wait
])  # fmt: skip
def test_a_sentence_about_another_year_or_service_does_not_answer(
    spend_and_waits: Library, question: str, answered: bool
) -> None:
    result = Assistant(spend_and_waits).ask(question)
    if answered:
        assert_cited(spend_and_waits, result)
    else:
        assert result.refused, result.answer


def test_how_many_days_asks_for_a_duration() -> None:
    kind = answer_type("How many working days does the council take to answer a complaint?")
    assert kind is not None and kind[0] == "duration"
    assert not kind[1].search("It received 214 complaints, of which 58% were upheld.")


def test_a_follow_up_keeps_the_council_of_the_previous_turn(two_councils: Library) -> None:
    lib = two_councils
    assistant = Assistant(lib)
    other = {d.doc_id for d in lib.documents() if d.council == OTHER_COUNCIL}
    # On its own the follow-up draws on both councils' documents...
    alone = assistant.ask(FOLLOW_UP)
    assert {c.doc_id for c in alone.citations} & other

    conv = Conversation()
    first = assistant.ask("How long was the longest wait for occupational therapy in Wyvernshire?", conversation=conv)
    assert first.filters == {"council": WYVERNSHIRE}
    assert_cited(lib, first)
    # ...but after a question about Wyvernshire, only on Wyvernshire's.
    follow = assistant.ask(FOLLOW_UP, conversation=conv)
    assert follow.filters == {"council": WYVERNSHIRE}
    assert_cited(lib, follow)
    assert not {c.doc_id for c in follow.citations} & other
    assert any("286" in c.quote for c in follow.citations)
    assert conv.turns == [first, follow] and conv.filters.council == WYVERNSHIRE

    # Naming another council moves the conversation there.
    moved = assistant.ask(f"How long was the longest wait for occupational therapy in {OTHER_COUNCIL}?", None, conv)
    assert moved.filters == {"council": OTHER_COUNCIL}
    again = assistant.ask(FOLLOW_UP, conversation=conv)
    assert again.filters == {"council": OTHER_COUNCIL}
    assert_cited(lib, again)
    assert {c.doc_id for c in again.citations} <= other
    assert any("912" in c.quote for c in again.citations)


def test_a_follow_up_keeps_the_filters_of_the_previous_turn(lib: Library, assistant: Assistant) -> None:
    conv = Conversation()
    assistant.ask("What did the peer team say about carers?", Filters(kind="lga_peer_challenge"), conv)
    follow = assistant.ask("How long was the longest wait for an occupational therapy assessment?", None, conv)
    assert follow.filters == {"kind": "lga_peer_challenge"}
    assert_cited(lib, follow)
    assert {c.kind for c in follow.citations} == {"lga_peer_challenge"}
    assert all("27 weeks" not in c.quote for c in follow.citations)  # the assessment's figure is out of scope


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_an_empty_question_is_a_query_error(assistant: Assistant, question: str) -> None:
    with pytest.raises(QueryError, match="the question is empty"):
        assistant.ask(question)


def test_an_over_long_question_is_a_query_error(assistant: Assistant) -> None:
    longest = ("How long were people waiting for occupational therapy? " * 40)[: MAX_QUESTION_CHARS - 1] + "?"
    assert len(longest) == MAX_QUESTION_CHARS
    assistant.ask(longest)  # at the limit: answered or refused, not an error
    with pytest.raises(QueryError, match=f"the question is {MAX_QUESTION_CHARS + 1:,} characters") as err:
        assistant.ask(longest + "?")
    assert f"limit is {MAX_QUESTION_CHARS:,}" in str(err.value)


def test_asking_an_empty_library_is_a_query_error(library: Library) -> None:
    with pytest.raises(QueryError, match="the library is empty"):
        Assistant(library).ask(RATING_Q)


# --- the command line --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(demo_store: Path) -> str:
    return str(demo_store)


def run_json(store: str, *args: str) -> object:
    result = run_cli(*args, "--json", store=store)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@functools.cache
def stored_text(store: str, doc_id: str) -> str:
    """The text a document's offsets index into, as `cqc-assistant show DOC_ID --text --json` gives it."""
    data = run_json(store, "show", doc_id, "--text")
    assert isinstance(data, dict) and data["doc_id"] == doc_id
    return str(data["text"])


def check_answer_json(store: str, data: object, question: str) -> dict[str, object]:
    assert isinstance(data, dict)
    assert set(data) >= ANSWER_FIELDS
    assert data["question"] == question
    assert isinstance(data["answer"], str) and isinstance(data["refused"], bool)
    citations = data["citations"]
    assert isinstance(citations, list)
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert all(set(c) >= CITATION_FIELDS for c in citations)
    assert_exact_citations(functools.partial(stored_text, store), citations)
    if data["refused"]:
        assert citations == []
    else:
        assert citations and "[1]" in data["answer"]
    return data


def test_cli_search_json_lists_passages_with_their_fields(store: str) -> None:
    data = run_json(store, "search", "occupational therapy waiting list", "-k", "5")
    assert isinstance(data, list) and 1 <= len(data) <= 5
    for p in data:
        assert set(p) >= PASSAGE_FIELDS
        assert p["text"] == stored_text(store, p["doc_id"])[p["start"] : p["end"]]
    # Best first: by the best sentence's probability of answering (the reranked top), or with --no-rerank by
    # the fusion's score.
    ranked = [p["answer_score"] for p in data if p["answer_score"] is not None]
    assert ranked and ranked == sorted(ranked, reverse=True) and data[0]["answer_score"] == ranked[0]
    fused = run_json(store, "search", "occupational therapy waiting list", "-k", "5", "--no-rerank")
    assert [p["score"] for p in fused] == sorted((p["score"] for p in fused), reverse=True)


def test_cli_search_json_applies_filters(store: str) -> None:
    everything = run_json(store, "search", "occupational therapy waiting list", "-k", "20")
    assert isinstance(everything, list) and len({p["kind"] for p in everything}) > 1
    data = run_json(
        store,
        "search",
        "occupational therapy waiting list",
        "-k",
        "20",
        "--kind",
        "lga_peer_challenge",
        "--council",
        "wyvernshire",
        "--since",
        "2024",
        "--until",
        "2024-12",
    )
    assert isinstance(data, list) and data
    assert {p["kind"] for p in data} == {"lga_peer_challenge"}
    assert all(WYVERNSHIRE in p["council"] for p in data)
    none = run_json(store, "search", "occupational therapy waiting list", "--kind", "other")
    assert none == []


def test_cli_ask_json_contract(store: str) -> None:
    data = check_answer_json(store, run_json(store, "ask", PEER_Q), PEER_Q)
    assert data["refused"] is False
    assert any("Joanna Whitlock" in c["quote"] for c in data["citations"])  # type: ignore[attr-defined]


def test_cli_ask_json_refusal(store: str) -> None:
    question = "What did CQC say about Manchester City Council?"
    data = check_answer_json(store, run_json(store, "ask", question), question)
    assert data["refused"] is True and "Manchester" in str(data["answer"])


@pytest.mark.parametrize("form", ["plain", "jsonl"])
def test_cli_ask_batch_gives_one_json_object_per_question_in_order(store: str, tmp_path: Path, form: str) -> None:
    questions = [FACTS[2][0], ABSENT[0][0], "x" * (MAX_QUESTION_CHARS + 1), PEER_Q, FACTS[5][0]]
    lines = [json.dumps({"q": q, "id": i}) if form == "jsonl" else q for i, q in enumerate(questions)]
    batch = tmp_path / f"questions.{'jsonl' if form == 'jsonl' else 'txt'}"
    batch.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")  # a blank line is skipped
    result = run_cli("ask", "--batch", str(batch), "--json", store=store)
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert len(out) == len(questions)
    answers = [json.loads(line) for line in out]
    assert [a["question"] for a in answers] == questions
    for q, a in zip(questions, answers, strict=True):
        check_answer_json(store, a, q)
    assert [a["refused"] for a in answers] == [False, True, True, False, False]
    assert "error" not in answers[0] and "limit is" in answers[2]["error"]  # one bad question does not stop the rest
    assert any("27 weeks" in c["quote"] for c in answers[0]["citations"])
    assert any("£24.60" in c["quote"] for c in answers[4]["citations"])


def test_cli_ask_batch_with_a_line_that_is_not_a_question_object(store: str, tmp_path: Path) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text(json.dumps({"q": PEER_Q}) + "\n" + json.dumps({"question": "no q"}) + "\n", encoding="utf-8")
    result = run_cli("ask", "--batch", str(batch), "--json", store=store)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {batch}:2: not a JSON object with a 'q' field"
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "waiting lists", "--kind", "bogus"), "unknown document kind 'bogus'"),
        (("ask", "What about waiting lists?", "--kind", "inspection"), "unknown document kind 'inspection'"),
        (("search", "waiting lists", "--since", "last week"), "--since 'last week' is not a date"),
        (("ask", "What about waiting lists?", "--since", "2024-13-01"), "--since '2024-13-01' is not a real date"),
        (("ask", "What about waiting lists?", "--council", "Manchester"), "no documents about council 'Manchester'"),
        (("ask", "--batch", "{batch}", "--until", "2025-02-30"), "--until '2025-02-30' is not a real date"),
    ],
)
def test_cli_bad_filter_values_exit_non_zero_with_one_line(
    store: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    batch = tmp_path / "q.txt"
    batch.write_text(PEER_Q + "\n", encoding="utf-8")
    result = run_cli(*(a.replace("{batch}", str(batch)) for a in args), "--json", store=store)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not an exception escaping the command
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and message in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "waiting lists", "--kind", "bogus"), "unknown document kind 'bogus'"),
        (("ask", "What about waiting lists?", "--since", "13/2024"), "--since '13/2024' is not a date"),
    ],
)
def test_cli_bad_filter_values_as_a_real_process(store: str, args: tuple[str, ...], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQC_ASSISTANT_LLM")}
    env |= {"CQC_ASSISTANT_EMBEDDER": "hash", "CQC_ASSISTANT_HOME": store}
    proc = subprocess.run(
        [sys.executable, "-m", "cqc_assistant", *args, "--store", store, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: ") and message in line
