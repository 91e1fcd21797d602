"""Facts-first answers and their refusal when the fact is missing, the fitted ranker's file, a refusal's closest
passages, and `search --batch`, over the fictional Wyvernshire and Fenmoor documents (hash embedder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fictional import OTHER_COUNCIL, PASSAGE_FIELDS, copy_docs, ingested
from helpers import run_cli

from cqc_assistant.answer import SOURCE_TIE, Assistant
from cqc_assistant.facts import Stated, fact_answer
from cqc_assistant.filters import Filters
from cqc_assistant.intent import Intent
from cqc_assistant.library import Library
from cqc_assistant.ranker import FEATURES, SUPPORT_FEATURES, Ranker, default_lead, default_ranker, default_support


@pytest.fixture(autouse=True)
def _extractive(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CQC_ASSISTANT_LLM_PROVIDER", "CQC_ASSISTANT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_docs(tmp_path_factory.mktemp("docs") / "docs", other_council=True)


@pytest.fixture(scope="module")
def lib(docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    with ingested(tmp_path_factory.mktemp("facts") / "store", docs, added=5) as library:
        yield library


def exact(lib: Library, doc_id: str, start: int, end: int, quote: str) -> bool:
    return lib.catalogue.text(doc_id)[start:end] == quote


@pytest.mark.parametrize(
    "question",
    [
        "What score did Fenmoor Borough Council get for assessing needs?",
        "What score did Fenmoor Borough Council receive for Assessing people's needs?",
        "How did Fenmoor Borough Council score on assessing needs?",
        "How did Fenmoor Borough Council score for assessing people's needs?",
        "What did Fenmoor Borough Council score for assessing needs?",
        "What did the CQC score Fenmoor Borough Council for assessing people's needs?",
        "What score did Fenmoor Borough Council get for assessing needs in 2025?",
    ],
)
def test_a_score_question_is_answered_from_the_scorecard_with_its_exact_passage(lib: Library, question: str) -> None:
    result = Assistant(lib).ask(question)
    assert not result.refused, result.answer
    (c,) = result.citations
    assert exact(lib, c.doc_id, c.start, c.end, c.quote)
    assert "2" in c.quote and lib.document(c.doc_id).council == OTHER_COUNCIL
    assert result.answer.startswith("Assessing needs: 2")


def test_a_missing_score_is_a_refusal_that_names_the_fact_and_cites_nothing(lib: Library) -> None:
    result = Assistant(lib).ask("What score did Fenmoor Borough Council get for safeguarding?")
    assert result.refused and result.citations == ()
    assert "no score for Safeguarding" in result.answer and OTHER_COUNCIL in result.answer


def test_a_score_asked_of_another_year_than_the_documents_is_refused_naming_it(lib: Library) -> None:
    result = Assistant(lib).ask("What score did Fenmoor Borough Council get for assessing needs in 2019?")
    assert result.refused and result.citations == ()
    assert "no score for Assessing needs" in result.answer and "in 2019" in result.answer


NO_SCORES_DOC = """# Brackenmoor District Council: peer challenge feedback

## Safeguarding
The peer team found that safeguarding referrals in Brackenmoor District Council were triaged within two days,
and that partners knew how to raise a concern.
"""


def test_a_score_for_a_council_whose_documents_state_none_is_refused_not_searched(tmp_path: Path) -> None:
    """The library holds the council, but nothing it holds states a score: the answer names the missing fact
    rather than quoting whatever sentence about safeguarding is nearest."""
    docs = copy_docs(tmp_path / "docs", other_council=False)
    (docs / "brackenmoor-peer-challenge.md").write_text(NO_SCORES_DOC, encoding="utf-8")
    with ingested(tmp_path / "store", docs, added=5) as library:
        result = Assistant(library).ask("What score did Brackenmoor District Council get for safeguarding?")
        assert result.refused and result.citations == ()
        assert "no score for Safeguarding" in result.answer and "Brackenmoor" in result.answer
        which = Assistant(library).ask("Which quality statements did Brackenmoor District Council score 2 in?")
        assert which.refused and "no quality statement scores for Brackenmoor District Council" in which.answer
        plain = Assistant(library, facts_first=False).ask(
            "What did the peer team find on safeguarding in Brackenmoor District Council?"
        )
        assert not plain.refused and "triaged within two days" in plain.citations[0].quote


def test_the_overall_rating_is_answered_with_an_exact_citation(lib: Library) -> None:
    result = Assistant(lib).ask("What overall rating did CQC give Fenmoor Borough Council?")
    assert not result.refused, result.answer
    c = result.citations[0]
    assert exact(lib, c.doc_id, c.start, c.end, c.quote) and "requires improvement" in c.quote.lower()


@pytest.mark.parametrize(
    "question",
    [
        "What overall rating did CQC give Fenmoor Borough Council?",
        "What is Fenmoor Borough Council's overall rating?",
        "How was Fenmoor Borough Council rated overall?",
        "What rating did Fenmoor Borough Council get?",
    ],
)
def test_the_overall_rating_is_said_first_and_cited_to_a_passage_stating_it(lib: Library, question: str) -> None:
    result = Assistant(lib).ask(question)
    assert not result.refused, result.answer
    assert result.answer.startswith("Overall rating: Requires improvement [")
    n = int(result.answer.split("[", 1)[1].split("]", 1)[0])
    c = result.citations[n - 1]
    assert exact(lib, c.doc_id, c.start, c.end, c.quote) and "requires improvement" in c.quote.lower()
    assert lib.document(c.doc_id).council == OTHER_COUNCIL


def test_the_overall_percentage_is_said_first_and_cited_to_a_passage_stating_it(lib: Library) -> None:
    result = Assistant(lib).ask("What overall percentage did Wyvernshire County Council get from the CQC?")
    assert result.answer.startswith("Overall percentage: 75% [")
    n = int(result.answer.split("[", 1)[1].split("]", 1)[0])
    c = result.citations[n - 1]
    assert exact(lib, c.doc_id, c.start, c.end, c.quote) and "75%" in c.quote


TITLED_DOC = """Brackenmoor District Council adult social care: CQC rating Requires improvement (58%)

Brackenmoor District Council's adult social care was assessed by the Care Quality Commission in March 2025.

Inspectors gave Brackenmoor District Council an overall score of 58 after the visit, and found waiting lists
for assessments had fallen over the year.
"""


def test_an_overall_figure_is_quoted_from_the_body_rather_than_the_title_line(tmp_path: Path) -> None:
    """The title line and the body both state 58: the answer quotes the body's sentence, which says what was
    found (the title only says what the document is about)."""
    docs = copy_docs(tmp_path / "docs", other_council=False)
    (docs / "brackenmoor-news.txt").write_text(TITLED_DOC, encoding="utf-8")
    question = "What overall score did Brackenmoor District Council get?"
    with ingested(tmp_path / "store", docs, added=5) as library:
        result = Assistant(library).ask(question)
        assert result.answer.startswith("Overall percentage: 58% ["), result.answer
        n = int(result.answer.split("[", 1)[1].split("]", 1)[0])
        c = result.citations[n - 1]
        assert c.quote.startswith("Inspectors gave") and exact(library, c.doc_id, c.start, c.end, c.quote)
        # The ranker's quotes put the title line first: the body's sentence is quoted all the same.
        fact = fact_answer(library, Intent.of(question, library), Filters(council="Brackenmoor District Council"))
        assert isinstance(fact, Stated)
        text = library.text(c.doc_id)
        title = replace(c, start=0, end=text.index("\n"), quote=text[: text.index("\n")])
        answer = fact.answer(library, [title, c])
        assert answer is not None and answer.citations[0].quote == c.quote


@pytest.mark.parametrize(
    "question",
    [
        "When was the CQC assessment of Wyvernshire County Council published?",
        "On what date did CQC publish its report on Wyvernshire County Council?",
        "What day was Wyvernshire County Council's assessment published?",
        "When did the CQC publish Wyvernshire County Council's local authority assessment?",
    ],
)
def test_the_publication_date_is_said_first_and_cited_to_the_line_stating_it(lib: Library, question: str) -> None:
    result = Assistant(lib).ask(question)
    assert result.answer.startswith("Published: 14 March 2025"), result.answer
    c = next(c for c in result.citations if "14 March 2025" in c.quote)
    assert exact(lib, c.doc_id, c.start, c.end, c.quote)
    assert lib.document(c.doc_id).kind in ("cqc_assessment", "cqc_press_release")


MONTH_ONLY_DOC = """# CQC rates Brackenmoor District Council's adult social care as requires improvement

Published: March 2025

The Care Quality Commission has rated Brackenmoor District Council as requires improvement for how it meets its
duties under the Care Act. Waiting lists for occupational therapy were long.
"""


def test_a_publication_day_asked_when_only_the_month_is_stated_is_refused_naming_it(tmp_path: Path) -> None:
    docs = copy_docs(tmp_path / "docs", other_council=False)
    (docs / "brackenmoor-press-release.md").write_text(MONTH_ONLY_DOC, encoding="utf-8")
    with ingested(tmp_path / "store", docs, added=5) as library:
        day = Assistant(library).ask("On what date was the CQC report on Brackenmoor District Council published?")
        assert day.refused and day.citations == ()
        assert "only the month or year" in day.answer and "March 2025" in day.answer
        month = Assistant(library).ask("When was the CQC report on Brackenmoor District Council published?")
        assert month.answer.startswith("Published: March 2025 ["), month.answer


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What overall percentage did Fenmoor Borough Council get?", "no overall percentage for Fenmoor"),
        ("What overall score did Fenmoor Borough Council receive from the CQC?", "no overall percentage for Fenmoor"),
        ("What percentage did Fenmoor Borough Council score in its assessment?", "no overall percentage for Fenmoor"),
        ("What overall rating did Fenmoor Borough Council get in 2019?", "no overall rating for Fenmoor"),
    ],
)
def test_a_missing_overall_figure_is_a_refusal_that_names_it(lib: Library, question: str, missing: str) -> None:
    result = Assistant(lib).ask(question)
    assert result.refused and result.citations == ()
    assert missing in result.answer


@pytest.mark.parametrize(
    "question",
    [
        "Which quality statements did Wyvernshire County Council score 4 in?",
        "What quality statement did Wyvernshire County Council score an exceptional standard in?",
        "Which quality statement got a score of 4 in Wyvernshire County Council?",
        "In which quality statements did CQC score Wyvernshire County Council 4?",
    ],
)
def test_which_statements_got_a_score_is_answered_from_the_scorecard(lib: Library, question: str) -> None:
    result = Assistant(lib).ask(question)
    assert result.answer == "Scored 4: Partnerships and communities [1].", result.answer
    (c,) = result.citations
    assert exact(lib, c.doc_id, c.start, c.end, c.quote) and "4" in c.quote


def test_which_statement_scored_best_lists_every_stated_score_highest_first(lib: Library) -> None:
    result = Assistant(lib).ask("In which quality statement did Wyvernshire County Council get its highest score?")
    assert result.answer.startswith("Scored 4: Partnerships and communities [1]. Scored 3: Assessing needs [2]")
    assert len(result.citations) == 9 and result.answer.index("Scored 3") < result.answer.index("Scored 2")
    for c in result.citations:
        assert exact(lib, c.doc_id, c.start, c.end, c.quote)


def test_which_statements_got_a_score_no_statement_got_is_refused_naming_it(lib: Library) -> None:
    result = Assistant(lib).ask("Which quality statements did Fenmoor Borough Council score 3 in?")
    assert result.refused and result.citations == ()
    assert (
        "Of the 1 quality statement scores the library states for Fenmoor Borough Council, none is 3" in result.answer
    )


def test_without_facts_first_the_ranker_answers_the_same_question(lib: Library) -> None:
    result = Assistant(lib, facts_first=False).ask("What score did Fenmoor Borough Council get for safeguarding?")
    assert not result.answer.startswith("The library does not say. The library states no score")


def test_a_refusal_lists_the_three_closest_passages_as_not_answering(lib: Library) -> None:
    result = Assistant(lib).ask("What did the council say about cryptocurrency mining?")
    assert result.refused and result.citations == ()
    assert len(result.closest) == 3
    for c in result.closest:
        assert exact(lib, c.doc_id, c.start, c.end, c.quote)
    data = result.to_json()
    assert [set(c) for c in data["closest"]] == [{"doc_id", "title", "section", "start", "end", "quote"}] * 3


def test_an_answer_has_no_closest_passages(lib: Library) -> None:
    result = Assistant(lib).ask("Who commissioned the peer challenge?")
    assert not result.refused and result.closest == () and result.to_json()["closest"] == []


def test_the_shipped_ranker_loads_and_scores_deterministically(tmp_path: Path) -> None:
    r = default_ranker()
    assert r.features == FEATURES and r.data_version and 0 < r.threshold < 1 and 0 < r.second_ratio <= 1
    x = np.random.default_rng(7).random((50, len(FEATURES)))
    first = r.score(x)
    assert np.all((first > 0) & (first < 1)) and len(set(np.round(first, 6))) > 1
    copy = tmp_path / "ranker.json"
    copy.write_text(json.dumps({"sentences": r.to_json()}))
    again = Ranker.load(copy).score(x)
    assert np.allclose(first, again, atol=1e-6)
    support = default_support()
    assert support.features == SUPPORT_FEATURES and 0 < support.threshold < 1
    assert support.data_version == r.data_version
    # More of the question's words in the sentence never lowers its probability (the weight is positive).
    up = x.copy()
    up[:, FEATURES.index("lexical")] += 0.5
    assert np.all(r.score(up) >= first)


def test_the_support_to_answer_reads_the_best_sentences_year_and_heading() -> None:
    """ "How many files did the peers audit in 2023?" answered best by a sentence of a 2025 review: the support
    model reads the best sentence's `year_miss`, and the shipped one learned that it argues for a refusal."""
    from cqc_assistant.ranker import support_features

    x = np.random.default_rng(3).random((6, len(FEATURES)))
    x[:, FEATURES.index("year_miss")] = 0.0
    probs = np.array([0.2, 0.9, 0.1, 0.3, 0.05, 0.4])
    missed = x.copy()
    missed[1, FEATURES.index("year_miss")] = 1.0  # the best sentence only
    at = SUPPORT_FEATURES.index("top_year_miss")
    assert support_features(x, probs)[at] == 0.0 and support_features(missed, probs)[at] == 1.0
    support = default_support()
    same, other = (support.score(np.array([support_features(v, probs)]))[0] for v in (x, missed))
    assert other < same
    # A best sentence under a heading close in meaning to the question is better support than one under another.
    near = x.copy()
    near[1, FEATURES.index("heading_dense")] += 0.5
    assert (
        support_features(near, probs)[SUPPORT_FEATURES.index("top_heading_dense")]
        > support_features(x, probs)[SUPPORT_FEATURES.index("top_heading_dense")]
    )
    assert support.score(np.array([support_features(near, probs)]))[0] > same


def test_the_support_to_answer_reads_how_many_candidates_hold_the_kind_asked_for() -> None:
    """ "When was ... published?" with one dated sentence among many undated ones is a weaker case for answering
    than with many dated ones: the support model reads the share (over at least TYPED_OVER candidates, so a
    small library's few sentences that all hold numbers are not a large share), and the shipped one learned
    its direction."""
    from cqc_assistant.ranker import TYPED_OVER, support_features

    at = SUPPORT_FEATURES.index("typed_share")
    kind = FEATURES.index("kind_match")
    rng = np.random.default_rng(5)
    x = rng.random((TYPED_OVER + 10, len(FEATURES)))
    x[:, kind] = 0.0
    probs = rng.random(len(x))
    few, many = x.copy(), x.copy()
    few[:2, kind] = 1.0
    many[:20, kind] = 1.0
    assert support_features(few, probs)[at] == pytest.approx(2 / len(x))
    assert support_features(many, probs)[at] == pytest.approx(20 / len(x))
    support = default_support()
    assert (
        support.score(np.array([support_features(many, probs)]))[0]
        > support.score(np.array([support_features(few, probs)]))[0]
    )
    small = x[:4].copy()
    small[:, kind] = 1.0  # every sentence of a four-sentence library holds a number
    assert support_features(small, probs[:4])[at] == pytest.approx(4 / TYPED_OVER)


def test_the_lead_model_loads_deterministically_and_chooses_the_first_citation(lib: Library, tmp_path: Path) -> None:
    lead = default_lead()
    assert lead.features == FEATURES and lead.data_version == default_ranker().data_version
    x = np.random.default_rng(11).random((40, len(FEATURES)))
    copy = tmp_path / "ranker.json"
    copy.write_text(json.dumps({"lead": lead.to_json()}))
    assert np.allclose(lead.score(x), Ranker.load(copy, part="lead").score(x), atol=1e-6)
    # The lead's own choice is cited first; with a lead that reverses the ranker, the ranker's worst comes first.
    question = "Who commissioned the peer challenge?"
    cands = Assistant(lib).rank(question, Assistant(lib).retriever.search(question, k=8), Filters())
    assert cands[0] is max(cands, key=lambda c: float(lead.score(np.array([[c.x[f] for f in FEATURES]]))[0]))
    ranker = default_ranker()
    reverse = Ranker(FEATURES, ranker.mean, ranker.scale, -ranker.weights, 0.0, threshold=0.0, second_ratio=1.0)
    flipped = Assistant(lib, lead=reverse).rank(question, Assistant(lib).retriever.search(question, k=8), Filters())
    assert flipped[0].score == min(c.score for c in flipped)
    rest = [c.score + SOURCE_TIE * c.x.get("source_agree", 0.0) for c in flipped[1:]]
    assert rest == sorted(rest, reverse=True)


def test_a_ranker_file_with_other_features_is_a_clear_error(tmp_path: Path) -> None:
    data = default_ranker().to_json() | {"features": ["lexical"]}
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps({"sentences": data}))
    with pytest.raises(Exception, match="features do not match"):
        Ranker.load(path)


def test_cli_search_batch_gives_one_list_a_line_in_order(lib: Library, tmp_path: Path) -> None:
    store = str(lib.settings.home)
    lines = [
        {"q": "occupational therapy waiting list", "k": 3},
        {"q": "home care rate per hour", "council": "Wyvernshire", "kind": "cqc_assessment"},
        {"q": "occupational therapy waiting list", "kind": "bogus"},
        {"q": "occupational therapy waiting list", "council": "fenmoor borough council", "k": 2},
    ]
    batch = tmp_path / "queries.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = run_cli("search", "--batch", str(batch), "--json", store=store)
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 4
    assert isinstance(out[0], list) and 1 <= len(out[0]) <= 3
    assert all(set(p) >= PASSAGE_FIELDS for p in out[0])
    assert out[1] and {p["kind"] for p in out[1]} == {"cqc_assessment"}
    assert "unknown document kind 'bogus'" in out[2]["error"]
    assert out[3] and len(out[3]) <= 2 and all(OTHER_COUNCIL in (p["council"] or "") for p in out[3])
    single = run_cli("search", lines[0]["q"], "-k", "3", "--json", store=store)
    assert json.loads(single.stdout) == out[0]


def test_cli_search_batch_rejects_a_line_without_a_question(lib: Library, tmp_path: Path) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"q": "waiting"}\n{"council": "Wyvernshire"}\n', encoding="utf-8")
    result = run_cli("search", "--batch", str(batch), "--json", store=lib.settings.home)
    assert result.exit_code != 0 and "bad.jsonl:2: not a JSON object with a 'q' field" in result.output
    both = run_cli("search", "x", "--batch", str(batch), store=lib.settings.home)
    assert both.exit_code != 0 and "either a QUERY or --batch" in both.output
