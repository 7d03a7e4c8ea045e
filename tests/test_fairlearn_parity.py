"""Every metric we share with fairlearn equals fairlearn's MetricFrame to 1e-12.

Random data with two attributes, including groups with no actual positives or
negatives, where we report *undefined* (fairlearn reports 0); the check is
then that we are undefined exactly when the metric's denominator is empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate,
                               true_negative_rate, true_positive_rate)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score

import audit

FAIRLEARN = {
    "count": count,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "accuracy": accuracy_score,
    "ppv": lambda y, p: precision_score(y, p, zero_division=0),
    "balanced_accuracy": balanced_accuracy_score,
    "f1": lambda y, p: f1_score(y, p, zero_division=0),
}

# denominators (of y, d) that make each metric undefined when empty
DENOMINATOR = {
    "tpr": lambda y, d: (y == 1).sum(), "fnr": lambda y, d: (y == 1).sum(),
    "fpr": lambda y, d: (y == 0).sum(), "tnr": lambda y, d: (y == 0).sum(),
    "ppv": lambda y, d: (d == 1).sum(),
    "balanced_accuracy": lambda y, d: min((y == 1).sum(), (y == 0).sum()),
    "f1": lambda y, d: ((y == 1) | (d == 1)).sum(),
}


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=12, max_value=120))
    a = draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=n, max_size=n))
    b = draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    d = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    frame = pd.DataFrame({"a": a, "b": b, "y": y, "d": d})
    if frame["a"].nunique() < 2 or frame["b"].nunique() < 2 or frame["y"].nunique() < 2 or frame["d"].nunique() < 2:
        frame.loc[0, ["a", "b", "y", "d"]] = ["p", "x", 0, 0]
        frame.loc[1, ["a", "b", "y", "d"]] = ["q", "y", 1, 1]
    # make sure some group lacks positives now and then: group r has only negatives
    if draw(st.booleans()):
        frame.loc[frame["a"] == "r", "y"] = 0
    return frame


SPEC = {
    "system": {"name": "parity"},
    "outcome": {"column": "y", "positive": 1},
    "decision": {"column": "d", "positive": 1},
    "protected": [{"column": "a"}, {"column": "b"}],
    "intersections": [["a", "b"]],
    "statistics": {"bootstrap_replicates": 100},
}


def _check(frame: pd.DataFrame, spec: dict) -> None:
    result = audit.run(spec, data=frame, fingerprint=False)
    groups = result.groups
    for columns in (["a"], ["b"], ["a", "b"]):
        attribute = " × ".join(columns)
        sensitive = frame[columns] if len(columns) > 1 else frame[columns[0]]
        mf = MetricFrame(metrics=FAIRLEARN, y_true=frame["y"], y_pred=frame["d"], sensitive_features=sensitive)
        for key, row in mf.by_group.iterrows():
            label = " × ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            mask = np.ones(len(frame), dtype=bool)
            for c, k in zip(columns, key if isinstance(key, tuple) else (key,)):
                mask &= (frame[c] == k).to_numpy()
            y, d = frame.loc[mask, "y"].to_numpy(), frame.loc[mask, "d"].to_numpy()
            for metric in FAIRLEARN:
                ours = groups[(groups.attribute == attribute) & (groups.group == label) & (groups.metric == metric)]
                if mask.sum() == 0:  # fairlearn keeps empty intersections as NaN
                    assert ours.empty or ours.iloc[0]["n"] == 0
                    continue
                assert len(ours) == 1, (attribute, label, metric)
                ours = ours.iloc[0]
                if metric in DENOMINATOR and DENOMINATOR[metric](y, d) == 0:
                    assert ours["status"] == "undefined" and np.isnan(ours["value"]) and ours["reason"]
                    continue
                assert ours["status"] == "ok"
                assert ours["value"] == pytest.approx(float(row[metric]), abs=1e-12, rel=0), (attribute, label, metric)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_metrics_equal_fairlearn_metricframe(frame: pd.DataFrame) -> None:
    _check(frame, SPEC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_metrics_equal_fairlearn_on_the_duckdb_engine(frame: pd.DataFrame) -> None:
    spec = dict(SPEC, data={"where": "TRUE"})  # a filter routes counting through DuckDB
    _check(frame, spec)


def test_fairlearn_reports_zero_where_we_report_undefined() -> None:
    frame = pd.DataFrame({"a": ["p"] * 4 + ["q"] * 4, "b": ["x", "y"] * 4,
                          "y": [0, 0, 0, 0, 1, 0, 1, 0], "d": [1, 0, 1, 0, 1, 1, 0, 0]})
    mf = MetricFrame(metrics={"tpr": true_positive_rate}, y_true=frame["y"], y_pred=frame["d"],
                     sensitive_features=frame["a"])
    assert mf.by_group.loc["p", "tpr"] == 0.0
    groups = audit.run(SPEC, data=frame, fingerprint=False).groups
    row = groups[(groups.attribute == "a") & (groups.group == "p") & (groups.metric == "tpr")].iloc[0]
    assert row["status"] == "undefined" and np.isnan(row["value"]) and row["reason"] == "no actual positives"
