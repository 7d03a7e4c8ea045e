"""What one visit holds between reruns: its data, its set-up, its latest audit (all in memory only).

Streamlit reruns the page script on every click; :func:`visit` returns the
same :class:`Visit` for the whole visit (it lives in ``st.session_state``,
which is per browser tab and never written to disk). Widget values that must
survive a page change are copied into the visit, not left to Streamlit's
widget state, which forgets widgets of pages not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from audit.result import AuditResult
from audit.spec import AuditSpec
from audit.starter import ColumnProfile
from audit_app.setup_form import SetupForm
from audit_app.workspace import Workspace


@dataclass
class Visit:
    """One visitor's state: data (in memory), the set-up being edited, the latest audit and its context."""

    workspace: Workspace = field(default_factory=Workspace)
    profiles: list[ColumnProfile] = field(default_factory=list)
    form: SetupForm | None = None
    base_spec: dict[str, Any] | None = None   # the spec the form edits; keeps what the page does not show
    spec: AuditSpec | None = None             # the spec of the latest audit
    result: AuditResult | None = None
    form_version: int = 0                     # bumped when new data or a new spec replaces the form
    reopened_id: int | None = None            # registry id when the result was reopened from the history
    saved_id: int | None = None               # registry id when the latest audit was saved
    started: bool = False                     # the opening example has been loaded
    report_context: dict[str, Any] = field(default_factory=dict)
    slider: dict[str, Any] = field(default_factory=dict)   # the score slider's mode and positions

    def replace_form(self, form: SetupForm, base_spec: dict[str, Any] | None) -> None:
        """Start the Set-up page afresh from ``form`` (new data, an uploaded spec, a reopened audit)."""
        self.form = form
        self.base_spec = base_spec
        self.form_version += 1

    def set_result(self, spec: AuditSpec, result: AuditResult, *, reopened_id: int | None = None) -> None:
        self.spec = spec
        self.result = result
        self.reopened_id = reopened_id
        self.saved_id = reopened_id
        self.report_context = {}
        self.slider = {}


def visit() -> Visit:
    """The current visit's state (created on first use)."""
    if "visit" not in st.session_state:
        st.session_state["visit"] = Visit()
    return st.session_state["visit"]


__all__ = ["Visit", "visit"]
