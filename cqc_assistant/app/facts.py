"""A document's facts as detected (council, kind, date, rating, percentage, scores) with a form to correct them.

Shown on the Library page right after an upload and for the document opened there. A correction goes through
`Library.correct` (stored apart from detection, audited) and is marked wherever the facts are shown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ..corrections import parse_edit
from ..domain import QUALITY_STATEMENTS, RATINGS
from ..errors import CqcAssistantError
from ..index.corrected import NOT_ASSESSED
from ..index.records import DocRecord
from ..library import Library
from ..models import KINDS
from . import render
from . import runtime as rt

NO_RATING = "(none stated)"
SCORE_CHOICES = ("not stated", "1", "2", "3", "4", "not assessed")


def _score_text(doc: DocRecord, qs: int) -> str:
    if qs in doc.not_assessed:
        return "not assessed"
    return str(doc.scores[qs]) if qs in doc.scores else "not stated"


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if value == NOT_ASSESSED:
        return "not assessed"
    return "; ".join(map(str, value)) if isinstance(value, list) else str(value)


def facts_rows(doc: DocRecord) -> list[dict[str, str]]:
    """One row per fact: its value, and whether it is detected or a user's correction (with what was detected)."""
    rows: list[tuple[str, str, str]] = [
        ("Council", "council", _shown(doc.council)),
        ("Kind", "kind", render.KIND_LABELS.get(doc.kind, doc.kind)),
        ("Date", "date", _shown(doc.date)),
        ("Rating", "rating", _shown(doc.rating)),
        ("Percentage", "percent", _shown(None if doc.percent is None else f"{doc.percent}%")),
    ]
    rows += [(f"QS{q.number} {q.name}", f"score:{q.number}", _score_text(doc, q.number)) for q in QUALITY_STATEMENTS]
    return [
        {
            "Fact": label,
            "Value": value,
            "From": f"corrected by a user (detected: {_shown(doc.detected[name])})"
            if name in doc.corrected
            else "detected",
        }
        for label, name, value in rows
    ]


def _changes(doc: DocRecord, form: dict[str, Any]) -> dict[str, Any]:
    """The form's values that differ from the document's, as `parse_edit` takes them."""
    out: dict[str, Any] = {}
    if form["council"].strip() != (doc.council or ""):
        out["council"] = form["council"]
    if form["kind"] != doc.kind:
        out["kind"] = form["kind"]
    if form["date"].strip() != (doc.date or ""):
        out["date"] = form["date"].strip() or "none"
    if form["rating"] != (doc.rating or NO_RATING):
        out["rating"] = "none" if form["rating"] == NO_RATING else form["rating"]
    if form["percent"].strip().rstrip("%") != ("" if doc.percent is None else str(doc.percent)):
        out["percent"] = form["percent"].strip() or "none"
    scores = []
    for q in QUALITY_STATEMENTS:
        chosen = form[f"score:{q.number}"]
        if chosen != _score_text(doc, q.number):
            value = {"not stated": "none", "not assessed": "na"}.get(chosen, chosen)
            scores.append(f"{q.number}={value}")
    if scores:
        out["scores"] = scores
    return out


def facts_panel(lib: Library, doc_id: str, *, key: str) -> None:
    """What was detected about one document, with the form that corrects it."""
    try:
        doc = lib.document(doc_id)
    except CqcAssistantError as exc:
        rt.show_error(exc)
        return
    st.markdown(f"**What was detected in {render.esc(doc.title)}**", unsafe_allow_html=True)
    st.dataframe(facts_rows(doc), hide_index=True, width="stretch")
    saved = st.session_state.pop(f"{key}-saved", None)
    if saved:
        st.success(saved, icon=":material/check:")
    with st.expander("Correct what was detected", icon=":material/edit:"), st.form(f"{key}-edit", border=False):
        c1, c2 = st.columns(2)
        form: dict[str, Any] = {
            "council": c1.text_input("Council", value=doc.council or "", key=f"{key}-council"),
            "kind": c2.selectbox(
                "Kind",
                KINDS,
                index=KINDS.index(doc.kind) if doc.kind in KINDS else len(KINDS) - 1,
                format_func=lambda k: render.KIND_LABELS.get(k, k),
                key=f"{key}-kind",
            ),
            "date": c1.text_input(
                "Publication date", value=doc.date or "", placeholder="YYYY-MM-DD or YYYY-MM", key=f"{key}-date"
            ),
            "rating": c2.selectbox(
                "Overall rating stated",
                (NO_RATING, *RATINGS),
                index=(RATINGS.index(doc.rating) + 1) if doc.rating in RATINGS else 0,
                key=f"{key}-rating",
            ),
            "percent": c1.text_input(
                "Overall percentage stated",
                value="" if doc.percent is None else str(doc.percent),
                placeholder="25-100, blank if none",
                key=f"{key}-percent",
            ),
        }
        cols = st.columns(3)
        for i, q in enumerate(QUALITY_STATEMENTS):
            form[f"score:{q.number}"] = cols[i % 3].selectbox(
                f"QS{q.number} {q.name}",
                SCORE_CHOICES,
                index=SCORE_CHOICES.index(_score_text(doc, q.number)),
                key=f"{key}-score-{q.number}",
            )
        save = st.form_submit_button("Save corrections", icon=":material/save:", type="primary")
    if doc.corrected and st.button("Undo all corrections", key=f"{key}-undo", icon=":material/undo:"):
        _apply(lib, doc, {"clear": ["all"]}, key)
    if save:
        _apply(lib, doc, _changes(doc, form), key)


def _apply(lib: Library, doc: DocRecord, typed: dict[str, Any], key: str) -> None:
    if not typed:
        st.info("Nothing changed.", icon=":material/info:")
        return
    try:
        edit = parse_edit(doc.corrected, **typed)
        lib.correct(doc.doc_id, edit.values, edit.clear)
    except CqcAssistantError as exc:
        rt.show_error(exc)
        return
    changed = ", ".join([*edit.values, *edit.clear])
    for name in [k for k in st.session_state if str(k).startswith(f"{key}-")]:
        del st.session_state[name]  # the form shows the document as now read
    st.session_state[f"{key}-saved"] = f"Saved: {changed}. The correction is used everywhere and logged."
    st.rerun()
