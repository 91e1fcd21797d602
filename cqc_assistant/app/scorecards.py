"""Council scorecards in the app: what the library states, never more (see cqc_assistant.scorecard).

Each card says how many of the nine scores it found; a score not found reads "not found in the library"
(never "not assessed"); the computed percentage and rating appear only when the card has them, and a stated
figure "agrees with the calculator" only when there is one to agree with. Conflicting statements of one
score are shown side by side, each with its citation.
"""

from __future__ import annotations

import streamlit as st

from ..library import Library
from ..models import Citation
from ..scorecard import CouncilScorecard, QSEntry, StatedFigure
from . import render
from . import runtime as rt


def heading(card: CouncilScorecard) -> str:
    r = card.result
    computed = f": {r.percent}% {r.rating} (computed)" if r is not None else ""
    return f"{card.council} — {card.summary}{computed}"


def _cited(e: QSEntry) -> str:
    if e.score is None:
        return ""
    if e.citation is not None:
        return e.citation.quote
    return "corrected by a user" if any(s.corrected for s in e.statements) else "(passage not located)"


def _verdict(f: StatedFigure) -> str:
    if f.agrees is None:
        return "not checked: nothing was computed to compare with"
    return "agrees with the calculator" if f.agrees else "disagrees with the calculator: " + "; ".join(f.mismatches)


def show_scorecards(lib: Library, cards: list[CouncilScorecard]) -> None:
    if not cards:
        st.info("No document in the library states quality statement scores.", icon=":material/inbox:")
        return
    cites: list[Citation | None] = []
    for card in cards:
        cites += [s.citation for e in card.entries for s in e.statements]
        cites += [c for f in card.stated for c in (f.rating_citation, f.percent_citation)]
    texts = lib.texts({c.doc_id for c in cites if c is not None})
    for card in cards:
        with st.expander(heading(card), expanded=len(cards) == 1):
            st.dataframe(
                [
                    {
                        "QS": f"QS{e.qs}",
                        "Quality statement": e.name,
                        "Score": "" if e.score is None else str(e.score),
                        "Status": e.status,
                        "Stated in": _cited(e),
                        "Conflict": e.conflict or "",
                    }
                    for e in card.entries
                ],
                hide_index=True,
                width="stretch",
            )
            if card.result is None:
                st.info(rt.sentence(card.not_computed or ""), icon=":material/info:")
            else:
                st.caption(card.result.derivation)
            for e in card.entries:
                if e.conflict:
                    st.warning(rt.sentence(e.conflict), icon=":material/compare_arrows:")
                    cols = st.columns(len(e.statements) or 1)
                    for col, s in zip(cols, e.statements, strict=False):
                        with col:
                            st.markdown(f"**{s.score}** in {render.KIND_LABELS.get(s.kind, s.kind)}")
                            if s.citation is not None:
                                rt.html(render.citation_card_html(s.citation, texts.get(s.citation.doc_id)))
                            else:
                                st.caption("Corrected by a user" if s.corrected else "Passage not located")
            for f in card.stated:
                figures = ", ".join(x for x in (f.rating, None if f.percent is None else f"{f.percent}%") if x)
                fixed = " (corrected by a user)" if f.corrected else ""
                st.markdown(
                    f"- {render.esc(f.title)} states {render.esc(figures)}{fixed}: {render.esc(_verdict(f))}",
                    unsafe_allow_html=True,
                )
                for c in (f.rating_citation, f.percent_citation):
                    if c is not None:
                        rt.html(render.citation_card_html(c, texts.get(c.doc_id)))
            for w in card.warnings:
                st.warning(w, icon=":material/warning:")
            with st.popover("Show the cited lines", icon=":material/format_quote:"):
                for e in card.entries:
                    if e.citation is not None:
                        rt.html(render.citation_card_html(e.citation, texts.get(e.citation.doc_id)))
