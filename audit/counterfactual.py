"""The counterfactual flip test: does a decision change when only a protected attribute (or its proxy) changes?

For a column the model takes (a protected attribute, or a column flagged as
its proxy), every row's value is set to each other group's value in turn and
the model scores the rows again. A decision that differs from the one the
row got with its own value *flips*. The test reports, per original group and
value it was set to, the share of decisions that flip, toward positive and
toward negative, each with its Wilson interval. A model that ignores the
column flips nothing; one that uses it flips exactly the rows whose score
crosses the cut-off.

The rows most sensitive to the change (largest change of the score, else of
the decision) are listed by row number only: the 1-based position of the row
in the data as read, so the owner of the data can look them up while the
output carries no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.labels import UNKNOWN, format_label, label_array
from audit.models import LoadedModel, ModelOutput
from audit.stats import wilson_interval

FLIP_COLUMNS = ["attribute", "group", "set_to", "rows", "flips", "flip_rate", "ci_low", "ci_high",
                "to_positive", "to_positive_rate", "to_negative", "to_negative_rate", "mean_score_change"]
ROW_COLUMNS = ["attribute", "row", "group", "largest_change_to", "score_change", "decision_flips"]


@dataclass(frozen=True)
class FlipFindings:
    """The flip test's tables and notes.

    Attributes
    ----------
    flips : pandas.DataFrame
        One row per attribute x original group x value set (:data:`FLIP_COLUMNS`); rates are shares of the
        group's rows (units: proportion), intervals Wilson at the audit's confidence.
    rows : pandas.DataFrame
        The most sensitive rows per attribute (:data:`ROW_COLUMNS`), by 1-based row number only.
    notes : tuple of str
        Columns skipped, and why.
    """

    flips: pd.DataFrame
    rows: pd.DataFrame
    notes: tuple[str, ...]


def flip_test(frame: pd.DataFrame, model: LoadedModel, columns: Sequence[str], *, baseline: ModelOutput,
              row_numbers: np.ndarray, confidence: float = 0.95, max_groups: int = 50,
              sensitive_rows: int = 20) -> FlipFindings:
    """Flip each of ``columns`` to every other value it takes and count the decisions that change.

    Parameters
    ----------
    frame : pandas.DataFrame
        The audited rows (after ``data.where``), holding the model's features. Never modified.
    model : LoadedModel
        The model to score the changed rows with.
    columns : sequence of str
        Feature columns to flip (protected attributes and flagged proxies the model takes).
    baseline : ModelOutput
        The model's output on ``frame`` unchanged.
    row_numbers : numpy.ndarray
        1-based row number in the data of each row of ``frame``.
    confidence : float
        Coverage of the Wilson intervals.
    max_groups : int
        A column with more distinct values is skipped (a continuous proxy), with a note.
    sensitive_rows : int
        How many of the most sensitive rows to list per column.

    Returns
    -------
    FlipFindings
        A row with a missing value in the column keeps it as its group ('unknown') and is set to each value.
    """
    features = model.prepare(frame)
    tables, sensitive, notes = [], [], []
    for column in columns:
        values = features[column]
        known = pd.unique(values.dropna())
        if len(known) > max_groups:
            notes.append(f"flip test: '{column}' has {len(known):,} distinct values (more than {max_groups}); "
                         f"it was not flipped")
            continue
        groups = label_array(values, missing=UNKNOWN)
        largest = np.zeros(len(frame))
        largest_to = np.full(len(frame), "", dtype=object)
        flipped_any = np.zeros(len(frame), dtype=bool)
        for value in sorted(known, key=lambda v: str(format_label(v))):
            output = model.predict(features.assign(**{column: np.repeat(value, len(features))}))
            change = (np.abs(output.scores - baseline.scores) if output.scores is not None and
                      baseline.scores is not None else (output.decisions != baseline.decisions).astype(float))
            own = values.to_numpy() == value
            change[own] = 0.0
            better = change > largest
            largest_to[better] = format_label(value)
            largest = np.maximum(largest, change)
            flipped = (output.decisions != baseline.decisions) & ~own
            flipped_any |= flipped
            tables.append(_per_group(column, format_label(value), groups, own, flipped, baseline, output, change,
                                     confidence))
        order = np.lexsort((row_numbers, -largest))[:sensitive_rows]
        order = order[largest[order] > 0]
        sensitive.append(pd.DataFrame({"attribute": column, "row": row_numbers[order], "group": groups[order],
                                       "largest_change_to": largest_to[order], "score_change": largest[order],
                                       "decision_flips": flipped_any[order]}))
    flips = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=FLIP_COLUMNS)
    rows = pd.concat(sensitive, ignore_index=True) if sensitive else pd.DataFrame(columns=ROW_COLUMNS)
    return FlipFindings(flips=flips[FLIP_COLUMNS], rows=rows[ROW_COLUMNS], notes=tuple(notes))


def _per_group(column: str, set_to: str, groups: np.ndarray, own: np.ndarray, flipped: np.ndarray,
               baseline: ModelOutput, output: ModelOutput, change: np.ndarray, confidence: float) -> pd.DataFrame:
    """Flip counts of one value set, per original group (rows already holding the value are left out)."""
    keep = ~own
    frame = pd.DataFrame({"group": groups[keep], "flip": flipped[keep],
                          "up": flipped[keep] & output.decisions[keep], "down": flipped[keep] & baseline.decisions[keep],
                          "change": change[keep]})
    summary = frame.groupby("group", sort=True).agg(rows=("flip", "size"), flips=("flip", "sum"),
                                                    to_positive=("up", "sum"), to_negative=("down", "sum"),
                                                    mean_score_change=("change", "mean")).reset_index()
    n = summary["rows"].to_numpy(dtype=float)
    low, high = wilson_interval(summary["flips"].to_numpy(dtype=float), n, confidence)
    return summary.assign(attribute=column, set_to=set_to, flip_rate=summary["flips"] / n, ci_low=low, ci_high=high,
                          to_positive_rate=summary["to_positive"] / n, to_negative_rate=summary["to_negative"] / n)
