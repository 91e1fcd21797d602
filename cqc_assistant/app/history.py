"""The chat's saved conversations: the one in the URL (`?c=ID`) comes back on reload;
the sidebar lists them (new, open, rename, delete). Storage is `cqc_assistant.conversations`."""

from __future__ import annotations

import streamlit as st

from ..conversations import ConversationStore
from ..models import Answer
from . import runtime as rt

LISTED = 15
_stores: dict[str, ConversationStore] = {}


def store() -> ConversationStore:
    home = rt.settings().home
    found = _stores.get(str(home))
    if found is None:
        found = _stores[str(home)] = ConversationStore(home / "conversations.sqlite3")
    return found


def restore() -> None:
    """Once a session: reopen the conversation the URL names (a reload); later, keep it in the URL (which
    a visit to another page cleared). A visit without one starts a new conversation."""
    if st.session_state.get("_restored"):
        cid = st.session_state.get("conversation_id")
        if cid and st.query_params.get("c") != cid:
            st.query_params["c"] = cid
        return
    st.session_state["_restored"] = True
    cid = st.query_params.get("c")
    if cid and store().get(cid) is not None:
        open_conversation(cid)


def open_conversation(cid: str) -> None:
    answers = store().answers(cid)
    st.session_state.update(
        turns=answers, conversation=None, conversation_id=cid, selected_turn=len(answers) - 1 if answers else None
    )
    st.query_params["c"] = cid


def new_conversation() -> None:
    rt.reset_conversation()
    st.session_state["conversation_id"] = None
    st.query_params.pop("c", None)


def record(answer: Answer) -> None:
    """Save an answer in the current conversation (made by its first question)."""
    s = store()
    cid = st.session_state.get("conversation_id") or s.create(answer.question)
    s.append(cid, answer)
    st.session_state["conversation_id"] = cid
    st.query_params["c"] = cid


def _rename(cid: str) -> None:
    try:
        store().rename(cid, st.session_state.get(f"rename-{cid}", ""))
    except Exception as exc:  # noqa: BLE001 - shown as one sentence
        st.session_state["history_error"] = str(exc)


def _delete(cid: str) -> None:
    store().delete(cid)
    if st.session_state.get("conversation_id") == cid:
        new_conversation()


def sidebar() -> None:
    """The conversation list: the current one highlighted; rename or delete it."""
    current = st.session_state.get("conversation_id")
    with st.sidebar:
        st.markdown("#### Conversations")
        st.button("New conversation", on_click=new_conversation, icon=":material/add_comment:", key="new-conv")
        saved = store().recent(LISTED)
        with st.container(key="conversation-list"):
            for c in saved:
                st.button(
                    c.title,
                    key=f"conv-{c.id}",
                    type="primary" if c.id == current else "tertiary",
                    on_click=open_conversation,
                    args=(c.id,),
                    help=f"{c.turns} question{'s' if c.turns != 1 else ''} · last used {c.updated_at[:16]}",
                )
        title = next((c.title for c in saved if c.id == current), None)
        if current and title is not None:
            with st.popover("Rename or delete", icon=":material/edit:"):
                st.text_input("Name", value=title, key=f"rename-{current}")
                st.button("Rename", on_click=_rename, args=(current,), key="rename-conv")
                st.button("Delete this conversation", on_click=_delete, args=(current,), key="delete-conv")
        error = st.session_state.pop("history_error", None)
        if error:
            st.error(rt.sentence(error))
