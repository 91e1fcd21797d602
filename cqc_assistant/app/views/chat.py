"""Ask: questions answered with numbered citations; the cited passages beside each answer; the conversation
saved in the store. Renders before the model is ready: a question asked meanwhile waits with start-up's
message and is answered as soon as it can be."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit as st

from cqc_assistant.app import history, render
from cqc_assistant.app import runtime as rt
from cqc_assistant.councils import council_key, find_councils
from cqc_assistant.domain import QUALITY_STATEMENTS, THEMES
from cqc_assistant.models import KINDS, Answer

if TYPE_CHECKING:
    from cqc_assistant.filters import Filters
    from cqc_assistant.library import Library

ANY = "Any"
CLOSEST = 3
LIBRARY_PAGE = "views/library.py"


def question_limit() -> int:
    from cqc_assistant.answer import MAX_QUESTION_CHARS

    return MAX_QUESTION_CHARS


def sidebar_filters(lib: Library) -> Filters | None:
    """The sidebar filters as Filters, or None when none is set (a follow-up then keeps the last ones)."""
    from cqc_assistant.scope import library_councils, make_filters

    with st.sidebar:
        st.markdown("#### Filters")
        councils = sorted(library_councils(lib, include_demo=rt.include_demo()).values())
        if st.session_state.get("f_council") not in (ANY, *councils):
            st.session_state["f_council"] = ANY  # its documents were removed or left out
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
        return replace(rt.conversation().filters, include_demo=True) if rt.include_demo() else None
    return make_filters(lib, include_demo=rt.include_demo(), **values)


def submitted() -> None:
    """The chat box's callback: a question too long is kept in the box (and said so), else it waits to be
    asked."""
    text = str(st.session_state.get("question") or "")
    if len(text.strip()) > question_limit():
        st.session_state["too_long"] = len(text.strip())
        st.session_state["question"] = text  # back into the box
    elif text.strip():
        st.session_state.pop("too_long", None)
        st.session_state["pending"] = text


def ask_later(question: str) -> None:
    st.session_state["pending"] = question


def search_instead(council: str, question: str) -> None:
    st.session_state["f_council"] = council
    st.session_state["pending"] = question


def ask(lib: Library, question: str, filters: Filters | None) -> None:
    assistant = rt.make_assistant(lib)
    conv = rt.conversation()
    with st.spinner("Searching the library…"):
        answer = assistant.ask(question, filters, conv)
    if not conv.turns or conv.turns[-1] is not answer:
        conv.turns.append(answer)  # a fake assistant may not record the turn itself
    turns = rt.turns()
    turns.append(answer)
    st.session_state["selected_turn"] = len(turns) - 1
    history.record(answer)


def closest(answer: Answer) -> list[dict[str, Any]]:
    """A refusal's closest passages, as the assistant found them (they do not answer the question)."""
    keys = ("doc_id", "title", "section", "start", "end", "quote")
    return [{k: c.to_json()[k] for k in keys} for c in answer.closest][:CLOSEST]


def doc_link(doc_id: str, start: int, end: int) -> None:
    st.page_link(
        LIBRARY_PAGE,
        label="Open in its document",
        icon=":material/open_in_new:",
        query_params={"doc": doc_id, "start": str(start), "end": str(end)},
    )


def council_notice(lib: Library | None, i: int, answer: Answer) -> None:
    """When the council filter is one council and the question names another: say so, offer the other."""
    chosen = answer.filters.get("council")
    if not chosen:
        return
    named = list(dict.fromkeys(name for name, _, _ in find_councils(answer.question)))
    if not named or any(council_key(n) == council_key(str(chosen)) for n in named):
        return
    other = named[0]
    st.warning(f"The council filter is {chosen} but the question names {other}.", icon=":material/filter_alt:")
    if lib is None:
        return
    from cqc_assistant.scope import library_councils

    target = library_councils(lib, include_demo=rt.include_demo()).get(council_key(other))
    if target:
        st.button(
            f"Search {target} instead",
            key=f"instead-{i}",
            on_click=search_instead,
            args=(target, answer.question),
            icon=":material/swap_horiz:",
        )
    else:
        st.caption(f"The library holds no documents about {other}.")


def show_turn(lib: Library | None, i: int, answer: Answer, selected: bool) -> None:
    with st.chat_message("user"):
        rt.html(render.question_html(answer.question))
    with st.chat_message("assistant"):
        rt.html(render.answer_html(answer))
        council_notice(lib, i, answer)
        if answer.refused and lib is not None:
            near = closest(answer)
            if near:
                with st.container(key=f"closest-{i}"):
                    st.caption("Closest passages — these do not answer the question")
                    for c in near:
                        rt.html(render.closest_html(c))
                        doc_link(c["doc_id"], int(c["start"]), int(c["end"]))
        if answer.refused and answer.searched:
            with st.expander(f"What was searched ({len(answer.searched)} documents)"):
                st.markdown("\n".join("- " + render.esc(t) for t in answer.searched), unsafe_allow_html=True)
        with st.container(horizontal=True, gap="small"):
            if answer.citations and not selected:
                st.button(
                    "Show these passages",
                    key=f"show-{i}",
                    on_click=lambda: st.session_state.update(selected_turn=i),
                    type="tertiary",
                    icon=":material/visibility:",
                )
            with st.popover("Copy", icon=":material/content_copy:", key=f"copy-{i}"):
                st.caption("The answer with its citations; the button at the top right copies it.")
                st.code(render.plain_text(answer), language=None, wrap_lines=True)


def side_panel(lib: Library | None, turns: list[Answer], selected: int | None) -> None:
    st.markdown("#### Cited passages")
    if selected is None or not turns:
        st.caption("Ask a question: the passages each answer cites appear here, the quoted words highlighted.")
        return
    answer = turns[selected]
    st.caption("For: " + render.esc(answer.question), unsafe_allow_html=True)
    if answer.refused:
        st.info(
            "No passage answered this question closely enough, so nothing is cited; the closest passages are "
            "under the answer.",
            icon=":material/info:",
        )
        return
    if lib is None:
        return
    texts = lib.texts({c.doc_id for c in answer.citations})
    with st.container(key="cited-passages"):
        for c in answer.citations:
            rt.html(render.citation_card_html(c, texts.get(c.doc_id)))
            doc_link(c.doc_id, c.start, c.end)


def examples(lib: Library) -> list[str]:
    """Questions about the library's own councils and the quality statements their documents cover."""
    from cqc_assistant.scope import library_councils

    demo = rt.include_demo()
    memo_key = (lib.version(), demo)
    memo = st.session_state.get("_examples")
    if memo and memo[0] == memo_key:
        return list(memo[1])
    hidden = set() if demo else lib.hidden_demo()
    docs = [d for d in lib.documents() if d.doc_id not in hidden]
    out: list[str] = []
    for council in sorted(library_councils(lib, include_demo=demo).values())[:2]:
        mine = [d for d in docs if council in d.councils or d.council == council]
        covered = sorted({s.qs for d in mine[:6] for s in lib.sections(d.doc_id) if s.qs})
        for n in covered[:2]:
            out.append(f"What did CQC say about {QUALITY_STATEMENTS[n - 1].name.lower()} in {council}?")
        if any(d.kind == "lga_peer_challenge" for d in mine):
            out.append(f"What did the peer team recommend for {council}?")
        elif any(d.rating for d in mine):
            out.append(f"What rating did {council} get?")
    st.session_state["_examples"] = (memo_key, out[:4])
    return out[:4]


def welcome(lib: Library | None) -> None:
    with st.chat_message("assistant"):
        st.markdown(
            "Ask me what CQC or the LGA said about a council. Use the filters on the left to narrow the search."
        )
        if lib is None:
            return
        asks = examples(lib)
        if asks:
            st.caption("Try one of these:")
            with st.container(key="examples"):
                for j, q in enumerate(asks):
                    st.button(q, key=f"example-{j}", on_click=ask_later, args=(q,), icon=":material/chat:")


def exports(lib: Library, turns: list[Answer], selected: int | None) -> None:
    if not turns:
        return
    from cqc_assistant.export import export_answer, export_conversation, library_facts

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
    "passages it rests on; when the library does not hold the answer, it says so and shows the closest passages."
)

# The chat box first: it is pinned to the bottom wherever it is called, and is then on the page before the
# sidebar's conversations and filters are read.
st.chat_input(
    "Ask about a council, e.g. How long do people wait for an assessment?", key="question", on_submit=submitted
)
boot = rt.startup()
lib = boot.library
history.restore()
history.sidebar()
filters: Filters | None = None
if lib is not None:
    try:
        filters = sidebar_filters(lib)
    except Exception as exc:  # noqa: BLE001 - shown as one sentence
        rt.show_error(exc)

pending = st.session_state.get("pending")
if pending and lib is not None:
    del st.session_state["pending"]
    try:
        ask(lib, pending, filters)
    except Exception as exc:  # noqa: BLE001 - shown as one sentence
        rt.show_error(exc)
    pending = None

turns = rt.turns()
selected = st.session_state.get("selected_turn")
if selected is not None and not 0 <= selected < len(turns):
    selected = None

left, right = st.columns([3, 2], gap="large")
with left:
    if not turns and not pending:
        welcome(lib)
    for i, answer in enumerate(turns):
        show_turn(lib, i, answer, i == selected)
    if pending:
        with st.chat_message("user"):
            rt.html(render.question_html(pending))
        with st.chat_message("assistant"):
            rt.progress(boot, waiting="Your question will be answered as soon as it is ready.")
    elif lib is None:
        rt.progress(boot)
    too_long = st.session_state.pop("too_long", None)
    if too_long:
        limit = question_limit()
        st.error(
            f"Your question is {too_long:,} characters; the limit is {limit:,}. It is still in the box: "
            f"shorten it by {too_long - limit:,} characters and press Enter.",
            icon=":material/short_text:",
        )
    if lib is not None:
        exports(lib, turns, selected)
with right, st.container(border=True, key="side-panel"):
    side_panel(lib, turns, selected)
