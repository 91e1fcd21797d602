"""The demo documents apart from real work, and saved conversations (Python API and CLI).

Once a real document is in the library, the shipped demo documents (fictional Wyvernshire) are left out of
search, answers, briefings, peers and scorecards unless `include_demo` is asked for; `remove --demo` takes
them all out at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fictional import DEMO, OTHER_COUNCIL, OTHER_DOC, WYVERNSHIRE

from cqc_assistant.answer import Assistant
from cqc_assistant.briefing import build_briefing
from cqc_assistant.cli import cli
from cqc_assistant.config import Settings
from cqc_assistant.conversations import ConversationStore, answer_from_json
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.errors import NotFoundError, QueryError
from cqc_assistant.filters import Filters
from cqc_assistant.index.catalogue import Catalogue
from cqc_assistant.index.retriever import HybridRetriever
from cqc_assistant.ingest.pipeline import ingest, ingest_bytes
from cqc_assistant.library import Library
from cqc_assistant.scope import documents_in_scope, library_councils, make_filters
from cqc_assistant.scorecard import build_scorecard

OT = "How long do people wait for an occupational therapy assessment?"


@pytest.fixture
def demo_only(tmp_path: Path) -> Iterator[Library]:
    lib = Library.open(Settings(home=tmp_path / "store", embedder="hash"), HashEmbedder())
    assert ingest(lib, [str(DEMO)]).failed == 0
    yield lib
    lib.close()


def add_real(lib: Library) -> str:
    result = ingest_bytes(lib, "upload:fenmoor.md", OTHER_DOC.encode(), ".md")
    assert result.status == "added" and result.doc_id
    return result.doc_id


def test_a_library_of_only_the_demo_is_searched_as_it_is(demo_only: Library) -> None:
    docs = demo_only.documents()
    assert len(docs) == 4 and all(d.demo for d in docs)
    assert all(d.to_json()["demo"] is True for d in docs)
    assert demo_only.catalogue.hidden_demo() == frozenset()
    assert Assistant(demo_only).ask(OT + " In Wyvernshire?").citations


def test_demo_is_left_out_once_a_real_document_is_in(demo_only: Library) -> None:
    real = add_real(demo_only)
    demo = {d.doc_id for d in demo_only.documents() if d.demo}
    assert len(demo) == 4 and real not in demo
    assert demo_only.catalogue.hidden_demo() == demo

    found = HybridRetriever(demo_only).search("waiting occupational therapy assessment", k=20)
    assert found and {p.doc_id for p in found} == {real}
    both = HybridRetriever(demo_only).search("waiting occupational therapy assessment", Filters(include_demo=True), 20)
    assert {p.doc_id for p in both} & demo

    answer = Assistant(demo_only).ask(OT)
    assert not answer.refused and {c.doc_id for c in answer.citations} == {real}
    assert [d.doc_id for d in documents_in_scope(demo_only, Filters())] == [real]

    assert list(library_councils(demo_only).values()) == [OTHER_COUNCIL]
    assert WYVERNSHIRE in library_councils(demo_only, include_demo=True).values()
    with pytest.raises(QueryError, match="demo"):
        make_filters(demo_only, council="Wyvernshire")
    assert make_filters(demo_only, council="Wyvernshire", include_demo=True).council == WYVERNSHIRE
    named = Assistant(demo_only).ask("How long do people wait for an assessment in Wyvernshire?")
    assert named.refused and not named.citations

    assert [c.council for c in build_scorecard(demo_only).councils] == [OTHER_COUNCIL]
    assert WYVERNSHIRE in [c.council for c in build_scorecard(demo_only, include_demo=True).councils]
    briefing = build_briefing(demo_only, "Fenmoor Borough Council", "Assessing needs")
    assert briefing.peers_considered == ()  # Wyvernshire is no peer to real work
    with_demo = build_briefing(demo_only, "Fenmoor Borough Council", "Assessing needs", include_demo=True)
    assert with_demo.peers_considered == (WYVERNSHIRE,)


def test_stores_made_before_the_demo_flag_are_marked_by_source(demo_only: Library, tmp_path: Path) -> None:
    add_real(demo_only)
    path = demo_only.catalogue.path
    demo_only.close()
    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TABLE demo_documents")
        db.execute("DELETE FROM meta WHERE key = 'demo_marked'")
    db.close()
    again = Catalogue(path)
    try:
        assert len(again.demo_ids()) == 4
        assert {d.title for d in again.documents() if not d.demo} == {
            "Fenmoor Borough Council: local authority assessment"
        }
    finally:
        again.close()


def test_remove_demo_in_the_cli(demo_only: Library) -> None:
    add_real(demo_only)
    store = str(demo_only.settings.home)
    demo_only.close()
    env = {"CQC_ASSISTANT_EMBEDDER": "hash"}
    runner = CliRunner()
    gone = runner.invoke(cli, ["remove", "--demo", "--store", store], env=env)
    assert gone.exit_code == 0, gone.output
    assert gone.output.count("removed ") == 4
    listed = json.loads(runner.invoke(cli, ["docs", "--json", "--store", store], env=env).output)
    assert [d["council"] for d in listed] == [OTHER_COUNCIL] and listed[0]["demo"] is False
    again = runner.invoke(cli, ["remove", "--demo", "--store", store], env=env)
    assert again.exit_code == 0 and "no demo documents" in again.output
    neither = runner.invoke(cli, ["remove", "--store", store], env=env)
    assert neither.exit_code == 2 and "DOC_ID or --demo" in neither.output


def test_include_demo_in_the_cli(demo_only: Library) -> None:
    add_real(demo_only)
    store = str(demo_only.settings.home)
    demo_only.close()
    env = {"CQC_ASSISTANT_EMBEDDER": "hash"}
    args = ["search", "occupational therapy waiting", "--json", "--store", store, "-k", "20"]
    plain = json.loads(CliRunner().invoke(cli, args, env=env).output)
    every = json.loads(CliRunner().invoke(cli, [*args, "--include-demo"], env=env).output)
    assert {p["council"] for p in plain} == {OTHER_COUNCIL}
    assert any(WYVERNSHIRE in (p["council"] or "") for p in every)


def test_conversations_are_kept_renamed_and_deleted(demo_only: Library, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "conv" / "conversations.sqlite3")
    first = Assistant(demo_only).ask(OT + " In Wyvernshire?")
    second = Assistant(demo_only).ask("What did CQC say about Liverpool City Council?")
    cid = store.create(first.question)
    store.append(cid, first)
    store.append(cid, second)
    back = store.answers(cid)
    assert [a.to_json() for a in back] == [first.to_json(), second.to_json()]
    assert answer_from_json(first.to_json()).citations == first.citations
    saved = store.recent()
    assert [(c.id, c.title, c.turns) for c in saved] == [(cid, first.question, 2)]
    store.rename(cid, "  OT waits  ")
    assert store.get(cid) is not None and store.get(cid).title == "OT waits"  # type: ignore[union-attr]
    with pytest.raises(QueryError):
        store.rename(cid, "   ")
    with pytest.raises(NotFoundError):
        store.rename("nope", "x")
    store.delete(cid)
    assert store.recent() == [] and store.answers(cid) == []
