"""History page: past audits (who, when, data hash, verdict); reopen one; compare two audits of one system.

With a login, a user sees their own audits and those shared with everyone.
A comparison says which disparities moved between two audits, whether the
change is significant (tests on the counts, adjusted for many comparisons),
and which verdicts changed.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.changes import compare_results
from audit_app import access, tables
from audit_app.guard import guarded
from audit_app.history_store import open_in_visit, registry, viewer
from audit_app.state import visit
from audit_app.text import _, count, num, p_text, plain, verdict_word


def _listing(records: list) -> pd.DataFrame:  # type: ignore[type-arg]
    return pd.DataFrame([{
        "#": r.id, _("System"): r.system, _("Audited"): r.audited_at.replace("T", " ")[:16],
        _("Saved by"): r.owner, _("Shared"): "✓" if r.shared else "",
        _("Data SHA-256"): (r.data_sha256 or "")[:12] + "…", _("Verdict"): verdict_word(r.verdict),
        _("Fail / pass / inconclusive"): f"{r.fail_count} / {r.pass_count} / {r.inconclusive_count}"}
        for r in records])


def _label(record) -> str:  # type: ignore[no-untyped-def]
    when = record.audited_at.replace("T", " ")[:16]
    return f"#{record.id} · {record.system} · {when} · {verdict_word(record.verdict)}"


def _compare(user: access.User, records: list) -> None:  # type: ignore[type-arg]
    st.subheader(_("Compare two audits of one system"))
    systems = sorted({r.system for r in records})
    system = st.selectbox(_("System"), systems, key="history.system")
    same = sorted((r for r in records if r.system == system), key=lambda r: r.audited_at)
    if len(same) < 2:
        st.info(_("Only one audit of this system is saved; save another (e.g. next month's data) to compare."))
        return
    by_id = {r.id: r for r in same}
    names = {i: _label(r) for i, r in by_id.items()}  # labels made now: a widget keeps its format function
    left, right = st.columns(2)
    old = by_id[left.selectbox(_("Earlier audit"), list(by_id), index=len(same) - 2, format_func=names.__getitem__,
                               key="history.old")]
    new = by_id[right.selectbox(_("Later audit"), list(by_id), index=len(same) - 1, format_func=names.__getitem__,
                                key="history.new")]
    if old.id == new.id:
        st.info(_("Choose two different audits."))
        return
    who = viewer(user)
    changes = compare_results(registry().get(old.id, user=who).result, registry().get(new.id, user=who).result)
    summary = changes.summary()
    (st.error if summary.regression else st.success)(
        _("{regressed} verdicts got worse, {improved} got better, {same} stayed the same; {moved} disparities moved "
          "beyond their intervals and {significant} changed significantly.").format(
            regressed=count(summary.verdicts_regressed), improved=count(summary.verdicts_improved),
            same=count(summary.verdicts_same), moved=count(summary.disparities_moved),
            significant=count(summary.disparities_significant)))
    for note in changes.notes:
        st.caption(plain(note))
    disparities = changes.disparities
    moved = disparities[disparities["significant"].fillna(False).astype(bool)
                        | disparities["moved_beyond_intervals"].fillna(False).astype(bool)]
    st.markdown("**" + _("Disparities that moved") + "**")
    if moved.empty:
        st.caption(_("None: no disparity changed significantly or moved beyond its interval."))
    else:
        st.dataframe(pd.DataFrame({
            _("View"): moved["view"], _("Attribute"): moved["attribute"], _("Group"): moved["group"],
            _("Metric"): [tables.metric_name(m) for m in moved["metric"]],
            _("Ratio before"): [f"{num(r)} ({num(lo)}–{num(hi)})" for r, lo, hi in
                                zip(moved["old_ratio"], moved["old_ratio_ci_low"], moved["old_ratio_ci_high"])],
            _("Ratio after"): [f"{num(r)} ({num(lo)}–{num(hi)})" for r, lo, hi in
                               zip(moved["new_ratio"], moved["new_ratio_ci_low"], moved["new_ratio_ci_high"])],
            _("Adjusted p"): [p_text(p) for p in moved["p_adjusted"]],
            _("Significant"): [_("yes") if s is True else _("no") for s in moved["significant"]]}),
            hide_index=True, width="stretch")
    changed = changes.verdicts[changes.verdicts["change"] != "same"]
    st.markdown("**" + _("Verdicts that changed") + "**")
    if changed.empty:
        st.caption(_("None."))
    else:
        words = {"improved": _("improved"), "regressed": _("regressed"), "new": _("new"), "gone": _("gone")}
        st.dataframe(pd.DataFrame({
            _("Rule"): changed["rule"], _("View"): changed["view"], _("Attribute"): changed["attribute"],
            _("Group"): changed["group"], _("Before"): [verdict_word(v) if v else "—" for v in changed["old_verdict"]],
            _("After"): [verdict_word(v) if v else "—" for v in changed["new_verdict"]],
            _("Change"): [words.get(c, c) for c in changed["change"]]}), hide_index=True, width="stretch")
    with st.expander(_("Every rate, before and after")):
        st.dataframe(tables.extra_table(changes.rates), hide_index=True, width="stretch")


def _page() -> None:
    st.title(_("History"))
    user = access.signed_in_user()
    if user is None:
        return
    records = registry().list(user=viewer(user))
    if not records:
        st.info(_("No audit saved yet. Use 'Save to history' on the Results or Report page."))
        return
    if user.mode != "none":
        st.caption(_("Your audits and those shared with everyone."))
    st.dataframe(_listing(records), hide_index=True, width="stretch")
    by_id = {r.id: r for r in records}
    names = {i: _label(r) for i, r in by_id.items()}
    chosen = by_id[st.selectbox(_("Audit"), list(by_id), format_func=names.__getitem__, key="history.chosen")]
    cols = st.columns(3)
    if cols[0].button(_("Reopen"), key="history.reopen", icon=":material/open_in_new:"):
        stored = registry().get(chosen.id, user=viewer(user))
        same = open_in_visit(visit(), stored)
        st.session_state["results.flash"] = (_("Reopened audit #{id}; its tables are exactly those saved.") if same
                                             else _("Reopened audit #{id}; this version of the toolkit derives "
                                                    "different tables from its counts.")).format(id=chosen.id)
        st.switch_page("screens/results.py")
    if user.mode != "none" and chosen.owner == user.id:
        if cols[1].button(_("Stop sharing") if chosen.shared else _("Share with everyone"), key="history.share"):
            registry().set_shared(chosen.id, not chosen.shared, user=user.id)
            st.rerun()
    if chosen.owner == user.id or user.mode == "none":
        if cols[2].button(_("Delete"), key="history.delete", icon=":material/delete:"):
            registry().delete(chosen.id, user=viewer(user))
            st.rerun()
    st.divider()
    _compare(user, records)


with guarded(_("The history could not be shown")):
    _page()
