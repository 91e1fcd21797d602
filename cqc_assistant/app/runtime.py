"""What every page shares: settings, the start-up (model and store, loaded once per process in the
background), the assistant, errors.

The page renders at once; `Startup` loads the model, opens the store and (on an empty store) adds the demo
documents in a thread, saying what it is doing, and pages wait for it with that message (`progress`).
`cqc-assistant ui` begins it before the server starts (`prestart`, app/serve.py); a page begins it otherwise.

The assistant comes from `assistant_factory`, a plain module attribute, so tests can swap it:

    from cqc_assistant.app import runtime
    runtime.assistant_factory = lambda library: FakeAssistant()

or, for a separate `streamlit run` process, name one in the environment:
`CQC_ASSISTANT_APP_FACTORY=package.module:function` (a callable taking the Library). `embedder_factory`
(the model loader) can be swapped the same way.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import streamlit as st

from ..config import Settings
from ..errors import ConfigError, CqcAssistantError
from . import render

if TYPE_CHECKING:
    from ..answer import Conversation
    from ..embedding import Embedder
    from ..filters import Filters
    from ..library import Library
    from ..models import Answer

log = logging.getLogger("cqc_assistant.app")

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
FACTORY_ENV = "CQC_ASSISTANT_APP_FACTORY"
SEED_ENV = "CQC_ASSISTANT_SEED_DEMO"  # set to 0 to start with an empty library
POLL_S = 0.25  # how often a waiting page looks at the start-up again
WAIT_S = 0.5  # how long each look waits for it to finish


class Answerer(Protocol):
    def ask(
        self, question: str, filters: Filters | None = None, conversation: Conversation | None = None
    ) -> Answer: ...


def default_assistant(library: Library) -> Answerer:
    """The real assistant: extractive, or with the configured chat model."""
    from ..answer import Assistant
    from ..audit import AuditLog
    from ..llm import chat_model_from_settings

    chat, _notice = chat_model_from_settings(library.settings)
    return Assistant(library, chat=chat, audit=AuditLog.for_settings(library.settings))


def default_embedder(kind: str) -> Embedder:
    from ..embedding import make_embedder

    return make_embedder(kind)


assistant_factory: Callable[[Library], Answerer] = default_assistant
embedder_factory: Callable[[str], Embedder] = default_embedder


def make_assistant(library: Library) -> Answerer:
    spec = os.environ.get(FACTORY_ENV, "").strip()
    if spec:
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr or "make_assistant")
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{FACTORY_ENV}={spec!r} does not name a callable ({exc})") from None
        return factory(library)  # type: ignore[no-any-return]
    return assistant_factory(library)


# --- the model and the store, once per process, in the background ---------------------------------


@dataclass
class Seeded:
    """What happened when the app found the store empty."""

    summary: str = ""
    errors: tuple[str, ...] = ()


@dataclass
class Startup:
    """Loading the model, opening the store and adding the demo documents, in a thread; `step` says which."""

    settings: Settings
    seed: bool
    step: str = "Starting…"
    library: Library | None = None
    error: BaseException | None = None
    seeded: Seeded | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Startup:
        threading.Thread(target=self._run, name="cqc-startup", daemon=True).start()
        return self

    @property
    def ready(self) -> bool:
        return self.done.is_set()

    def _run(self) -> None:
        # Loading the model is thousands of small file reads, each giving up the GIL; with the server's threads
        # busy meanwhile, every one then waited a full switch interval (5 ms) to resume: minutes on a busy
        # 2-core machine. A short interval while starting keeps those waits short.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, 0.0005))
        try:
            self.step = "Loading the language model…"
            embedder = embedder_factory(self.settings.embedder)
            # The model (ONNX Runtime builds its session outside Python's lock) loads beside Chroma's import
            # and opening, which take longest; the warm-up's first embedding waits for it.
            background = getattr(embedder, "load_in_background", None)
            if callable(background):
                background()
            self.step = "Opening the library…"
            from ..library import Library

            lib = Library.open(self.settings, embedder)
            if self.seed and not lib.documents():
                self.seeded = seed_demo(lib, self)
            self.step = "Getting ready to answer…"
            _warm_up(lib)
            self.library = lib
        except BaseException as exc:  # noqa: BLE001 - shown on the page as one sentence
            self.error = exc
        finally:
            sys.setswitchinterval(interval)
            self.done.set()


_startups: dict[tuple[str, str, str | None], Startup] = {}
_startups_lock = threading.Lock()


def seed_demo(lib: Library, startup: Startup | None = None) -> Seeded:
    """Ingest the shipped demo documents (fictional Wyvernshire County Council) into an empty store,
    counting them in `startup.step` ("Adding demo documents 2 of 4")."""
    from ..ingest.pipeline import IngestResult, ingest
    from ..ingest.sources import expand

    files = [f for f in expand([str(DEMO_DIR)]) if isinstance(f, str)]
    done = [0]

    def progress(_r: IngestResult) -> None:
        done[0] += 1
        if startup is not None and done[0] < len(files):
            startup.step = f"Adding demo documents {done[0] + 1} of {len(files)}"

    if startup is not None:
        startup.step = f"Adding demo documents 1 of {len(files)}"
    report = ingest(lib, files, progress=progress)
    return Seeded(report.summary(), tuple(r.error or "" for r in report.results if r.status == "failed"))


def _warm_up(lib: Library) -> None:
    """The first question pays no one-off costs: the answer and export code imported, the model, the rankers
    and Chroma touched, the quality statements embedded, by an extractive answer that is recorded nowhere."""
    from .. import export, llm  # noqa: F401 - imported for their import time
    from ..answer import Assistant

    try:
        if lib.documents():
            Assistant(lib).ask("What did CQC say about adult social care?")
        else:
            lib.embed_query("adult social care")
    except CqcAssistantError:
        log.warning("warm-up answer failed", exc_info=True)


def settings() -> Settings:
    return Settings.from_env()


def startup() -> Startup:
    """The process-wide start-up for the current settings (started on first call); a configuration error
    stops the page with one sentence."""
    try:
        s = settings()
    except CqcAssistantError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable: st.stop() raises
    return _begin(s)


def prestart() -> None:
    """Begin the start-up before any page asks for it (app/serve.py, before the server starts); a
    configuration error is left for the page to show."""
    try:
        s = settings()
    except CqcAssistantError:
        return
    _begin(s)


def _begin(s: Settings) -> Startup:
    key = (str(s.home), s.embedder, s.chroma_url)
    seed = os.environ.get(SEED_ENV, "1").strip().lower() not in ("0", "false", "no")
    with _startups_lock:
        found = _startups.get(key)
        if found is None:
            found = _startups[key] = Startup(s, seed).start()
    return found


def startups() -> list[Startup]:
    """Every start-up of this process (tests wait on their `done`)."""
    with _startups_lock:
        return list(_startups.values())


def retry_startup() -> None:
    """Forget a failed start-up so the next run starts again (after the user fixed the cause)."""
    with _startups_lock:
        for key, value in list(_startups.items()):
            if value.ready and value.library is None:
                del _startups[key]


def library() -> Library:
    """The process-wide library; until it is ready the page shows what start-up is doing and stops there."""
    boot = startup()
    if boot.library is not None:
        return boot.library
    progress(boot)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def progress(boot: Startup, *, waiting: str | None = None) -> None:
    """What start-up is doing, looked at again every POLL_S; the whole page reruns as soon as it is done."""

    inline = [True]  # the call from the page's own run, which must not wait: the rest of the page follows

    @st.fragment(run_every=POLL_S if not boot.ready else None)
    def box() -> None:
        # Each later look waits for start-up to finish (at most WAIT_S: an event from the page waits as long),
        # so the page reruns the moment it is done rather than at the next look.
        if not inline[0]:
            boot.done.wait(WAIT_S)
        inline[0] = False
        if boot.error is not None:
            show_error(boot.error)
            st.button("Try again", on_click=retry_startup, icon=":material/refresh:", key="retry-startup")
            return
        if boot.ready:
            st.rerun()  # the page, now with its library
        with st.container(key="startup-progress"):
            st.info(boot.step + (f" {waiting}" if waiting else ""), icon=":material/hourglass_top:")

    box()


def seeded_note(lib: Library) -> Seeded | None:
    for boot in list(_startups.values()):
        if boot.library is lib:
            return boot.seeded
    return None


def include_demo() -> bool:
    """The sidebar's "Include demo documents" switch."""
    return bool(st.session_state.get("include_demo", False))


# --- session state -------------------------------------------------------------------------------


def turns() -> list[Answer]:
    return st.session_state.setdefault("turns", [])  # type: ignore[no-any-return]


def conversation() -> Conversation:
    """What a follow-up keeps; rebuilt from the turns when a saved conversation was reopened."""
    conv: Conversation | None = st.session_state.get("conversation")
    if conv is None:
        from ..answer import Conversation
        from ..filters import Filters

        past = turns()
        conv = Conversation(filters=Filters(**past[-1].filters) if past else Filters(), turns=list(past))
        st.session_state["conversation"] = conv
    return conv


def reset_conversation() -> None:
    st.session_state["turns"] = []
    st.session_state["conversation"] = None
    st.session_state["selected_turn"] = None


# --- messages ------------------------------------------------------------------------------------


def sentence(message: str) -> str:
    """A message as one sentence: capitalised, ending with a full stop."""
    text = " ".join(str(message).split()) or "Something went wrong"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def show_error(exc: BaseException) -> None:
    """A domain error as one sentence; anything else as a short line (the traceback goes to the log)."""
    if isinstance(exc, CqcAssistantError):
        st.error(sentence(str(exc)), icon=":material/error:")
    else:
        log.error("unexpected error in the app", exc_info=exc)
        st.error(sentence(f"Something went wrong ({type(exc).__name__}); the details are in the server log"))


def css() -> None:
    st.markdown(render.CSS, unsafe_allow_html=True)


def html(body: str) -> None:
    """Render HTML that was built from escaped text only (see render.esc)."""
    st.markdown(body, unsafe_allow_html=True)


def download_buttons(
    label: str, stem: str, build: Callable[[str], bytes], *, key: str, help: str | None = None
) -> None:
    """One row of Markdown / Word / PDF download buttons; the file is built only when clicked."""
    from ..export import FORMATS, MEDIA_TYPES, export_filename

    names = {"md": "Markdown", "docx": "Word", "pdf": "PDF"}
    st.caption(label, help=help)
    with st.container(horizontal=True, key=key, gap="small"):
        for fmt in FORMATS:
            st.download_button(
                names[fmt],
                data=_deferred(build, fmt),
                file_name=export_filename(stem, fmt),
                mime=MEDIA_TYPES[fmt],
                key=f"{key}-{fmt}",
                help=f"Download as {names[fmt]}",
                on_click="ignore",
            )


def _deferred(build: Callable[[str], bytes], fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        return build(fmt)

    return make


def any_value(*values: Any) -> bool:
    return any(v not in (None, "", []) for v in values)
