"""Results page: the verdict and the family it is judged in, then per attribute and intersection the rates,
disparities and verdicts (each with its ordinary and family-level interval, p (family), its evidence and, when
inconclusive, what would decide it).

For a score, a slider moves the cut-off (a value, the k highest, or the
highest per cent) and every disparity is derived again from the counts
already made: nothing is read from the data while the slider moves. The
moved view's verdicts are judged in the whole family of the moved spec, as
``audit run`` of that spec judges them: the audit's other views stay as they
are, so their p-values are taken from the audit already made.
"""

from __future__ import annotations

import streamlit as st

from audit.spec import INTERSECTION_JOIN, AuditSpec
from audit_app import charts, tables
from audit_app.guard import guarded
from audit_app.history_store import save_panel
from audit_app.state import Visit, visit
from audit_app.text import _, confidence_pct, count, lang, num, plain, verdict_word
from audit_app.verdict_words import family_sentences
from audit_app.workspace import outside_p_values, slider_grid, threshold_views, with_threshold

BANNER = {"fail": st.error, "pass": st.success, "inconclusive": st.warning}


def _key(name: str) -> str:
    """A widget key; it names the language, so a widget whose labels are translated is redrawn afresh."""
    return f"results.{lang()}.{name}"


def _header(state: Visit) -> None:
    result = state.result
    assert result is not None
    flash = st.session_state.pop("results.flash", None)
    if flash:
        st.toast(flash)
    st.title(plain(result.spec.system.name))
    counts = result.verdict_counts()
    BANNER[result.verdict](
        "### " + _("Overall verdict: {verdict}").format(verdict=verdict_word(result.verdict).upper()) + "\n\n"
        + _("{fail} fail, {passed} pass, {inconclusive} inconclusive (a verdict is inconclusive when the data are "
            "too few to tell).").format(fail=count(counts["fail"]), passed=count(counts["pass"]),
                                        inconclusive=count(counts["inconclusive"])))
    st.markdown(" ".join(family_sentences(result.family, set(result.verdicts["decision_rule"]))))
    p = result.provenance
    unit = _("people (from a table of counts)") if result.spec.data.count_column else _("rows")
    st.caption(_("Data: {source} — {used} of {read} {unit} audited · SHA-256 {sha}…").format(
        source=plain(p.data.source), used=count(p.rows_used), read=count(p.rows_read), unit=unit,
        sha=str(p.data.sha256)[:16]))
    if result.counts is not None:
        positive = ", ".join(plain(v) for v in result.counts.decision.positive_values)
        st.caption((_("Positive decision: '{column}' in {{{values}}}; it harms the person (adverse), so a higher rate "
                      "is a disadvantage.") if result.spec.adverse else
                    _("Positive decision: '{column}' in {{{values}}}; it benefits the person (favourable), so a lower "
                      "rate is a disadvantage.")).format(column=plain(result.counts.decision.column), values=positive))
    if state.reopened_id is not None:
        st.info(_("Reopened from the history (audit #{id}, audited {when}).").format(
            id=state.reopened_id, when=p.created_at))


@st.fragment
def _score_view(state: Visit) -> None:
    """The slider: pick a cut-off and see every disparity at it, derived from the counts kept."""
    spec, audited = state.spec, state.result
    assert spec is not None and spec.score is not None and audited is not None
    counted = state.workspace.counts_for(spec)
    st.subheader(_("Move the threshold"))
    modes = ["value", "top_k", "top_percent"]
    labels = {"value": _("cut-off value"), "top_k": _("the k highest scores (capacity)"),
              "top_percent": _("the highest per cent")}
    chosen = state.slider
    mode = st.radio(_("Act on"), modes, index=modes.index(chosen.get("mode", "value")),
                    format_func=labels.__getitem__, horizontal=True, key=_key("mode"))
    first = spec.score.threshold[0]
    if mode == "value":
        grid = list(slider_grid(counted, spec))
        if not grid:
            st.info(_("The score has no values to move a cut-off over."))
            return
        start = chosen.get("value", first.value if first.value is not None else grid[len(grid) // 2])
        value = st.select_slider(_("Cut-off: a score at or above it is acted on"), grid,
                                 value=min(grid, key=lambda g: abs(g - start)),
                                 format_func={g: num(g, 4) for g in grid}.__getitem__,
                                 key=_key("value"))
    elif mode == "top_k":
        population = int(audited.table("thresholds")["population"].max())  # people with a score
        step = max(1, population // 200)
        start = chosen.get("top_k", first.top_k or min(population, 1000))
        value = st.slider(_("k: the number of people acted on"), 1, max(population, 2), int(min(start, population)),
                          step, key=_key("top_k"))
    else:
        value = st.slider(_("Per cent acted on"), 0.5, 100.0, float(chosen.get("top_percent",
                                                                                first.top_percent or 10.0)), 0.5,
                          key=_key("top_percent"))
    state.slider = {**chosen, "mode": mode, mode: value}
    moved = with_threshold(spec, mode, value)
    view = moved.score.threshold[0].name  # type: ignore[union-attr]
    own = view in set(audited.verdicts["view"]) and \
        spec.score.threshold[0] == moved.score.threshold[0]  # type: ignore[union-attr]
    if own:  # the audit's own cut-off
        result = audited
    else:  # the moved view alone, judged in the moved spec's whole family: its other views are the audit's own
        result = state.workspace.audit(moved, views=[view],
                                       family_outside=outside_p_values(audited, threshold_views(spec)))
    thresholds = result.table("thresholds")
    row = thresholds[thresholds["view"] == view].iloc[0].to_dict() if len(thresholds) else {}
    verdicts = result.verdicts[result.verdicts["view"] == view]
    counts = verdicts["verdict"].value_counts()
    st.markdown(_("At {view}: {acted} of {population} people acted on (cut-off score {cutoff}); {fail} fail, {passed} "
                  "pass, {inconclusive} inconclusive.").format(
        view=plain(view), acted=count(row.get("acted_on")), population=count(row.get("population")),
        cutoff=num(row.get("cutoff")), fail=count(counts.get("fail", 0)), passed=count(counts.get("pass", 0)),
        inconclusive=count(counts.get("inconclusive", 0))))
    if row.get("note"):
        st.caption(plain(row["note"]))
    st.caption(_("Judged as the audit at this cut-off judges them: one family of {size} verdicts at α = {alpha}.")
               .format(size=count(result.family.size), alpha=num(result.family.alpha)))
    table = tables.verdicts_table(verdicts, confidence=spec.statistics.confidence,
                                  family_confidence=result.family.confidence)
    ordinary, family = tables.interval_labels(spec.statistics.confidence, result.family.confidence)
    st.dataframe(tables.style_verdicts(table[[_("Metric"), _("Attribute"), _("Group"), _("People"), ordinary, family,
                                              _("p (family)"), _("Verdict"), _("What would decide")]]),
                 hide_index=True, width="stretch", key=_key("slider_table"))
    sweep = audited.table("sweep_comparisons")
    if mode == "value" and sweep is not None and len(sweep):
        _sweep_chart(spec, sweep, float(value))
    if st.button(_("Use this threshold in the set-up"), key=_key("use_threshold")):
        from dataclasses import replace

        from audit_app.actions import run_audit

        if state.form is not None:
            state.replace_form(replace(state.form, threshold_mode=mode, threshold=float(value)), state.base_spec)
        run_audit(moved, state)
        state.slider = {}
        st.rerun()


def _sweep_chart(spec: AuditSpec, sweep, at: float) -> None:  # type: ignore[no-untyped-def]
    rules = [r for r in spec.policy if r.bound == "ratio"]
    metrics = sorted({r.metric for r in rules} & set(sweep["metric"])) or ["selection_rate"]
    left, right = st.columns(2)
    names = {m: tables.metric_name(m) for m in metrics}
    metric = left.selectbox(_("Disparity across cut-offs: metric"), metrics, format_func=names.__getitem__,
                            key=_key("sweep_metric"))
    attribute = right.selectbox(_("Attribute"), list(spec.attribute_names), key=_key("sweep_attribute"))
    rows = sweep[(sweep["metric"] == metric) & (sweep["attribute"] == attribute)]
    band = next((r.band for r in rules if r.metric == metric), (0.8, 1.25))
    st.altair_chart(charts.sweep_chart(rows, at=at, band=band, title=tables.metric_name(metric),
                                       x_title=_("cut-off"), y_title=_("ratio to the reference group")),
                    width="stretch")


def _attribute(state: Visit, attribute: str) -> None:
    result = state.result
    assert result is not None
    spec = result.spec
    blocks = [(index, view) for index, rule in enumerate(spec.policy)
              for view in tables.rule_rows(result, index, attribute)["view"].drop_duplicates()]
    if not blocks:
        st.caption(_("No policy rule applies to {attribute}; every metric is listed below.").format(
            attribute=plain(attribute)))
    else:
        bounds = {"ratio": _("ratio"), "difference": _("difference")}

        def describe(block: tuple[int, str]) -> str:
            rule = spec.policy[block[0]]
            return (f"{tables.metric_name(rule.metric)} — {bounds[rule.bound]} [{num(rule.band[0])}, "
                    f"{num(rule.band[1])}] ({rule.rule})" + (f" · {block[1]}" if len(set(v for _i, v in blocks)) > 1
                                                             else ""))

        names = {block: describe(block) for block in blocks}
        index, view = st.selectbox(_("Policy rule"), blocks, format_func=names.__getitem__,
                                   key=_key(f"rule.{attribute}"))
        _rule_block(state, attribute, index, view)
    with st.expander(_("Every metric for {attribute}").format(attribute=plain(attribute))):
        views = sorted(set(result.groups["view"]))
        chosen = st.selectbox(_("View"), views, key=_key(f"view.{attribute}")) if len(views) > 1 else views[0]
        st.dataframe(tables.groups_table(result, attribute, chosen), hide_index=True, width="stretch")


def _rule_block(state: Visit, attribute: str, index: int, view: str) -> None:
    """One rule's table and charts for one attribute and view."""
    result = state.result
    assert result is not None
    rule = result.spec.policy[index]
    part = tables.rule_rows(result, index, attribute, view)
    table = tables.rule_table(part, bound=rule.bound, confidence=result.spec.statistics.confidence,
                              family_confidence=result.family.confidence)
    st.dataframe(tables.style_verdicts(table), hide_index=True, width="stretch")
    reference = part["reference"].iloc[0]
    rate_rows = result.groups[(result.groups["attribute"] == attribute) & (result.groups["metric"] == rule.metric)
                              & (result.groups["view"] == view)]
    left, right = st.columns(2)
    with left:
        st.altair_chart(charts.rate_chart(rate_rows, reference=reference, title=_("Rate with its interval"),
                                          value_title=tables.metric_name(rule.metric)), width="stretch")
    if rule.bound == "ratio":
        with right:
            st.altair_chart(charts.ratio_chart(part, band=rule.band, title=_("Ratio to {reference}").format(
                reference=reference), value_title=_("ratio (log scale)")), width="stretch")
        if INTERSECTION_JOIN in attribute:
            st.altair_chart(charts.heat_map(part, attribute=attribute, value="estimate",
                                            title=_("Intersections: ratio to {reference}").format(reference=reference),
                                            label=num), width="stretch")
    undefined = part[part["estimate"].isna()]
    if len(undefined):
        st.caption(_("Undefined (not drawn): {groups}").format(groups=", ".join(
            f"{plain(g)} ({plain(r)})" for g, r in zip(undefined["group"], undefined["reason"]))))


def _extras(state: Visit) -> None:
    result = state.result
    assert result is not None
    names = {"tests": _("Tests of the score and tier distributions"), "capacity": _("Capacity: who is acted on"),
             "proxies": _("Proxies: columns that stand in for a protected attribute"),
             "override_effects": _("Human overrides: do they narrow or widen the disparity?"),
             "calibration": _("Calibration by group"), "auc": _("AUC by group"),
             "thresholds": _("Cut-offs")}
    present = [name for name in names if len(result.table(name))]
    if not present:
        return
    st.subheader(_("More tables"))
    for name in present:
        with st.expander(names[name], expanded=name == "proxies"):
            st.dataframe(tables.extra_table(result.table(name)), hide_index=True, width="stretch")


def _page() -> None:
    state = visit()
    if state.result is None:
        st.title(_("Results"))
        st.info(_("No audit yet: load data on the Data page and choose what to audit on the Set-up page."))
        st.page_link("screens/data.py", label=_("Go to Data"), icon=":material/table:")
        return
    _header(state)
    save_panel(state, where="results")
    if state.spec is not None and state.spec.score is not None:
        with guarded(_("The threshold could not be moved")):
            _score_view(state)
    attributes = list(state.result.spec.attribute_names)
    st.subheader(_("By attribute"))
    attribute = st.segmented_control(_("Attribute"), attributes, default=attributes[0], key=_key("attribute"),
                                     format_func=plain, label_visibility="collapsed") or attributes[0]
    with guarded():
        _attribute(state, attribute)
    with st.expander(_("All verdicts")):
        table = tables.verdicts_table(state.result.verdicts, confidence=state.result.spec.statistics.confidence,
                                      family_confidence=state.result.family.confidence)
        st.dataframe(tables.style_verdicts(table), hide_index=True, width="stretch")
    with st.expander(_("Notes")):
        for note in state.result.notes:
            st.markdown(f"- {plain(note)}")
    _extras(state)
    st.caption(_("Rates and disparities carry {level} intervals; verdicts are decided by family-level intervals "
                 "and p (family), Holm's adjustment over every verdict of the audit. The comparisons tables' "
                 "p-values are adjusted within each view with {correction}, for reading.").format(
                     level=confidence_pct(state.result.spec.statistics.confidence),
                     correction=state.result.spec.statistics.correction))


with guarded(_("The results could not be shown")):
    _page()
