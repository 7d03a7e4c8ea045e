"""One visit's data and the counts made from it (no Streamlit here, so it is tested on its own).

The app never computes a number itself: it asks the toolkit's engine to count
(:func:`audit.engine.count`) and to derive (:func:`audit.engine.derive_result`).
A :class:`Workspace` keeps the counts of the visit's data, so a new threshold,
reference group or policy rule is derived from them without reading the rows
again; only a set-up that counts other columns needs a new pass. The rows
themselves stay in the visit's memory (a :class:`~audit.uploads.LoadedTable`)
and are never written anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from audit.engine import Counted, ProxyFindings, count, derive_result, reusable, scan_proxies
from audit.result import AuditResult
from audit.sources import plan_for
from audit.spec import AuditSpec, ThresholdSpec, spec_to_dict, validate_spec
from audit.uploads import LoadedTable

SLIDER_STEPS = 101
"""Positions of the score slider between the lowest and highest score."""

MAX_KEPT_COUNTS = 4
"""How many sets of counts (different set-ups) a visit keeps."""

ThresholdMode = Literal["value", "top_k", "top_percent"]


@dataclass(frozen=True)
class Dataset:
    """The data of a visit: a table held in memory, and where it came from.

    ``origin`` is ``upload`` (the visitor's file), ``example`` (a bundled
    example) or ``registry`` (a past audit reopened: no rows, only its counts).
    """

    name: str
    origin: Literal["upload", "example", "registry"]
    loaded: LoadedTable | None


@dataclass
class Workspace:
    """Counts kept for one visit's data, and the audits derived from them."""

    dataset: Dataset | None = None
    counted: list[Counted] = field(default_factory=list)
    proxies: dict[tuple[Any, ...], ProxyFindings] = field(default_factory=dict)
    passes: int = 0  # how many times the data was counted (the tests read it)

    def use(self, dataset: Dataset | None, counted: Counted | None = None,
            proxies: ProxyFindings | None = None) -> None:
        """Switch to other data, forgetting what was kept of the previous data.

        ``counted`` and ``proxies`` are what is known of the new data already (a
        reopened audit has no rows: its saved counts and proxy scan stand for them).
        """
        self.dataset = dataset
        self.counted = [counted] if counted is not None else []
        self.proxies = {_proxy_key(counted.spec): proxies} if counted is not None and proxies is not None else {}

    def counts_for(self, spec: AuditSpec) -> Counted:
        """Counts that serve ``spec``: kept ones when they do, else a new pass over the data."""
        for counted in self.counted:
            if reusable(counted, spec):
                return counted
        if self.dataset is None or self.dataset.loaded is None:
            from audit.errors import ReasonCode, UsageError

            raise UsageError("this audit was reopened from the history, so its rows are not in memory and only "
                             "its own set-up can be shown; load the data again to change which columns are "
                             "audited", reason=ReasonCode.OPTION_INVALID)
        counted = count(counting_spec(spec, self.dataset.loaded), self.dataset.loaded)
        self.passes += 1
        self.counted = [counted, *self.counted][:MAX_KEPT_COUNTS]
        return counted

    def _proxies_for(self, spec: AuditSpec) -> ProxyFindings | None:
        if spec.proxies is None:
            return None
        key = _proxy_key(spec)
        loaded = self.dataset.loaded if self.dataset is not None else None
        if key not in self.proxies and loaded is not None:
            found = scan_proxies(spec, loaded)
            if found is not None:
                self.proxies[key] = found
        return self.proxies.get(key)

    def audit(self, spec: AuditSpec, *, views: Collection[str] | None = None,
              family_outside: Sequence[float] | None = None) -> AuditResult:
        """The audit of ``spec`` on the visit's data (counted at most once per set-up).

        Parameters
        ----------
        spec : AuditSpec
        views : collection of str, optional
            Derive only these decision views (the slider redraws one), see
            :func:`audit.engine.derive_result`. Their verdicts are judged in the
            whole family of ``spec``, as in a full derivation.
        family_outside : sequence of float, optional
            With ``views``: the raw p-values (NaN for none) of the verdicts of
            ``spec``'s other views, as a full derivation has them (see
            :func:`outside_p_values`). Without it the engine derives the other
            views once to find them: the same numbers, more work.
        """
        counted = self.counts_for(spec)
        return derive_result(spec, counted, proxies=None if views is not None else self._proxies_for(spec),
                             views=views, family_outside=family_outside)


def outside_p_values(result: AuditResult, views: Collection[str]) -> np.ndarray:
    """The raw p-values (NaN where a verdict has no test) of ``result``'s verdicts outside ``views``.

    For the slider: a spec whose threshold moved keeps every other view of the
    audit unchanged, so the verdicts of those views in the audit already made
    are the rest of the moved spec's family (see :meth:`Workspace.audit`).

    Parameters
    ----------
    result : AuditResult
        A full audit (every view derived).
    views : collection of str
        The views to leave out: those the move replaces.

    Returns
    -------
    numpy.ndarray of float
        One p-value per verdict left in, in the verdicts table's order.
    """
    verdicts = result.verdicts
    return verdicts.loc[~verdicts["view"].isin(list(views)), "p_value"].to_numpy(dtype=float)


def _proxy_key(spec: AuditSpec) -> tuple[Any, ...]:
    """What the proxy scan depends on: its settings, and the columns, filter and weights the audit uses."""
    return spec.proxies, plan_for(spec)


def counting_spec(spec: AuditSpec, loaded: LoadedTable) -> AuditSpec:
    """The spec to count with: ``spec``, plus, for a score, a sweep over the slider's grid.

    A score with many distinct values is counted in bins split at every cut-off
    the spec names; adding the slider's grid as a sweep makes every slider
    position an exact cut-off of the same counts. A spec with a sweep of its
    own is counted as it is.
    """
    if spec.score is None or spec.score.sweep is not None:
        return spec
    low, high = score_range(loaded, spec.score.column)
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        return spec
    raw = spec_to_dict(spec)
    raw["score"]["sweep"] = {"start": low, "stop": high, "steps": SLIDER_STEPS}
    return validate_spec(raw)


def score_range(loaded: LoadedTable, column: str) -> tuple[float, float]:
    """Lowest and highest value of a numeric column (NaN when it has none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = loaded.table.column(column)
    try:
        bounds = pc.min_max(pc.cast(values, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return float("nan"), float("nan")  # not numeric: the audit itself says so, in words
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return (float("nan"), float("nan")) if low is None or high is None else (float(low), float(high))


def slider_grid(counted: Counted, spec: AuditSpec | None = None) -> tuple[float, ...]:
    """The cut-offs the score slider offers, every one exact on these counts.

    An exactly counted score offers its distinct values when there are few,
    else an even grid of :data:`SLIDER_STEPS` values (any cut-off is exact on
    an exact histogram). A binned score offers the bin edges it was split at
    (the counting spec's grid, see :func:`counting_spec`, and its cut-offs).
    The cut-off values of ``spec`` are offered too, so the slider starts on them.
    """
    histogram = counted.raw.score
    if histogram is None:
        return ()
    values = histogram.values[np.isfinite(histogram.values)]
    if not values.size:
        return ()
    own = {float(t.value) for t in spec.score.threshold if t.value is not None} \
        if spec is not None and spec.score is not None else set()
    if histogram.exact:
        if values.size <= SLIDER_STEPS:
            return tuple(sorted({float(v) for v in values} | own))
        grid = np.linspace(float(values.min()), float(values.max()), SLIDER_STEPS)
        return tuple(sorted({float(f"{x:.4g}") for x in grid} | own))
    return tuple(s for s in histogram.binning.splits if float(f"{s:.12g}") == s)


def threshold_views(spec: AuditSpec) -> frozenset[str]:
    """The decision views of ``spec``'s score thresholds (empty without a score): those :func:`with_threshold`
    replaces by the one view of its new threshold."""
    return frozenset(t.name for t in spec.score.threshold) if spec.score is not None else frozenset()


def with_threshold(spec: AuditSpec, mode: ThresholdMode, value: float) -> AuditSpec:
    """``spec`` with its score judged at one threshold instead of its own.

    Policy rules that named the spec's threshold views apply to the new view
    instead; rules for other views (the LL144 median, overrides) are kept.
    """
    if spec.score is None:
        return spec
    chosen = {mode: int(value) if mode == "top_k" else float(value)}
    threshold = ThresholdSpec(**chosen)
    old_names = threshold_views(spec)
    raw = spec_to_dict(spec)
    raw["score"]["threshold"] = [chosen]
    for rule in raw.get("policy", []):
        views = rule.get("views")
        if views:
            kept = [v for v in views if v not in old_names]
            rule["views"] = kept + [threshold.name] if len(kept) < len(views) else kept
    return validate_spec(raw)


__all__ = ["Dataset", "Workspace", "counting_spec", "outside_p_values", "score_range", "slider_grid",
           "threshold_views", "with_threshold", "SLIDER_STEPS", "ThresholdMode"]
