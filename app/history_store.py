"""The app's side of the audit history: one registry per app process, saving and reopening audits.

The registry (:class:`audit.registry.Registry`) keeps specs, counts, results
and reports, never rows. Reopening an audit derives it again from its saved
counts with the same engine, and checks that the tables are the ones saved
(the result's SHA-256).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.engine import Counted, ProxyFindings, derive_result
from audit.registry import Registry, StoredAudit
from audit.result import AuditResult
from audit.sources import DataProvenance
from audit.spec import spec_to_dict, validate_spec
from audit_app import access
from audit_app.settings import settings
from audit_app.setup_form import SetupForm
from audit_app.state import Visit
from audit_app.text import _
from audit_app.workspace import Dataset


@st.cache_resource(show_spinner=False)
def _registry(path: str) -> Registry:
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Registry(path)


def registry() -> Registry:
    """The registry of this app process (its file is ``audit app --registry``)."""
    return _registry(str(settings().registry))


def viewer(user: access.User) -> str | None:
    """Whose audits a user may see: None (all) when there is no login, else the user's id."""
    return None if user.mode == "none" else user.id


def save_panel(state: Visit, *, where: str) -> None:
    """A button that saves the latest audit (spec, counts, result, and the report when given) to the history."""
    user = access.signed_in_user()
    if user is None or state.result is None or state.spec is None:
        return
    if state.saved_id is not None:
        st.caption(_("Saved in the history as audit #{id}.").format(id=state.saved_id))
        return
    left, right = st.columns([1, 3])
    shared = right.checkbox(_("Share with every user of this app"), key=f"{where}.share") \
        if user.mode != "none" else False
    if left.button(_("Save to history"), key=f"{where}.save", icon=":material/save:"):
        counted = state.workspace.counts_for(state.spec)
        html = state.report_context.get("html")
        state.saved_id = registry().save(state.result, owner=user.id, shared=shared, counts=counted.raw,
                                         report_html=html)
        st.rerun()


def reopen(stored: StoredAudit) -> tuple[Dataset, Counted, ProxyFindings | None, AuditResult]:
    """A saved audit derived again from its counts: the data's stand-in, the counts, the proxy scan, the result."""
    if stored.counts is None:
        from audit.errors import ReasonCode, UsageError

        raise UsageError(_("audit #{id} was saved without its counts, so it cannot be reopened; its result can "
                           "still be compared").format(id=stored.record.id), reason=ReasonCode.OPTION_INVALID)
    spec = validate_spec(stored.spec, source=f"audit #{stored.record.id}")
    provenance = DataProvenance(**stored.result["provenance"]["data"])
    counted = Counted(spec=spec, raw=stored.counts, data=provenance, source="the data")
    proxies = ProxyFindings(table=pd.DataFrame(stored.result["proxies"])) if stored.result.get("proxies") else None
    result = derive_result(spec, counted, created_at=stored.record.audited_at, proxies=proxies)
    return Dataset(name=provenance.source, origin="registry", loaded=None), counted, proxies, result


def open_in_visit(state: Visit, stored: StoredAudit) -> bool:
    """Make a saved audit the visit's current audit; True when its tables are exactly those saved."""
    dataset, counted, proxies, result = reopen(stored)
    state.workspace.use(dataset, counted, proxies)
    state.profiles = []
    state.replace_form(SetupForm.from_spec(result.spec), spec_to_dict(result.spec))
    state.set_result(result.spec, result, reopened_id=stored.record.id)
    return result.result_sha256 == stored.record.result_sha256


__all__ = ["registry", "viewer", "save_panel", "reopen", "open_in_visit"]
