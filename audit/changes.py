"""What changed between two audits of one system: rates, disparities and verdicts, old against new.

:func:`compare_results` reads two results (each an :class:`~audit.AuditResult`
or a dict in the shape of ``result.json``) and tests, row by row, whether a
group's rate, a group's disparity against its reference, and a policy
verdict changed. It uses only the tables of the two results, never data or
counts, so ``audit diff OLD NEW`` can compare two ``result.json`` files.

The two audits are taken as independent samples (two periods, two sets of
people). Rates are compared as two independent proportions: a Newcombe
interval for the change and Fisher's exact test or the two-proportion z-test
(as the engine compares groups); disparities by the change of the log ratio,
with the standard error of each side recovered from its Katz interval.
p-values are adjusted across all rows of a table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from audit import stats
from audit.errors import DataError, ReasonCode, UsageError
from audit.metrics import METRICS, Kind
from audit.result import (COMPARISON_COLUMNS, GROUP_COLUMNS, RESULT_SCHEMA_VERSION, VERDICT_COLUMNS, AuditResult,
                          table_records)
from audit.spec import spec_to_dict

__all__ = ["RATE_METRICS", "ChangeSummary", "Changes", "compare_results"]

RATE_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.kind is Kind.PROPORTION)
"""The metrics whose change is tested in :attr:`Changes.rates`: the proportions of the registry."""

RATE_KEYS = ["view", "attribute", "group", "metric"]
VERDICT_KEYS = ["rule", "view", "attribute", "group"]
RATE_CHANGE_COLUMNS = [*RATE_KEYS, "old_value", "old_n", "old_trials", "new_value", "new_n", "new_trials", "change",
                       "change_ci_low", "change_ci_high", "test", "p_value", "p_adjusted", "significant", "status",
                       "reason"]
DISPARITY_CHANGE_COLUMNS = [
    *RATE_KEYS, "old_reference", "new_reference", "reference_changed",
    *(f"{side}_{name}" for side in ("old", "new") for name in (
        "ratio", "ratio_ci_low", "ratio_ci_high", "difference", "difference_ci_low", "difference_ci_high")),
    "log_ratio_change", "log_ratio_change_ci_low", "log_ratio_change_ci_high", "z", "p_value", "p_adjusted",
    "significant", "moved_beyond_intervals", "status", "reason"]
VERDICT_CHANGE_COLUMNS = [*VERDICT_KEYS, "metric", "old_rule", "new_rule", "old_reference", "new_reference", "old_verdict", "new_verdict",
                          "change", "cause", "old_method", "new_method", "old_reason", "new_reason"]
_REGRESSIONS = {("pass", "fail"), ("pass", "inconclusive"), ("inconclusive", "fail")}
_IMPROVEMENTS = {(new, old) for old, new in _REGRESSIONS}
_LOG_SYMMETRY = 1e-9  # relative slack when checking that a ratio interval is symmetric on the log scale
_LISTED = 12  # at most this many groups named in one note


@dataclass(frozen=True)
class ChangeSummary:
    """How many rows of each table of :class:`Changes` say what.

    Attributes
    ----------
    rates, rates_significant, rates_undefined : int
        Rates compared; of them, significant changes (adjusted) and rows undefined on either side.
    disparities, disparities_significant, disparities_moved, references_changed : int
        Comparisons compared; of them, significant changes of the log ratio, estimates that moved beyond each
        other's interval, and rows whose reference group differs between the two audits.
    verdicts_same, verdicts_improved, verdicts_regressed, verdicts_new, verdicts_gone : int
        Verdict rows by their change.
    regression : bool
        Whether any verdict regressed.
    """

    rates: int
    rates_significant: int
    rates_undefined: int
    disparities: int
    disparities_significant: int
    disparities_moved: int
    references_changed: int
    verdicts_same: int
    verdicts_improved: int
    verdicts_regressed: int
    verdicts_new: int
    verdicts_gone: int
    regression: bool


@dataclass(frozen=True)
class Changes:
    """The changes between an old and a new audit of one system (see :func:`compare_results`).

    Attributes
    ----------
    rates : DataFrame
        One row per view, attribute, group and rate metric (:data:`RATE_METRICS`) present in both results:
        ``old_value``, ``old_n`` (people in the rate's denominator), ``old_trials`` (the denominator the
        interval and test use: the count, or the Kish effective count with weights), the same for ``new``,
        ``change`` (new − old, in proportion units) with its Newcombe interval, ``test`` (``fisher``, ``z``,
        ``z (effective counts)`` or ``none``), ``p_value``, ``p_adjusted`` (across all rows), ``significant``
        (``p_adjusted`` below 1 − confidence; NA when untested), ``status`` (``ok`` or ``undefined``) and
        ``reason`` (why undefined: a side's own reason, prefixed ``old:`` or ``new:``). Undefined rows have
        NaN for the change and its test, never 0.
    disparities : DataFrame
        One row per comparison (view, attribute, group, metric) present in both: each side's reference,
        ratio and difference with their intervals, ``log_ratio_change`` (log new ratio − log old ratio) with
        its interval, ``z``, ``p_value``, ``p_adjusted``, ``significant``, ``moved_beyond_intervals`` (the new
        ratio lies outside the old interval and the old ratio outside the new one; NA when an interval is
        missing), ``reference_changed``, ``status`` (``ok``; ``undefined`` when either side's comparison is;
        ``untested`` when both ratios are defined but a standard error cannot be recovered) and ``reason``.
    verdicts : DataFrame
        One row per policy rule, view, attribute and group present in either (a rule is paired with its
        counterpart by the metric and bound it judges, so ``old_rule`` and ``new_rule`` may differ in their
        band or decision rule; ``rule`` is the new one's, else the old one's): ``old_verdict``,
        ``new_verdict`` (None when absent) and ``change``: ``same``, ``improved``, ``regressed`` (pass → fail,
        pass → inconclusive, inconclusive → fail), ``new`` or ``gone``; for an improved or regressed
        verdict, ``cause``: ``method`` (the decision rule, or how verdicts are judged: each alone before
        result schema 2.0, one family since, with its size and alpha), ``policy`` (the band), ``data``
        (the data's fingerprint, or the estimate, changed), or several joined by "and"; ``old_method`` and
        ``new_method`` say how each side decided.
    notes : tuple of str
        What differs between the two audits beyond the tables: the system, the spec (by top-level key), the
        data, groups and views present in one result only, weights, order in time.
    regression : bool
        Whether any verdict regressed.
    confidence : float
        The confidence of the change intervals; 1 − confidence is the significance level.
    correction : str
        The p-value correction (``holm``, ``bh`` or ``none``).
    """

    rates: pd.DataFrame
    disparities: pd.DataFrame
    verdicts: pd.DataFrame
    notes: tuple[str, ...]
    regression: bool
    confidence: float
    correction: str

    def summary(self) -> ChangeSummary:
        """Counts of the rows of each table, by what they say."""
        changes = self.verdicts["change"].value_counts()
        return ChangeSummary(
            rates=len(self.rates), rates_significant=int(self.rates["significant"].sum()),
            rates_undefined=int((self.rates["status"] != "ok").sum()), disparities=len(self.disparities),
            disparities_significant=int(self.disparities["significant"].sum()),
            disparities_moved=int(self.disparities["moved_beyond_intervals"].sum()),
            references_changed=int(self.disparities["reference_changed"].sum()),
            verdicts_same=int(changes.get("same", 0)), verdicts_improved=int(changes.get("improved", 0)),
            verdicts_regressed=int(changes.get("regressed", 0)), verdicts_new=int(changes.get("new", 0)),
            verdicts_gone=int(changes.get("gone", 0)), regression=self.regression)


@dataclass(frozen=True)
class _Side:
    """One result, reduced to what a comparison reads."""

    name: str
    system: str | None
    spec: dict[str, Any]
    provenance: dict[str, Any]
    groups: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame

    schema: str = RESULT_SCHEMA_VERSION
    family: Mapping[str, Any] | None = None

    @property
    def weighted(self) -> bool:
        return bool((self.spec.get("data") or {}).get("weight"))

    @property
    def family_method(self) -> bool:
        """Whether the verdicts were judged as one family (result schema 2.0 and later)."""
        return not self.schema.startswith("1.")

    def method(self, decision_rule: Any) -> str:
        """How a verdict of this result was decided, in words (its rule and, from schema 2.0, its family)."""
        rule = decision_rule if isinstance(decision_rule, str) else "point"
        if not self.family_method:
            return f"{rule}, each verdict alone (result schema {self.schema})"
        family = self.family or {}
        return f"{rule}, one family of {family.get('size', '?')} verdicts at alpha {family.get('alpha', '?')}"

    def statistic(self, name: str, default: float) -> float:
        value = (self.spec.get("statistics") or {}).get(name)
        return default if value is None else float(value)


_REQUIRED = ("spec", "provenance", "groups", "comparisons", "verdicts")
READABLE_SCHEMAS = ("1.", "2.")
"""Major versions of result.json that ``audit diff`` and the history read (1.x: each verdict judged alone)."""


def _side(value: Any, name: str) -> _Side:
    if isinstance(value, AuditResult):
        spec = json.loads(json.dumps(spec_to_dict(value.spec), default=str))  # as result.json holds it
        return _Side(name, spec["system"].get("name"), spec, asdict(value.provenance),
                     _frame(table_records(value.groups), GROUP_COLUMNS),
                     _frame(table_records(value.comparisons), COMPARISON_COLUMNS),
                     _frame(table_records(value.verdicts), VERDICT_COLUMNS), RESULT_SCHEMA_VERSION,
                     value.family.as_dict())
    if not isinstance(value, Mapping):
        raise UsageError(f"compare_results: the {name} result must be an AuditResult or a dict in the shape of "
                         f"result.json; got {type(value).__name__}", reason=ReasonCode.OPTION_INVALID)
    missing = [key for key in _REQUIRED if key not in value]
    version = str(value.get("schema_version", ""))
    if missing or not version.startswith(READABLE_SCHEMAS):
        raise DataError(f"compare_results: the {name} result is not in the shape of result.json (schema version "
                        f"{' or '.join(v + 'x' for v in READABLE_SCHEMAS)}): schema_version "
                        f"{value.get('schema_version')!r}, missing keys: {', '.join(missing) or 'none'}; pass a "
                        f"result.json written by 'audit run' or AuditResult.to_dict()",
                        reason=ReasonCode.DATA_UNREADABLE)
    spec = dict(value["spec"])
    system = (value.get("system") or spec.get("system") or {}).get("name")
    return _Side(name, system, spec, dict(value["provenance"]), _frame(value["groups"], GROUP_COLUMNS),
                 _frame(value["comparisons"], COMPARISON_COLUMNS), _frame(value["verdicts"], VERDICT_COLUMNS),
                 version, value.get("family"))


def _frame(records: Any, columns: list[str]) -> pd.DataFrame:
    """A table from its JSON rows (null numbers become NaN), with every column of its kind."""
    return pd.DataFrame.from_records(list(records), columns=columns)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if column in frame \
        else np.full(len(frame), np.nan)


def _people(frame: pd.DataFrame, column: str) -> pd.array:
    """A column of counts of people as integers (NA where missing)."""
    return pd.array(np.rint(_numbers(frame, column)), dtype="Int64")


def _z(confidence: float) -> float:
    """Two-sided standard normal critical value for ``confidence`` (as :mod:`audit.stats` uses it)."""
    return float(scipy_stats.norm.isf((1.0 - confidence) / 2.0))


def _wilson_trials(value: np.ndarray, low: np.ndarray, high: np.ndarray, z: float) -> np.ndarray:
    r"""The number of trials ``n`` a Wilson interval ``(low, high)`` around ``value`` was computed with.

    Half the width ``h`` of a Wilson interval satisfies
    :math:`h^2 (1 + z^2 t)^2 = z^2 (p(1-p) t + z^2 t^2 / 4)` with :math:`t = 1/n`, a quadratic in
    :math:`t` with exactly one positive root (its constant term is positive and its leading one negative
    for :math:`h < 1/2`), taken in the form without cancellation. NaN where the interval is missing or
    has no width.
    """
    h = (high - low) / 2.0
    q = value * (1.0 - value)
    a = z**4 * (h**2 - 0.25)
    b = z**2 * (2.0 * h**2 - q)
    c = h**2
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(b**2 - 4.0 * a * c)
        t = np.where(b > 0, (b + root) / (-2.0 * a), 2.0 * c / (root - b))
        trials = 1.0 / t
    return np.where((h > 0) & (h < 0.5) & np.isfinite(trials) & (trials > 0), trials, np.nan)


def _effective(side: _Side, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Successes and trials behind each rate, as the engine's intervals and tests use them.

    Without weights the group table's ``numerator`` and ``denominator`` are the counts themselves. With
    weights they are sums of weights, and the Kish effective counts the engine used are not stored; the
    trials are recovered from the rate's Wilson interval (computed on them at the side's own confidence)
    and the successes are ``value × trials``.
    """
    value = _numbers(rows, "value")
    if not side.weighted:
        return _numbers(rows, "numerator"), _numbers(rows, "denominator")
    trials = _wilson_trials(value, _numbers(rows, "ci_low"), _numbers(rows, "ci_high"),
                            _z(side.statistic("confidence", 0.95)))
    return value * trials, trials


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The frame with an ``_occurrence`` counter, so that repeated keys pair up in order."""
    out = frame.reset_index(drop=True)
    out["_occurrence"] = out.groupby(keys, sort=False, dropna=False).cumcount() if len(out) else []
    return out


def _pair(old: pd.DataFrame, new: pd.DataFrame, keys: list[str], columns: list[str], how: str) -> pd.DataFrame:
    """Rows of both sides matched on ``keys``, in the new side's order, columns prefixed ``old_`` / ``new_``."""
    def side(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
        present = [c for c in columns if c in frame]
        renamed = frame.reindex(columns=keys + present).rename(columns={c: f"{prefix}{c}" for c in present})
        return _keyed(renamed, keys)
    paired = side(new, "new_").merge(side(old, "old_"), on=[*keys, "_occurrence"], how=how, indicator=True,
                                     sort=False)
    for prefix in ("old_", "new_"):
        for c in columns:
            if f"{prefix}{c}" not in paired:
                paired[f"{prefix}{c}"] = np.nan
    return paired


def _reasons(old_ok: np.ndarray, new_ok: np.ndarray, old_reason: pd.Series, new_reason: pd.Series) -> np.ndarray:
    """``old: …; new: …`` for the sides that are undefined, empty where both are defined."""
    out = []
    for o_ok, n_ok, o, n in zip(old_ok, new_ok, old_reason, new_reason):
        parts = ([] if o_ok else [f"old: {o or 'undefined'}"]) + ([] if n_ok else [f"new: {n or 'undefined'}"])
        out.append("; ".join(parts))
    return np.array(out, dtype=object)


def _significant(p_adjusted: np.ndarray, confidence: float) -> pd.array:
    flags = pd.array(p_adjusted < 1.0 - confidence, dtype="boolean")
    flags[np.isnan(p_adjusted)] = pd.NA
    return flags


def _rate_changes(old: _Side, new: _Side, confidence: float, correction: str) -> pd.DataFrame:
    columns = ["value", "n", "trials", "successes", "status", "reason"]
    sides = []
    for side in (old, new):
        rows = side.groups[side.groups["metric"].isin(RATE_METRICS)]
        successes, trials = _effective(side, rows)
        sides.append(rows.assign(successes=successes, trials=trials))
    paired = _pair(sides[0], sides[1], RATE_KEYS, columns, "inner")
    x_old, n_old, x_new, n_new = (_numbers(paired, f"{s}_{c}") for s in ("old", "new") for c in ("successes", "trials"))
    old_ok = (paired["old_status"] == "ok").to_numpy() & np.isfinite(n_old) & (n_old > 0)
    new_ok = (paired["new_status"] == "ok").to_numpy() & np.isfinite(n_new) & (n_new > 0)
    reason = _reasons(old_ok, new_ok, _weighted_reason(old, paired["old_reason"], paired["old_status"]),
                      _weighted_reason(new, paired["new_reason"], paired["new_status"]))
    ok = old_ok & new_ok
    change = np.where(ok, _numbers(paired, "new_value") - _numbers(paired, "old_value"), np.nan)
    low, high = stats.newcombe_difference_interval(x_new, n_new, x_old, n_old, confidence)
    if old.weighted or new.weighted:
        _, p_value = stats.two_proportion_z_test(x_new, n_new, x_old, n_old)
        test = np.where(np.isnan(p_value), "none", "z (effective counts)").astype(object)
    else:
        result = stats.compare_proportions(x_new, n_new, x_old, n_old,
                                           min_expected=new.statistic("min_expected", 5.0))
        test, p_value = result.test.astype(object), result.p_value
    p_value = np.where(ok, p_value, np.nan)
    p_adjusted = stats.adjust_p_values(p_value, correction)
    out = paired[RATE_KEYS].assign(
        old_value=_numbers(paired, "old_value"), old_n=_people(paired, "old_n"), old_trials=n_old,
        new_value=_numbers(paired, "new_value"), new_n=_people(paired, "new_n"), new_trials=n_new, change=change,
        change_ci_low=np.where(ok, low, np.nan), change_ci_high=np.where(ok, high, np.nan),
        test=np.where(ok, test, "none"), p_value=p_value, p_adjusted=p_adjusted,
        significant=_significant(p_adjusted, confidence), status=np.where(ok, "ok", "undefined"), reason=reason)
    return out.reindex(columns=RATE_CHANGE_COLUMNS)


def _weighted_reason(side: _Side, reason: pd.Series, status: pd.Series) -> pd.Series:
    """A side's reason; for a defined weighted rate without an interval, why it cannot be tested."""
    if not side.weighted:
        return reason
    return reason.where(status != "ok", "no Wilson interval to recover the effective counts from")


def _log_se(ratio: np.ndarray, low: np.ndarray, high: np.ndarray, z: float) -> np.ndarray:
    """Standard error of log ratio from a log-symmetric (Katz) interval; NaN for other intervals."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r, log_lo, log_hi = np.log(ratio), np.log(low), np.log(high)
        width = log_hi - log_lo
        symmetric = np.abs(log_hi + log_lo - 2.0 * log_r) <= _LOG_SYMMETRY * np.maximum(width, 1.0)
    usable = np.isfinite(log_r) & np.isfinite(width) & (width > 0) & symmetric
    return np.where(usable, width / (2.0 * z), np.nan)


def _outside(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return (value < low) | (value > high)


def _disparity_changes(old: _Side, new: _Side, confidence: float, correction: str) -> pd.DataFrame:
    measures = ["ratio", "ratio_ci_low", "ratio_ci_high", "difference", "difference_ci_low", "difference_ci_high"]
    paired = _pair(old.comparisons, new.comparisons, RATE_KEYS, ["reference", *measures, "status", "reason"], "inner")
    get = {f"{s}_{m}": _numbers(paired, f"{s}_{m}") for s in ("old", "new") for m in measures}
    old_ok = (paired["old_status"] == "ok").to_numpy()
    new_ok = (paired["new_status"] == "ok").to_numpy()
    ok = old_ok & new_ok
    se_old = _log_se(get["old_ratio"], get["old_ratio_ci_low"], get["old_ratio_ci_high"],
                     _z(old.statistic("confidence", 0.95)))
    se_new = _log_se(get["new_ratio"], get["new_ratio_ci_low"], get["new_ratio_ci_high"],
                     _z(new.statistic("confidence", 0.95)))
    tested = ok & np.isfinite(se_old) & np.isfinite(se_new)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(tested, np.log(get["new_ratio"]) - np.log(get["old_ratio"]), np.nan)
        se = np.sqrt(se_old**2 + se_new**2)
        z = np.where(tested, change / se, np.nan)
    p_value = 2.0 * scipy_stats.norm.sf(np.abs(z))
    p_adjusted = stats.adjust_p_values(p_value, correction)
    intervals = [get[f"{s}_ratio_ci_{b}"] for s in ("old", "new") for b in ("low", "high")]
    has_intervals = ok & np.all([np.isfinite(v) for v in intervals + [get["old_ratio"], get["new_ratio"]]], axis=0)
    moved = pd.array(_outside(get["new_ratio"], intervals[0], intervals[1])
                     & _outside(get["old_ratio"], intervals[2], intervals[3]), dtype="boolean")
    moved[~has_intervals] = pd.NA
    reference_changed = (paired["old_reference"] != paired["new_reference"]).to_numpy()
    reason = _reasons(old_ok, new_ok, paired["old_reason"], paired["new_reason"])
    zero = (get["old_ratio"] == 0) | (get["new_ratio"] == 0)
    reason = np.where(ok & ~tested, np.where(
        zero, "a ratio is 0, so its log and the change of the log are undefined",
        "a ratio interval is not symmetric on the log scale (a bootstrap or order-statistic interval), so no "
        "standard error can be recovered from it"), reason)
    reason = np.array(["; ".join(filter(None, [r, f"reference changed from '{o}' to '{n}'"])) if changed else r
                       for r, changed, o, n in zip(reason, reference_changed, paired["old_reference"],
                                                   paired["new_reference"])], dtype=object)
    half = _z(confidence) * se
    out = paired[RATE_KEYS].assign(
        old_reference=paired["old_reference"], new_reference=paired["new_reference"],
        reference_changed=reference_changed, **get, log_ratio_change=change,
        log_ratio_change_ci_low=change - half, log_ratio_change_ci_high=change + half, z=z, p_value=p_value,
        p_adjusted=p_adjusted, significant=_significant(p_adjusted, confidence), moved_beyond_intervals=moved,
        status=np.where(tested, "ok", np.where(ok, "untested", "undefined")), reason=reason)
    return out.reindex(columns=DISPARITY_CHANGE_COLUMNS)


def _verdict_change(old: Any, new: Any) -> str:
    if not isinstance(old, str):
        return "new"
    if not isinstance(new, str):
        return "gone"
    if old == new:
        return "same"
    if (old, new) in _REGRESSIONS:
        return "regressed"
    if (old, new) in _IMPROVEMENTS:
        return "improved"
    raise DataError(f"compare_results: verdicts must be pass, fail or inconclusive; got '{old}' and '{new}'",
                    reason=ReasonCode.DATA_UNREADABLE)


def _same_number(a: Any, b: Any) -> bool:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    return (np.isnan(x) and np.isnan(y)) or bool(np.isclose(x, y, rtol=1e-12, atol=0.0))


def _cause(old: _Side, new: _Side, row: Mapping[str, Any], same_data: bool | None) -> str:
    """Why a changed verdict changed: the method, the policy (its band), the data, or several of them.

    The method changed when the decision rule or the way verdicts are judged differs (each verdict alone
    before result schema 2.0; one family, whose size and alpha may differ, since). The data changed when
    the data's fingerprints differ or, without them, when the estimate moved.
    """
    causes = []
    if old.method(row["old_decision_rule"]) != new.method(row["new_decision_rule"]):
        causes.append("method")
    if not (_same_number(row["old_band_low"], row["new_band_low"]) and
            _same_number(row["old_band_high"], row["new_band_high"])):
        causes.append("policy")
    if same_data is False or not _same_number(row["old_estimate"], row["new_estimate"]):
        causes.append("data")
    return " and ".join(causes)


def _rule_keyed(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The verdicts with ``rule_key``: the metric and bound a rule judges, whatever its decision rule and band,
    so that a verdict pairs with its counterpart when only the method or the band changed."""
    return verdicts.assign(rule_key=verdicts["metric"].astype(str) + " " + verdicts["bound"].astype(str))


def _verdict_changes(old: _Side, new: _Side) -> pd.DataFrame:
    columns = ["rule", "metric", "reference", "verdict", "reason", "decision_rule", "band_low", "band_high",
               "estimate"]
    keys = ["rule_key", *VERDICT_KEYS[1:]]
    paired = _pair(_rule_keyed(old.verdicts), _rule_keyed(new.verdicts), keys, columns, "outer")
    paired["rule"] = paired["new_rule"].where(paired["new_rule"].notna(), paired["old_rule"])
    paired["metric"] = paired["new_metric"].where(paired["new_metric"].notna(), paired["old_metric"])
    for column in ("old_verdict", "new_verdict", "old_reason", "new_reason", "old_reference", "new_reference"):
        paired[column] = paired[column].astype(object).where(paired[column].notna(), None)
    paired["change"] = [_verdict_change(o, n) for o, n in zip(paired["old_verdict"], paired["new_verdict"])]
    old_data, new_data = ((s.provenance.get("data") or {}).get("sha256") for s in (old, new))
    same_data = None if old_data is None or new_data is None else old_data == new_data
    records = paired.to_dict(orient="records")
    paired["cause"] = [_cause(old, new, r, same_data) if r["change"] in ("improved", "regressed") else ""
                       for r in records]
    paired["old_method"] = [old.method(r["old_decision_rule"]) if isinstance(r["old_verdict"], str) else None
                            for r in records]
    paired["new_method"] = [new.method(r["new_decision_rule"]) if isinstance(r["new_verdict"], str) else None
                            for r in records]
    return paired.reindex(columns=VERDICT_CHANGE_COLUMNS).reset_index(drop=True)


def _pairs(frame: pd.DataFrame, columns: list[str]) -> set[tuple[Any, ...]]:
    if not len(frame):
        return set()
    return set(frame[columns].itertuples(index=False, name=None))


def _listed(items: set[tuple[Any, ...]]) -> str:
    shown = sorted(" = ".join(str(v) for v in item) for item in items)
    return ", ".join(shown[:_LISTED]) + (f" and {len(shown) - _LISTED} more" if len(shown) > _LISTED else "")


def _notes(old: _Side, new: _Side, disparities: pd.DataFrame) -> tuple[str, ...]:
    notes = []
    if old.system != new.system:
        notes.append(f"the results are of different systems: '{old.system}' (old) and '{new.system}' (new)")
    old_hash, new_hash = old.provenance.get("spec_sha256"), new.provenance.get("spec_sha256")
    if old_hash != new_hash:
        keys = sorted(k for k in set(old.spec) | set(new.spec) if old.spec.get(k) != new.spec.get(k))
        notes.append(f"the specs differ (SHA-256 {str(old_hash)[:12]}… → {str(new_hash)[:12]}…) in: "
                     f"{', '.join(keys) or 'nothing visible in the stored spec'}")
    old_data, new_data = ((s.provenance.get("data") or {}).get("sha256") for s in (old, new))
    if old_data is None or new_data is None:
        notes.append("the data of the " + " and ".join(s.name for s, h in ((old, old_data), (new, new_data)) if h is None)
                     + " audit has no fingerprint, so whether the data changed is unknown")
    elif old_data != new_data:
        notes.append(f"the data differ (SHA-256 {old_data[:12]}… → {new_data[:12]}…)")
    else:
        notes.append(f"both audits read the same data (SHA-256 {old_data[:12]}…)")
    for what, columns in (("views", ["view"]), ("groups", ["attribute", "group"])):
        before, after = _pairs(old.groups, columns), _pairs(new.groups, columns)
        if before - after:
            notes.append(f"{what} only in the old result: {_listed(before - after)}")
        if after - before:
            notes.append(f"{what} only in the new result: {_listed(after - before)}")
    if old.weighted or new.weighted:
        notes.append("weighted data: rates are compared on Kish effective counts recovered from their Wilson "
                     "intervals, with the z-test")
    if old.statistic("confidence", 0.95) != new.statistic("confidence", 0.95):
        notes.append("the two audits used different confidence levels; each side's standard errors are "
                     "recovered with its own")
    if old.family_method != new.family_method:
        notes.append(f"the method changed: the {'old' if not old.family_method else 'new'} result (schema "
                     f"{old.schema if not old.family_method else new.schema}) judged each verdict alone, with the "
                     f"point rule by default and intervals not adjusted for the number of verdicts; the "
                     f"{'new' if not old.family_method else 'old'} one judges every verdict of the audit as one "
                     f"family (the chance of any false fail at most alpha); the verdicts table's 'cause' column "
                     f"says which changes the method explains")
    elif old.family_method and (old.family or {}).get("alpha") != (new.family or {}).get("alpha"):
        notes.append(f"the family-wise error rate differs: alpha {(old.family or {}).get('alpha')} (old) and "
                     f"{(new.family or {}).get('alpha')} (new)")
    changed = int(disparities["reference_changed"].sum())
    if changed:
        notes.append(f"{changed} comparison(s) have a different reference group in the two audits; their "
                     f"ratios compare with different groups")
    old_time, new_time = old.provenance.get("created_at"), new.provenance.get("created_at")
    if isinstance(old_time, str) and isinstance(new_time, str) and old_time > new_time:
        notes.append(f"the 'old' audit ({old_time}) ran after the 'new' one ({new_time}); check the order")
    return tuple(notes)


def compare_results(old: AuditResult | Mapping[str, Any], new: AuditResult | Mapping[str, Any], *,
                    confidence: float = 0.95, correction: str = "holm") -> Changes:
    """Compare two audits of the same system: which rates, disparities and verdicts changed.

    Parameters
    ----------
    old, new : AuditResult or dict
        The earlier and the later audit: an :class:`~audit.AuditResult`, or a dict in the shape of
        ``result.json`` (:meth:`~audit.AuditResult.to_dict`, or the file read with ``json.load``). Not
        modified.
    confidence : float, default 0.95
        Confidence of the intervals of the changes, in (0, 1); a change is significant when its adjusted
        p-value is below 1 − confidence.
    correction : {"holm", "bh", "none"}, default "holm"
        Adjustment of the p-values, across all rows of the rates table and, separately, of the
        disparities table (:func:`audit.stats.adjust_p_values`).

    Returns
    -------
    Changes
        The tables of changed rates, disparities and verdicts, notes, and whether a verdict regressed.

    Raises
    ------
    UsageError
        If ``confidence`` or ``correction`` is invalid, or a result has the wrong type.
    DataError
        If a dict is not in the shape of ``result.json``.

    Notes
    -----
    The two audits are treated as independent samples. Rates: the change new − old has the Newcombe
    interval for two independent proportions; its test is Fisher's exact test when an expected cell is
    below ``statistics.min_expected`` of the new spec and the two-proportion z-test otherwise
    (:func:`audit.stats.compare_proportions`). Without weights the counts are the group table's
    ``numerator`` and ``denominator``; with weights those hold sums of weights, so the Kish effective
    counts are recovered from each rate's Wilson interval and the z-test is used, as the engine does.
    Disparities: the change of the log ratio over the square root of the summed variances, each standard
    error recovered from the side's Katz interval as (log high − log low) / (2 z) with that side's
    confidence; a ratio of 0 or an interval that is not symmetric on the log scale (the bootstrap
    intervals of balanced accuracy and F1) is left untested.

    Examples
    --------
    >>> changes = compare_results(json.load(open("2025/result.json")), audit.run("spec.yaml"))  # doctest: +SKIP
    >>> changes.regression, changes.summary().rates_significant                                   # doctest: +SKIP
    (True, 3)
    """
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise UsageError(f"compare_results: confidence must be a number between 0 and 1, e.g. 0.95; got "
                         f"{confidence!r}", reason=ReasonCode.OPTION_INVALID)
    if correction not in stats.P_VALUE_METHODS:
        raise UsageError(f"compare_results: correction must be one of {', '.join(stats.P_VALUE_METHODS)}; got "
                         f"{correction!r}", reason=ReasonCode.OPTION_INVALID)
    before, after = _side(old, "old"), _side(new, "new")
    rates = _rate_changes(before, after, float(confidence), correction)
    disparities = _disparity_changes(before, after, float(confidence), correction)
    verdicts = _verdict_changes(before, after)
    return Changes(rates=rates, disparities=disparities, verdicts=verdicts,
                   notes=_notes(before, after, disparities), regression=bool((verdicts["change"] == "regressed").any()),
                   confidence=float(confidence), correction=correction)


def read_result_file(path: str | Path) -> dict[str, Any]:
    """A ``result.json`` read back: the file itself, or the ``--out`` folder that holds it.

    Raises
    ------
    UsageError
        (``DATA_NOT_FOUND``) when the path or the folder's ``result.json`` does not exist.
    DataError
        (``DATA_UNREADABLE``) when the file is not JSON of the shape ``audit run --out`` writes.
    """
    given = Path(path)
    file = given / "result.json" if given.is_dir() else given
    if not file.is_file():
        where = f"the folder {given} has no result.json" if given.is_dir() else f"{given} does not exist"
        raise UsageError(f"audit diff: {where}; give a result.json or the folder written by 'audit run --out'",
                         reason=ReasonCode.DATA_NOT_FOUND)
    try:
        loaded = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"audit diff: {file} is not a readable result.json ({error}); give the file that "
                        f"'audit run --out' wrote", reason=ReasonCode.DATA_UNREADABLE) from None
    if not isinstance(loaded, dict) or "verdicts" not in loaded:
        raise DataError(f"audit diff: {file} is JSON but not an audit result (no 'verdicts'); give the "
                        f"result.json that 'audit run --out' wrote", reason=ReasonCode.DATA_UNREADABLE)
    return loaded
