"""Hybrid retrieval over the ingested demo documents (hash embedder): what a passage carries, every filter,
both sides of the fusion, the LangChain adapter and an incremental lexical index.

Most tests share one read-only library (the four Wyvernshire demo documents plus a short fictional assessment
of a second council, so that a council filter has something to exclude); the tests that remove documents get
their own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fictional import DEMO, OTHER_COUNCIL, PASSAGE_FIELDS, WYVERNSHIRE, copy_docs, ingested
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from cqc_assistant.config import Settings
from cqc_assistant.embedding import MiniLMEmbedder
from cqc_assistant.errors import QueryError
from cqc_assistant.filters import Filters
from cqc_assistant.index.lc_retriever import LangChainRetriever
from cqc_assistant.index.records import DocRecord
from cqc_assistant.index.retriever import RRF_K, HybridRetriever, fts_query
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library
from cqc_assistant.models import KINDS, Passage
from cqc_assistant.scope import make_filters

# Asked of every filter: the unfiltered results of these span every document, kind, theme and date.
BROAD = "Wyvernshire council adult social care occupational therapy waiting assessment leadership"
OT = "occupational therapy waiting list"


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    root = tmp_path_factory.mktemp("retrieval")
    with ingested(root / "store", copy_docs(root / "docs", other_council=True), added=5) as library:
        yield library


@pytest.fixture(scope="module")
def retriever(lib: Library) -> HybridRetriever:
    return HybridRetriever(lib)


@pytest.fixture(scope="module")
def docs_by_id(lib: Library) -> dict[str, DocRecord]:
    return {d.doc_id: d for d in lib.documents()}


def doc_of(lib: Library, council: str, kind: str = "cqc_assessment") -> DocRecord:
    (doc,) = [d for d in lib.documents() if d.council == council and d.kind == kind]
    return doc


def assert_exact(lib: Library, passages: list[Passage]) -> None:
    for p in passages:
        assert p.text == lib.catalogue.text(p.doc_id)[p.start : p.end]


# --- what a passage carries ------------------------------------------------------------------------------


def test_passages_carry_citation_fields_and_the_exact_stored_text(
    lib: Library, retriever: HybridRetriever, docs_by_id: dict[str, DocRecord]
) -> None:
    passages = retriever.search(OT, k=8)
    assert 1 <= len(passages) <= 8
    for p in passages:
        assert set(p.to_json()) >= PASSAGE_FIELDS
        doc = docs_by_id[p.doc_id]
        assert (p.title, p.source, p.kind) == (doc.title, doc.source, doc.kind)
        assert p.section in {s.title for s in lib.sections(p.doc_id)}
        assert p.theme is None or 1 <= p.theme <= 4
        assert p.qs is None or 1 <= p.qs <= 9
        text = lib.catalogue.text(p.doc_id)
        assert 0 <= p.start < p.end <= len(text)
        assert p.text == text[p.start : p.end]
        assert p.score > 0
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    assert len({p.chunk_id for p in passages}) == len(passages)


def test_theme_and_qs_of_a_passage_are_those_of_its_section(lib: Library, retriever: HybridRetriever) -> None:
    (top,) = retriever.search("Deprivation of Liberty Safeguards backlog applications", Filters(qs=7), 1)
    (section,) = [s for s in lib.sections(top.doc_id) if s.start <= top.start < s.end and s.title == top.section]
    assert (top.theme, top.qs) == (section.theme, section.qs) == (3, 7)


@pytest.mark.parametrize(
    ("query", "k", "message"),
    [("   ", 5, "empty"), ("x" * 2001, 5, "limit is 2,000"), (OT, 0, "-k must be"), (OT, 201, "-k must be")],
)
def test_bad_queries_are_clear_errors(retriever: HybridRetriever, query: str, k: int, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        retriever.search(query, k=k)


# --- filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "council"),
    [
        ("wyvernshire", WYVERNSHIRE),
        ("WYVERNSHIRE", WYVERNSHIRE),
        ("Wyvernshire County Council", WYVERNSHIRE),
        ("wyvernshire county council", WYVERNSHIRE),
        ("Wyvernshire Council", WYVERNSHIRE),
        ("fenmoor", OTHER_COUNCIL),
        ("FENMOOR BOROUGH COUNCIL", OTHER_COUNCIL),
    ],
)
def test_council_filter_keeps_only_that_council_and_matches_variants(
    lib: Library, retriever: HybridRetriever, value: str, council: str
) -> None:
    filters = make_filters(lib, council=value)
    assert filters.council == council
    councils = {d.doc_id: d.council for d in lib.documents()}
    unfiltered = retriever.search(OT, k=20)
    assert {councils[p.doc_id] for p in unfiltered} == {WYVERNSHIRE, OTHER_COUNCIL}  # something to exclude
    got = retriever.search(OT, filters, 20)
    assert got
    assert all(councils[p.doc_id] == council for p in got)
    assert all(council in (p.council or "").split("; ") for p in got)
    assert [p.chunk_id for p in got] == [p.chunk_id for p in retriever.search(OT, Filters(council=council), 20)]
    assert_exact(lib, got)


@pytest.mark.parametrize("value", ["Manchester", "Manchester City Council", "Atlantis"])
def test_a_council_not_in_the_library_is_a_clear_error(lib: Library, value: str) -> None:
    with pytest.raises(QueryError, match=f"no documents about council '{value}'") as err:
        make_filters(lib, council=value)
    assert WYVERNSHIRE in str(err.value) and OTHER_COUNCIL in str(err.value)  # it says which councils it holds


def test_kind_filter_keeps_only_that_kind(lib: Library, retriever: HybridRetriever) -> None:
    held = sorted({d.kind for d in lib.documents()})
    assert {p.kind for p in retriever.search(BROAD, k=60)} == set(held)  # something to exclude for each
    for kind in held:
        got = retriever.search(BROAD, make_filters(lib, kind=kind.upper()), 20)
        assert got, kind
        assert {p.kind for p in got} == {kind}
        assert {lib.document(p.doc_id).kind for p in got} == {kind}
        assert_exact(lib, got)


def test_a_kind_no_document_has_matches_nothing_and_an_unknown_kind_is_an_error(
    lib: Library, retriever: HybridRetriever
) -> None:
    absent = [k for k in KINDS if k not in {d.kind for d in lib.documents()}]
    assert absent
    for kind in absent:
        assert retriever.search(BROAD, make_filters(lib, kind=kind), 20) == []
    with pytest.raises(QueryError, match="unknown document kind 'inspection'"):
        make_filters(lib, kind="inspection")


@pytest.mark.parametrize(
    ("field", "value", "number"),
    [("theme", "3", 3), ("theme", "Leadership", 4), ("qs", "7", 7), ("qs", "Safeguarding", 7), ("qs", "1", 1)],
)
def test_theme_and_quality_statement_filters(
    lib: Library, retriever: HybridRetriever, field: str, value: str, number: int
) -> None:
    filters = make_filters(lib, **{field: value})
    assert getattr(filters, field) == number
    assert {getattr(p, field) for p in retriever.search(BROAD, k=60)} - {number}  # something to exclude
    got = retriever.search(BROAD, filters, 30)
    assert got
    assert all(getattr(p, field) == number for p in got)
    assert_exact(lib, got)


@pytest.mark.parametrize(
    ("field", "value"), [("theme", "Finances of the moon"), ("theme", "5"), ("qs", "10"), ("qs", "Space travel")]
)
def test_unknown_theme_or_quality_statement_is_an_error(lib: Library, field: str, value: str) -> None:
    with pytest.raises(QueryError, match=f"unknown {'theme' if field == 'theme' else 'quality statement'}"):
        make_filters(lib, **{field: value})


def test_filters_that_together_match_nothing_return_nothing(retriever: HybridRetriever) -> None:
    # The peer challenge is organised by theme, never by quality statement.
    assert retriever.search(BROAD, Filters(kind="lga_peer_challenge"), 5)
    assert retriever.search(BROAD, Filters(qs=7), 5)
    assert retriever.search(BROAD, Filters(kind="lga_peer_challenge", qs=7), 20) == []
    assert retriever.search(BROAD, Filters(council=OTHER_COUNCIL, theme=4), 20) == []


@pytest.mark.parametrize(
    ("since", "until"),
    [("2025", None), ("2025-03-14", None), (None, "2024-12-31"), ("2024-11", "2025-03-31"), (None, "2025-03-14")],
)
def test_date_filters_keep_only_documents_dated_in_range(
    lib: Library, retriever: HybridRetriever, since: str | None, until: str | None
) -> None:
    filters = make_filters(lib, since=since, until=until)
    dated = {d.doc_id: d.date for d in lib.documents()}

    def in_range(date: str | None) -> bool:
        """Compared at the document's own precision: '2024-10' is within --since 2024-10-15."""
        if date is None:  # an undated document never passes a date filter
            return False
        return (not filters.since or date >= filters.since[: len(date)]) and (
            not filters.until or date <= filters.until[: len(date)]
        )

    everything = retriever.search(BROAD, k=80)
    assert any(not in_range(dated[p.doc_id]) for p in everything)  # something to exclude
    got = retriever.search(BROAD, filters, 40)
    assert got
    for p in got:
        assert p.date == dated[p.doc_id]
        assert in_range(p.date), (p.date, filters)
    assert_exact(lib, got)


def test_a_date_range_after_every_document_returns_nothing(lib: Library, retriever: HybridRetriever) -> None:
    latest = max(d.date for d in lib.documents() if d.date)
    after = str(int(latest[:4]) + 1)
    assert retriever.search(BROAD, make_filters(lib, since=after), 20) == []
    assert retriever.search(BROAD, make_filters(lib, until="1999-12-31"), 20) == []


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "--since 'yesterday' is not a date"),
        ("2024-13", None, "--since '2024-13' is not a real date"),
        (None, "2025-02-30", "--until '2025-02-30' is not a real date"),
        ("2025-06", "2024", "--since 2025-06 is after --until 2024"),
    ],
)
def test_bad_dates_are_clear_errors(lib: Library, since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(QueryError) as err:
        make_filters(lib, since=since, until=until)
    assert message in str(err.value)


def test_since_a_documents_own_month_includes_that_document(lib: Library, retriever: HybridRetriever) -> None:
    month_dated = [d for d in lib.documents() if d.date_precision == "month"]
    if not month_dated:
        pytest.skip("no demo document is dated to the month")
    for doc in month_dated:
        got = retriever.search(BROAD, make_filters(lib, since=doc.date, kind=doc.kind), 20)
        assert doc.doc_id in {p.doc_id for p in got}, f"--since {doc.date} excludes {doc.title!r} dated {doc.date}"


# --- the two sides of the fusion -------------------------------------------------------------------------


@pytest.mark.parametrize("phrase", ["Moorview Lodge", "risk huddle", "video relay", "acoustic monitoring in 6 care"])
def test_an_exact_rare_phrase_ranks_its_passage_first(lib: Library, retriever: HybridRetriever, phrase: str) -> None:
    holders = [d.doc_id for d in lib.documents() if phrase in lib.catalogue.text(d.doc_id)]
    assert len(holders) == 1  # rare: one document says it
    top = retriever.search(phrase, k=5)[0]
    assert top.doc_id == holders[0]
    assert phrase in top.text
    assert top.text == lib.catalogue.text(top.doc_id)[top.start : top.end]


def test_a_rare_phrase_is_ranked_by_both_sides(retriever: HybridRetriever) -> None:
    # With reciprocal rank fusion one side alone gives at most 1/(RRF_K+1); more means both ranked it.
    top = retriever.search("weekly risk huddle", k=3)[0]
    assert "risk huddle" in top.text
    assert top.score > 1 / (RRF_K + 1)


def test_the_dense_side_answers_when_the_lexical_side_has_nothing(lib: Library, retriever: HybridRetriever) -> None:
    query = "What did they say about it?"
    assert fts_query(query) == ""  # only stopwords: the lexical side makes no query at all
    got = retriever.search(query, k=5)
    assert got
    assert all(p.score <= 1 / (RRF_K + 1) + 1e-6 for p in got)  # from one side only
    assert_exact(lib, got)
    # ...and under a filter, still only what the filter allows
    filtered = retriever.search(query, Filters(kind="lga_peer_challenge"), 5)
    assert filtered and {p.kind for p in filtered} == {"lga_peer_challenge"}


def test_convex_fusion_gives_the_same_filtered_passages(lib: Library) -> None:
    convex = HybridRetriever(lib, fusion="convex", dense_weight=0.4)
    got = convex.search("Moorview Lodge", Filters(kind="cqc_assessment"), 5)
    assert "Moorview Lodge" in got[0].text
    assert {p.kind for p in got} == {"cqc_assessment"}
    assert_exact(lib, got)


def test_the_fitted_fusion_needs_the_embedder_it_was_fitted_on(lib: Library) -> None:
    """Its weights are for MiniLM's similarities: with another embedder the search is reciprocal-rank fusion."""
    from cqc_assistant.ranker import default_fusion

    assert default_fusion().embedder and default_fusion().embedder != lib.embedder.name
    for query in ("occupational therapy waiting list", "Moorview Lodge care home closed"):
        fitted = HybridRetriever(lib, fusion="fitted").search(query, k=8)
        rrf = HybridRetriever(lib, fusion="rrf").search(query, k=8)
        assert [p.chunk_id for p in fitted] == [p.chunk_id for p in rrf]


def test_the_fitted_fusion_orders_by_its_model(lib: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the embedder it was fitted on, the fused order is the model's: best probability first."""
    import dataclasses

    from cqc_assistant.index import retriever as retriever_mod
    from cqc_assistant.ranker import default_fusion

    model = dataclasses.replace(default_fusion(), embedder=lib.embedder.name)
    monkeypatch.setattr(retriever_mod, "default_fusion", lambda: model)
    got = HybridRetriever(lib, fusion="fitted").search("occupational therapy waiting list", k=10)
    assert got and [p.score for p in got] == sorted((p.score for p in got), reverse=True)
    assert all(0 < p.score < 1 for p in got)  # probabilities, not reciprocal-rank sums
    assert_exact(lib, got)


@pytest.mark.parametrize("council", [None, WYVERNSHIRE])
def test_lexical_scores_are_normalised_by_the_best_match(lib: Library, council: str | None) -> None:
    # A filtered search's weakest match can score next to nothing: dividing by it once made "lex_norm" huge.
    filters = make_filters(lib, council=council) if council else None
    pool = HybridRetriever(lib).pool(BROAD, filters)
    norms = [f["lex_norm"] for _, f in pool if f["lex_rr"] > 0]
    assert norms and max(norms) == 1.0 and all(0.0 < n <= 1.0 for n in norms)
    best = next(f for _, f in pool if f["lex_rr"] == 1.0)
    assert best["lex_norm"] == 1.0


def test_langchain_retriever_returns_documents_with_citation_metadata(lib: Library, retriever: HybridRetriever) -> None:
    lc = LangChainRetriever(hybrid=retriever, filters=Filters(kind="cqc_assessment"), k=3)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("Moorview Lodge care home closed")
    assert 1 <= len(docs) <= 3
    assert all(isinstance(d, Document) for d in docs)
    assert "Moorview Lodge" in docs[0].page_content
    for d in docs:
        meta = d.metadata
        assert {"doc_id", "section", "start", "end"} <= set(meta)
        assert meta["kind"] == "cqc_assessment"
        assert d.page_content == lib.catalogue.text(meta["doc_id"])[meta["start"] : meta["end"]]
        assert meta["section"] in {s.title for s in lib.sections(meta["doc_id"])}
    unfiltered = LangChainRetriever(hybrid=retriever, k=8).invoke(BROAD)
    assert len(unfiltered) == 8 and len({d.metadata["kind"] for d in unfiltered}) > 1


@pytest.mark.slow
def test_minilm_dense_side_finds_a_paraphrase_with_no_words_in_common(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    library = Library.open(Settings.from_env({}, store=tmp_path / "store"), minilm)
    try:
        assert ingest(library, [str(DEMO)]).failed == 0
        query = "folk who cannot hear"
        match = fts_query(query)
        assert not match or library.search_lexical(match, Filters(), 40) == []  # nothing lexical
        got = HybridRetriever(library).search(query, k=3)
        assert any("deaf" in p.text for p in got), [p.text[:80] for p in got]
        assert_exact(library, got)
    finally:
        library.close()


# --- an incremental lexical index ------------------------------------------------------------------------


def fts_rows(library: Library, match: str | None = None) -> int:
    db = library.catalogue.db
    if match is None:
        return int(db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0])
    return int(db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchone()[0])


def test_remove_drops_a_documents_passages_and_reingest_brings_them_back(library: Library, tmp_path: Path) -> None:
    docs = copy_docs(tmp_path / "docs", other_council=False)
    assert ingest(library, [str(docs)]).failed == 0
    retriever = HybridRetriever(library)
    phrase = "Moorview Lodge"
    top = retriever.search(phrase, k=5)[0]
    doc = library.document(top.doc_id)
    assert phrase in top.text
    total, held = fts_rows(library), fts_rows(library, '"Moorview Lodge"')
    others = fts_rows(library, '"Joanna Whitlock"')  # said in the peer challenge and the news, not in this one
    assert total == library.catalogue.count_chunks() and held >= 1 and others >= 1

    library.remove(doc.doc_id)
    after = retriever.search(phrase, k=20)
    assert doc.doc_id not in {p.doc_id for p in after}
    assert all(phrase not in p.text for p in after)
    assert retriever.search(phrase, Filters(kind=doc.kind), 20) == []  # it was the only one of its kind
    assert fts_rows(library, '"Moorview Lodge"') == 0
    assert fts_rows(library) == total - doc.n_chunks
    assert fts_rows(library, '"Joanna Whitlock"') == others  # the other documents' rows are untouched

    report = ingest(library, [str(Path(doc.source))])
    assert [r.status for r in report.results] == ["added"]
    again = retriever.search(phrase, k=5)[0]
    assert again.doc_id == doc.doc_id and phrase in again.text
    assert again.text == library.catalogue.text(again.doc_id)[again.start : again.end]
    assert fts_rows(library) == total and fts_rows(library, '"Moorview Lodge"') == held


def test_a_changed_source_replaces_its_passages(library: Library, tmp_path: Path) -> None:
    docs = copy_docs(tmp_path / "docs", other_council=False)
    assert ingest(library, [str(docs)]).failed == 0
    retriever = HybridRetriever(library)
    path = docs / "wyvernshire-news.txt"
    old = retriever.search("Martin Ashdown", Filters(kind="news"), 5)[0]
    assert "Martin Ashdown" in old.text
    path.write_text(path.read_text(encoding="utf-8").replace("Martin Ashdown", "Priya Quenby"), encoding="utf-8")
    assert [r.status for r in ingest(library, [str(path)]).results] == ["updated"]
    assert all("Martin Ashdown" not in p.text for p in retriever.search("Martin Ashdown", k=20))
    new = retriever.search("Priya Quenby", Filters(kind="news"), 5)[0]
    assert "Priya Quenby" in new.text and new.doc_id != old.doc_id
    assert new.text == library.catalogue.text(new.doc_id)[new.start : new.end]
