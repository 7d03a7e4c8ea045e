"""Who is using the app: no login, Streamlit's OIDC login, or a password from the secrets file.

The mode follows the secrets (``.streamlit/secrets.toml``, or the file given
to ``audit app --secrets``):

* an ``[auth]`` section (Streamlit's OIDC settings: ``redirect_uri``,
  ``cookie_secret``, ``client_id``, ``client_secret``,
  ``server_metadata_url``) turns on ``st.login``; the user is the identity
  provider's e-mail (or subject);
* an ``[audit_app.passwords]`` table of ``user = "<hash>"`` (make a hash with
  ``audit hash-password``) turns on a password form;
* neither: no login, and everyone is the one local user.

With a login, no page is shown before signing in, and History lists only the
user's own audits and those shared with everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from audit.errors import ReasonCode, UsageError
from audit.passwords import verify_password
from audit_app.text import _

LOCAL = "local"
Mode = Literal["none", "oidc", "password"]


@dataclass(frozen=True)
class User:
    """A signed-in user: ``id`` owns audits in the history, ``name`` is shown."""

    id: str
    name: str
    mode: Mode


def _secrets() -> dict[str, Any]:
    """The secrets as a plain dict; empty when there is no secrets file.

    A secrets file that exists but cannot be read is not "no login": the error
    is raised (and shown as such), so a broken configuration never opens the app.
    """
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        return st.secrets.to_dict()
    except StreamlitSecretNotFoundError as error:
        if getattr(error, "error_id", None) == "no-secrets-found":
            return {}
        raise UsageError(f"the app's secrets file could not be read, so nobody can sign in: {error}. Fix the file "
                         f"(it is TOML) or remove it", reason=ReasonCode.OPTION_INVALID) from None


def mode() -> Mode:
    """How users sign in, from the secrets."""
    secrets = _secrets()
    if isinstance(secrets.get("auth"), dict):
        return "oidc"
    if isinstance((secrets.get("audit_app") or {}).get("passwords"), dict):
        return "password"
    return "none"


def signed_in_user() -> User | None:
    """The user of this visit, or None when a login is configured and nobody has signed in."""
    current = mode()
    if current == "none":
        return User(id=LOCAL, name=_("local user"), mode="none")
    if current == "oidc":
        if not st.user.get("is_logged_in", False):
            return None
        ident = str(st.user.get("email") or st.user.get("sub") or "")
        return User(id=ident, name=str(st.user.get("name") or ident), mode="oidc") if ident else None
    name = st.session_state.get("audit_app_user")
    return User(id=name, name=name, mode="password") if name else None


def login_page() -> None:
    """The only thing shown before signing in."""
    st.title(_("Algorithmic audit"))
    st.write(_("Sign in to audit decision systems and to see your audit history."))
    if mode() == "oidc":
        if st.button(_("Sign in"), type="primary"):
            st.login()
        return
    with st.form("login"):
        name = st.text_input(_("User name"))
        password = st.text_input(_("Password"), type="password")
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if submitted:
        passwords = (_secrets().get("audit_app") or {}).get("passwords") or {}
        stored = passwords.get(name)
        if stored is not None and verify_password(password, str(stored)):
            st.session_state["audit_app_user"] = name
            st.rerun()
        st.error(_("The user name or password is wrong."))


def sign_out(user: User) -> None:
    """End the session's login."""
    if user.mode == "oidc":
        st.logout()
    elif user.mode == "password":
        st.session_state.pop("audit_app_user", None)
        st.rerun()
