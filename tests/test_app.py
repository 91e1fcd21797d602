"""The Streamlit app through AppTest: chat with citations, filters, refusals, library errors, rating, export.

Each test points CQC_ASSISTANT_HOME at a store pre-ingested with the demo documents (hash embedder).
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cqc_assistant.answer import Conversation
from cqc_assistant.app import runtime
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.export import FORMATS, export_answer, export_conversation, md_escape
from cqc_assistant.filters import Filters
from cqc_assistant.index.retriever import HybridRetriever
from cqc_assistant.ingest.pipeline import ingest_bytes
from cqc_assistant.library import Library
from cqc_assistant.models import Answer, Citation
from cqc_assistant.quotes import closest_citations

APP = Path(__file__).resolve().parent.parent / "cqc_assistant" / "app" / "main.py"
DEMO = APP.parent.parent / "demo"
TIMEOUT = 60
OT_QUESTION = "How long do people wait for occupational therapy in Wyvernshire?"


@pytest.fixture
def store(demo_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(demo_store))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.delenv(runtime.FACTORY_ENV, raising=False)
    (demo_store / "conversations.sqlite3").unlink(missing_ok=True)  # each test starts a new conversation
    return demo_store


def started(at: AppTest) -> AppTest:
    """Run the app, wait for its background start-up (model, store, demo), and run it again."""
    at.run()
    assert not at.exception, at.exception
    for boot in runtime.startups():
        assert boot.done.wait(TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(store: Path) -> Iterator[AppTest]:
    yield started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))


def html_of(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def test_chat_answer_shows_citation_and_side_panel(app: AppTest) -> None:
    ask(app, OT_QUESTION)
    assert not app.error, [e.value for e in app.error]
    assert len(app.chat_message) >= 2
    answer = app.session_state["turns"][-1]
    assert not answer.refused and answer.citations
    page = html_of(app)
    assert '<span class="cqc-ref">1</span>' in page
    assert 'class="cqc-card"' in page and "<mark>" in page
    c = answer.citations[0]
    assert c.quote.split(",")[0] in page
    assert "characters" in page and str(c.start) in page


def test_council_filter_is_applied_and_shown(app: AppTest) -> None:
    app.selectbox(key="f_council").set_value("Wyvernshire County Council").run()
    ask(app, "What did inspectors say about waiting lists?")
    answer = app.session_state["turns"][-1]
    assert answer.filters.get("council") == "Wyvernshire County Council"
    assert "Council: Wyvernshire County Council" in html_of(app)


def test_follow_up_keeps_the_council(app: AppTest) -> None:
    ask(app, OT_QUESTION)
    ask(app, "What about safeguarding?")
    turns = app.session_state["turns"]
    assert len(turns) == 2
    assert turns[1].filters.get("council") == "Wyvernshire County Council"


def test_refusal_for_a_council_not_in_the_library(app: AppTest) -> None:
    ask(app, "What did CQC say about Liverpool City Council?")
    answer = app.session_state["turns"][-1]
    assert answer.refused
    page = html_of(app)
    assert "The library does not say" in page and "cqc-refused" in page
    assert any("What was searched" in e.label for e in app.expander)


def test_bad_filter_dates_show_one_sentence(app: AppTest) -> None:
    import datetime as dt

    app.date_input(key="f_since").set_value(dt.date(2025, 1, 1))
    app.date_input(key="f_until").set_value(dt.date(2024, 1, 1)).run()
    assert not app.exception
    assert any("after" in e.value for e in app.error)


def test_library_page_reports_a_bad_file(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "lib-store"
    shutil.copytree(store, home)
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(home))
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.switch_page("views/library.py").run()
    assert not at.exception, at.exception
    at.file_uploader[0].set_value(
        [
            ("broken.pdf", b"this is not a pdf at all", "application/pdf"),
            ("empty.txt", b"   \n", "text/plain"),
        ]
    )
    at.button(key="FormSubmitter:upload-Add to library").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("broken.pdf" in e for e in errors), errors
    assert any("empty.txt" in e for e in errors), errors
    assert all("Traceback" not in e for e in errors)

    at.text_input(key="url-input").set_value("http://127.0.0.1:9/nothing-listens-here")
    at.button(key="FormSubmitter:url-Fetch and add").click().run()
    assert not at.exception, at.exception
    assert any("127.0.0.1:9" in e.value for e in at.error), [e.value for e in at.error]


def test_library_page_lists_documents_and_text_escaped(app: AppTest) -> None:
    app.switch_page("views/library.py").run()
    assert not app.exception, app.exception
    assert app.dataframe, "no documents table"
    assert any("Stored text" in e.label for e in app.expander)
    assert app.code and app.code[0].value  # the stored text, shown as code (never as HTML)


def rating_tiles(at: AppTest) -> dict[str, str]:
    """The calculator's result tiles (label → value) as the page shows them."""
    return dict(re.findall(r'cqc-tile-label">([^<]*)</div><div class="cqc-tile-value">([^<]*)</div>', html_of(at)))


def set_scores(at: AppTest, scores: list[int]) -> None:
    for n, score in zip(range(1, 10), scores, strict=True):
        at.text_input(key=f"score-{n}").set_value(str(score))


def test_rating_page_nine_scores(app: AppTest) -> None:
    app.switch_page("views/rating.py").run()
    assert not app.exception, app.exception
    set_scores(app, [3, 3, 2, 3, 4, 3, 3, 3, 3])
    app.run()
    tiles = rating_tiles(app)
    assert tiles["Overall"] == "75%"
    assert tiles["Rating"] == "Good"
    html = html_of(app)  # what-if both ways: 27/36 is five steps from either neighbouring band
    assert "Outstanding is 13 percentage points away" in html
    assert "Requires improvement is 13 percentage points below (5 score steps of -1" in html
    assert "QS3 Equity in experience and outcomes 2→3; any 4 of QS1, QS2, QS4, QS6, QS7, QS8, QS9: 3→4" in html
    ways_shown = [m.value for m in app.markdown if str(m.value).startswith("- ") and "⇒" in str(m.value)]
    assert len(ways_shown) == 2 + 3  # two kinds of change up; three of four down


def test_rating_page_boundary_warning_and_scorecard(app: AppTest) -> None:
    app.switch_page("views/rating.py").run()
    set_scores(app, [2, 3, 2, 3, 2, 3, 2, 3, 2])  # 22/36 = 61.1% → 62%
    app.run()
    assert rating_tiles(app)["Rating"] == "Requires improvement"
    app.button(key="load-Wyvernshire County Council").click().run()
    assert rating_tiles(app)["Overall"] == "75%"
    assert any("Wyvernshire County Council" in e.label for e in app.expander)


@pytest.mark.parametrize("bad", ["5", "0", "x", "3.5"])
def test_rating_page_shows_an_invalid_score_inline(app: AppTest, bad: str) -> None:
    app.switch_page("views/rating.py").run()
    set_scores(app, [3] * 9)
    app.text_input(key="score-4").set_value(bad)
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [
        f"“{bad}” is not a score: enter a whole number from 1 to 4, or leave it blank."
    ]
    assert rating_tiles(app) == {}  # no rating from the other eight while one score is wrong
    assert any("Correct the score marked above" in i.value for i in app.info)
    app.text_input(key="score-4").set_value("4").run()
    assert not app.error and rating_tiles(app)["Overall"] == "78%"  # 28/36


def test_interview_prep_page(app: AppTest) -> None:
    app.switch_page("views/prep.py").run()
    app.selectbox(key="prep_qs").set_value(7)
    app.button(key="FormSubmitter:briefing-form-Prepare briefing").click().run()
    assert not app.exception, app.exception
    briefing = app.session_state["briefing"]
    assert [s.qs for s in briefing.statements] == [7]
    page = html_of(app)
    assert "cqc-lines" in page and 'class="cqc-ref"' in page
    assert {b.label for b in app.download_button} == {"Markdown", "Word", "PDF"}


def test_export_buttons_and_bytes(app: AppTest) -> None:
    ask(app, OT_QUESTION)
    ask(app, "What about safeguarding?")
    labels = [b.label for b in app.download_button]
    assert labels.count("Markdown") == 2 and labels.count("Word") == 2 and labels.count("PDF") == 2
    turns = app.session_state["turns"]
    quote = turns[0].citations[0].quote
    for fmt in FORMATS:
        one = export_answer(turns[-1], fmt, library_version=1)
        every = export_conversation(turns, fmt, library_version=1)
        assert one and every
    md = export_conversation(turns, "md", library_version=1).decode()
    assert md_escape(quote) in md


class FakeAssistant:
    """Returns one canned answer whose quote holds markup, to check the app escapes it."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.calls: list[str] = []

    def ask(self, question: str, filters: Filters | None = None, conversation: Conversation | None = None) -> Answer:
        quote = "Staff said <script>window.__pwned=1</script> **loudly** [link](javascript:x) $x$."
        c = Citation(
            n=1, doc_id="0000000000000000", title="<b>Fake</b> report", source="javascript:alert(1)",
            section="<i>Section</i>", start=0, end=len(quote), quote=quote,
            council="Wyvernshire County Council",
        )  # fmt: skip
        return Answer(question=question, answer=f"{quote} [1]", refused=False, citations=(c,), filters={})


def test_fake_answerer_is_injectable_and_markup_is_escaped(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "assistant_factory", FakeAssistant)
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    ask(at, "Anything?")
    page = html_of(at)
    assert "&lt;script&gt;window.&#95;&#95;pwned=1&lt;/script&gt;" in page
    assert "<script" not in page and "<b>Fake" not in page and "<i>Section" not in page
    assert "javascript:" not in page.replace("javascript&#58;", "")  # no live javascript: link
    assert "&#42;&#42;loudly&#42;&#42;" in page


def test_factory_from_environment(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.FACTORY_ENV, f"{__name__}:FakeAssistant")
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    ask(at, "Anything?")
    assert "&lt;script&gt;" in html_of(at), [e.value for e in at.error]
    monkeypatch.setenv(runtime.FACTORY_ENV, "no.such.module:thing")
    ask(at, "Again?")
    assert any("does not name a callable" in e.value for e in at.error)


def test_empty_store_is_seeded_with_the_demo_on_first_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "fresh"
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(home))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.delenv(runtime.SEED_ENV, raising=False)
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    assert not at.exception, at.exception
    assert any("demo documents were loaded" in c.value for c in at.caption)
    lib = Library.open(Settings(home=home, embedder="hash"), HashEmbedder())
    try:
        assert len(lib.documents()) == 4
    finally:
        lib.close()


def test_configuration_error_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(tmp_path / "x"))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "bogus")
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    assert not at.exception, at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "CQC_ASSISTANT_EMBEDDER" in message and message.endswith(".") and "\n" not in message


# --- issue 16: start-up, demo apart, a chat that keeps its work ----------------------------------


@pytest.fixture
def mixed_store(demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo documents and one real (fictional) council's report: the demo is then left out."""
    from fictional import OTHER_DOC

    home = tmp_path / "mixed"
    shutil.copytree(demo_store, home)
    (home / "conversations.sqlite3").unlink(missing_ok=True)
    lib = Library.open(Settings(home=home, embedder="hash"), HashEmbedder())
    try:
        assert ingest_bytes(lib, "upload:fenmoor.md", OTHER_DOC.encode(), ".md").status == "added"
    finally:
        lib.close()
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(home))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.delenv(runtime.FACTORY_ENV, raising=False)
    return home


FENMOOR = "Fenmoor Borough Council"


def test_demo_is_left_out_of_the_app_until_included_then_removed(mixed_store: Path) -> None:
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    assert at.selectbox(key="f_council").options == ["Any", FENMOOR]
    ask(at, "How long do people wait for an occupational therapy assessment?")
    answer = at.session_state["turns"][-1]
    assert not answer.refused and {c.council for c in answer.citations} == {FENMOOR}

    at.toggle(key="include_demo").set_value(True).run()
    assert "Wyvernshire County Council" in at.selectbox(key="f_council").options
    ask(at, OT_QUESTION)
    assert {c.council for c in at.session_state["turns"][-1].citations} == {"Wyvernshire County Council"}

    at.switch_page("views/library.py").run()
    assert any("5 documents" in c.value for c in at.sidebar.caption)
    at.button(key="remove-demo").click().run()
    assert not at.exception, at.exception
    assert any("1 document ·" in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
    assert sum("Removed:" in s.value for s in at.success) == 4
    assert not at.toggle  # nothing left to include


@pytest.fixture
def own_store(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo store this test may write to (and a start-up of its own)."""
    home = tmp_path / "own-store"
    shutil.copytree(store, home)
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(home))
    return home


def test_sidebar_count_refreshes_right_after_an_upload(own_store: Path) -> None:
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.switch_page("views/library.py").run()
    assert any("4 documents" in c.value for c in at.sidebar.caption)
    note = b"Wyvernshire County Council: a note\n\nThe minibus timetable for Harrowmere changes in May.\n"
    at.file_uploader[0].set_value([("note.txt", note, "text/plain")])
    at.button(key="FormSubmitter:upload-Add to library").click().run()
    assert not at.exception, at.exception
    assert any("5 documents" in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]


MODEL_GATE = threading.Event()


def slow_embedder(kind: str) -> HashEmbedder:
    """The hash embedder behind a gate the test opens: the model is 'loading' until then."""
    assert MODEL_GATE.wait(TIMEOUT)
    return HashEmbedder()


def test_progress_is_shown_and_a_question_waits_until_the_model_is_ready(
    own_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "embedder_factory", slow_embedder)
    MODEL_GATE.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert any(i.value == "Loading the language model…" for i in at.info), [i.value for i in at.info]
    assert at.chat_input  # the page is there at once
    ask(at, OT_QUESTION)
    page = html_of(at)
    assert render_question(OT_QUESTION) in page  # the question is shown, waiting
    assert any(i.value.startswith("Loading the language model… Your question will be answered") for i in at.info), [
        i.value for i in at.info
    ]
    assert not at.session_state["turns"]
    MODEL_GATE.set()
    for boot in runtime.startups():
        assert boot.done.wait(TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    turns = at.session_state["turns"]
    assert len(turns) == 1 and turns[0].question == OT_QUESTION and turns[0].citations


def render_question(question: str) -> str:
    from cqc_assistant.app import render

    return render.question_html(question)


def test_first_start_counts_the_demo_documents(tmp_path: Path) -> None:
    seen: list[str] = []

    class Watched(runtime.Startup):
        def __setattr__(self, name: str, value: object) -> None:
            if name == "step":
                seen.append(str(value))
            super().__setattr__(name, value)

    lib = Library.open(Settings(home=tmp_path / "first", embedder="hash"), HashEmbedder())
    try:
        boot = Watched(lib.settings, True)
        seeded = runtime.seed_demo(lib, boot)
    finally:
        lib.close()
    assert seeded.summary.startswith("added 4")
    assert [s for s in seen if s.startswith("Adding")] == [f"Adding demo documents {i} of 4" for i in range(1, 5)]


def test_reload_restores_the_conversation_and_the_list_renames_and_deletes(app: AppTest) -> None:
    ask(app, OT_QUESTION)
    ask(app, "What about safeguarding?")
    cid = app.session_state["conversation_id"]
    assert app.query_params.get("c") == cid

    fresh = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))  # a new visit: a new conversation
    assert not fresh.session_state["turns"] and fresh.button(key=f"conv-{cid}").label == OT_QUESTION
    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    again.query_params["c"] = cid
    started(again)  # a reload: the URL names the conversation
    turns = again.session_state["turns"]
    assert [t.question for t in turns] == [OT_QUESTION, "What about safeguarding?"]
    assert turns[0].citations and render_question(OT_QUESTION) in html_of(again)
    ask(again, "What did CQC say about carers?")  # a follow-up still keeps the council
    assert again.session_state["turns"][-1].filters.get("council") == "Wyvernshire County Council"
    assert again.button(key=f"conv-{cid}").label == OT_QUESTION

    again.text_input(key=f"rename-{cid}").set_value("OT waits")
    again.button(key="rename-conv").click().run()
    assert again.button(key=f"conv-{cid}").label == "OT waits"
    again.button(key="new-conv").click().run()
    assert not again.session_state["turns"]
    again.button(key=f"conv-{cid}").click().run()
    assert len(again.session_state["turns"]) == 3
    again.button(key="delete-conv").click().run()
    assert not again.session_state["turns"]
    assert not [b for b in again.button if b.key and b.key.startswith("conv-")]


def test_a_too_long_question_keeps_its_text_and_says_how_long(app: AppTest) -> None:
    long = "How long do people wait? " * 60
    ask(app, long)
    assert not app.session_state["turns"]
    errors = [e.value for e in app.error]
    assert any(f"{len(long.strip()):,} characters; the limit is 1,000" in e for e in errors), errors
    box = app.chat_input[0].proto
    assert box.set_value and box.value == long  # put back into the box


class RefusingAssistant:
    """Refuses every question, as the real one does when nothing answers it closely enough."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def ask(self, question: str, filters: Filters | None = None, conversation: Conversation | None = None) -> Answer:
        near = HybridRetriever(self.library).search(question, filters, 3)
        return Answer(
            question=question, answer="The library does not say.", refused=True,
            filters=(filters or Filters()).active(), searched=("A report",), closest=closest_citations(near),
        )  # fmt: skip


def test_a_refusal_shows_the_closest_passages(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "assistant_factory", RefusingAssistant)
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    ask(at, OT_QUESTION)
    assert any("Closest passages — these do not answer the question" in c.value for c in at.caption)
    page = html_of(at)
    assert page.count('class="cqc-closest"') == 3
    assert "occupational therapy" in page.lower()  # the nearest passages are about the question's topic
    assert len([p for p in at.get("page_link") if "doc" in str(p.proto.query_string)]) >= 3


def test_a_filter_on_another_council_is_said_with_a_way_out(mixed_store: Path) -> None:
    at = started(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.toggle(key="include_demo").set_value(True).run()
    at.selectbox(key="f_council").set_value("Wyvernshire County Council").run()
    question = f"How long do people wait for occupational therapy in {FENMOOR}?"
    ask(at, question)
    warnings = [w.value for w in at.warning]
    assert f"The council filter is Wyvernshire County Council but the question names {FENMOOR}." in warnings
    at.button(key="instead-0").click().run()
    assert not at.exception, at.exception
    turns = at.session_state["turns"]
    assert len(turns) == 2 and turns[1].question == question and turns[1].filters.get("council") == FENMOOR
    assert turns[1].citations and {c.council for c in turns[1].citations} == {FENMOOR}


def test_copy_and_citation_link_and_examples(app: AppTest) -> None:
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert examples and all("Wyvernshire County Council" in b.label for b in examples)
    assert any("safeguarding" in b.label.lower() or "assessing needs" in b.label.lower() for b in examples)
    examples[0].click().run()
    turns = app.session_state["turns"]
    assert [t.question for t in turns] == [examples[0].label]

    ask(app, OT_QUESTION)
    answer = app.session_state["turns"][-1]
    c = answer.citations[0]
    copied = [code.value for code in app.code]
    assert any(answer.answer in v and "Sources:" in v and " ".join(c.quote.split()) in v for v in copied), copied

    app.query_params.update(doc=c.doc_id, start=str(c.start), end=str(c.end))
    app.switch_page("views/library.py").run()
    assert not app.exception, app.exception
    from cqc_assistant.app import render

    page = html_of(app)
    assert f'<mark id="cqc-target">{render.esc_lines(c.quote)}</mark>' in page
    assert app.selectbox(key="open_doc").value == c.doc_id


def test_toolbar_is_minimal(app: AppTest) -> None:
    from streamlit import config

    assert config.get_option("client.toolbarMode") == "minimal"
