"""Report page: the audit's context, a preview of the oversight report, and every file to download.

The context fields are the spec's ``report`` block, so the downloaded spec
makes the same report in CI (``audit report spec.yaml --out DIR``). The report
is the toolkit's (small cells suppressed, self-contained HTML, PDF); the
evidence bundle is the folder ``audit report`` writes, zipped, with the spec
and a manifest of SHA-256 hashes that ``audit verify`` checks.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
from typing import Any

import streamlit as st

from audit.report.frameworks import PROFILES
from audit.report.pdf import pdf_bytes
from audit.release import PublicRelease, build_release
from audit.report.writer import evidence_bundle, render_report_html
from audit.spec import spec_to_dict, spec_to_yaml, validate_spec
from audit_app.guard import guarded
from audit_app.history_store import save_panel
from audit_app.state import Visit, visit
from audit_app.text import LANGUAGES, _, lang

FIELDS = ("agency", "decision_supported", "affected", "period", "auditor", "reviewer")


def _labels() -> dict[str, str]:
    return {"agency": _("Agency responsible for the system"), "decision_supported": _("Decision the system supports"),
            "affected": _("People affected"), "period": _("Period the data covers"), "auditor": _("Auditor"),
            "reviewer": _("Reviewer")}


def _context_form(state: Visit) -> dict[str, Any]:
    """The report block: the one in use (the spec's own at first), or the one the auditor just submitted."""
    assert state.spec is not None
    current = dict(state.report_context.get("block") or spec_to_dict(state.spec).get("report", {}))
    current.setdefault("language", lang())
    current.setdefault("audit_date", dt.date.today().isoformat())
    labels = _labels()
    with st.form("report.context"):
        left, right = st.columns(2)
        values = {name: (left if i % 2 == 0 else right).text_input(labels[name], value=current.get(name) or "",
                                                                   key=f"report.{state.form_version}.{name}")
                  for i, name in enumerate(FIELDS)}
        frameworks = st.multiselect(_("Framework profiles"), list(PROFILES),
                                    default=list(current.get("frameworks", [])),
                                    format_func=lambda k: PROFILES[k].title,
                                    placeholder=_("Choose…"), key=f"report.{state.form_version}.frameworks")
        language = st.radio(_("Language of the report"), list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                            index=list(LANGUAGES).index(current["language"]), horizontal=True,
                            key=f"report.{state.form_version}.language")
        k = st.number_input(_("Suppress counts below (small cells)"), min_value=1, max_value=1000,
                            value=int(current.get("small_cell_k", 10)))
        submitted = st.form_submit_button(_("Update the report"), type="primary")
    if not submitted:
        return current
    block = {name: value for name, value in current.items() if name not in FIELDS}
    block.update({name: value.strip() for name, value in values.items() if value.strip()})
    block.update(frameworks=list(frameworks), language=language, small_cell_k=int(k))
    return block


def _release(result: Any, context: dict[str, Any]) -> PublicRelease:
    """The public release of ``result``: suppression and the disclosure audit run once per set of tables and k.
    A new report context (names, language, frameworks) changes the spec but not what is published, so the
    previous release is kept with the new spec."""
    previous = context.get("release")
    if previous is not None and previous.k == result.spec.report.small_cell_k \
            and previous.result.spec.model_dump(exclude={"report"}) == result.spec.model_dump(exclude={"report"}) \
            and context.get("tables") == result.result_sha256:
        return dataclasses.replace(previous, result=dataclasses.replace(previous.result, spec=result.spec))
    return build_release(result)


def _page() -> None:
    state = visit()
    st.title(_("Report"))
    if state.result is None or state.spec is None:
        st.info(_("No audit yet: run one first (Data, then Set-up)."))
        return
    block = _context_form(state)
    if state.report_context.get("block") != block:
        raw = spec_to_dict(state.spec)
        raw["report"] = block
        spec = validate_spec(raw, source=_("the report context"))
        with st.spinner(_("Writing the report…")):
            result = state.workspace.audit(spec)
            release = _release(result, state.report_context)
            html = render_report_html(release)
        state.spec, state.result = spec, result
        state.base_spec = {**(state.base_spec or {}), "report": block}  # the Set-up page's spec carries it too
        state.saved_id = None if state.reopened_id is None else state.saved_id
        state.report_context = {"block": block, "html": html, "release": release, "tables": result.result_sha256}
    result, html, release = state.result, state.report_context["html"], state.report_context["release"]
    save_panel(state, where="report")
    st.subheader(_("Download"))
    cols = st.columns(5)
    stem = "report"
    cols[0].download_button(_("Report (HTML)"), html.encode("utf-8"), file_name=f"{stem}.html", mime="text/html",
                            key="report.download_html", on_click="ignore", icon=":material/download:")
    cols[1].download_button(_("Report (PDF)"), lambda: pdf_bytes(html), file_name=f"{stem}.pdf",
                            mime="application/pdf", key="report.download_pdf", on_click="ignore",
                            icon=":material/picture_as_pdf:")
    cols[2].download_button(_("Results (JSON)"), result.to_json().encode("utf-8"), file_name="result.json",
                            mime="application/json", key="report.download_json", on_click="ignore",
                            icon=":material/data_object:")
    cols[3].download_button(_("Spec (YAML)"), spec_to_yaml(result.spec).encode("utf-8"), file_name="spec.yaml",
                            mime="application/yaml", key="report.download_spec", on_click="ignore",
                            icon=":material/tune:")
    cols[4].download_button(_("Evidence bundle (ZIP)"), lambda: evidence_bundle(result, release=release), file_name="evidence.zip",
                            mime="application/zip", key="report.download_bundle", on_click="ignore",
                            icon=":material/folder_zip:")
    st.caption(_("The evidence bundle holds the report, the results, the spec and a manifest of SHA-256 hashes; "
                 "unpack it and run 'audit verify FOLDER' to check that nothing was changed. Published files "
                 "(the report, public.*) show counts below {k} as '< {k}'; result.json is complete and for internal "
                 "use.").format(k=result.spec.report.small_cell_k))
    st.subheader(_("Preview"))
    st.iframe(html, height=900)


with guarded(_("The report could not be made")):
    _page()
