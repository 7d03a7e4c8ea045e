"""The auditors' app: the entry script that ``audit app`` hands to Streamlit.

It sets the page up, asks for a login when one is configured, offers the
language switch, opens the bundled example on a visitor's first run (so a
finished audit is on screen within seconds), and hands over to the page the
visitor chose. Every page calls the toolkit's public API only.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from audit_app import access, sidebar
from audit_app.guard import guarded
from audit_app.actions import open_first_example
from audit_app.text import _

PAGES = Path(__file__).resolve().parent / "screens"   # not "pages": Streamlit would list that folder itself

st.set_page_config(page_title="Audit", page_icon=str(Path(__file__).resolve().parent / "icon.png"), layout="wide",
                   initial_sidebar_state="expanded")

sidebar.language_switch()
user, readable = None, False
with guarded(_("Signing in is not possible")):
    user = access.signed_in_user()
    readable = True
if not readable:  # the login settings are broken: the app stays closed, with the message that says why
    st.stop()
if user is None:  # the sign-in form is the only page there is until someone signs in
    st.navigation([st.Page(access.login_page, title=_("Sign in"), url_path="signin")], position="hidden").run()
    st.stop()

with guarded(_("The opening example could not be audited")):
    open_first_example()

pages = [
    st.Page(PAGES / "data.py", title=_("Data"), icon=":material/table:", url_path="data"),
    st.Page(PAGES / "setup.py", title=_("Set-up"), icon=":material/tune:", url_path="setup"),
    st.Page(PAGES / "results.py", title=_("Results"), icon=":material/fact_check:", url_path="results",
            default=True),
    st.Page(PAGES / "report.py", title=_("Report"), icon=":material/description:", url_path="report"),
    st.Page(PAGES / "history.py", title=_("History"), icon=":material/history:", url_path="history"),
]
page = st.navigation(pages)
sidebar.status(user)
page.run()
