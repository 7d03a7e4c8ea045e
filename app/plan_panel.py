"""The Set-up page's "Plan an audit" panel: how large a random evaluation sample must be, before it is collected.

The numbers are the toolkit's (:func:`audit.planning.plan_sample` and
:func:`audit.planning.detectable`, as ``audit plan`` prints them); this module
only asks for the inputs and writes the answer in the visitor's language. The
groups' shares come from a protected attribute of the data already loaded:
its values are counted as written (the column profiles the Data page made),
with no new pass over the rows. A bad value is shown as the toolkit's message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import streamlit as st

from audit.family import DECIDING_POWER
from audit.planning import SamplePlan, detectable, plan_sample
from audit.spec import StatisticsSpec
from audit.starter import ColumnProfile
from audit_app.guard import guarded
from audit_app.state import Visit
from audit_app.text import _, count, lang, num, pct, plain

Question = Literal["people", "ratios"]
NONE = ""


@dataclass(frozen=True)
class Shares:
    """A protected attribute's groups and their people in the loaded data (values as written)."""

    column: str
    people: dict[str, int]
    missing: int


def group_shares(profiles: Sequence[ColumnProfile], column: str) -> Shares | None:
    """The people of each value of ``column``, from the data's column profiles; None when they are not all known.

    The profiles list every value of a column with at most
    ``statistics.max_groups`` values (most frequent first), counted over the
    rows loaded; rows without a value are left out (``missing``). A column
    with more values (an identifier, not groups) has no shares.
    """
    profile = next((p for p in profiles if p.name == column), None)
    limit = StatisticsSpec().max_groups
    if profile is None or not profile.top or len(profile.top) > limit or profile.distinct > limit:
        return None
    people: dict[str, int] = {}
    for value, rows in profile.top:
        people[value] = people.get(value, 0) + int(rows)
    return Shares(column, people, profile.missing)


def _key(name: str) -> str:
    return f"setup.plan.{lang()}.{name}"


def _defaults(state: Visit) -> tuple[float, int]:
    """The set-up's α (``statistics.alpha``) and the current audit's family size (1 without an audit)."""
    alpha = state.form.alpha if state.form is not None else (
        state.spec.statistics.alpha if state.spec is not None else StatisticsSpec().alpha)
    size = state.result.family.size if state.result is not None else 0
    return float(alpha), int(size) if size > 0 else 1


def plan_panel(state: Visit) -> None:
    """The panel: inputs, then the plan (or the toolkit's message about a bad input)."""
    with st.expander(_("Plan an audit: how many people a random evaluation sample needs")):
        st.caption(_("Before the data are collected: a sample drawn at random (files reviewed whatever the system "
                     "decided) detects a disparity with the chosen power at the family's level α / M, as the audit "
                     "judges its verdicts."))
        questions = {"people": _("People needed to detect a ratio"), "ratios": _("Ratios a sample can detect")}
        question: Question = st.radio(_("Question"), list(questions), format_func=questions.__getitem__,
                                      horizontal=True, key=_key("question"))
        alpha_default, size_default = _defaults(state)
        left, middle, right = st.columns(3)
        base_rate = left.number_input(_("Reference group's rate (of the decision or the outcome)"), min_value=0.0,
                                      max_value=1.0, value=0.3, step=0.01, format="%.4g", key=_key("base_rate"))
        power = middle.number_input(_("Power: the chance of detecting it"), min_value=0.0, max_value=1.0,
                                    value=DECIDING_POWER, step=0.05, format="%.3g", key=_key("power"))
        alpha = right.number_input(_("α (family-wise error rate)"), min_value=0.0, max_value=1.0, value=alpha_default,
                                   step=0.01, format="%.3g", key=_key(f"alpha.{alpha_default}"))
        comparisons = left.number_input(_("M: verdicts in the audit's family (rules × groups × views)"), min_value=0,
                                        value=size_default, step=1, key=_key(f"comparisons.{size_default}"))
        shares = _shares_choice(state, middle)
        if question == "people":
            ratio = right.number_input(_("Ratio to detect (group's rate ÷ reference's rate)"), min_value=0.0,
                                       value=0.8, step=0.05, format="%.3g", key=_key("ratio"))
            with guarded(_("The plan could not be made")):
                _show(plan_sample(float(base_rate), float(ratio), power=float(power), alpha=float(alpha),
                                  comparisons=int(comparisons), shares=_weights(shares),
                                  reference=_reference(state, shares)), shares)
        else:
            label = _("People in the whole sample") if shares is not None else _("People per group")
            size = right.number_input(label, min_value=0, value=1000, step=100, key=_key("size"))
            with guarded(_("The plan could not be made")):
                _show(detectable(float(base_rate), n_per_group=None if shares is not None else int(size),
                                 n_total=int(size) if shares is not None else None, power=float(power),
                                 alpha=float(alpha), comparisons=int(comparisons), shares=_weights(shares),
                                 reference=_reference(state, shares)), shares)


def _shares_choice(state: Visit, where: st.delta_generator.DeltaGenerator) -> Shares | None:
    """The shares of the protected attribute the visitor picks (none: two groups of equal size)."""
    columns = [p.column for p in state.form.protected] if state.form is not None else []
    options = [NONE, *columns]
    names = {NONE: _("(none: two groups of equal size)"), **{c: c for c in columns}}
    column = where.selectbox(_("Groups' shares from the data: protected attribute"), options,
                             format_func=names.__getitem__, key=_key("shares"))
    if not column:
        return None
    found = group_shares(state.profiles, column)
    if found is None:
        st.info(_("The values of {column} are not counted in the loaded data (more than {limit} values, or no "
                  "rows): the plan is made for two groups of equal size.").format(
                      column=plain(column), limit=count(StatisticsSpec().max_groups)))
    return found


def _weights(shares: Shares | None) -> dict[str, float] | None:
    return {group: float(people) for group, people in shares.people.items()} if shares is not None else None


def _reference(state: Visit, shares: Shares | None) -> str | None:
    """The set-up's reference group for the attribute, when it is one of the groups (else the largest)."""
    if shares is None or state.form is None:
        return None
    chosen = next((p.reference for p in state.form.protected if p.column == shares.column), None)
    return chosen if chosen in shares.people else None


def _ratio(value: float | None) -> str:
    return num(value) if value is not None else _("none (no rate that far)")


def _show(plan: SamplePlan, shares: Shares | None) -> None:
    """The plan in words, its people per group and in total, and each group's people."""
    level = _("Each test at α / M = {alpha} / {m} = {level}, with {power} power.").format(
        alpha=num(plan.alpha), m=count(plan.comparisons), level=num(plan.level), power=pct(plan.power, 0))
    if plan.ratio is not None:
        st.markdown(_("Goal: detect a group's rate of {rate} against the reference's {base} (ratio {ratio}).").format(
            rate=num(plan.ratio * plan.base_rate), base=num(plan.base_rate), ratio=num(plan.ratio)) + " " + level)
    else:
        st.markdown(_("Goal: the ratios a sample detects against a reference rate of {base}.").format(
            base=num(plan.base_rate)) + " " + level)
    cells = st.columns(4)
    if plan.n_per_group is not None:
        cells[0].metric(_("People per group"), count(plan.n_per_group))
        cells[1].metric(_("Detectable ratio, lower"), _ratio(plan.detectable_lower))
        cells[2].metric(_("Detectable ratio, higher"), _ratio(plan.detectable_higher))
    if plan.n_total is not None:
        cells[3].metric(_("People in total"), count(plan.n_total))
    if plan.groups and shares is not None:
        reference = next(g.group for g in plan.groups if g.reference)
        st.caption(_("Shares from {column} in the loaded data: {rows} rows counted, {missing} without a value left "
                     "out. Every group is compared with the reference {reference} at its share.").format(
                         column=plain(shares.column), rows=count(sum(shares.people.values())),
                         missing=count(shares.missing), reference=plain(reference)))
        st.dataframe(pd.DataFrame([{
            _("Group"): g.group, _("Share"): pct(g.share), _("People"): count(g.people),
            _("Detectable ratio, lower"): _("reference") if g.reference else _ratio(g.detectable_lower),
            _("Detectable ratio, higher"): "" if g.reference else _ratio(g.detectable_higher)}
            for g in plan.groups]), hide_index=True, width="stretch")


__all__ = ["Shares", "group_shares", "plan_panel"]
