"""Rating calculator: nine QS scores → overall % and rating, boundary warning, what-if; council scorecards."""

from __future__ import annotations

import streamlit as st

from cqc_assistant.app import runtime as rt
from cqc_assistant.app.scorecards import show_scorecards
from cqc_assistant.domain import QUALITY_STATEMENTS, SCORE_LABELS
from cqc_assistant.errors import CqcAssistantError
from cqc_assistant.rating import rate, what_if, what_if_count
from cqc_assistant.scorecard import CouncilScorecard, build_scorecard

lib = rt.library()


def load_scores(scores: dict[int, int | None], missing: list[int] | None = None) -> None:
    for q in QUALITY_STATEMENTS:
        st.session_state[f"score-{q.number}"] = scores.get(q.number)
    st.session_state["scores-not-found"] = list(missing or [])


def clear_scores() -> None:
    load_scores({})


def calculator(cards: list[CouncilScorecard]) -> None:
    st.subheader("Calculator")
    st.caption(
        "Enter a score from 1 to 4 for each quality statement (leave one blank if it was not assessed). "
        "The overall percentage is the ceiling of 100 × points ÷ (4 × statements assessed)."
    )
    with st.container(horizontal=True):
        for card in cards:
            st.button(
                f"Use {card.council}'s scores" + ("" if not card.missing else f" ({card.summary})"),
                key=f"load-{card.council}",
                on_click=load_scores,
                args=(dict(card.scores), card.missing),
                icon=":material/download:",
            )
        st.button("Clear", key="clear-scores", on_click=clear_scores, icon=":material/backspace:", type="tertiary")
    cols = st.columns(3, gap="medium")
    scores: dict[int, int | None] = {}
    for i, q in enumerate(QUALITY_STATEMENTS):
        with cols[i % 3]:
            value = st.number_input(
                f"QS{q.number} {q.name}",
                min_value=1,
                max_value=4,
                value=None,
                step=1,
                key=f"score-{q.number}",
                placeholder="not assessed",
                help=f"Theme {q.theme}. 1-4: " + "; ".join(f"{k} {v.lower()}" for k, v in SCORE_LABELS.items()),
            )
            scores[q.number] = None if value is None else int(value)
    not_found = [q for q in st.session_state.get("scores-not-found", []) if scores.get(q) is None]
    if not_found:
        st.warning(
            ", ".join(f"QS{q}" for q in not_found) + " were not found in the library: enter them, or the result "
            "below counts them as not assessed.",
            icon=":material/warning:",
        )
    if all(v is None for v in scores.values()):
        st.info("Enter at least one score to see the overall rating.", icon=":material/calculate:")
        return
    try:
        result = rate(scores)
    except CqcAssistantError as exc:
        rt.show_error(exc)
        return
    with st.container(border=True, key="rating-result"):
        m1, m2, m3 = st.columns(3)
        m1.metric("Overall", f"{result.percent}%")
        m2.metric("Rating", result.rating)
        m3.metric("Points", f"{result.total} / {result.maximum}", help=f"Exact: {result.percent_exact_display:.2f}%")
        st.caption(result.derivation)
        if result.boundary_warning:
            st.warning(result.boundary_warning, icon=":material/warning:")
        for w in result.warnings:
            if w != result.boundary_warning:
                st.caption(w)
        if result.next_band is None:
            st.success("Outstanding is the top band.", icon=":material/star:")
        else:
            nb = result.next_band
            st.markdown(
                f"**What if:** {nb.rating} is {nb.points_needed} percentage point"
                f"{'s' if nb.points_needed != 1 else ''} away, at least {nb.steps_needed} score step"
                f"{'s' if nb.steps_needed != 1 else ''} of +1."
            )
            options = what_if(result, limit=5)
            total = what_if_count(result)
            for o in options:
                st.markdown("- " + o.describe())
            if total > len(options):
                st.caption(f"Showing {len(options)} of {total} ways to get there.")


def scorecards(cards: list[CouncilScorecard]) -> None:
    st.subheader("Council scorecards from the library")
    st.caption(
        "The quality statement scores the library's documents state, each with the line that states it. A "
        "percentage and rating are computed only from all nine scores (or fewer where a document says one was "
        "not assessed), and set beside every rating or percentage the documents give."
    )
    show_scorecards(lib, cards)


st.title("Rating calculator")
st.caption(
    "CQC's method for local authority assessments: nine quality statement scores combine into an overall "
    "percentage and rating (25-38% Inadequate, 39-62% Requires improvement, 63-87% Good, 88%+ Outstanding)."
)

try:
    all_cards = list(build_scorecard(lib).councils)
except CqcAssistantError as exc:
    rt.show_error(exc)
    all_cards = []

calculator(all_cards)
st.divider()
scorecards(all_cards)
