"""CQC Assistant, the Streamlit app. Run with `cqc-assistant ui`, or directly:

    CQC_ASSISTANT_HOME=~/cqc-store streamlit run cqc_assistant/app/main.py

The page renders at once; the model loads in the background (see `runtime.Startup`). On first start with an
empty store it loads the demo documents (fictional Wyvernshire County Council).
"""

from __future__ import annotations

import streamlit as st

# What the first paint needs, imported before start-up's thread imports the heavy rest: a module that thread is
# importing would hold this script up until it is done.
from cqc_assistant import councils, domain  # noqa: F401
from cqc_assistant.app import history  # noqa: F401
from cqc_assistant.app import runtime as rt

st.set_page_config(
    page_title="CQC Assistant",
    page_icon=":material/fact_check:",
    layout="wide",
    menu_items={"About": "Find what CQC and the LGA said about a council, with the exact passage to point at."},
)
st.set_option("client.toolbarMode", "minimal")  # no "Deploy" button; `cqc-assistant ui` sets it at launch too
rt.css()
boot = rt.startup()

pages = [
    st.Page("views/chat.py", title="Ask", icon=":material/forum:", default=True),
    st.Page("views/prep.py", title="Interview prep", icon=":material/assignment:"),
    st.Page("views/rating.py", title="Rating calculator", icon=":material/calculate:"),
    st.Page("views/library.py", title="Library", icon=":material/library_books:"),
]
page = st.navigation(pages)

with st.sidebar:
    st.markdown("### :material/fact_check: CQC Assistant")
    lib = boot.library
    if lib is None:
        st.caption(boot.step if boot.error is None else "The library could not be opened.")
    else:
        docs = lib.documents()
        st.caption(
            f"{len(docs)} document{'s' if len(docs) != 1 else ''} · library version {lib.version()}",
            help=f"Store: {lib.settings.home}",
        )
        note = rt.seeded_note(lib)
        if note is not None:
            st.caption(f"The store was empty, so the demo documents were loaded ({note.summary}).")
            for err in note.errors:
                st.caption(rt.sentence(err))
        if lib.hidden_demo():
            st.toggle(
                "Include demo documents",
                key="include_demo",
                help="The fictional Wyvernshire demo documents are left out of answers, briefings and scorecards "
                "once real documents are in the library. Remove them on the Library page.",
            )

page.run()
