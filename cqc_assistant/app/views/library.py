"""Library: add files and URLs, see every document with its detected metadata, open, remove, re-ingest."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cqc_assistant.app import render
from cqc_assistant.app import runtime as rt
from cqc_assistant.app.facts import facts_panel
from cqc_assistant.errors import CqcAssistantError
from cqc_assistant.ingest.loaders import SUPPORTED
from cqc_assistant.ingest.pipeline import IngestResult, ingest, ingest_bytes
from cqc_assistant.ingest.sources import is_url

lib = rt.library()
UPLOAD_PREFIX = "upload:"


def _shown(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"QS{k}={v}" for k, v in value.items())
    return str(value)


def remember(results: list[IngestResult]) -> None:
    st.session_state["ingest_results"] = [r.to_json() for r in results]


def show_results(box: DeltaGenerator) -> None:
    results = st.session_state.get("ingest_results") or []
    if not results:
        return
    with box, st.container(border=True, key="ingest-results"):
        st.markdown("**Result**")
        for r in results:
            name = r["title"] or r["source"]
            if r["status"] == "failed":
                st.error(rt.sentence(r["error"] or f"{r['source']}: failed"), icon=":material/error:")
            elif r["status"] == "removed":
                st.success(f"Removed: {name}.", icon=":material/delete:")
            elif r["status"] == "unchanged":
                st.info(f"Unchanged: {name} ({r['chunks']} chunks).", icon=":material/check:")
            else:
                st.success(f"{r['status'].capitalize()}: {name} ({r['chunks']} chunks).", icon=":material/done:")
            if r["status"] in ("added", "updated", "unchanged") and r["doc_id"]:
                facts_panel(lib, r["doc_id"], key=f"new-{r['doc_id']}")


def passage_view() -> None:
    """A citation's link (`?doc=ID&start=S&end=E`): the document's stored text, the passage marked and
    scrolled into view."""
    params = st.query_params
    doc_id = params.get("doc")
    if not doc_id:
        return
    try:
        doc = lib.document(doc_id)
        text = lib.text(doc.doc_id)
        start, end = int(params.get("start", 0)), int(params.get("end", 0))
    except (CqcAssistantError, ValueError) as exc:
        rt.show_error(exc if isinstance(exc, CqcAssistantError) else ValueError("the link's offsets are not numbers"))
        return
    if not 0 <= start <= end <= len(text):
        st.error(f"The passage {start}–{end} is not in {doc.title} ({len(text):,} characters).")
        return
    with st.container(border=True, key="passage-view"):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"**{render.esc(doc.title)}**", unsafe_allow_html=True)
        head.caption(f"Characters {start}–{end} of the stored text, marked. Document {doc.doc_id}.")
        if close.button("Close", icon=":material/close:", key="close-passage"):
            st.query_params.clear()
            st.rerun()
        rt.html(render.document_html(text, start, end))
        st.html(render.SCROLL_TO_TARGET, unsafe_allow_javascript=True)


def remove_demo() -> None:
    try:
        gone = lib.remove_demo()
    except CqcAssistantError as exc:
        remember([IngestResult("demo documents", "failed", error=str(exc))])
        return
    remember([IngestResult(d.source, "removed", d.doc_id, d.title) for d in gone])


def add_uploads(files: list[object]) -> None:
    results: list[IngestResult] = []
    bar = st.progress(0.0, text="Adding documents…")
    for i, f in enumerate(files, 1):
        name = str(getattr(f, "name", "upload"))
        data = f.getvalue()  # type: ignore[attr-defined]
        source = UPLOAD_PREFIX + name
        if len(data) > lib.settings.max_file_bytes:
            limit = lib.settings.max_file_bytes
            r = IngestResult(
                source,
                "failed",
                error=f"{name}: the file is {len(data):,} bytes, over the {limit:,}-byte limit",
            )
        else:
            try:
                r = ingest_bytes(lib, source, data, Path(name).suffix.lower())
            except CqcAssistantError as exc:
                r = IngestResult(source, "failed", error=str(exc))
        results.append(r)
        bar.progress(i / len(files), text=f"{i} of {len(files)}: {name}")
    bar.empty()
    remember(results)


def add_sources(items: list[str]) -> None:
    results: list[IngestResult] = []
    with st.status(f"Adding {len(items)} source{'s' if len(items) != 1 else ''}…", expanded=True) as status:

        def progress(r: IngestResult) -> None:
            results.append(r)
            status.write(f"{r.status}: {r.title or r.source}")

        try:
            ingest(lib, items, progress=progress)
        except CqcAssistantError as exc:
            results.append(IngestResult(", ".join(items), "failed", error=str(exc)))
        failed = sum(1 for r in results if r.status == "failed")
        status.update(label="Done" if not failed else f"Done, {failed} failed", state="error" if failed else "complete")
    remember(results)


st.title("Library")
st.caption(
    "The documents answers are drawn from. Add CQC assessments, CQC press releases, LGA peer challenges or "
    "local news as files or web addresses; council, kind, date, rating and scores are detected on the way in."
)

passage_view()
results_box = st.container()
browse, add = st.tabs([":material/folder_open: Documents", ":material/upload_file: Add documents"])

with add:
    kinds = sorted(s.lstrip(".") for s in SUPPORTED)
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader(
            "Files",
            type=kinds,
            accept_multiple_files=True,
            help="Text, Markdown, HTML, PDF or Word files.",
            max_upload_size=max(1, lib.settings.max_file_bytes // (1024 * 1024)),
        )
        submitted = st.form_submit_button("Add to library", icon=":material/add:", type="primary")
    if submitted:
        if files:
            add_uploads(list(files))
            st.rerun()  # the sidebar and the documents list show the new count at once
        else:
            st.warning("Choose one or more files first.")
    with st.form("url", clear_on_submit=False, border=False):
        url = st.text_input(
            "Web address",
            placeholder="https://www.cqc.org.uk/care-services/local-authority-assessment-reports/...",
            key="url-input",
        )
        fetch = st.form_submit_button("Fetch and add", icon=":material/link:")
    if fetch:
        if url and is_url(url.strip()):
            add_sources([url.strip()])
            st.rerun()
        else:
            st.warning("Enter a web address starting with http:// or https://.")

with browse:
    docs = lib.documents()
    if not docs:
        st.info("The library is empty. Add documents in the other tab.", icon=":material/inbox:")
    else:
        st.dataframe(
            [
                {
                    "Title": d.title,
                    "Council": d.council or "",
                    "Kind": render.KIND_LABELS.get(d.kind, d.kind),
                    "Date": d.date or "",
                    "Rating": d.rating or "",
                    "%": d.percent,
                    "Scores": " ".join(f"{k}:{v}" for k, v in sorted(d.scores.items())),
                    "Chunks": d.n_chunks,
                    "Corrected": ", ".join(d.corrected),
                    "Demo": "demo" if d.demo else "",
                    "Id": d.doc_id,
                }
                for d in docs
            ],
            hide_index=True,
            width="stretch",
        )
        demo = [d for d in docs if d.demo]
        if demo:
            hidden = lib.hidden_demo()
            with st.container(horizontal=True, vertical_alignment="center", key="demo-actions"):
                st.caption(
                    f"{len(demo)} demo document{'s' if len(demo) != 1 else ''} (fictional Wyvernshire)"
                    + (
                        ", left out of answers, briefings and scorecards unless included in the sidebar."
                        if hidden
                        else "."
                    )
                )
                st.button(
                    "Remove demo documents", icon=":material/delete_sweep:", key="remove-demo", on_click=remove_demo
                )
        by_id = {d.doc_id: d for d in docs}
        wanted = st.query_params.get("doc")
        if wanted and wanted in by_id and st.session_state.get("_opened_from_link") != wanted:
            st.session_state["open_doc"] = wanted
            st.session_state["_opened_from_link"] = wanted
        chosen = st.selectbox(
            "Open a document", list(by_id), format_func=lambda i: f"{by_id[i].title} ({i})", key="open_doc"
        )
        doc = by_id[chosen]
        meta, actions = st.columns([3, 1], gap="large")
        with meta:
            st.markdown("**Detected metadata**")
            st.dataframe(
                [
                    {"Field": k.replace("_", " "), "Value": _shown(v)}
                    for k, v in doc.to_json().items()
                    if v not in (None, "", [], {})
                ],
                hide_index=True,
                width="stretch",
            )
            facts_panel(lib, doc.doc_id, key=f"doc-{doc.doc_id}")
            sections = lib.sections(doc.doc_id)
            with st.expander(f"Sections ({len(sections)})"):
                st.dataframe(
                    [
                        {
                            "Section": s.title,
                            "Start": s.start,
                            "End": s.end,
                            "Theme": s.theme,
                            "QS": s.qs,
                            "Score": s.score,
                            "Boilerplate": s.boilerplate,
                        }
                        for s in sections
                    ],  # fmt: skip
                    hide_index=True,
                    width="stretch",
                )
            with st.expander("Stored text (the text every citation's offsets point into)"):
                st.code(lib.text(doc.doc_id), language=None, wrap_lines=True, height=420)
        with actions:
            st.markdown("**Actions**")
            can_reread = not doc.source.startswith(UPLOAD_PREFIX) and (is_url(doc.source) or Path(doc.source).is_file())
            if st.button(
                "Re-ingest",
                key="reingest",
                icon=":material/refresh:",
                disabled=not can_reread,
                help="Read the file or web page again; a changed document replaces this version.",
            ):
                add_sources([doc.source])
                st.rerun()
            if not can_reread:
                st.caption("Uploaded files cannot be re-read: upload the new version to replace this one.")
            confirm = st.checkbox("Yes, remove this document", key=f"confirm-{doc.doc_id}")
            if st.button("Remove", key="remove", icon=":material/delete:", disabled=not confirm):
                try:
                    gone = lib.remove(doc.doc_id)
                    remember([IngestResult(gone.source, "removed", gone.doc_id, gone.title)])
                except CqcAssistantError as exc:
                    remember([IngestResult(doc.source, "failed", error=str(exc))])
                st.rerun()

show_results(results_box)
