"""A decision with several tiers: each group's share per tier, comparisons with the reference, omnibus tests.

Systems such as a citizen "trust" score or a hotline priority put each person
in one of several *tiers*. The spec lists the tiers (in order, first to last,
when ``ordered``) and marks each ``favourable``, ``adverse`` or ``neutral`` for
the person. The engine counts, in its single pass over the data, the rows,
Σw and Σw² of every group × tier; :func:`analyse_tiers` derives everything
from those counts and never sees a row.

Per group and tier (units: share of the group's rows, or of its weight):

* ``tier_rate:<tier>``: share of the group in the tier;
* ``tier_at_least:<tier>`` (ordered tiers only, every tier but the first):
  share of the group in the tier or any tier listed after it.

Each is compared with the reference group as :mod:`audit.comparisons` compares
a proportion. The omnibus tests are the chi-square test of independence of
group and tier (with Cramér's V) and, for ordered tiers, the Kruskal–Wallis
test across groups and a Mann–Whitney test of each group against the
reference, on the tier positions (0 for the first-listed tier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from audit import distributions, stats
from audit.comparisons import COMPARISON_FIELDS, EVIDENCE_FIELDS, Reference, compare_blocks
from audit.metrics import Harm, Kind, MetricDef
from audit.rates import GROUP_FIELDS, from_sums
from audit.spec import TierKind

__all__ = [
    "CHI_SQUARE_TEST",
    "COMPARISON_COLUMNS",
    "GROUP_COLUMNS",
    "KRUSKAL_WALLIS_TEST",
    "MANN_WHITNEY_TEST",
    "TEST_COLUMNS",
    "TierKind",
    "TierTables",
    "analyse_tiers",
    "cumulative_direction",
]

GROUP_COLUMNS = list(GROUP_FIELDS)
COMPARISON_COLUMNS = list(COMPARISON_FIELDS) + list(EVIDENCE_FIELDS)
TEST_COLUMNS = ["attribute", "test", "group", "reference", "statistic", "dof", "p_value", "effect", "effect_name", "n",
                "status", "reason"]

CHI_SQUARE_TEST = "chi-square (group × tier)"
KRUSKAL_WALLIS_TEST = "Kruskal–Wallis (ordinal shift)"
MANN_WHITNEY_TEST = "Mann–Whitney (ordinal shift)"

_KINDS: tuple[str, ...] = ("favourable", "adverse", "neutral")
_POOR_EXPECTED = 5.0  # the usual rule of thumb for the chi-square approximation
_NO_ROWS = "the group has no rows"
_WEIGHTED_NOTE = "weighted: each group's weighted tier counts are scaled to its Kish effective size"

Direction = Literal["favourable", "adverse"]


@dataclass(frozen=True)
class TierTables:
    """The tier analysis of one attribute: three tidy tables.

    Attributes
    ----------
    groups : pandas.DataFrame
        Columns :data:`GROUP_COLUMNS`; one row per group × metric
        (``tier_rate:<tier>`` and, for ordered tiers, ``tier_at_least:<tier>``).
    comparisons : pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`; one row per known non-reference
        group × metric. ``p_adjusted`` is NaN (the engine adjusts it within each view);
        the last columns are the evidence the verdicts use
        (:data:`audit.comparisons.EVIDENCE_FIELDS`), which the result leaves out.
    tests : pandas.DataFrame
        Columns :data:`TEST_COLUMNS`; the chi-square test, and for ordered tiers
        the Kruskal–Wallis test and one Mann–Whitney test per known
        non-reference group.
    """

    groups: pd.DataFrame
    comparisons: pd.DataFrame
    tests: pd.DataFrame


@dataclass(frozen=True)
class _Metric:
    """One tier metric over the groups: weighted numerator, and the direction of harm (None: neutral)."""

    name: str
    numerator: np.ndarray  # Σw in the tier(s), per group
    direction: Direction | None


# --------------------------------------------------------------------------- public helpers


def cumulative_direction(kinds: Sequence[TierKind], start: int) -> Direction | None:
    """Which way ``tier_at_least`` of tier ``start`` reads: favourable, adverse or neither.

    Parameters
    ----------
    kinds : sequence of {"favourable", "adverse", "neutral"}
        The kind of every tier, in the spec's order.
    start : int
        Position of the tier (0 = first-listed).

    Returns
    -------
    {"favourable", "adverse"} or None
        ``"favourable"`` when every tier from ``start`` onwards is favourable or
        neutral and at least one is favourable; ``"adverse"`` likewise with
        adverse; None otherwise (a mix of favourable and adverse, or all neutral).

    Examples
    --------
    >>> cumulative_direction(("adverse", "neutral", "favourable", "favourable"), 1)
    'favourable'
    >>> cumulative_direction(("adverse", "neutral", "favourable"), 0) is None
    True
    """
    tail = set(kinds[start:])
    for direction in ("favourable", "adverse"):
        if direction in tail and tail <= {direction, "neutral"}:
            return direction  # type: ignore[return-value]
    return None


# --------------------------------------------------------------------------- validation


def _counts(name: str, value: ArrayLike, *, integer: bool) -> np.ndarray:
    """A new (G, T) float array of finite, non-negative counts, or ValueError naming the argument."""
    try:
        array = np.array(value, dtype=float)  # a copy: the caller's array is never touched
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape (groups, tiers); got {type(value).__name__}") \
            from None
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (groups, tiers); got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite, non-negative sums; got a negative or non-finite value")
    if integer and np.any(array != np.rint(array)):
        raise ValueError(f"{name} must hold whole row counts; got a non-integer value")
    return array


def _validate(rows: ArrayLike, weights: ArrayLike, weights_sq: ArrayLike, tiers: tuple[str, ...],
              kinds: tuple[TierKind, ...], labels: tuple[str, ...], unknown: tuple[bool, ...], reference: int,
              confidence: float, min_expected: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = _counts("rows", rows, integer=True)
    w = _counts("weights", weights, integer=False)
    w2 = _counts("weights_sq", weights_sq, integer=False)
    shapes = {"rows": counts.shape, "weights": w.shape, "weights_sq": w2.shape}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"rows, weights and weights_sq must have the same shape (groups, tiers); got {shapes}")
    n_groups, n_tiers = counts.shape
    if len(tiers) != n_tiers or len(kinds) != n_tiers:
        raise ValueError(f"tiers and kinds must each have one entry per column of rows ({n_tiers}); "
                         f"got {len(tiers)} tiers and {len(kinds)} kinds")
    if n_tiers < 1:
        raise ValueError("tiers must name at least one tier; got none")
    if len(set(tiers)) != n_tiers:
        raise ValueError(f"tiers must be distinct; got {list(tiers)}")
    bad = [k for k in kinds if k not in _KINDS]
    if bad:
        raise ValueError(f"kinds must each be one of {', '.join(_KINDS)}; got {bad[0]!r}")
    if len(labels) != n_groups or len(unknown) != n_groups:
        raise ValueError(f"labels and unknown must each have one entry per row of rows ({n_groups}); "
                         f"got {len(labels)} labels and {len(unknown)} unknown flags")
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)) \
            or not 0 <= reference < n_groups:
        raise ValueError(f"reference must be a group index in [0, {n_groups - 1}]; got {reference!r}")
    if unknown[reference]:
        raise ValueError(f"reference must be a known group; got the unknown group '{labels[reference]}'")
    stats._check_confidence(confidence)
    if not np.isfinite(min_expected) or min_expected < 0:
        raise ValueError(f"min_expected must be a finite count >= 0, e.g. 5; got {min_expected!r}")
    return counts, w, w2


# --------------------------------------------------------------------------- tables


def _metrics(weights: np.ndarray, tiers: tuple[str, ...], kinds: tuple[TierKind, ...],
             ordered: bool) -> list[_Metric]:
    metrics = [_Metric(f"tier_rate:{tier}", weights[:, t], None if kind == "neutral" else kind)  # type: ignore
               for t, (tier, kind) in enumerate(zip(tiers, kinds))]
    if ordered:
        tail = np.cumsum(weights[:, ::-1], axis=1)[:, ::-1]  # Σw in tier t or later, per group
        metrics += [_Metric(f"tier_at_least:{tiers[t]}", tail[:, t], cumulative_direction(kinds, t))
                    for t in range(1, len(tiers))]
    return metrics


def _test_row(attribute: str, test: str, group: str, reference: str, statistic: float, dof: float,
              p_value: float, effect: float, effect_name: str, n: int, reason: str, ok: bool) -> dict[str, Any]:
    return {"attribute": attribute, "test": test, "group": group, "reference": reference,
            "statistic": float(statistic), "dof": float(dof), "p_value": float(p_value), "effect": float(effect),
            "effect_name": effect_name, "n": int(n), "status": "ok" if ok else "undefined", "reason": reason}


def _chi_square_row(table: np.ndarray, n: int, attribute: str, tiers: tuple[str, ...], labels: list[str],
                    weighted: bool) -> dict[str, Any]:
    """The chi-square test of group × tier on the known groups, with empty rows and columns left out."""
    notes = [_WEIGHTED_NOTE] if weighted else []
    rows_kept = table.sum(axis=1) > 0
    cols_kept = table.sum(axis=0) > 0
    if not rows_kept.all():
        notes.append("groups with no rows left out: " + ", ".join(l for l, k in zip(labels, rows_kept) if not k))
    if not cols_kept.all():
        notes.append("tiers no known group is in left out: "
                     + ", ".join(t for t, k in zip(tiers, cols_kept) if not k))
    reduced = table[rows_kept][:, cols_kept]
    nan = np.nan
    if reduced.shape[0] < 2 or reduced.shape[1] < 2:
        why = (f"fewer than 2 known groups with rows ({reduced.shape[0]})" if reduced.shape[0] < 2
               else f"fewer than 2 tiers with rows ({reduced.shape[1]})")
        return _test_row(attribute, CHI_SQUARE_TEST, "", "", nan, nan, nan, nan, "Cramér's V", n,
                         "; ".join([why] + notes), False)
    result = distributions.chi_square_independence(reduced)
    expected = np.outer(reduced.sum(axis=1), reduced.sum(axis=0)) / reduced.sum()
    poor = int(np.sum(expected < _POOR_EXPECTED))
    if poor:
        notes.append(f"chi-square approximation is poor: {poor} expected counts below {_POOR_EXPECTED:g}")
    ok = bool(np.isfinite(result.statistic) and np.isfinite(result.p_value))
    return _test_row(attribute, CHI_SQUARE_TEST, "", "", result.statistic, result.dof, result.p_value,
                     result.cramers_v, "Cramér's V", n, "; ".join(notes), ok)


def _kruskal_row(table: np.ndarray, n: int, attribute: str, weighted: bool) -> dict[str, Any]:
    notes = [_WEIGHTED_NOTE] if weighted else []
    reduced = table[table.sum(axis=1) > 0]
    nan = np.nan
    why = ""
    if reduced.shape[0] < 2:
        why = f"fewer than 2 known groups with rows ({reduced.shape[0]})"
    elif np.count_nonzero(reduced.sum(axis=0)) < 2:
        why = "every row is in the same tier: no ordinal variation"
    if why:
        return _test_row(attribute, KRUSKAL_WALLIS_TEST, "", "", nan, nan, nan, nan, "", n,
                         "; ".join([why] + notes), False)
    statistic, dof, p_value = distributions.kruskal_wallis(reduced)
    ok = bool(np.isfinite(statistic) and np.isfinite(p_value))
    return _test_row(attribute, KRUSKAL_WALLIS_TEST, "", "", statistic, dof, p_value, nan, "", n,
                     "; ".join(notes), ok)


def _mann_whitney_row(group: np.ndarray, ref: np.ndarray, n: int, attribute: str, label: str, ref_label: str,
                      weighted: bool) -> dict[str, Any]:
    notes = [_WEIGHTED_NOTE] if weighted else []
    nan = np.nan
    name = "probability of a later tier"
    why = ("the group has no rows" if group.sum() <= 0 else "reference group: the group has no rows"
           if ref.sum() <= 0 else "")
    if why:
        return _test_row(attribute, MANN_WHITNEY_TEST, label, ref_label, nan, nan, nan, nan, name, n,
                         "; ".join([why] + notes), False)
    result = distributions.mann_whitney(group, ref)
    ok = bool(np.isfinite(result.statistic) and np.isfinite(result.p_value))
    if not ok and np.count_nonzero(group + ref) < 2:
        notes.insert(0, "every row of both groups is in the same tier: no ordinal variation")
    return _test_row(attribute, MANN_WHITNEY_TEST, label, ref_label, result.statistic, nan, result.p_value,
                     result.effect, name, n, "; ".join(notes), ok)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def analyse_tiers(rows: ArrayLike, weights: ArrayLike, weights_sq: ArrayLike, *, tiers: tuple[str, ...],
                  kinds: tuple[TierKind, ...], ordered: bool, attribute: str, labels: tuple[str, ...],
                  unknown: tuple[bool, ...], reference: int, reference_rule: str, confidence: float,
                  min_expected: float, weighted: bool) -> TierTables:
    r"""Tier shares per group, comparisons with the reference and omnibus tests, from group × tier counts.

    Parameters
    ----------
    rows : array_like of int, shape (G, T)
        Rows of group ``g`` in tier ``t`` (units: rows). Whole numbers.
    weights : array_like of float, shape (G, T)
        Σw over the same rows (equal to ``rows`` without weights).
    weights_sq : array_like of float, shape (G, T)
        Σw² over the same rows (equal to ``rows`` without weights).
    tiers : tuple of str
        The ``T`` tier names, in the spec's order (first to last when ``ordered``).
    kinds : tuple of {"favourable", "adverse", "neutral"}
        Each tier's kind for the person.
    ordered : bool
        Whether the tiers are ordered; adds the cumulative ``tier_at_least``
        metrics and the ordinal-shift (rank) tests.
    attribute : str
        Name of the protected attribute (or intersection), copied into every row.
    labels : tuple of str
        The ``G`` group labels.
    unknown : tuple of bool
        Marks the group of people whose attribute value is missing: it gets
        group rows but is never compared nor part of an omnibus test.
    reference : int
        Index of the reference group (a known group).
    reference_rule : str
        How the reference was chosen (copied into the comparisons).
    confidence : float
        Two-sided coverage of every interval, in (0, 1).
    min_expected : float
        Smallest expected cell count for which the two-proportion z test is used
        instead of Fisher's exact test (unweighted data only).
    weighted : bool
        Whether the counts carry weights. Changes the comparison test to the
        z test on Kish effective counts and scales each group's weighted tier
        counts to its Kish effective size for the omnibus tests.

    Returns
    -------
    TierTables
        ``groups``, ``comparisons`` and ``tests`` tables (see :class:`TierTables`).

    Raises
    ------
    ValueError
        If the arrays are not 2-D of one shape, hold negative, non-finite or
        (``rows``) non-integer values, if ``tiers``, ``kinds``, ``labels`` or
        ``unknown`` do not match the shape, a kind is not valid, ``reference``
        is not the index of a known group, or ``confidence`` is not in (0, 1).

    Notes
    -----
    With :math:`W_{gt}` = ``weights[g, t]``, :math:`W_g = \sum_t W_{gt}` and
    :math:`W_{2,g} = \sum_t` ``weights_sq[g, t]``:

    * ``tier_rate:<t>`` of group ``g`` is :math:`W_{gt} / W_g` and
      ``tier_at_least:<t>`` is :math:`\sum_{s \ge t} W_{gs} / W_g`; the
      interval is Wilson's on the Kish effective counts
      (:func:`audit.stats.effective_counts`); ``n`` is the group's rows,
      ``numerator`` and ``denominator`` the weighted sums. A tier nobody is in
      has a real rate of 0 with a defined interval. A group with no rows (or
      zero total weight) is *undefined*: NaN, never 0.
    * Comparisons: ratio and difference to the reference with Katz-log and
      Newcombe intervals, and Fisher's exact or the z test chosen by
      ``min_expected`` (the z test on effective counts with weights), as in
      :func:`audit.comparisons.compare`. The direction of a tier rate is its
      kind; that of ``tier_at_least:<t>`` is :func:`cumulative_direction`.
      ``disadvantaged`` is True when the group's rate is higher than the
      reference's for an adverse reading (lower for a favourable one), None for
      no direction or equal rates. ``impact_ratio`` is NYC LL144's on the
      favourable reading: rate / highest rate of the known groups for a
      favourable reading, (1 − rate) / highest (1 − rate) for an adverse one,
      NaN without direction; ``four_fifths_flag`` is ``impact_ratio < 0.8``.
      A reference rate of 0 leaves the ratio undefined (status ``undefined``).
    * Tests, on the known groups only: the chi-square test of independence of
      group × tier (all-zero rows and columns left out; undefined with fewer
      than 2 of either) with Cramér's V, equal to
      ``scipy.stats.chi2_contingency(table, correction=False)`` and
      ``scipy.stats.contingency.association(table, method="cramer")``; the
      reason notes how many expected counts are below 5. For ordered tiers,
      Kruskal–Wallis across groups (``scipy.stats.kruskal`` on the tier
      positions) and, per group, Mann–Whitney against the reference
      (``scipy.stats.mannwhitneyu(x_group, x_ref, method="asymptotic")``,
      statistic U of the group) with effect :math:`U/(n_1 n_2)` = P(the group's
      tier is later) + ½ P(same tier). With weights each group's row of the
      table is :math:`W_{gt} W_g / W_{2,g}` (weighted counts scaled to the Kish
      effective size), and the reason says so.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([[10, 30, 60], [30, 30, 40]])
    >>> out = analyse_tiers(counts, counts, counts, tiers=("low", "mid", "high"),
    ...                     kinds=("adverse", "neutral", "favourable"), ordered=True, attribute="sex",
    ...                     labels=("f", "m"), unknown=(False, False), reference=0,
    ...                     reference_rule="named", confidence=0.95, min_expected=5.0, weighted=False)
    >>> float(out.groups.query("group == 'm' and metric == 'tier_rate:low'").value.iloc[0])
    0.3
    >>> bool(out.comparisons.query("metric == 'tier_rate:low'").disadvantaged.iloc[0])
    True
    """
    counts, w, w2 = _validate(rows, weights, weights_sq, tiers, kinds, labels, unknown, reference, confidence,
                              min_expected)
    known = ~np.array(unknown, dtype=bool)
    n = counts.sum(axis=1).astype(np.int64)
    total, total_sq = w.sum(axis=1), w2.sum(axis=1)
    reference_group = Reference(reference, labels[reference], reference_rule)

    group_rows: list[dict[str, Any]] = []
    comparison_rows: list[dict[str, Any]] = []
    for metric in _metrics(w, tiers, kinds, ordered):
        definition = MetricDef(metric.name, metric.name, Kind.PROPORTION, "Σw in the tier(s) / Σw of the group",
                               Harm.NONE if metric.direction is None else Harm.POSITIVE_DECISION, False, _NO_ROWS)
        values = from_sums(definition, metric.numerator, total, total_sq, n, confidence)
        group_rows.extend(
            {"attribute": attribute, "group": label, "metric": metric.name, "value": float(values.value[g]),
             "ci_low": float(values.ci_low[g]), "ci_high": float(values.ci_high[g]), "n": int(n[g]),
             "numerator": float(metric.numerator[g]), "denominator": float(total[g]),
             "status": "undefined" if values.reason[g] else "ok", "reason": values.reason[g],
             "unknown": bool(unknown[g])}
            for g, label in enumerate(labels))
        columns = compare_blocks(attribute, labels, unknown, values, [reference_group],
                                 adverse=metric.direction == "adverse", confidence=confidence,
                                 min_expected=min_expected, weighted=weighted, favourable_impact=True)
        comparison_rows.extend(dict(zip(columns, row)) for row in zip(*columns.values()))

    # Omnibus tests on the known groups; with weights, on the Kish-scaled weighted table.
    if weighted:
        table = stats.effective_counts(w, total[:, None], total_sq[:, None])[0]
    else:
        table = counts
    known_idx = np.flatnonzero(known)
    known_labels = [labels[g] for g in known_idx]
    n_known = int(n[known_idx].sum())
    test_rows = [_chi_square_row(table[known_idx], n_known, attribute, tiers, known_labels, weighted)]
    if ordered:
        test_rows.append(_kruskal_row(table[known_idx], n_known, attribute, weighted))
        for g in known_idx:
            if g != reference:
                test_rows.append(_mann_whitney_row(table[g], table[reference], int(n[g] + n[reference]), attribute,
                                                   labels[g], labels[reference], weighted))
    return TierTables(groups=_frame(group_rows, GROUP_COLUMNS),
                      comparisons=_frame(comparison_rows, COMPARISON_COLUMNS),
                      tests=_frame(test_rows, TEST_COLUMNS))
