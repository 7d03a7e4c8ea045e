"""Set-up page: what to audit, in the auditor's terms; the equivalent spec is always shown and downloadable.

Every choice here is a field of the spec (see :mod:`audit_app.setup_form`),
so the downloaded ``spec.yaml`` runs in CI unchanged (``audit run spec.yaml``
beside the same data file) and gives the numbers this app shows. A spec
uploaded here fills the page; what the page does not show (amounts, a filter,
the report block) is kept as it was. The "Plan an audit" panel
(:mod:`audit_app.plan_panel`) says how large a random evaluation sample must be.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from audit.errors import SpecError
from audit.spec import parse_spec_text, spec_to_dict, spec_to_yaml, validate_spec
from audit_app.actions import run_audit, spec_mapping
from audit_app.guard import guarded, show_error
from audit_app.plan_panel import plan_panel
from audit_app.setup_form import (RULES, PolicyChoice, ProtectedChoice, SetupForm, column_numeric, metric_choices,
                                  without_code)
from audit_app.state import Visit, visit
from audit_app.text import _, count, lang, plain

NONE = ""


def _key(state: Visit, name: str) -> str:
    """A widget key: new set-up (new data, an uploaded spec) or another language redraws the widgets afresh,
    from the set-up kept in the visit."""
    return f"setup.{state.form_version}.{lang()}.{name}"


def _index(options: list[Any], value: Any) -> int:
    return options.index(value) if value in options else 0


def _with(columns: list[str], *names: str | None) -> list[str]:
    """The data's columns, plus any the set-up names that the data lacks (kept so that the audit says so)."""
    return columns + [n for n in names if n and n not in columns]


def _labelled(options: list[str], none: str) -> Any:
    """A format function for options where the empty choice reads ``none`` (made now, in this language)."""
    return {option: (none if option == NONE else option) for option in options}.__getitem__


def _values(state: Visit, column: str | None) -> list[str]:
    profile = next((p for p in state.profiles if p.name == column), None)
    return [v for v, _n in profile.top] if profile is not None else []


def _spec_upload(state: Visit) -> None:
    uploaded = st.file_uploader(_("Or upload a spec (YAML), e.g. one your engineers run in CI"), type=["yaml", "yml"],
                                key="setup.spec_upload")
    if uploaded is None or st.session_state.get("setup.spec_marker") == uploaded.file_id:
        return
    st.session_state["setup.spec_marker"] = uploaded.file_id
    raw = parse_spec_text(uploaded.getvalue(), source=f"'{uploaded.name}'")
    spec = validate_spec(raw, source=f"'{uploaded.name}'")
    kept, dropped = without_code(spec_to_dict(spec))
    st.session_state["setup.code_keys"] = dropped
    state.replace_form(SetupForm.from_spec(spec, numeric_columns=column_numeric(state.profiles)), kept)
    st.rerun()


def _code_keys_note() -> None:
    dropped = st.session_state.get("setup.code_keys")
    if dropped:
        st.warning(_("The uploaded spec's {keys} load a model or run Python code, which the app never does. They "
                     "were left out here; run that audit from the command line: audit run SPEC (add --trust-model "
                     "only for a model file you made or fully trust).").format(keys=", ".join(dropped)))


def _decision(state: Visit, form: SetupForm, columns: list[str], numeric: list[str]) -> SetupForm:
    kinds = ["decision", "score", "tiers"]
    labels = {"decision": _("a yes/no decision"), "score": _("a score with a threshold"),
              "tiers": _("tiers (e.g. trusted … blacklist)")}
    kind = st.radio(_("The system produces"), kinds, index=_index(kinds, form.kind), format_func=labels.__getitem__,
                    horizontal=True, key=_key(state, "kind"))
    adverse_help = _("On: a positive decision or a high score harms the person (a fraud flag, a sanction). Off: it "
                     "benefits them (a grant, a service).")
    if kind == "score":
        options = _with(numeric or columns, form.score_column)
        column = st.selectbox(_("Score column"), options, index=_index(options, form.score_column),
                              key=_key(state, "score_column"))
        modes = ["value", "top_k", "top_percent"]
        mode_labels = {"value": _("cut-off value"), "top_k": _("the k highest scores (capacity)"),
                       "top_percent": _("the highest per cent")}
        mode = st.radio(_("Who is acted on"), modes, index=_index(modes, form.threshold_mode),
                        format_func=mode_labels.__getitem__, horizontal=True, key=_key(state, "mode"))
        if mode == "top_k":
            value = st.number_input(_("k (people acted on)"), min_value=1, step=1,
                                    value=max(1, int(form.threshold)) if form.threshold_mode == mode else 1000,
                                    key=_key(state, f"threshold.{mode}"))
        elif mode == "top_percent":
            value = st.number_input(_("Per cent acted on"), min_value=0.01, max_value=100.0,
                                    value=float(form.threshold) if form.threshold_mode == mode else 10.0,
                                    key=_key(state, f"threshold.{mode}"))
        else:
            value = st.number_input(_("Cut-off: a score at or above it is a positive decision"), format="%.4g",
                                    value=float(form.threshold) if form.threshold_mode == mode else 0.5,
                                    key=_key(state, f"threshold.{mode}"))
        adverse = st.toggle(_("A high score harms the person"), value=form.adverse, help=adverse_help,
                            key=_key(state, "adverse"))
        return replace(form, kind=kind, score_column=column, threshold_mode=mode, threshold=float(value),
                       adverse=adverse)
    options = _with(columns, form.decision_column)
    column = st.selectbox(_("Decision column"), options, index=_index(options, form.decision_column),
                          key=_key(state, "decision_column"))
    values = _values(state, column)
    if kind == "tiers":
        known = dict(form.tiers) if column == form.decision_column else {}
        kinds_of = ["favourable", "adverse", "neutral"]
        table = pd.DataFrame({"tier": [*known] + [v for v in values if v not in known],
                              "kind": [*known.values()] + ["neutral"] * len([v for v in values if v not in known])})
        edited = st.data_editor(table, key=_key(state, f"tiers.{column}"), hide_index=True, num_rows="dynamic",
                                column_config={
                                    "tier": st.column_config.TextColumn(_("Tier"), required=True),
                                    "kind": st.column_config.SelectboxColumn(_("Effect on the person"),
                                                                             options=kinds_of, required=True)})
        ordered = st.checkbox(_("The tiers are ordered (listed from first to last)"), value=form.tiers_ordered,
                              key=_key(state, "tiers_ordered"))
        tiers = tuple((str(r["tier"]), str(r["kind"])) for r in edited.to_dict("records")
                      if isinstance(r["tier"], str) and r["tier"] and r["kind"] in kinds_of)
        return replace(form, kind=kind, decision_column=column, tiers=tiers, tiers_ordered=ordered,  # type: ignore
                       adverse=any(k == "adverse" for _t, k in tiers))
    chosen = [v for v in form.decision_positive if v in values] if column == form.decision_column else []
    positive = st.multiselect(_("Values that mean a positive decision"), values, default=chosen or values[-1:],
                              placeholder=_("Choose…"), key=_key(state, f"decision_positive.{column}"))
    adverse = st.toggle(_("A positive decision harms the person"), value=form.adverse, help=adverse_help,
                        key=_key(state, "adverse"))
    return replace(form, kind=kind, decision_column=column, decision_positive=tuple(positive), adverse=adverse)


def _truth(state: Visit, form: SetupForm, columns: list[str]) -> SetupForm:
    options = [NONE, *_with(columns, form.outcome_column, form.final_column)]
    label = {NONE: _("(none: no ground truth)")}
    outcome = st.selectbox(_("Ground truth (what really happened), for error rates"), options,
                           index=_index(options, form.outcome_column or NONE),
                           format_func=_labelled(options, label[NONE]), key=_key(state, "outcome"))
    positive: tuple[str, ...] = ()
    if outcome:
        values = _values(state, outcome)
        chosen = [v for v in form.outcome_positive if v in values] if outcome == form.outcome_column else []
        positive = tuple(st.multiselect(_("Values that mean the positive outcome (e.g. fraud found)"), values,
                                        default=chosen or values[-1:], placeholder=_("Choose…"),
                                        key=_key(state, f"outcome_positive.{outcome}")))
    final = st.selectbox(_("Final decision after human review (optional)"), options,
                         index=_index(options, form.final_column or NONE),
                         format_func=_labelled(options, _("(none)")), key=_key(state, "final"))
    return replace(form, outcome_column=outcome or None, outcome_positive=positive, final_column=final or None)


def _protected(state: Visit, form: SetupForm, columns: list[str]) -> SetupForm:
    current = [p.column for p in form.protected]
    chosen = st.multiselect(_("Protected attributes (e.g. nationality, sex, ethnicity, religion)"),
                            _with(columns, *current), default=current, placeholder=_("Choose…"),
                            key=_key(state, "protected"))
    references = {p.column: p.reference for p in form.protected}
    protected: list[ProtectedChoice] = []
    if chosen:
        cells = st.columns(min(len(chosen), 2))
        for i, column in enumerate(chosen):
            values = _values(state, column)
            options = [NONE, *values]
            reference = cells[i % len(cells)].selectbox(
                _("Reference group for {column}").format(column=plain(column)), options,
                index=_index(options, references.get(column) or NONE),
                format_func=_labelled(options, _("(the largest group)")), key=_key(state, f"ref.{column}"))
            protected.append(ProtectedChoice(column, reference or None))
    pairs = [(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1:]]
    kept = [tuple(p) for p in form.intersections if tuple(p) in pairs]
    intersections = st.multiselect(_("Intersections (groups of two attributes at once)"), pairs, default=kept,
                                   format_func=lambda p: " × ".join(p), placeholder=_("Choose…"),
                                   key=_key(state, "intersections"))
    return replace(form, protected=tuple(protected), intersections=tuple(tuple(p) for p in intersections))


def _policy(state: Visit, form: SetupForm) -> SetupForm:
    metrics = metric_choices(form.outcome_column is not None, form.kind, [t for t, _k in form.tiers],
                             [a.get("column") for a in (state.base_spec or {}).get("amounts") or []])
    rows = pd.DataFrame([{"metric": r.metric, "bound": r.bound, "low": r.low, "high": r.high, "rule": r.rule}
                         for r in form.policy], columns=["metric", "bound", "low", "high", "rule"])
    st.caption(_("Each rule bounds a metric's ratio (group ÷ reference) or difference (group − reference). The "
                 "four-fifths rule is a ratio in [0.8, 1.25]. 'significant' (the default) fails when the estimate "
                 "is outside the band and the family-adjusted test tells the group from the reference, and passes "
                 "when the estimate is inside; 'ci' fails only when the whole family-level interval is outside the "
                 "band and passes only when it is inside; 'point' compares the estimate alone (a legal calculation, "
                 "not statistically established)."))
    edited = st.data_editor(rows, key=_key(state, "policy"), hide_index=True, num_rows="dynamic", column_config={
        "metric": st.column_config.SelectboxColumn(_("Metric"), options=sorted(set(metrics) | set(rows["metric"])),
                                                   required=True),
        "bound": st.column_config.SelectboxColumn(_("Bound"), options=["ratio", "difference"], required=True),
        "low": st.column_config.NumberColumn(_("Lowest allowed"), format="%.3g"),
        "high": st.column_config.NumberColumn(_("Highest allowed"), format="%.3g"),
        "rule": st.column_config.SelectboxColumn(_("Decision rule"), options=list(RULES), required=True,
                                                 default=RULES[0])})

    def number(x: Any) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    policy = tuple(PolicyChoice(metric=str(r["metric"]), bound=r["bound"] or "ratio", low=number(r["low"]),
                                high=number(r["high"]), rule=r["rule"] or RULES[0])
                   for r in edited.to_dict("records") if isinstance(r.get("metric"), str) and r["metric"])
    return replace(form, policy=policy)


def _statistics(state: Visit, form: SetupForm) -> SetupForm:
    with st.expander(_("Statistics and proxy scan")):
        levels = [0.9, 0.95, 0.99]
        confidence = st.selectbox(_("Confidence level of the ordinary intervals (the family-level ones follow "
                                    "from α)"), levels, index=_index(levels, form.confidence),
                                  format_func=lambda c: f"{c:.0%}", key=_key(state, "confidence"))
        alpha = st.number_input(_("Family-wise error rate α: the largest chance that an audit of data without any "
                                  "disparity shows a fail anywhere"), min_value=0.001, max_value=0.499,
                                value=float(form.alpha), step=0.01, format="%.3g", key=_key(state, "alpha"))
        minimum = st.number_input(_("Fewest people for a verdict of the rule 'point' or of approximate evidence "
                                    "(fewer: inconclusive)"), min_value=1,
                                  value=form.min_group_size, step=1, key=_key(state, "min_group_size"))
        corrections = ["holm", "bh", "none"]
        correction = st.selectbox(_("Correction of the comparisons tables' p-values, for reading (verdicts use "
                                    "the family)"), corrections,
                                  index=_index(corrections, form.correction), key=_key(state, "correction"),
                                  format_func={"holm": "Holm", "bh": "Benjamini–Hochberg", "none": _("none")}.get)
        proxies = st.toggle(_("Scan the other columns for proxies of the protected attributes"), value=form.proxies,
                            key=_key(state, "proxies"))
        threshold = st.slider(_("Flag a column at this Cramér's V or above"), 0.05, 1.0, float(form.proxy_threshold),
                              0.05, key=_key(state, "proxy_threshold"), disabled=not proxies)
    return replace(form, confidence=float(confidence), alpha=float(alpha), min_group_size=int(minimum),
                   correction=correction, proxies=proxies, proxy_threshold=float(threshold))


def _page() -> None:
    state = visit()
    st.title(_("Set-up"))
    if state.form is None:
        st.info(_("Load data first, on the Data page."))
        st.page_link("screens/data.py", label=_("Go to Data"), icon=":material/table:")
        plan_panel(state)
        return
    with guarded(_("The spec could not be used")):
        _spec_upload(state)
    _code_keys_note()
    form = state.form
    columns = [p.name for p in state.profiles]
    numeric = column_numeric(state.profiles)
    missing = sorted({c for c in form.columns() if c not in columns}) if columns else []
    if missing:
        st.warning(_("The set-up names columns that the data does not have: {columns}. Choose other columns, or "
                     "load the data the spec was written for.").format(columns=", ".join(map(plain, missing))))
    if not columns:
        st.info(_("This audit was reopened from the history without its rows: its set-up is shown below and can "
                  "be downloaded, but changing which columns are audited needs the data (Data page)."))
    else:
        left, right = st.columns(2)
        with left:
            st.subheader(_("System"))
            form = replace(form, system_name=st.text_input(_("Name of the system audited"), value=form.system_name,
                                                           key=_key(state, "system_name")),
                           owner=st.text_input(_("Agency that operates it"), value=form.owner,
                                               key=_key(state, "owner")))
            st.subheader(_("Decision"))
            form = _decision(state, form, columns, numeric)
            form = _truth(state, form, columns)
        with right:
            st.subheader(_("Protected attributes"))
            form = _protected(state, form, columns)
            st.subheader(_("Policy"))
            form = _policy(state, form)
            form = _statistics(state, form)
        state.form = form
    plan_panel(state)
    _equivalent_spec(state)


def _equivalent_spec(state: Visit) -> None:
    st.subheader(_("The equivalent spec"))
    st.caption(_("This is the whole set-up as a spec file. Engineers run it in CI, beside the same data file, with "
                 "'audit run spec.yaml' and get the numbers this app shows."))
    raw = spec_mapping(state)
    try:
        spec = validate_spec(raw, source=_("the set-up"))
    except SpecError as error:
        show_error(error, heading=_("The set-up is not complete yet"))
        st.code(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), language="yaml")
        return
    text = spec_to_yaml(spec, header=_("Audit spec made with the audit app; run it with: audit run spec.yaml"))
    st.code(text, language="yaml")
    left, right = st.columns([1, 1])
    left.download_button(_("Download spec.yaml"), text.encode("utf-8"), file_name="spec.yaml",
                         mime="application/yaml", key="setup.download_spec", on_click="ignore")
    if right.button(_("Run the audit"), type="primary", key="setup.run"):
        with st.spinner(_("Counting and testing…")):
            result = run_audit(spec, state)
        st.session_state["results.flash"] = _("Audited {rows} rows.").format(rows=count(result.provenance.rows_used))
        st.switch_page("screens/results.py")


with guarded(_("The set-up could not be shown")):
    _page()
