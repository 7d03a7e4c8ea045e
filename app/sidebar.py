"""The sidebar on every page: language, who is signed in, and what is loaded and audited."""

from __future__ import annotations

import streamlit as st

from audit_app import access
from audit_app.state import visit
from audit_app.text import LANGUAGES, _, count, plain, verdict_word


def language_switch() -> None:
    """English or Vietnamese, for the whole app, at any time (``?lang=vi`` in the address chooses too)."""
    if "lang" not in st.session_state:
        # the widget's own state can be dropped on a page change; "lang.kept" remembers the choice
        asked = st.query_params.get("lang")
        st.session_state["lang"] = st.session_state.get("lang.kept") or (asked if asked in LANGUAGES else "en")
    st.sidebar.selectbox("Language · Ngôn ngữ", list(LANGUAGES), format_func=LANGUAGES.__getitem__, key="lang")
    st.session_state["lang.kept"] = st.session_state["lang"]


def status(user: access.User) -> None:
    """What is loaded and its verdict; the signed-in user and a way out."""
    state = visit()
    dataset = state.workspace.dataset
    with st.sidebar:
        st.divider()
        if dataset is not None:
            rows = dataset.loaded.rows if dataset.loaded is not None else None
            st.caption(_("Data: {name}").format(name=plain(dataset.name))
                       + (" · " + _("{rows} rows").format(rows=count(rows)) if rows is not None else ""))
        if state.result is not None:
            st.caption(_("Audit: {system}").format(system=plain(state.result.spec.system.name)))
            st.markdown(f"**{_('Verdict')}: {verdict_word(state.result.verdict).upper()}**")
        if user.mode != "none":
            st.caption(_("Signed in as {name}").format(name=plain(user.name)))
            if st.button(_("Sign out"), key="sign_out"):
                access.sign_out(user)
