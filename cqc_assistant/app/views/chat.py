"""Ask: questions answered with numbered citations; the cited passages beside each answer."""

from __future__ import annotations

from datetime import date

import streamlit as st

from cqc_assistant.app import render
from cqc_assistant.app import runtime as rt
from cqc_assistant.domain import QUALITY_STATEMENTS, THEMES
from cqc_assistant.export import export_answer, export_conversation, library_facts, md_escape
from cqc_assistant.index.retriever import Filters, library_councils, make_filters
from cqc_assistant.models import KINDS, Answer

lib = rt.library()
ANY = "Any"


def sidebar_filters() -> Filters | None:
    """The sidebar filters as Filters, or None when none is set (a follow-up then keeps the last ones)."""
    with st.sidebar:
        st.markdown("#### Filters")
        councils = sorted(library_councils(lib).values())
        council = st.selectbox("Council", [ANY, *councils], key="f_council")
        kind = st.selectbox(
            "Document kind", [ANY, *KINDS], key="f_kind", format_func=lambda k: render.KIND_LABELS.get(k, k)
        )
        theme = st.selectbox(
            "Theme",
            [ANY, *[t.number for t in THEMES]],
            key="f_theme",
            format_func=lambda t: t if t == ANY else f"{t}. {THEMES[int(t) - 1].name}",
        )
        qs = st.selectbox(
            "Quality statement",
            [ANY, *[q.number for q in QUALITY_STATEMENTS]],
            key="f_qs",
            format_func=lambda q: q if q == ANY else f"QS{q} {QUALITY_STATEMENTS[int(q) - 1].name}",
        )
        since = st.date_input(
            "Dated on or after", value=None, min_value=date(2010, 1, 1), key="f_since", format="DD/MM/YYYY"
        )
        until = st.date_input(
            "Dated on or before", value=None, min_value=date(2010, 1, 1), key="f_until", format="DD/MM/YYYY"
        )
        st.button("New conversation", on_click=rt.reset_conversation, icon=":material/restart_alt:")
        st.caption("A follow-up keeps the council and filters of the last answer until you change them.")
    values = {
        "council": None if council == ANY else str(council),
        "kind": None if kind == ANY else str(kind),
        "theme": None if theme == ANY else str(theme),
        "qs": None if qs == ANY else str(qs),
        "since": since.isoformat() if isinstance(since, date) else None,
        "until": until.isoformat() if isinstance(until, date) else None,
    }
    if not rt.any_value(*values.values()):
        return None
    return make_filters(lib, **values)


def ask(question: str, filters: Filters | None) -> None:
    assistant = rt.make_assistant(lib)
    with st.spinner("Searching the library…"):
        answer = assistant.ask(question, filters, rt.conversation())
    turns = rt.turns()
    if not rt.conversation().turns or rt.conversation().turns[-1] is not answer:
        rt.conversation().turns.append(answer)  # a fake assistant may not record the turn itself
    turns.append(answer)
    st.session_state["selected_turn"] = len(turns) - 1


def show_turn(i: int, answer: Answer, selected: bool) -> None:
    with st.chat_message("user"):
        st.markdown(md_escape(answer.question))
    with st.chat_message("assistant"):
        rt.html(render.answer_html(answer))
        if answer.refused and answer.searched:
            with st.expander(f"What was searched ({len(answer.searched)} documents)"):
                for title in answer.searched:
                    st.markdown("- " + md_escape(title))
        if answer.citations and not selected:
            st.button(
                "Show these passages",
                key=f"show-{i}",
                on_click=lambda: st.session_state.update(selected_turn=i),
                type="tertiary",
                icon=":material/visibility:",
            )


def side_panel(turns: list[Answer], selected: int | None) -> None:
    st.markdown("#### Cited passages")
    if selected is None or not turns:
        st.caption("Ask a question: the passages each answer cites appear here, the quoted words highlighted.")
        return
    answer = turns[selected]
    st.caption(f"For: {md_escape(answer.question)}")
    if answer.refused:
        st.info("No passage answered this question closely enough, so nothing is cited.", icon=":material/info:")
        return
    texts = lib.catalogue.texts({c.doc_id for c in answer.citations})
    with st.container(key="cited-passages"):
        for c in answer.citations:
            rt.html(render.citation_card_html(c, texts.get(c.doc_id)))


def exports(turns: list[Answer], selected: int | None) -> None:
    if not turns:
        return
    answer = turns[selected if selected is not None else -1]
    every = list(turns)
    st.divider()
    one, whole = st.columns(2)
    with one:
        rt.download_buttons(
            "Export the answer shown beside",
            f"cqc-answer-{answer.question}",
            lambda fmt: export_answer(answer, fmt, library=library_facts(lib, answer.citations)),
            key="export-answer",
        )
    with whole:
        rt.download_buttons(
            f"Export the whole conversation ({len(every)} question{'s' if len(every) != 1 else ''})",
            "cqc-conversation",
            lambda fmt: export_conversation(
                every, fmt, library=library_facts(lib, [c for a in every for c in a.citations])
            ),
            key="export-conversation",
        )


st.title("Ask the library")
st.caption(
    "Questions about CQC local authority assessments and LGA peer challenges. Every answer quotes the "
    "passages it rests on; when the library does not hold the answer, it says so and shows what it searched."
)

try:
    filters = sidebar_filters()
except Exception as exc:  # noqa: BLE001 - shown as one sentence
    rt.show_error(exc)
    filters = None

prompt = st.chat_input("Ask about a council, e.g. How long do people wait for an assessment in Wyvernshire?")
if prompt:
    try:
        ask(prompt, filters)
    except Exception as exc:  # noqa: BLE001 - shown as one sentence
        rt.show_error(exc)

turns = rt.turns()
selected = st.session_state.get("selected_turn")
if selected is not None and not 0 <= selected < len(turns):
    selected = None

left, right = st.columns([3, 2], gap="large")
with left:
    if not turns:
        with st.chat_message("assistant"):
            st.markdown(
                "Ask me what CQC or the LGA said about a council. Try *What did CQC say about waiting lists "
                "in Wyvernshire?* or *How is safeguarding in Wyvernshire?*. Use the filters on the left to "
                "narrow the search."
            )
    for i, answer in enumerate(turns):
        show_turn(i, answer, i == selected)
    exports(turns, selected)
with right, st.container(border=True, key="side-panel"):
    side_panel(turns, selected)
