"""What every page shares: settings, the model and store (loaded once per process), the assistant, errors.

The assistant comes from `assistant_factory`, a plain module attribute, so tests can swap it:

    from cqc_assistant.app import runtime
    runtime.assistant_factory = lambda library: FakeAssistant()

or, for a separate `streamlit run` process, name one in the environment:
`CQC_ASSISTANT_APP_FACTORY=package.module:function` (a callable taking the Library).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import streamlit as st

from ..answer import Assistant, Conversation
from ..audit import AuditLog
from ..config import Settings
from ..embedding import Embedder, make_embedder
from ..errors import ConfigError, CqcAssistantError
from ..index.retriever import Filters
from ..library import Library
from ..models import Answer
from . import render

log = logging.getLogger("cqc_assistant.app")

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
FACTORY_ENV = "CQC_ASSISTANT_APP_FACTORY"
SEED_ENV = "CQC_ASSISTANT_SEED_DEMO"  # set to 0 to start with an empty library


class Answerer(Protocol):
    def ask(
        self, question: str, filters: Filters | None = None, conversation: Conversation | None = None
    ) -> Answer: ...


def default_assistant(library: Library) -> Answerer:
    """The real assistant: extractive, or with the configured chat model."""
    from ..llm import chat_model_from_settings

    chat, _notice = chat_model_from_settings(library.settings)
    return Assistant(library, chat=chat, audit=AuditLog.for_settings(library.settings))


assistant_factory: Callable[[Library], Answerer] = default_assistant


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


# --- the model and the store, once per process ---------------------------------------------------


@dataclass
class Seeded:
    """What happened when the app found the store empty."""

    summary: str = ""
    errors: tuple[str, ...] = ()


_seeded: dict[str, Seeded] = {}


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(kind: str) -> Embedder:
    return make_embedder(kind)


@st.cache_resource(show_spinner="Opening the library…")
def _library(home: str, embedder: str, chroma_url: str | None, _settings: Settings) -> Library:
    lib = Library.open(_settings, _embedder(embedder))
    if not lib.documents() and os.environ.get(SEED_ENV, "1").strip().lower() not in ("0", "false", "no"):
        seed_demo(lib)
    return lib


def seed_demo(lib: Library) -> Seeded:
    """Ingest the shipped demo documents (fictional Wyvernshire County Council) into an empty store."""
    from ..ingest.pipeline import ingest

    report = ingest(lib, [str(DEMO_DIR)])
    done = Seeded(report.summary(), tuple(r.error or "" for r in report.results if r.status == "failed"))
    _seeded[str(lib.settings.home)] = done
    return done


def settings() -> Settings:
    return Settings.from_env()


def library() -> Library:
    """The process-wide library for the current settings; stops the page with one sentence on failure."""
    try:
        s = settings()
        return _library(str(s.home), s.embedder, s.chroma_url, s)
    except CqcAssistantError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable: st.stop() raises


def seeded_note(lib: Library) -> Seeded | None:
    return _seeded.get(str(lib.settings.home))


# --- session state -------------------------------------------------------------------------------


def turns() -> list[Answer]:
    return st.session_state.setdefault("turns", [])  # type: ignore[no-any-return]


def conversation() -> Conversation:
    return st.session_state.setdefault("conversation", Conversation())  # type: ignore[no-any-return]


def reset_conversation() -> None:
    st.session_state["turns"] = []
    st.session_state["conversation"] = Conversation()
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
        log.exception("unexpected error in the app")
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
