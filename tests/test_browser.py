"""The app in a real browser: `streamlit run` as a subprocess, driven by Playwright and /usr/bin/chromium.

Ask about the demo council, see the cited passage in the side panel, download an export holding the quote,
take a screenshot; and show that a document containing `<script>` neither runs it nor hides it.

    .venv/bin/pytest -m browser tests/test_browser.py
    CQC_SCREENSHOT_DIR=/tmp/shots .venv/bin/pytest -m browser tests/test_browser.py
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import start_app, stop

from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.export import md_escape
from cqc_assistant.ingest.pipeline import ingest, ingest_bytes
from cqc_assistant.library import Library

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "cqc_assistant" / "demo"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90
WAIT_MS = 30_000

XSS_NOTE = (
    "Wyvernshire County Council: scrutiny committee note\n\n"
    "The scrutiny committee noted <script>window.__pwned=1</script> that the hydrotherapy pool at Eldermouth "
    'needs a new roof <img src=x onerror="window.__pwned=2">.\n'
)
XSS_UPLOAD = (
    "Wyvernshire County Council: parish newsletter\n\n"
    "Residents asked about the village minibus <script>window.__pwned=3</script> timetable for Harrowmere.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("browser")
    home = root / "store"
    docs = shutil.copytree(DEMO, root / "docs")  # copies: real documents here, so none is left out as demo
    lib = Library.open(Settings(home=home, embedder="hash"), HashEmbedder())
    try:
        assert ingest(lib, [str(docs)]).failed == 0
        assert ingest_bytes(lib, "upload:scrutiny-note.txt", XSS_NOTE.encode(), ".txt").status == "added"
    finally:
        lib.close()
    proc, url = start_app(home, "hash", root / "streamlit.log", timeout=START_TIMEOUT_S)
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def ask(page: Any, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    box.fill(question)
    box.press("Enter")


def save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    page.wait_for_timeout(300)  # back to the top of the conversation and of the side panel
    path = tmp_path / name
    page.screenshot(path=str(path))
    if os.environ.get("CQC_SCREENSHOT_DIR"):
        target = Path(os.environ["CQC_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def test_ask_see_cited_passage_and_download_export(page: Any, server: str, tmp_path: Path) -> None:
    page.goto(server)
    ask(page, "How long do people wait for occupational therapy in Wyvernshire?")
    mark = page.locator(".st-key-cited-passages .cqc-card mark").first
    mark.wait_for()
    quote = mark.inner_text().strip()
    assert "wait" in quote.lower()
    card = page.locator(".st-key-cited-passages .cqc-card").first
    card_text = card.inner_text()
    assert "Wyvernshire County Council" in card_text and "characters" in card_text
    # the answer beside it carries a numbered citation
    assert page.locator('[data-testid="stChatMessage"] .cqc-ref').first.inner_text().strip() == "1"

    with page.expect_download(timeout=WAIT_MS) as info:
        page.locator(".st-key-export-answer").get_by_role("button", name="Markdown").click()
    download = info.value
    data = Path(download.path()).read_text(encoding="utf-8")
    assert md_escape(quote) in data
    assert download.suggested_filename.endswith(".md")

    with page.expect_download(timeout=WAIT_MS) as info:
        page.locator(".st-key-export-conversation").get_by_role("button", name="PDF").click()
    from pypdf import PdfReader

    pdf = PdfReader(info.value.path())
    pdf_text = " ".join(" ".join((p.extract_text() or "") for p in pdf.pages).split())
    assert " ".join(quote.split()) in pdf_text

    shot = save_screenshot(page, tmp_path, "chat.png")
    assert shot.stat().st_size > 10_000


def test_a_fact_is_said_first_with_the_passage_stating_it_beside(page: Any, server: str, tmp_path: Path) -> None:
    """Facts first in the app: the publication date is said first, and the cited passage beside the answer
    is the line that states it."""
    page.goto(server)
    ask(page, "When was the CQC assessment of Wyvernshire County Council published?")
    message = page.locator('[data-testid="stChatMessage"]').filter(has_text="Published: 14 March 2025").first
    message.wait_for()
    mark = page.locator(".st-key-cited-passages .cqc-card mark").first
    mark.wait_for()
    assert "14 March 2025" in mark.inner_text()
    assert save_screenshot(page, tmp_path, "fact.png").stat().st_size > 10_000


def test_script_in_a_document_is_shown_not_run(page: Any, server: str, tmp_path: Path) -> None:
    page.goto(server)
    ask(page, "What did the scrutiny committee note about the hydrotherapy pool roof?")
    card = page.locator(".st-key-cited-passages .cqc-card").first
    card.wait_for()
    text = card.inner_text()
    assert "<script>window.__pwned=1</script>" in text
    assert '<img src=x onerror="window.__pwned=2">' in text
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".st-key-cited-passages script").count() == 0
    assert page.locator(".st-key-cited-passages img").count() == 0
    save_screenshot(page, tmp_path, "escaped.png")


def test_upload_through_library_page_stays_inert(page: Any, server: str, tmp_path: Path) -> None:
    page.goto(server + "/library")
    tab = page.get_by_role("tab", name="Add documents")
    uploader = page.locator('[data-testid="stFileUploader"]')
    for _ in range(40):  # the tab may need the page to finish loading before a click takes
        tab.click()
        if uploader.is_visible():
            break
        page.wait_for_timeout(250)
    upload = tmp_path / "parish.txt"
    upload.write_text(XSS_UPLOAD, encoding="utf-8")
    uploader.locator('input[type="file"]').set_input_files(str(upload))
    uploader.get_by_text("parish.txt").wait_for()
    page.get_by_role("button", name="Add to library").click()
    page.locator(".st-key-ingest-results").get_by_text(
        "Added: Wyvernshire County Council: parish newsletter"
    ).wait_for()
    assert page.evaluate("window.__pwned") is None

    page.goto(server)
    ask(page, "What did residents ask about the village minibus timetable in Harrowmere?")
    card = page.locator(".st-key-cited-passages .cqc-card").first
    card.wait_for()
    assert "<script>window.__pwned=3</script>" in card.inner_text()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None


OT_QUESTION = "How long do people wait for occupational therapy in Wyvernshire?"


def test_a_citation_opens_its_document_scrolled_to_the_marked_passage(page: Any, server: str) -> None:
    page.goto(server)
    ask(page, OT_QUESTION)
    quote = page.locator(".st-key-cited-passages .cqc-card mark").first
    quote.wait_for()
    words = " ".join(quote.inner_text().split())
    page.locator('[data-testid="stPageLink"]').filter(has_text="Open in its document").first.click()
    target = page.locator("#cqc-target")
    target.wait_for()
    assert " ".join(target.inner_text().split()) == words
    assert "doc=" in page.url and "/library" in page.url
    page.wait_for_function(
        """() => { const m = document.getElementById('cqc-target'), box = document.getElementById('cqc-doc');
                   if (!m || !box) return false;
                   const a = m.getBoundingClientRect(), b = box.getBoundingClientRect();
                   return box.scrollTop > 0 && a.top >= b.top && a.bottom <= b.bottom; }"""
    )  # scrolled inside the document's box until the passage shows


def test_a_too_long_question_stays_in_the_box(page: Any, server: str) -> None:
    page.goto(server)
    long = "How long do people wait for an assessment in Wyvernshire? " * 30
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    box.fill(long)
    box.press("Enter")
    page.get_by_text("characters; the limit is 1,000").wait_for()
    page.wait_for_function(
        "n => document.querySelector('[data-testid=stChatInputTextArea]').value.length === n", arg=len(long)
    )


def test_reload_brings_the_conversation_back_and_no_deploy_button(page: Any, server: str) -> None:
    page.goto(server)
    question = "What did the peer team say about carers in Wyvernshire?"
    ask(page, question)
    page.locator('[data-testid="stChatMessage"] .cqc-answer').first.wait_for()
    page.wait_for_function("() => location.search.includes('c=')")
    page.reload()
    page.locator(".cqc-question", has_text=question).first.wait_for()
    page.locator('[data-testid="stChatMessage"] .cqc-answer').first.wait_for()
    assert page.get_by_test_id("stAppDeployButton").count() == 0


def test_calculator_shows_the_whole_rating_and_an_inline_error(browser: Any, server: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 720, "height": 1000})  # narrow: where a metric box clips
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        page.goto(server + "/rating")
        for n, score in enumerate([2, 3, 2, 3, 2, 3, 2, 3, 2], 1):  # 22/36 → 62%, Requires improvement
            box = page.locator(f".st-key-score-{n} input")
            box.fill(str(score))
            box.press("Enter")
        page.locator(".cqc-tile-value", has_text="62%").wait_for()  # all nine in
        value = page.locator(".cqc-tile-value", has_text="Requires improvement")
        assert value.inner_text().strip() == "Requires improvement"
        for tile in page.locator(".cqc-tile-value").all():
            sizes = tile.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert sizes[0] <= sizes[1], (tile.inner_text(), sizes)  # nothing cut off at the side
        save_screenshot(page, tmp_path, "calculator.png")

        box = page.locator(".st-key-score-4 input")
        box.fill("5")
        box.press("Enter")
        page.get_by_text("“5” is not a score: enter a whole number from 1 to 4, or leave it blank.").wait_for()
        # The result goes with the bad score: the last run's tiles may stay on screen (stale) until the rerun
        # that shows the error has finished, so wait for them to go rather than count at once.
        page.locator(".cqc-tile-value").first.wait_for(state="detached")
        assert page.locator(".cqc-tile-value").count() == 0
    finally:
        context.close()
