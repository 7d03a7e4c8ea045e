"""Human overrides and selective labels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402

FRAME = beyond.make_rows(6000, seed=5)


def test_override_rates_per_group_and_direction() -> None:
    result = audit.run(beyond.OVERRIDE_SPEC, FRAME)
    rates = result.groups.query("view == 'overrides' and attribute == 'ethnicity'").set_index(["group", "metric"])
    for group in ("A", "B", "C"):
        rows = FRAME[FRAME["ethnicity"] == group]
        flagged = rows["recommendation"] == "flag"
        changed = rows["recommendation"] != rows["final"]
        assert rates.loc[(group, "override_rate"), "value"] == changed.mean()
        assert rates.loc[(group, "override_to_negative"), "value"] == changed[flagged].mean()
        assert rates.loc[(group, "override_to_positive"), "value"] == changed[~flagged].mean()
        assert rates.loc[(group, "override_to_negative"), "n"] == flagged.sum()
    both = result.groups.query("metric == 'selection_rate' and attribute == 'ethnicity' and group == 'B'")
    assert set(both["view"]) == {"decision", "final"}


def test_overrides_narrow_the_planted_disparity() -> None:
    result = audit.run(beyond.OVERRIDE_SPEC, FRAME)
    effects = result.table("override_effects").set_index(["attribute", "group", "metric"])
    row = effects.loc[("ethnicity", "B", "selection_rate")]
    assert row["effect"] == "narrows"
    assert abs(np.log(row["final_ratio"])) < abs(np.log(row["recommendation_ratio"]))


def test_override_values_that_match_neither_decision_are_refused() -> None:
    frame = FRAME.assign(final=FRAME["final"].where(FRAME.index % 50 != 0, "maybe"))
    with pytest.raises(audit.DataError, match="'maybe'.*match neither decision"):
        audit.run(beyond.OVERRIDE_SPEC, frame)


SELECTIVE = beyond.spec(outcome={"column": "outcome", "positive": 1, "checked": {"column": "investigated",
                                                                                 "positive": "yes"}},
                        decision={"column": "recommendation", "positive": "flag", "adverse": True},
                        policy=[{"metric": "fpr", "ratio": [0.01, 100], "selective_labels": "refuse"},
                                {"metric": "fpr", "ratio": [0.01, 100]}])


def test_selective_labels_use_checked_rows_and_report_check_rates() -> None:
    result = audit.run(SELECTIVE, FRAME)
    fpr = result.groups.query("view == 'decision' and metric == 'fpr' and attribute == 'ethnicity'")
    checked = FRAME[FRAME["investigated"] == "yes"]
    for group, value in fpr.set_index("group")["value"].items():
        if group == "unknown":
            continue
        rows = checked[checked["ethnicity"] == group]
        negatives = rows[rows["outcome"] == 0]
        assert value == (negatives["recommendation"] == "flag").mean()
    rates = result.groups.query("view == 'labels' and metric == 'check_rate' and attribute == 'ethnicity'")
    rates = rates.set_index("group")["value"]
    assert rates["B"] == (FRAME[FRAME["ethnicity"] == "B"]["investigated"] == "yes").mean()
    assert rates["B"] > rates["A"]  # the planted selection into checking
    fpr_rows = result.comparisons.query("metric == 'fpr'")
    assert fpr_rows["selective_labels"].all()
    assert not result.comparisons.query("metric == 'selection_rate'")["selective_labels"].any()
    assert any("selective labels" in n for n in result.notes)


def test_policy_can_refuse_to_pass_on_selective_labels() -> None:
    verdicts = audit.run(SELECTIVE, FRAME).verdicts
    refusing, allowing = verdicts[verdicts["rule_index"] == 0], verdicts[verdicts["rule_index"] == 1]
    assert (allowing["verdict"] == "pass").any()
    assert not (refusing["verdict"] == "pass").any()
    assert refusing["reason"].str.contains("refuses to pass").any()
