"""Rating calculator: nine QS scores → overall % and rating, boundary warning, what-if; council scorecards."""

from __future__ import annotations

import streamlit as st

from cqc_assistant.app import render
from cqc_assistant.app import runtime as rt
from cqc_assistant.app.scorecards import show_scorecards
from cqc_assistant.domain import QUALITY_STATEMENTS, SCORE_LABELS
from cqc_assistant.errors import CqcAssistantError, RatingError
from cqc_assistant.rating import RatingResult, rate
from cqc_assistant.rating_input import NOT_ASSESSED, parse_score
from cqc_assistant.rating_report import distance_down, distance_up
from cqc_assistant.scorecard import CouncilScorecard, build_scorecard
from cqc_assistant.what_if import Direction, ways, ways_count

lib = rt.library()

# The result tiles wrap rather than clip: st.metric cuts a long value ("Requires improv…") to one line.
TILES_CSS = """<style>
.cqc-tiles {display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; margin-bottom: 0.4rem;}
.cqc-tile {flex: 1 1 9rem; min-width: 0;}
.cqc-tile-label {font-size: 0.875rem; color: #5b5f6b;}
.cqc-tile-value {font-size: 1.9rem; line-height: 1.2; white-space: normal; overflow-wrap: anywhere;}
</style>"""


def load_scores(scores: dict[int, int | None], missing: list[int] | None = None) -> None:
    for q in QUALITY_STATEMENTS:
        value = scores.get(q.number)
        st.session_state[f"score-{q.number}"] = "" if value is None else str(value)
    st.session_state["scores-not-found"] = list(missing or [])


def clear_scores() -> None:
    load_scores({})


def score_input(number: int, label: str, help_text: str) -> int | None:
    """One QS score box: blank (or '-', 'na') is not assessed; anything but 1-4 gets an error right under it.

    A text box, not a number box: a number box clamps or drops what it cannot take (a 5, a letter), so the
    officer never learns their score was not counted.
    """
    text = st.text_input(label, key=f"score-{number}", placeholder="not assessed", max_chars=12, help=help_text).strip()
    if not text or text.lower() in NOT_ASSESSED:
        return None
    try:
        return parse_score(text, f"QS{number}")
    except RatingError:
        shown = text if len(text) <= 20 else text[:20] + "…"
        st.error(
            f"“{shown}” is not a score: enter a whole number from 1 to 4, or leave it blank.", icon=":material/error:"
        )
        raise


def tiles(result: RatingResult) -> None:
    shown = (
        ("Overall", f"{result.percent}%"),
        ("Rating", result.rating),
        ("Points", f"{result.total} / {result.maximum}"),
    )
    body = "".join(
        f'<div class="cqc-tile"><div class="cqc-tile-label">{render.esc(label)}</div>'
        f'<div class="cqc-tile-value">{render.esc(value)}</div></div>'
        for label, value in shown
    )
    rt.html(f'{TILES_CSS}<div class="cqc-tiles" title="Exact: {result.percent_exact_display:.2f}%">{body}</div>')


def what_if_side(result: RatingResult, direction: Direction) -> None:
    band = result.next_band if direction == "up" else result.band_below
    if band is None:
        edge = "Outstanding is the top band." if direction == "up" else "Inadequate is the lowest band."
        st.caption(edge)
        return
    side, distance = ("Up", distance_up(band)) if direction == "up" else ("Down", distance_down(band))
    st.markdown(f"**{side}:** {distance}.")  # the calculator's own words: no document text here
    found = ways(result, direction)
    for way in found:
        st.markdown(f"- {way.describe()}")
    total = ways_count(result, direction)
    if total > len(found):
        st.caption(f"{len(found)} of {total} kinds of change shown, the most usual first.")


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
    invalid = 0
    for i, q in enumerate(QUALITY_STATEMENTS):
        with cols[i % 3]:
            help_text = f"Theme {q.theme}. 1-4: " + "; ".join(f"{k} {v.lower()}" for k, v in SCORE_LABELS.items())
            try:
                scores[q.number] = score_input(q.number, f"QS{q.number} {q.name}", help_text)
            except RatingError:
                invalid += 1
    not_found = [q for q in st.session_state.get("scores-not-found", []) if q in scores and scores[q] is None]
    if not_found:
        st.warning(
            ", ".join(f"QS{q}" for q in not_found) + " were not found in the library: enter them, or the result "
            "below counts them as not assessed.",
            icon=":material/warning:",
        )
    if invalid:
        st.info(
            f"Correct the score{'s' if invalid != 1 else ''} marked above to see the overall rating.",
            icon=":material/edit:",
        )
        return
    if all(v is None for v in scores.values()):
        st.info("Enter at least one score to see the overall rating.", icon=":material/calculate:")
        return
    try:
        result = rate(scores)
    except CqcAssistantError as exc:
        rt.show_error(exc)
        return
    with st.container(border=True, key="rating-result"):
        tiles(result)
        st.caption(result.derivation)
        if result.boundary_warning:
            st.warning(result.boundary_warning, icon=":material/warning:")
        for w in result.warnings:
            if w != result.boundary_warning:
                st.caption(w)
        st.markdown("**What if:** the smallest changes that would move the rating a band.")
        up, down = st.columns(2, gap="medium")
        with up:
            what_if_side(result, "up")
        with down:
            what_if_side(result, "down")


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
