"""Human in the loop: how often people override the system, for whom, and what that does to each disparity.

The counts of one pass give, per cell, the system's recommendation × the
final decision (each negative, positive or missing): nine states again, with
the recommendation in the place of the ground truth. The override rates are
then proportions of those states, computed and compared with the same code as
every other rate (:func:`audit.binary.analyse`). Whether overrides narrow or
widen a disparity compares the recommendation view's comparison with the
final view's, group by group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.metrics import Harm, Kind, MetricDef, state

EFFECT_COLUMNS = ["attribute", "group", "reference", "metric", "recommendation_view", "recommendation_ratio",
                  "final_ratio", "recommendation_difference", "final_difference", "effect", "reason"]

_BOTH = tuple(state(m, f) for m in (0, 1) for f in (0, 1))

OVERRIDE_METRICS: tuple[MetricDef, ...] = (
    MetricDef("override_rate", "override rate", Kind.PROPORTION,
              "final decisions that differ from the recommendation / rows with both", Harm.NONE, False,
              "no rows with both a recommendation and a final decision", (state(0, 1), state(1, 0)), _BOTH),
    MetricDef("override_to_positive", "override to positive", Kind.PROPORTION,
              "negative recommendations made positive / negative recommendations", Harm.POSITIVE_DECISION,
              False, "no negative recommendations with a final decision", (state(0, 1),), (state(0, 0), state(0, 1))),
    MetricDef("override_to_negative", "override to negative", Kind.PROPORTION,
              "positive recommendations made negative / positive recommendations", Harm.NEGATIVE_DECISION,
              False, "no positive recommendations with a final decision", (state(1, 0),), (state(1, 0), state(1, 1))),
)


def override_effects(comparisons: pd.DataFrame, recommendation_view: str) -> pd.DataFrame:
    """Per attribute, group and metric: does the final decision narrow or widen the recommendation's disparity?

    A disparity is the distance of the ratio to the reference from 1 on the log
    scale (|log ratio|); it *narrows* when the final decision's distance is
    smaller, *widens* when larger. When a ratio is undefined the difference is
    used instead (|difference|).
    """
    model = comparisons[comparisons["view"] == recommendation_view]
    final = comparisons[comparisons["view"] == "final"]
    merged = model.merge(final, on=["attribute", "group", "metric"], suffixes=("_m", "_f"))
    rows: list[dict[str, Any]] = []
    for r in merged.to_dict(orient="records"):
        effect, reason = _effect(r)
        rows.append({"attribute": r["attribute"], "group": r["group"], "reference": r["reference_f"],
                     "metric": r["metric"], "recommendation_view": recommendation_view,
                     "recommendation_ratio": r["ratio_m"], "final_ratio": r["ratio_f"],
                     "recommendation_difference": r["difference_m"], "final_difference": r["difference_f"],
                     "effect": effect, "reason": reason})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _effect(r: dict[str, Any]) -> tuple[str, str]:
    if r["reference_m"] != r["reference_f"]:
        return "not comparable", "the two views use different reference groups"
    ratios = [r["ratio_m"], r["ratio_f"]]
    if all(v is not None and np.isfinite(v) and v > 0 for v in ratios):
        before, after = (abs(float(np.log(v))) for v in ratios)
        measure = "|log ratio|"
    else:
        diffs = [r["difference_m"], r["difference_f"]]
        if not all(v is not None and np.isfinite(v) for v in diffs):
            return "undefined", "the ratio and the difference are undefined in one of the views"
        before, after = (abs(float(v)) for v in diffs)
        measure = "|difference|"
    if np.isclose(before, after, rtol=1e-12, atol=1e-15):
        return "unchanged", f"{measure} {before:.3g} before and after"
    word = "narrows" if after < before else "widens"
    return word, f"{measure} {before:.3g} for the recommendation, {after:.3g} for the final decision"
