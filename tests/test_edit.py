"""Corrections by the user: `cqc-assistant edit`, the Library API and the app's facts panel.

A correction is stored apart from detection, wins over it wherever a document's facts are read (listing,
show, scorecard, the council/kind/date filters on both sides of a search, in a real embedded Chroma),
survives a re-ingest of the same content and goes into the audit log; a bad edit changes nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fictional import DEMO, OTHER_COUNCIL, WYVERNSHIRE
from helpers import run_cli
from streamlit.testing.v1 import AppTest

from cqc_assistant.audit import AuditLog
from cqc_assistant.config import Settings
from cqc_assistant.consistency import check
from cqc_assistant.councils import council_token
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.index.retriever import HybridRetriever
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library
from cqc_assistant.scope import make_filters
from cqc_assistant.scorecard import build_scorecard

APP = Path(__file__).resolve().parent.parent / "cqc_assistant" / "app" / "main.py"
NEWS = "wyvernshire-news.txt"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO, tmp_path / "docs"))


@pytest.fixture
def lib(store: Path, docs: Path) -> Iterator[Library]:
    library = Library.open(Settings.from_env(store=store), HashEmbedder())
    assert ingest(library, [str(docs)]).failed == 0
    yield library
    library.close()


def news_id(library: Library) -> str:
    return next(d.doc_id for d in library.documents() if d.source.endswith(NEWS))


def chroma_ids(library: Library, where: dict[str, object]) -> set[str]:
    """Chroma's own filter (what a search falls back to), not the catalogue's."""
    return set(library.vectors.collection.get(where=where)["ids"])  # type: ignore[arg-type]


def searched_docs(library: Library, query: str, **filters: str) -> set[str]:
    passages = HybridRetriever(library).search(query, make_filters(library, **filters), k=50)
    return {p.doc_id for p in passages}


def test_edit_wins_everywhere_and_is_marked(lib: Library, store: Path) -> None:
    doc_id = news_id(lib)
    result = run_cli("edit", doc_id[:6], "--council", OTHER_COUNCIL, "--kind", "cqc_press_release",
                     "--date", "9 May 2025", "--rating", "requires improvement", "--percent", "61%",
                     "--score", "safeguarding=2", "--score", "9=na", store=store)  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = {d["doc_id"]: d for d in json.loads(run_cli("docs", "--json", store=store).output)}
    news = listed[doc_id]
    assert (news["council"], news["councils"], news["kind"]) == (OTHER_COUNCIL, [OTHER_COUNCIL], "cqc_press_release")
    assert (news["date"], news["date_precision"], news["rating"], news["percent"]) == (
        "2025-05-09", "day", "Requires improvement", 61,
    )  # fmt: skip
    assert news["scores"] == {"7": 2} and news["not_assessed"] == [9]
    assert set(news["corrected"]) == {"council", "kind", "date", "rating", "percent", "score:7", "score:9"}
    assert news["detected"]["council"] == WYVERNSHIRE and news["detected"]["kind"] == "news"
    assert all(d["corrected"] == [] for i, d in listed.items() if i != doc_id)  # the others stay detected
    shown = json.loads(run_cli("show", doc_id, "--json", store=store).output)
    assert shown["council"] == OTHER_COUNCIL and shown["corrected"] == news["corrected"]
    assert all(s["councils"] == [OTHER_COUNCIL] for s in shown["sections"])
    human = run_cli("docs", store=store).output
    assert f"{OTHER_COUNCIL}*" in human and "corrected by a user" in human
    # the scorecard reads the corrected facts: the news item now speaks for the other council
    card = build_scorecard(lib, OTHER_COUNCIL).councils[0]
    assert card.scores[7] == 2 and card.entries[6].statements[0].corrected and card.not_assessed == [9]
    assert card.stated[0].rating == "Requires improvement" and card.stated[0].corrected == ("rating", "percent")
    # the audit log has each field: what was detected, shown before and shown after
    with AuditLog.for_settings(lib.settings) as log:
        edits = {e.field: e for e in log.corrections()}
    assert set(edits) == set(news["corrected"])
    assert (edits["council"].detected, edits["council"].after) == (WYVERNSHIRE, OTHER_COUNCIL)
    assert edits["score:9"].after == "na" and edits["kind"].doc_id == doc_id
    assert "council set" in run_cli("audit", "--corrections", store=store).output


def test_council_kind_and_date_filters_follow_a_correction_in_chroma_too(lib: Library) -> None:
    doc_id = news_id(lib)
    query = "adult social care rated good"
    assert doc_id in searched_docs(lib, query, council="Wyvernshire")
    lib.correct(doc_id, {"council": [OTHER_COUNCIL], "kind": "cqc_press_release", "date": "2025-05-09"})
    assert searched_docs(lib, query, council="Fenmoor") == {doc_id}  # resolved: the council is now held
    assert doc_id not in searched_docs(lib, query, council="Wyvernshire")
    assert doc_id in searched_docs(lib, query, kind="cqc_press_release")
    assert doc_id not in searched_docs(lib, query, kind="news")
    assert doc_id in searched_docs(lib, query, since="2025-05", until="2025-05")
    chunks = {f"{doc_id}:{i}" for i in range(lib.document(doc_id).n_chunks)}
    assert chroma_ids(lib, {f"c_{council_token(OTHER_COUNCIL)}": True}) == chunks
    assert not chroma_ids(lib, {f"c_{council_token(WYVERNSHIRE)}": True}) & chunks
    assert chroma_ids(lib, {"date_num": 20250509}) == chunks
    assert check(lib) == []
    # dropping the correction brings detection back, in both indexes
    lib.correct(doc_id, clear=["council", "kind", "date"])
    assert lib.document(doc_id).corrected == ()
    assert doc_id in searched_docs(lib, query, council="Wyvernshire", kind="news")
    assert chunks <= chroma_ids(lib, {f"c_{council_token(WYVERNSHIRE)}": True})
    assert not chroma_ids(lib, {f"c_{council_token(OTHER_COUNCIL)}": True})
    assert not chroma_ids(lib, {"date_num": 20250509})


def test_a_correction_survives_re_ingest_of_the_same_content(lib: Library, store: Path, docs: Path) -> None:
    doc_id = news_id(lib)
    assert run_cli("edit", doc_id, "--council", OTHER_COUNCIL, "--score", "7=2", store=store).exit_code == 0
    assert run_cli("remove", doc_id, store=store).exit_code == 0
    assert doc_id not in {d.doc_id for d in lib.documents()}
    report = ingest(lib, [str(docs / NEWS)])
    assert [r.status for r in report.results] == ["added"] and report.results[0].doc_id == doc_id
    again = lib.document(doc_id)
    assert again.council == OTHER_COUNCIL and again.scores[7] == 2 and "council" in again.corrected
    # the new version's chunk rows and vectors were tagged from the correction as they were written
    chunks = {f"{doc_id}:{i}" for i in range(again.n_chunks)}
    assert chroma_ids(lib, {f"c_{council_token(OTHER_COUNCIL)}": True}) == chunks
    assert searched_docs(lib, "adult social care", council=OTHER_COUNCIL) == {doc_id}
    assert check(lib) == []


def test_a_metadata_update_cut_short_is_finished_by_the_next_writer(lib: Library) -> None:
    doc_id = news_id(lib)
    lib.catalogue.correct(doc_id, {"council": [OTHER_COUNCIL]})  # as if killed before Chroma was updated
    assert lib.catalogue.stale_vector_meta() == [doc_id]
    assert not chroma_ids(lib, {f"c_{council_token(OTHER_COUNCIL)}": True})
    with lib.writer():
        pass
    assert lib.catalogue.stale_vector_meta() == []
    assert len(chroma_ids(lib, {f"c_{council_token(OTHER_COUNCIL)}": True})) == lib.document(doc_id).n_chunks


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["edit", "ffffffffff", "--kind", "news"], "no document with id"),
        (["edit", "{doc}", "--score", "safeguarding=5"], "must be 1 to 4"),
        (["edit", "{doc}", "--score", "wellbeing=3"], "unknown quality statement"),
        (["edit", "{doc}", "--score", "7"], "must look like"),
        (["edit", "{doc}", "--date", "2025-02-30"], "not a real date"),
        (["edit", "{doc}", "--date", "last spring"], "not a date"),
        (["edit", "{doc}", "--kind", "blog"], "not a document kind"),
        (["edit", "{doc}", "--rating", "excellent"], "not a CQC rating"),
        (["edit", "{doc}", "--percent", "140"], "outside 25 to 100"),
        (["edit", "{doc}", "--council", " ; "], "empty"),
        (["edit", "{doc}", "--clear", "rating"], "no correction to clear"),
        (["edit", "{doc}"], "nothing to change"),
        (["edit", "{doc}", "--kind", "news", "--score", "7=2", "--score", "7=3"], "given twice"),
    ],
)
def test_bad_edits_exit_non_zero_with_one_line_and_change_nothing(
    lib: Library, store: Path, args: list[str], words: str
) -> None:
    doc_id = news_id(lib)
    before = run_cli("docs", "--json", store=store).output
    version = lib.version()
    result = run_cli(*[a.format(doc=doc_id[:8]) for a in args], store=store)
    out = result.output
    assert result.exit_code != 0
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], out
    assert "Traceback" not in out
    assert run_cli("docs", "--json", store=store).output == before and lib.version() == version
    assert lib.catalogue.all_corrections() == {}
    with AuditLog.for_settings(lib.settings) as log:
        assert log.corrections() == []


# --- the app: what was detected, right after an upload, and its correction -------------------------

UPLOAD = """Northvale County Council welcomes its CQC assessment

Published: 3 April 2025

The Care Quality Commission has rated Northvale County Council as good in how it meets its duties under the
Care Act 2014. Inspectors praised the council's work with unpaid carers in Northvale.
"""


def test_app_shows_what_was_detected_after_an_upload_and_saves_a_correction(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(store))
    monkeypatch.setenv("CQC_ASSISTANT_SEED_DEMO", "0")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("views/library.py").run()
    at.file_uploader[0].set_value([("northvale-news.txt", UPLOAD.encode(), "text/plain")])
    at.button(key="FormSubmitter:upload-Add to library").click().run()
    assert not at.exception, at.exception
    lib = Library.open(Settings.from_env(store=store), HashEmbedder())
    try:
        [doc] = lib.documents()
        key = f"new-{doc.doc_id}"
        facts = {row["Fact"]: row for row in at.dataframe[0].value.to_dict("records")}
        assert facts["Council"]["Value"] == "Northvale County Council"
        assert facts["Date"]["Value"] == doc.date and facts["Rating"]["Value"] == (doc.rating or "—")
        assert facts["QS7 Safeguarding"]["Value"] == "not stated" and facts["Council"]["From"] == "detected"
        at.text_input(key=f"{key}-council").set_value(OTHER_COUNCIL)
        at.selectbox(key=f"{key}-score-7").set_value("3")
        at.button(key=f"FormSubmitter:{key}-edit-Save corrections").click().run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        fixed = lib.document(doc.doc_id)
        assert fixed.council == OTHER_COUNCIL and fixed.scores == {7: 3}
        assert set(fixed.corrected) == {"council", "score:7"}
        facts = {row["Fact"]: row for row in at.dataframe[0].value.to_dict("records")}
        assert facts["Council"]["Value"] == OTHER_COUNCIL
        assert facts["Council"]["From"] == "corrected by a user (detected: Northvale County Council)"
        assert any("Saved" in s.value for s in at.success)
        # a bad value is one sentence and changes nothing
        at.text_input(key=f"{key}-date").set_value("the 40th of May")
        at.button(key=f"FormSubmitter:{key}-edit-Save corrections").click().run()
        assert not at.exception and any("not a date" in e.value for e in at.error)
        assert lib.document(doc.doc_id).date == fixed.date
    finally:
        lib.close()
