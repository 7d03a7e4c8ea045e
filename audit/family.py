"""The family of an audit's verdicts: simultaneous intervals, family-adjusted p-values, and what would decide.

Every verdict of one audit (all rules, groups, intersections and views) is one
member of a single *family* of size ``M``. A published "fail" accuses an agency
of discrimination, so the chance that an audit of data with no disparity
reports any fail must stay below ``statistics.alpha``, however many groups it
compares:

* **Intervals** that decide a ``ci`` verdict are simultaneous for the family
  (Bonferroni): each has confidence ``1 - alpha / M``, so all of them hold at
  once with probability at least ``1 - alpha``. Rates compared without weights
  get exact intervals (:mod:`audit.exact_intervals`), which keep that coverage
  at any group size; weighted rates, means, AUC and bootstrap metrics get their
  asymptotic intervals at the same level.
* **p-values** that decide a ``significant`` verdict are adjusted by Holm's
  step-down method over the whole family (a verdict without a test counts as
  p = 1, so it stays a member), which controls the same family-wise error.

For every verdict the module also says what would decide it
(:func:`what_would_decide`): the smallest disparity the data could detect with
80% power at the family's level, and how many people the group would need for
the rule to decide at the observed rates (:mod:`audit.power`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtrit

from audit import exact_intervals, power, stats

__all__ = ["DECIDING_POWER", "Family", "family_intervals", "family_p_values", "what_would_decide"]

DECIDING_POWER = 0.8
"""Power at which "what would decide" is computed (the usual planning convention)."""


@dataclass(frozen=True)
class Family:
    """The verdicts of one audit as one family.

    Attributes
    ----------
    size : int
        ``M``, the number of verdicts (rules × groups × views), every one counted.
    alpha : float
        The family-wise error rate: the largest chance of any false fail (``statistics.alpha``).
    """

    size: int
    alpha: float

    @property
    def level(self) -> float:
        """Two-sided error of each member's interval and test: ``alpha / M`` (``alpha`` for an empty family)."""
        return self.alpha / max(self.size, 1)

    @property
    def confidence(self) -> float:
        """Confidence of each simultaneous interval: ``1 - alpha / M``."""
        return 1.0 - self.level

    def as_dict(self) -> dict[str, object]:
        """The family as result.json records it."""
        return {"size": self.size, "alpha": self.alpha, "interval_confidence": self.confidence,
                "intervals": "simultaneous (Bonferroni: each at 1 - alpha / size)",
                "p_values": "Holm over the family", "power_for_what_would_decide": DECIDING_POWER}


def family_p_values(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values over a whole family; a member without a p-value counts as p = 1.

    The returned array has NaN where the input had none (nothing to adjust),
    but every member counts in the family's size, so the adjustment is never
    smaller than it would be with the untested members left out.
    """
    p = np.asarray(p_values, dtype=float)
    missing = ~np.isfinite(p)
    adjusted = stats.adjust_p_values(np.where(missing, 1.0, p), "holm")
    return np.where(missing, np.nan, adjusted)


def _quantile(confidence: float, df: np.ndarray) -> np.ndarray:
    """Two-sided critical value: Student's t with ``df`` degrees of freedom, normal where df is infinite."""
    upper = 0.5 + confidence / 2.0
    normal = -ndtri(1.0 - upper)
    with np.errstate(invalid="ignore"):
        t = stdtrit(np.where(np.isfinite(df) & (df > 0), df, 1.0), upper)
    return np.where(np.isfinite(df) & (df > 0), t, normal)


def family_intervals(rows: pd.DataFrame, bounds: Sequence[str], family: Family) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous intervals (confidence ``1 - alpha / M``) of each row's ratio or difference.

    Parameters
    ----------
    rows : pandas.DataFrame
        Comparison rows with their evidence columns
        (:data:`audit.comparisons.EVIDENCE_FIELDS`), one per verdict.
    bounds : sequence of {"ratio", "difference"}
        The quantity each verdict bounds.
    family : Family

    Returns
    -------
    low, high : numpy.ndarray of float
        NaN where the comparison has no interval (a median, a quantile, an undefined estimate).
    """
    count = len(rows)
    low, high = np.full(count, np.nan), np.full(count, np.nan)
    if count == 0:
        return low, high
    confidence = family.confidence
    is_ratio = np.asarray(bounds) == "ratio"
    kind = rows["_kind"].to_numpy(dtype=object)
    proportion = kind == "proportion"
    if proportion.any():
        part = rows[proportion]
        got = exact_intervals.proportion_comparison_intervals(
            *(part[c].to_numpy(dtype=float) for c in ("_x1", "_n1", "_x2", "_n2")), confidence=confidence,
            exact=part["_exact"].to_numpy(dtype=bool))
        low[proportion] = np.where(is_ratio[proportion], got.ratio_low, got.difference_low)
        high[proportion] = np.where(is_ratio[proportion], got.ratio_high, got.difference_high)
    normal = kind == "normal"
    if normal.any():
        part = rows[normal]
        v1, v2 = part["value"].to_numpy(dtype=float), part["reference_value"].to_numpy(dtype=float)
        se1, se2 = part["_se1"].to_numpy(dtype=float), part["_se2"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            half = _quantile(confidence, part["_df"].to_numpy(dtype=float)) * np.hypot(se1, se2)
            log_half = _quantile(confidence, np.full(len(part), np.inf)) * np.hypot(se1 / v1, se2 / v2)
            log_ratio = np.log(v1 / v2)
            positive = (v1 > 0) & (v2 > 0)
        difference = part["difference"].to_numpy(dtype=float)
        ratio_low = np.where(positive, np.exp(log_ratio - log_half), np.nan)
        ratio_high = np.where(positive, np.exp(log_ratio + log_half), np.nan)
        low[normal] = np.where(is_ratio[normal], ratio_low, difference - half)
        high[normal] = np.where(is_ratio[normal], ratio_high, difference + half)
    undefined = (rows["status"] != "ok").to_numpy()
    low[undefined], high[undefined] = np.nan, np.nan
    return low, high


@dataclass(frozen=True)
class ToDecide:
    """What would decide one verdict (NaN where it cannot be said).

    ``detectable_ratio`` and ``detectable_difference``: the smallest disparity,
    on the side of the estimate, that a test at the family's level would detect
    with 80% power given both groups' sizes and the reference's rate.
    ``needed_n``: people the group would need for the rule to decide at the
    observed rates (with 80% power); ``needed_reference_n``: people the
    reference would need when growing the group alone cannot suffice (else
    NaN); ``needed_known_outcomes``: of the group's needed people, those whose
    outcome must be known (outcome metrics only).
    """

    detectable_ratio: float = math.nan
    detectable_difference: float = math.nan
    needed_n: float = math.nan
    needed_reference_n: float = math.nan
    needed_known_outcomes: float = math.nan


def _number(row: dict[str, object], key: str) -> float:
    value = row.get(key)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _detectable(row: dict[str, object], level: float) -> tuple[float, float]:
    """(ratio, difference) detectable on the side of the estimate; NaN when undefined."""
    kind = row.get("_kind")
    value, ref = _number(row, "value"), _number(row, "reference_value")
    higher = not (value < ref)
    if kind == "proportion":
        n1, n2 = _number(row, "_n1"), _number(row, "_n2")
        p2 = _number(row, "_x2") / n2 if n2 > 0 else math.nan
        lower_rate, higher_rate = (float(v) for v in power.detectable_rates(p2, n1, n2, alpha=level,
                                                                            power=DECIDING_POWER))
        rate = higher_rate if higher else lower_rate
        ratio = rate / p2 if p2 > 0 else math.nan
        return ratio, rate - p2
    if kind == "normal":
        se1, se2 = _number(row, "_se1"), _number(row, "_se2")
        distance = float(power.detectable_normal(se1, se2, alpha=level, power=DECIDING_POWER))
        difference = distance if higher else -distance
        ratio = math.nan
        if value > 0 and ref > 0:
            log_distance = float(power.detectable_normal(se1 / value, se2 / ref, alpha=level, power=DECIDING_POWER))
            ratio = math.exp(log_distance if higher else -log_distance)
        return ratio, difference
    return math.nan, math.nan


def _edges(estimate: float, band: tuple[float | None, float | None]) -> list[float]:
    """The band edges a ``ci`` verdict must clear: the crossed one when outside, both (nearest first) inside."""
    low, high = band
    if low is not None and estimate < low:
        return [low]
    if high is not None and estimate > high:
        return [high]
    edges = [e for e in (low, high) if e is not None]
    return sorted(edges, key=lambda e: abs(estimate - e))


def _edge_rate(row: dict[str, object], bound: str, edge: float | None) -> float:
    """The group rate at a band edge (None: the reference's own rate)."""
    m2 = _number(row, "_n2")
    p2 = _number(row, "_x2") / m2 if m2 > 0 else math.nan
    if edge is None:
        return p2
    return edge * p2 if bound == "ratio" else p2 + edge


def _exact_size(row: dict[str, object], rule: str, bound: str, band: tuple[float | None, float | None],
                level: float, start: float) -> float:
    """The group's size (denominator) at which its exact evidence decides, the reference held at its rate.

    ``significant``: Fisher's test, for a reference known exactly the exact binomial test at ``level``, and
    the estimate beyond the edge it crossed. ``ci``: the group's Clopper-Pearson bound, at its share of the
    family interval's error, clearing the edge (both edges inside the band).
    """
    m1, m2 = _number(row, "_n1"), _number(row, "_n2")
    p1 = _number(row, "_x1") / m1 if m1 > 0 else math.nan
    p2 = _edge_rate(row, bound, None)
    estimate = _number(row, bound)
    low, high = band
    if not (0.0 <= p1 <= 1.0 and 0.0 <= p2 <= 1.0):
        return math.nan
    if rule == "significant":
        above = p1 > p2
        crossed = high if above else low
        beyond = _edge_rate(row, bound, crossed) if crossed is not None else None
        return power.exact_binomial_size(p1, lower_target=p2 if above else None, upper_target=None if above else p2,
                                         error=level / 2.0, beyond=beyond, power=DECIDING_POWER, start=start)
    edges = _edges(estimate, band)
    outside = (low is not None and estimate < low) or (high is not None and estimate > high)
    lower_target = upper_target = None
    for edge in edges:
        rate = _edge_rate(row, bound, edge)
        if outside:
            lower_target, upper_target = (rate, None) if estimate > edge else (None, rate)
        elif edge == low:
            lower_target = rate
        else:
            upper_target = rate

    def error(n: int) -> float:  # the group's share of the family interval's error, per side
        w1, w2 = 1.0 / math.sqrt(max(n, 1)), 1.0 / math.sqrt(max(m2, 1.0))
        return level * w1 / (w1 + w2) / 2.0

    return power.exact_binomial_size(p1, lower_target=lower_target, upper_target=upper_target, error=error,
                                     power=DECIDING_POWER, start=start)


def _needed_denominators(row: dict[str, object], rule: str, bound: str, band: tuple[float | None, float | None],
                         level: float) -> tuple[float, float]:
    """Denominator sizes (group, reference) at which the rule decides at the observed rates, with 80% power.

    ``significant`` decides once its test tells the group from the reference;
    ``ci`` once its interval clears the edge it crossed (outside the band) or
    both edges (inside: the larger of the two sizes). For rates with exact
    evidence the group's size is the larger of the normal approximation (which
    counts the reference's own uncertainty) and the exact binomial calculation
    (which counts the discreteness of small counts). NaN when the metric has
    neither counts nor standard errors.
    """
    kind = row.get("_kind")
    n1, n2 = _number(row, "n"), _number(row, "reference_n")
    estimate = _number(row, bound)
    value, ref = _number(row, "value"), _number(row, "reference_value")
    targets: list[float | None] = [None] if rule == "significant" else list(_edges(estimate, band))
    sizes: list[tuple[float, float]] = []
    for edge in targets:
        if kind == "proportion":
            m1, m2 = _number(row, "_n1"), _number(row, "_n2")
            p1 = _number(row, "_x1") / m1 if m1 > 0 else math.nan
            target = _edge_rate(row, bound, edge)
            if not 0.0 <= target <= 1.0:
                continue  # the rate can never reach that edge: it does not bind
            group, reference = power.needed_sizes(p1, target, m1, m2, alpha=level, power=DECIDING_POWER)
            # Effective sizes back to rows of the denominator (the same without weights).
            sizes.append((float(group) * n1 / m1, float(reference) * n2 / m2))
        elif kind == "normal":
            se1, se2 = _number(row, "_se1"), _number(row, "_se2")
            if edge is None:
                distance = value - ref
            elif bound == "ratio":
                if not (value > 0 and ref > 0):
                    continue
                distance, se1, se2 = math.log(estimate / edge), se1 / value, se2 / ref
            else:
                distance = estimate - edge
            group, reference = power.needed_sizes_normal(distance, se1, se2, n1, n2, alpha=level,
                                                         power=DECIDING_POWER)
            sizes.append((float(group), float(reference)))
        else:
            return math.nan, math.nan
    sizes = [pair for pair in sizes if not math.isnan(pair[0])]
    if not sizes:
        return math.nan, math.nan
    group, reference = max(sizes, key=lambda pair: pair[0])
    if kind == "proportion" and bool(row.get("_exact")) and math.isfinite(group) and not reference > n2:
        group = max(group, _exact_size(row, rule, bound, band, level, start=group))
    return group, reference


def what_would_decide(row: dict[str, object], *, rule: str, bound: str, band: tuple[float | None, float | None],
                      family: Family, min_group_size: int, guarded: bool, needs_outcome: bool) -> ToDecide:
    """What would decide one inconclusive verdict.

    Parameters
    ----------
    row : dict
        The comparison row with its evidence columns.
    rule : {"point", "ci", "significant"}
    bound : {"ratio", "difference"}
    band : (low, high)
        The rule's band (``None`` for an open side).
    family : Family
    min_group_size : int
        The guard: with ``guarded`` (``point``, or evidence that is only
        asymptotic) neither group may end below it.
    needs_outcome : bool
        Whether the metric needs ground truth (then ``needed_known_outcomes`` is given).

    Returns
    -------
    ToDecide
        Sizes are whole people (rounded up); ``inf`` when no size would do (the
        estimate sits exactly on an edge or equals the reference).
    """
    level = family.level
    ratio, difference = _detectable(row, level)
    if row.get("status") != "ok":
        return ToDecide(ratio, difference)
    n1, n2 = _number(row, "n"), _number(row, "reference_n")
    if rule == "point":
        group, reference = n1, math.nan
    else:
        group, reference = _needed_denominators(row, rule, bound, band, level)
    if guarded:
        group = max(group, float(min_group_size)) if not math.isnan(group) else float(min_group_size)
        if n2 < min_group_size:
            reference = max(reference, float(min_group_size)) if not math.isnan(reference) else float(min_group_size)
    if not math.isnan(reference) and reference <= n2 + 1e-9:
        reference = math.nan  # the reference is large enough as it is
    people1, people2 = _number(row, "_people1"), _number(row, "_people2")
    known1 = _number(row, "_known1")
    scale = people1 / n1 if n1 > 0 and people1 > 0 else 1.0
    scale_ref = people2 / n2 if n2 > 0 and people2 > 0 else 1.0
    needed = power.ceil_people(group * scale)
    needed_ref = power.ceil_people(reference * scale_ref)
    known = power.ceil_people(group * known1 / n1) if needs_outcome and n1 > 0 and known1 > 0 else math.nan
    return ToDecide(ratio, difference, needed, needed_ref, known)
