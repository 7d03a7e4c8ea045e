"""Custom metrics: Python callables with scikit-learn's signature, computed per group with fairlearn's MetricFrame.

Some metrics are not functions of the per-group counts (a rank correlation, a
log loss, an agency's own cost function). A spec names them as
``custom_metrics: [{name, function: "module:function", input: decision|score}]``
and they are computed from the rows, per protected attribute and
intersection, by :class:`fairlearn.metrics.MetricFrame`, so users keep the
metric contract they know (``f(y_true, y_pred)``). They are marked as custom in
every table: they come from the rows, not from the counts, and are not judged
by policy rules.

Each value carries a percentile-bootstrap interval that resamples rows *within
each group* (so a small group never vanishes from a replicate, unlike
MetricFrame's own bootstrap, which resamples the whole data), seeded by
``statistics.seed``. A metric that raises on a group is shown as undefined with
the error, never as 0. Importing ``module`` runs its code, so custom metrics
run from the command line and the Python API only, never from a spec uploaded
to the app.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import ReasonCode, SpecError
from audit.labels import UNKNOWN, binary_values, label_array
from audit.spec import INTERSECTION_JOIN, AuditSpec, CustomMetricSpec
from audit.stats import percentile_interval
from audit.text_filter import filtered

CUSTOM_COLUMNS = ["metric", "function", "attribute", "group", "n", "value", "ci_low", "ci_high", "status", "source"]
SOURCE = "custom (fairlearn MetricFrame)"


def load_function(metric: CustomMetricSpec, index: int) -> Callable[..., Any]:
    """Import ``module:function``; a missing module or name is a spec error naming the field."""
    module_name, _, name = metric.function.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(f"custom_metrics[{index}].function: cannot import module '{module_name}' ({error}); it must "
                        f"be installed or on PYTHONPATH", reason=ReasonCode.SPEC_INVALID) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise SpecError(f"custom_metrics[{index}].function: module '{module_name}' has no function '{name}'",
                        reason=ReasonCode.SPEC_INVALID)
    return function


_FAILURES = (ValueError, ZeroDivisionError, TypeError, FloatingPointError)


def _evaluate(function: Callable[..., Any], y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, str | None]:
    """(value, why it is undefined or None): a function that raises or returns no finite number is undefined."""
    try:
        value = float(function(y_true, y_pred))
    except _FAILURES as error:
        return float("nan"), f"undefined: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
    return value, None if np.isfinite(value) else "undefined: the function returned no finite number"


def _guarded(function: Callable[..., Any]) -> Callable[..., float]:
    """``function`` returning NaN where it raises, so MetricFrame reports the other groups."""
    return lambda y_true, y_pred: _evaluate(function, y_true, y_pred)[0]


def _interval(function: Callable[..., Any], y_true: np.ndarray, y_pred: np.ndarray, replicates: int,
              confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile-bootstrap interval of the metric over the given rows (resampled among themselves)."""
    if not replicates or not len(y_true):
        return float("nan"), float("nan")
    draws = rng.integers(0, len(y_true), size=(replicates, len(y_true)))
    boot = np.array([_evaluate(function, y_true[d], y_pred[d])[0] for d in draws])
    low, high = percentile_interval(boot, confidence)
    return float(low), float(high)


def custom_metric_table(spec: AuditSpec, frame: pd.DataFrame, y_true: np.ndarray, decisions: np.ndarray,
                        scores: np.ndarray | None) -> pd.DataFrame:
    """Every custom metric × attribute × group, with MetricFrame's value and a within-group bootstrap interval.

    Parameters
    ----------
    spec : AuditSpec
        Its ``custom_metrics``, protected attributes, intersections and statistics.
    frame : pandas.DataFrame
        The protected columns of the rows (missing values form the group 'unknown'). Never modified.
    y_true, decisions : numpy.ndarray
        Outcome and decision (0/1) of the same rows; rows without both are left out before.
    scores : numpy.ndarray or None
        The score of the same rows, for metrics with ``input: score`` (the spec validator requires one).

    Returns
    -------
    pandas.DataFrame
        :data:`CUSTOM_COLUMNS`; ``value`` in the metric's own units (NaN, with the reason in ``status``, where
        the function raised or gave no finite number); the overall row has attribute 'all'. A group smaller
        than ``statistics.min_group_size`` keeps its value, and its status says so.
    """
    from fairlearn.metrics import MetricFrame

    rows: list[dict[str, Any]] = []
    labels = {c: label_array(frame[c], missing=UNKNOWN) for c in spec.protected_columns}
    sets = [(c, [c]) for c in spec.protected_columns] + [(i.name, list(i.columns)) for i in spec.intersections]
    for index, metric in enumerate(spec.custom_metrics):
        function = load_function(metric, index)
        predictions = decisions if metric.input == "decision" else scores
        assert predictions is not None
        for attribute, columns in [("all", [])] + sets:
            rng = np.random.default_rng(spec.statistics.seed + index)
            keys = np.array([INTERSECTION_JOIN.join(t) for t in zip(*(labels[c] for c in columns))], dtype=object) \
                if columns else np.repeat("all", len(y_true)).astype(object)
            by_group = MetricFrame(metrics={metric.name: _guarded(function)}, y_true=y_true, y_pred=predictions,
                                   sensitive_features=keys).by_group[metric.name]
            for group, value in sorted(by_group.items(), key=lambda item: str(item[0])):
                members = np.flatnonzero(keys == group)
                _, problem = _evaluate(function, y_true[members], predictions[members])
                low, high = (float("nan"), float("nan")) if problem else _interval(
                    function, y_true[members], predictions[members], metric.replicates, spec.statistics.confidence,
                    rng)
                if problem is None and len(members) < spec.statistics.min_group_size:
                    problem = f"few people: {len(members)} < min_group_size {spec.statistics.min_group_size}"
                rows.append({"metric": metric.name, "function": metric.function, "attribute": attribute,
                             "group": str(group), "n": int(len(members)), "value": float(value), "ci_low": low,
                             "ci_high": high, "status": problem or "ok", "source": SOURCE})
    return pd.DataFrame(rows, columns=CUSTOM_COLUMNS)


def custom_rows(spec: AuditSpec, relation: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
    """(protected columns, outcome, decision, score) of the audited rows that have an outcome and a decision.

    ``relation`` is the audit's data as a DuckDB relation (:func:`audit.sources.open_relation`); ``data.where``
    is applied here, and with selective labels only the checked rows are kept.
    """
    assert spec.outcome is not None
    columns = list(dict.fromkeys([*spec.protected_columns, spec.outcome.column, spec.decision_column or ""]
                                 + ([spec.outcome.checked.column] if spec.outcome.checked else [])))
    relation = filtered(relation, spec.data.where)
    frame = relation.project(", ".join(f'"{c}"' for c in columns)).df()
    y = binary_values(frame[spec.outcome.column], spec.outcome.positive)
    scores = None
    if spec.score is not None:
        scores = pd.to_numeric(frame[spec.score.column], errors="coerce").to_numpy(dtype=float)
        cutoff = next((t.value for t in spec.score.threshold if t.value is not None), None)
        if cutoff is None:
            raise SpecError("custom_metrics: a decision from a score needs a fixed cut-off (score.threshold: a "
                            "number) to say which rows are positive", reason=ReasonCode.SPEC_INVALID)
        decisions = np.where(np.isnan(scores), -1, (scores >= cutoff).astype(np.int64))
    else:
        assert spec.decision is not None
        decisions = binary_values(frame[spec.decision.column], spec.decision.positive)
    keep = (y >= 0) & (decisions >= 0)
    if spec.outcome.checked is not None:
        keep &= binary_values(frame[spec.outcome.checked.column], spec.outcome.checked.positive) == 1
    return (frame.loc[keep, list(spec.protected_columns)].reset_index(drop=True), y[keep], decisions[keep],
            None if scores is None else scores[keep])


def custom_findings(spec: AuditSpec, relation: Any) -> tuple[pd.DataFrame, str]:
    """The ``custom_metrics`` table of the audited rows of ``relation``, and the note that says how it was made."""
    frame, y_true, decisions, scores = custom_rows(spec, relation)
    note = (f"custom metrics ({', '.join(m.name for m in spec.custom_metrics)}) are computed from the rows by "
            f"fairlearn's MetricFrame, not from the counts, with within-group bootstrap intervals; no policy rule "
            f"judges them")
    return custom_metric_table(spec, frame, y_true, decisions, scores), note
