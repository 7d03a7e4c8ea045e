"""Turning a score into decisions: cut-offs, top-k, top per cent and the LL144 median, from the histogram.

A threshold of the spec becomes a *cut-off*: a row is acted on when its score
is at or above it. Top-k acts on the k highest scores: the cut-off is the k-th
highest score, so rows tied with it are all acted on and the number acted on
can exceed k (the table says by how many). Top p per cent is top-k with
k = ceil(p/100 × n). The NYC LL144 *scoring rate* counts scores strictly
above the full sample's median. k and n count people (rows, or the counts
of an aggregate table) with a score, never weights.

Everything is read from the score histogram, so it costs nothing per row.
When the score is binned (too many distinct values for an exact histogram),
the cut-offs are computed exactly before counting (:func:`score_splits`) and
every one of them is a bin edge, so decisions at them are still exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audit.errors import DataError, ReasonCode
from audit.spec import ScoreSpec, ThresholdSpec

MEDIAN_VIEW = "above median (LL144)"


@dataclass(frozen=True)
class Cutoff:
    """One decision rule on the score: rows with ``score >= cutoff`` are positive."""

    name: str
    kind: str
    requested: float | None
    cutoff: float
    acted_on: int
    population: int
    note: str = ""


def top_count(threshold: ThresholdSpec, population: int) -> int | None:
    """How many people a top-k or top-% threshold acts on (None for a plain cut-off)."""
    if threshold.top_k is not None:
        return threshold.top_k
    if threshold.top_percent is not None:
        return max(1, math.ceil(threshold.top_percent / 100.0 * population - 1e-9))
    return None


def _check_population(threshold: ThresholdSpec, k: int, population: int, column: str) -> None:
    if k > population:
        raise DataError(f"score.threshold: '{threshold.name}' asks for the {k:,} highest scores, but only "
                        f"{population:,} people in the audited rows have a score in '{column}'; lower top_k or "
                        f"use top_percent", reason=ReasonCode.THRESHOLD_INVALID)


def fixed_splits(score: ScoreSpec) -> tuple[float, ...]:
    """The bin edges a spec needs that do not depend on the data: cut-off values, sweep points, calibration.

    Calibration edges are split just above each interior edge, so a binned
    probability's reliability table stays exact.
    """
    splits = [float(t.value) for t in score.threshold if top_count(t, 1) is None]  # type: ignore[arg-type]
    if score.sweep is not None:
        splits.extend(score.sweep.grid())
    if score.probability is not False:  # calibration bins (lo, hi]: a value on an edge stays in the lower bin
        edges = np.linspace(0.0, 1.0, score.calibration_bins + 1)[1:-1]
        splits.extend(float(e) for e in np.nextafter(edges, np.inf))
    return tuple(sorted(set(splits)))


def score_splits(score: ScoreSpec, population: int, kth_largest: Callable[[int], float]) -> tuple[float, ...]:
    """Every score value that must be a bin edge: :func:`fixed_splits`, the top-k scores and the median.

    ``kth_largest(k)`` returns the k-th highest score (k from 1) of the audited rows.
    """
    splits = list(fixed_splits(score))
    for threshold in score.threshold:
        k = top_count(threshold, population)
        if k is not None:
            _check_population(threshold, k, population, score.column)
            splits.append(kth_largest(k))
    if population:
        splits.append(float(np.nextafter(median_from(kth_largest, population), np.inf)))
    return tuple(sorted(set(splits)))


def median_from(kth_largest: Callable[[int], float], population: int) -> float:
    """The median (numpy's rule: the mean of the two middle values for an even count) from order statistics."""
    if population % 2:
        return kth_largest(population // 2 + 1)
    return float(np.mean([kth_largest(population // 2), kth_largest(population // 2 + 1)]))


def histogram_kth_largest(values: np.ndarray, rows: np.ndarray) -> Callable[[int], float]:
    """``kth_largest`` over an exact histogram (values ascending, people per value)."""
    descending = values[::-1]
    cumulative = np.cumsum(rows[::-1])

    def kth(k: int) -> float:
        return float(descending[int(np.searchsorted(cumulative, k))])

    return kth


def resolve_cutoffs(score: ScoreSpec, values: np.ndarray, rows: np.ndarray, *,
                    median: float | None = None) -> list[Cutoff]:
    """The cut-off of every threshold of the spec, and of the LL144 median view, from the histogram.

    ``values`` are the histogram's ascending bin values and ``rows`` the people
    in each bin (all groups, missing scores excluded). ``median`` is the exact
    median when the histogram is binned; for an exact histogram it is computed here.
    """
    population = int(rows.sum())
    at_or_above = np.cumsum(rows[::-1])[::-1]  # people with a score >= values[b]

    def acted(cut: float) -> int:
        b = int(np.searchsorted(values, cut, side="left"))
        return int(at_or_above[b]) if b < values.size else 0

    kth = histogram_kth_largest(values, rows)
    cutoffs: list[Cutoff] = []
    for threshold in score.threshold:
        k = top_count(threshold, population)
        if k is None:
            cut = float(threshold.value)  # type: ignore[arg-type]
            cutoffs.append(Cutoff(threshold.name, "value", cut, cut, acted(cut), population))
            continue
        _check_population(threshold, k, population, score.column)
        cut = kth(k)
        n = acted(cut)
        note = (f"{n - k:,} more than {k:,} are acted on because {int(rows[values == cut].sum()):,} people tie "
                f"at the cut-off score {cut:g}") if n > k else ""
        kind = "top_k" if threshold.top_k is not None else "top_percent"
        requested = float(threshold.top_k if threshold.top_k is not None else threshold.top_percent)  # type: ignore
        cutoffs.append(Cutoff(threshold.name, kind, requested, cut, n, population, note))
    if population:
        middle = median if median is not None else median_from(kth, population)
        above = values[values > middle]
        cut = float(above[0]) if above.size else float(np.inf)
        cutoffs.append(Cutoff(MEDIAN_VIEW, "median", middle, cut, acted(cut), population,
                              f"full-sample median {middle:g}; scores strictly above it count"))
    return cutoffs
