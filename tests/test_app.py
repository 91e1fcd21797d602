"""The Streamlit app through AppTest: chat with citations, filters, refusals, library errors, rating, export.

Each test points CQC_ASSISTANT_HOME at a store pre-ingested with the demo documents (hash embedder).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cqc_assistant.answer import Conversation
from cqc_assistant.app import runtime
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.export import FORMATS, export_answer, export_conversation, md_escape
from cqc_assistant.index.retriever import Filters
from cqc_assistant.library import Library
from cqc_assistant.models import Answer, Citation

APP = Path(__file__).resolve().parent.parent / "cqc_assistant" / "app" / "main.py"
DEMO = APP.parent.parent / "demo"
TIMEOUT = 60
OT_QUESTION = "How long do people wait for occupational therapy in Wyvernshire?"


@pytest.fixture
def store(demo_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CQC_ASSISTANT_HOME", str(demo_store))
    monkeypatch.setenv("CQC_ASSISTANT_EMBEDDER", "hash")
    monkeypatch.delenv(runtime.FACTORY_ENV, raising=False)
    return demo_store


@pytest.fixture
def app(store: Path) -> Iterator[AppTest]:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    yield at


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
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
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
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    ask(at, "Anything?")
    page = html_of(at)
    assert "&lt;script&gt;window.&#95;&#95;pwned=1&lt;/script&gt;" in page
    assert "<script" not in page and "<b>Fake" not in page and "<i>Section" not in page
    assert "javascript:" not in page.replace("javascript&#58;", "")  # no live javascript: link
    assert "&#42;&#42;loudly&#42;&#42;" in page


def test_factory_from_environment(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.FACTORY_ENV, f"{__name__}:FakeAssistant")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
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
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
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
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "CQC_ASSISTANT_EMBEDDER" in message and message.endswith(".") and "\n" not in message
