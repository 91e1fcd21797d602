"""Interview prep: a briefing on one council and one quality statement (or all nine), every line cited."""

from __future__ import annotations

import streamlit as st

from cqc_assistant.app import render
from cqc_assistant.app import runtime as rt
from cqc_assistant.briefing import Briefing, StatementBriefing, build_briefing
from cqc_assistant.domain import QUALITY_STATEMENTS
from cqc_assistant.export import export_briefing, library_facts
from cqc_assistant.scope import library_councils

lib = rt.library()
ALL = 0


def show_statement(s: StatementBriefing) -> None:
    st.subheader(f"QS{s.qs} {s.name}", anchor=f"qs{s.qs}")
    if s.score_line is not None:
        c = s.score_line.citation
        rt.html(
            f'<span class="cqc-score">Score {int(s.score or 0)} of 4</span> '
            f'<span class="cqc-meta">{render.esc(s.score_label or "")} '
            f'<span class="cqc-ref" title="{render.esc(c.title)}">{int(c.n)}</span> '
            f"{render.esc(c.title)}</span>"
        )
    else:
        st.caption("No score for this quality statement is stated in the library.")
    for name, lines in s.groups():
        st.markdown(f"**{name}**")
        if not lines:
            st.caption("Nothing found in the library.")
            continue
        items = "".join(render.line_html(x.text, x.citation, extractive=x.extractive) for x in lines)
        rt.html(f'<ul class="cqc-lines">{items}</ul>')


def show_briefing(b: Briefing) -> None:
    st.markdown(f"### {render.esc(b.title)}", unsafe_allow_html=True)
    for note in b.notes:
        st.caption(note)
    rt.download_buttons(
        "Export this briefing",
        b.title,
        lambda fmt: export_briefing(b, fmt, library=library_facts(lib, b.citations())),
        key="export-briefing",
    )
    for s in b.statements:
        with st.container(border=True):
            show_statement(s)
    cites = b.citations()
    with st.expander(f"Sources ({len(cites)} passages)"):
        texts = lib.texts({c.doc_id for c in cites})
        for c in cites:
            rt.html(render.citation_card_html(c, texts.get(c.doc_id)))


st.title("Interview prep")
st.caption(
    "A briefing for staff before a CQC conversation: the score, key findings, strengths, areas for "
    "improvement, what other councils were praised for, and questions staff may be asked. Every line cites "
    "the passage it comes from."
)

councils = sorted(library_councils(lib, include_demo=rt.include_demo()).values())
if not councils:
    st.info("No council is in the library yet. Add documents on the Library page.", icon=":material/inbox:")
    st.stop()

with st.form("briefing-form", border=False), st.container(horizontal=True, vertical_alignment="bottom"):
    council = st.selectbox("Council", councils, key="prep_council")
    qs = st.selectbox(
        "Quality statement",
        [ALL, *[q.number for q in QUALITY_STATEMENTS]],
        format_func=lambda n: (
            "All nine quality statements" if n == ALL else f"QS{n} {QUALITY_STATEMENTS[int(n) - 1].name}"
        ),
        key="prep_qs",
    )
    go = st.form_submit_button("Prepare briefing", type="primary", icon=":material/assignment:")

if go:
    try:
        with st.spinner("Reading the library…"):
            st.session_state["briefing"] = build_briefing(
                lib, str(council), None if qs == ALL else int(qs), include_demo=rt.include_demo()
            )
    except Exception as exc:  # noqa: BLE001 - shown as one sentence
        rt.show_error(exc)

briefing = st.session_state.get("briefing")
if isinstance(briefing, Briefing):
    if briefing.library_version != lib.version():
        st.caption("The library has changed since this briefing was prepared: prepare it again to refresh it.")
    show_briefing(briefing)
