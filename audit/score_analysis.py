"""What a score does to each group, from per-group score histograms: AUC, calibration, distributions, capacity.

Inputs are histograms of shape (groups, 3, bins + 1): ground truth negative,
positive or missing × score bin (the last bin: no score), summed from the
cells of one pass (:func:`audit.views.score_histograms`). With an exact
histogram (one bin per distinct score) every number equals the one computed
from the rows; with a binned one the AUC is exact to within half the share of
pairs that share a bin (``within_bin_share``, reported), and calibration
bins are read from the bins' sums of scores, so they stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from audit import distributions, stats
from audit.cells import CellCounts
from audit.comparisons import Reference, evidence_row
from audit.metrics import EXTRA_METRICS
from audit.spec import AuditSpec

TEST_COLUMNS = ["view", "attribute", "test", "group", "reference", "statistic", "dof", "p_value", "effect",
                "effect_name", "n", "status", "reason"]
CALIBRATION_COLUMNS = ["attribute", "group", "bin", "bin_low", "bin_high", "n", "mean_predicted", "observed_rate",
                       "observed_ci_low", "observed_ci_high"]
AUC_COLUMNS = ["attribute", "group", "positives", "negatives", "auc", "ci_low", "ci_high", "within_bin_share",
               "error_bound", "exact"]
CAPACITY_COLUMNS = ["view", "attribute", "group", "acted_on", "share_of_acted", "share_of_acted_ci_low",
                    "share_of_acted_ci_high", "population", "share_of_population", "share_of_population_ci_low",
                    "share_of_population_ci_high", "positives", "share_of_positives", "share_of_positives_ci_low",
                    "share_of_positives_ci_high", "representation_ratio", "unknown"]


@dataclass(frozen=True)
class ScoreGroups:
    """One attribute's score histograms: weights, squared weights and rows per group × truth × bin."""

    attribute: str
    labels: tuple[str, ...]
    unknown: tuple[bool, ...]
    values: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray
    rows: np.ndarray
    score_sum: np.ndarray
    score_sq: np.ndarray


def _row(view: str, attribute: str, group: str, metric: str, value: float, low: float, high: float, n: int,
         reason: str, unknown: bool) -> dict[str, Any]:
    return {"view": view, "attribute": attribute, "group": group, "metric": metric, "value": value,
            "ci_low": low, "ci_high": high, "n": n, "numerator": np.nan, "denominator": np.nan,
            "status": "undefined" if reason else "ok", "reason": reason, "unknown": unknown}


def _comparison(view: str, attribute: str, group: str, reference: Reference, metric: str, value: float,
                ref_value: float, n: int, ref_n: int, *, difference_ci: tuple[float, float] = (np.nan, np.nan),
                test: str = "none", statistic: float = np.nan, p_value: float = np.nan,
                disadvantaged: bool | None = None, reason: str = "",
                evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    defined = np.isfinite(value) and np.isfinite(ref_value)
    ratio = value / ref_value if defined and ref_value > 0 else np.nan
    if not reason and not defined:
        reason = "the group's or the reference's value is undefined"
    return {"view": view, "attribute": attribute, "group": group, "reference": reference.label,
            "reference_rule": reference.rule, "metric": metric, "value": value, "reference_value": ref_value,
            "n": n, "reference_n": ref_n, "ratio": ratio, "ratio_ci_low": np.nan, "ratio_ci_high": np.nan,
            "difference": value - ref_value if defined else np.nan, "difference_ci_low": difference_ci[0],
            "difference_ci_high": difference_ci[1], "test": test, "statistic": statistic, "p_value": p_value,
            "p_adjusted": np.nan, "impact_ratio": np.nan, "four_fifths_flag": None,
            "disadvantaged": disadvantaged if defined else None, "status": "ok" if defined and not reason
            else "undefined", "reason": reason, **(evidence or evidence_row(_people1=float(n), _people2=float(ref_n)))}


def _worse(metric: str, value: float, ref: float) -> bool | None:
    worse = EXTRA_METRICS[metric].harm.value
    if not (np.isfinite(value) and np.isfinite(ref)) or value == ref or worse not in ("lower", "higher"):
        return None
    return bool(value < ref) if worse == "lower" else bool(value > ref)


def distribution_tables(spec: AuditSpec, groups: ScoreGroups, reference: Reference, *, probability: bool,
                        exact: bool, view: str = "score") -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                    list[dict[str, Any]], pd.DataFrame,
                                                                    list[dict[str, Any]]]:
    """AUC, calibration and KS per group.

    Returns group rows, comparison rows, test rows, the calibration table and the
    AUC table (with the bound of the binning: 0 for an exact histogram, else half
    the share of positive-negative pairs that share a bin).
    """
    confidence = spec.statistics.confidence
    a = groups.attribute
    neg, pos = groups.weights[:, 0, :-1], groups.weights[:, 1, :-1]
    has_truth = spec.outcome is not None
    group_rows: list[dict[str, Any]] = []
    comparison_rows: list[dict[str, Any]] = []
    test_rows: list[dict[str, Any]] = []
    calibration: list[pd.DataFrame] = []
    auc_rows: list[dict[str, Any]] = []
    r = reference.index
    known = [g for g in range(len(groups.labels)) if not groups.unknown[g]]
    everyone = groups.weights[:, :, :-1].sum(axis=1)
    everyone_sq = groups.weights_sq[:, :, :-1].sum(axis=1)
    rows = groups.rows[:, :, :-1]
    if has_truth:
        auc = distributions.auc_from_histograms(neg, pos, confidence=confidence)
        n_truth = rows[:, :2].sum(axis=(1, 2))
        for g, label in enumerate(groups.labels):
            reason = "" if np.isfinite(auc.auc[g]) else "the group has no actual positives or no actual negatives"
            group_rows.append(_row(view, a, label, "auc", float(auc.auc[g]), float(auc.ci_low[g]),
                                   float(auc.ci_high[g]), int(n_truth[g]), reason, groups.unknown[g]))
            share = float(auc.within_bin_share[g])
            auc_rows.append({"attribute": a, "group": label, "positives": int(rows[g, 1].sum()),
                             "negatives": int(rows[g, 0].sum()), "auc": float(auc.auc[g]),
                             "ci_low": float(auc.ci_low[g]), "ci_high": float(auc.ci_high[g]),
                             "within_bin_share": share, "error_bound": 0.0 if exact else 0.5 * share,
                             "exact": exact})
        z = stats._critical_value(confidence)
        for g in known:
            if g == r:
                continue
            difference = auc.auc[g] - auc.auc[r]
            se = float(np.hypot(auc.se[g], auc.se[r]))
            ci = (difference - z * se, difference + z * se) if se > 0 else (np.nan, np.nan)
            statistic = difference / se if se > 0 else np.nan
            p = float(2 * ndtr(-abs(statistic))) if np.isfinite(statistic) else np.nan
            comparison_rows.append(_comparison(
                view, a, groups.labels[g], reference, "auc", float(auc.auc[g]), float(auc.auc[r]),
                int(n_truth[g]), int(n_truth[r]), difference_ci=ci, test="z (DeLong, independent groups)",
                statistic=statistic, p_value=p, disadvantaged=_worse("auc", auc.auc[g], auc.auc[r]),
                evidence=evidence_row("normal", _se1=float(auc.se[g]), _se2=float(auc.se[r]),
                                      _people1=float(n_truth[g]), _people2=float(n_truth[r]),
                                      _known1=float(n_truth[g]), _known2=float(n_truth[r]))))
        if probability:
            score_sum = groups.score_sum[:, :2, :-1]
            score_sq = groups.score_sq[:, :2, :-1]
            values = {}
            for g, label in enumerate(groups.labels):
                table = distributions.calibration_table(groups.values, neg[g], pos[g], score_sum[g].sum(axis=0),
                                                        n_bins=spec.score.calibration_bins)  # type: ignore
                table.insert(0, "group", label)
                table.insert(0, "attribute", a)
                calibration.append(table)
                weight = neg[g].sum() + pos[g].sum()
                brier = distributions.brier_score(neg[g], pos[g], score_sum[g, 1], score_sq[g].sum(axis=0))
                citl = distributions.calibration_in_the_large(neg[g], pos[g], score_sum[g].sum(axis=0))
                ece = distributions.expected_calibration_error(table)
                reason = "" if weight > 0 else "no rows with a score and a known outcome"
                for metric, value in (("brier", brier), ("ece", ece), ("calibration_in_the_large", citl)):
                    values.setdefault(metric, {})[g] = float(value)
                    group_rows.append(_row(view, a, label, metric, float(value), np.nan, np.nan,
                                           int(rows[g, :2].sum()), reason, groups.unknown[g]))
            for metric, by_group in values.items():
                for g in known:
                    if g != r:
                        comparison_rows.append(_comparison(
                            view, a, groups.labels[g], reference, metric, by_group[g], by_group[r],
                            int(rows[g, :2].sum()), int(rows[r, :2].sum()),
                            disadvantaged=_worse(metric, by_group[g], by_group[r])))
    for g in known:
        if g == r:
            continue
        ks = distributions.ks_two_sample(groups.values, everyone[g], everyone[r], everyone_sq[g], everyone_sq[r])
        n = int(rows[g].sum())
        test_rows.append({"view": view, "attribute": a, "test": "Kolmogorov–Smirnov (score distribution)",
                          "group": groups.labels[g], "reference": reference.label, "statistic": float(ks.statistic),
                          "dof": np.nan, "p_value": float(ks.p_value), "effect": float(ks.statistic),
                          "effect_name": "largest gap between the score distributions (D)", "n": n,
                          "status": "ok" if np.isfinite(ks.statistic) else "undefined",
                          "reason": "" if np.isfinite(ks.statistic) else "a group has no scores"})
    frame = pd.concat(calibration, ignore_index=True)[CALIBRATION_COLUMNS] if calibration \
        else pd.DataFrame(columns=CALIBRATION_COLUMNS)
    return group_rows, comparison_rows, test_rows, frame, auc_rows


def capacity_rows(cells: CellCounts, confidence: float, columns_sets: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """For one threshold view: each group's share of those acted on, of the population and of the positives.

    Shares are of everyone with a score (unknown groups included), with Wilson
    intervals on Kish effective counts.
    """
    rows: list[dict[str, Any]] = []
    decided = [s for s in range(9) if s % 3 != 2]
    acted_states = [s for s in decided if s % 3 == 1]
    positive_states = [s for s in decided if s // 3 == 1]
    for columns in columns_sets:
        groups = cells.groups(columns)
        parts = {}
        for name, chosen in (("acted", acted_states), ("population", decided), ("positives", positive_states)):
            w = groups.weights[:, chosen].sum(axis=1)
            w2 = groups.weights_sq[:, chosen].sum(axis=1)
            x, n = stats.effective_counts(w, np.full_like(w, w.sum()), np.full_like(w, w2.sum()))
            low, high = stats.wilson_interval(x, n, confidence)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(w.sum() > 0, w / max(w.sum(), 1e-300), np.nan)
            parts[name] = (groups.rows[:, chosen].sum(axis=1), share, low, high)
        for g, label in enumerate(groups.labels):
            acted, population, positives = parts["acted"], parts["population"], parts["positives"]
            with np.errstate(invalid="ignore", divide="ignore"):
                representation = acted[1][g] / population[1][g] if population[1][g] > 0 else np.nan
            rows.append({"view": cells.view, "attribute": groups.attribute, "group": label,
                         "acted_on": int(acted[0][g]), "share_of_acted": acted[1][g],
                         "share_of_acted_ci_low": acted[2][g], "share_of_acted_ci_high": acted[3][g],
                         "population": int(population[0][g]), "share_of_population": population[1][g],
                         "share_of_population_ci_low": population[2][g],
                         "share_of_population_ci_high": population[3][g],
                         "positives": int(positives[0][g]) if cells.outcome is not None else None,
                         "share_of_positives": positives[1][g] if cells.outcome is not None else np.nan,
                         "share_of_positives_ci_low": positives[2][g] if cells.outcome is not None else np.nan,
                         "share_of_positives_ci_high": positives[3][g] if cells.outcome is not None else np.nan,
                         "representation_ratio": representation, "unknown": groups.unknown[g]})
    return rows
