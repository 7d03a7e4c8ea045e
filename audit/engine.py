"""``run``: spec → counts → findings → verdict, the one engine behind every front end.

An audit is two steps, and front ends that redraw often (the app's threshold
slider) keep the first and repeat the second:

* :func:`count` reads the data once and returns a :class:`Counted`: the
  per-cell counts and the provenance of the data.
* :func:`derive_result` turns counts into every table, test and verdict; it
  never touches data. :func:`reusable` says whether counts made for one spec
  serve another exactly (same columns, filter and weights; for a binned score,
  the same cut-offs), so a new threshold or policy needs no new pass.

:func:`run` is the two in a row, with the proxy scan when the spec asks for one.
When the spec names a model, :func:`run` first scores the rows with it (its
output fills the decision or score column when the data lacks it) and adds
the counterfactual flip test (:mod:`audit.model_audit`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from audit._version import __version__, package_versions
from audit.counts import RawCounts
from audit.findings import derive
from audit.near_duplicates import read_near_duplicates
from audit.policy import overall
from audit.result import AuditResult, Provenance
from audit.sources import DataProvenance, EngineOptions, count_source, plan_for
from audit.spec import AuditSpec, load_spec, spec_to_dict, spec_warnings
from audit.thresholds import fixed_splits, top_count

if TYPE_CHECKING:
    from audit.model_audit import ModelFindings


@dataclass(frozen=True)
class Counted:
    """The counts of one pass over the data, made for ``spec``; every finding is derived from them.

    Attributes
    ----------
    spec : AuditSpec
        The spec the data was counted for (its columns, filter, weights and, for
        a binned score, cut-offs).
    raw : RawCounts
        Counts per cell × label values (× score bin).
    data : DataProvenance
        What was read, with its SHA-256 or fingerprint.
    source : str
        How messages name the data (``'file.csv'`` or ``the data``).
    """

    spec: AuditSpec
    raw: RawCounts
    data: DataProvenance
    source: str


@dataclass(frozen=True)
class ProxyFindings:
    """The proxy scan's ranked table and its notes (see :mod:`audit.proxies`)."""

    table: pd.DataFrame
    notes: tuple[str, ...] = ()


def count(spec: "str | Path | Mapping[str, Any] | AuditSpec", data: Any = None, *,
          fingerprint: bool = True, options: EngineOptions = EngineOptions(), trust_model: bool = False) -> Counted:
    """Count the data of an audit in one pass (the arguments are those of :func:`run`); see :class:`Counted`.

    With a model in the spec, the rows are scored first, as :func:`run` does (the model fills the decision
    or score column the data lacks); the flip test is not part of the counts.
    """
    loaded, base_dir = load_spec(spec)
    if loaded.model is not None:
        from audit.model_audit import score_rows

        data = score_rows(loaded, base_dir, data, trust=trust_model).data
    return _count(loaded, base_dir, data, fingerprint=fingerprint, options=options)


def _count(spec: AuditSpec, base_dir: Path, data: Any, *, fingerprint: bool, options: EngineOptions) -> Counted:
    raw, provenance = count_source(spec, base_dir, data, fingerprint=fingerprint, options=options)
    if data is not None:
        source = "the data"
    elif spec.data.url:
        source = f"table '{spec.data.table}'" if spec.data.table else "the rows of data.query"
    else:
        source = f"'{spec.data.path}'"
    return Counted(spec=spec, raw=raw, data=provenance, source=source)


def reusable(counted: Counted, spec: AuditSpec) -> bool:
    """Whether ``counted`` holds exactly the counts ``spec`` needs, so no new pass is necessary.

    True when both specs count the same columns in the same way (protected
    attributes, labels, score, amounts, weights, count column, filter, group
    limit). A score with too many distinct values is counted in bins split at
    the cut-offs the counted spec named, so then every cut-off value, sweep
    point and calibration edge of ``spec`` must be a bin edge already, and its
    top-k and top-per-cent thresholds must be among the counted spec's (their
    cut-off scores depend on the data). Counting with a sweep over a grid makes
    every grid point reusable as a plain cut-off.
    """
    if plan_for(spec) != plan_for(counted.spec):
        return False
    histogram = counted.raw.score
    if spec.score is None or histogram is None or histogram.exact:
        return True
    before = counted.spec.score
    assert before is not None
    splits = set(histogram.binning.splits)
    ranked = [t for t in spec.score.threshold if top_count(t, 1) is not None]
    return set(fixed_splits(spec.score)) <= splits and all(t in before.threshold for t in ranked)


def derive_result(spec: AuditSpec, counted: Counted, *, proxies: ProxyFindings | None = None,
                  created_at: str | None = None, views: Collection[str] | None = None,
                  model: "ModelFindings | None" = None,
                  family_outside: "Sequence[float] | None" = None) -> AuditResult:
    """Every table, test and verdict of ``spec`` from counts made earlier; reads no data.

    Groups spelled alike (Unicode form, surrounding spaces, letter case) are
    named in a warning, and merged when ``data.merge_near_duplicates`` asks
    (:func:`audit.near_duplicates.read_near_duplicates`); ``counted`` keeps the
    counts as read, so every front end (run, the app, a reopened audit) merges the same way.

    Parameters
    ----------
    spec : AuditSpec
        The spec to judge; its counting needs must be met by ``counted``
        (see :func:`reusable`).
    counted : Counted
        From :func:`count`, or read back from a registry.
    proxies : ProxyFindings, optional
        The proxy scan, when the spec asks for one (it reads other columns, so
        it is not derived from the counts).
    created_at : str, optional
        ISO 8601 time of the audit, for a result reopened from a registry; default now.
    model : ModelFindings, optional
        What the model adds (its provenance, the flip test), when the spec names one.
    views : collection of str, optional
        Derive only these decision views (see :func:`audit.findings.derive`): a
        partial result for redrawing one view, with that view's numbers exactly
        as in the full result. Default: every view.
    family_outside : sequence of float, optional
        With ``views``: the raw p-values (NaN for none) of the full audit's
        verdicts in the other views, so the partial verdicts are judged in the
        whole family without deriving those views (see :func:`audit.findings.derive`).

    Raises
    ------
    UsageError
        When the counts do not serve ``spec`` (count again with :func:`count`).
    """
    from audit.errors import ReasonCode, UsageError

    if not reusable(counted, spec):
        raise UsageError("the counts were made for another set-up (other columns, filter or score cut-offs); "
                         "count the data again for this spec", reason=ReasonCode.OPTION_INVALID)
    roles = plan_for(spec).roles
    reading = read_near_duplicates(spec, counted.raw, roles)  # named always, merged only on request
    raw = reading.raw
    findings = derive(spec, raw, roles, source=counted.source, views=views, family_outside=family_outside)
    spec_json = json.dumps(spec_to_dict(spec), sort_keys=True)
    provenance = Provenance(
        toolkit_version=__version__, packages=package_versions(),
        spec_sha256=hashlib.sha256(spec_json.encode()).hexdigest(), data=counted.data,
        rows_read=raw.rows_read, rows_used=findings.rows_used, engine=raw.engine, seed=spec.statistics.seed,
        created_at=created_at or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=model.provenance if model is not None else None, merged_groups=dict(reading.merged))
    notes = list(spec_warnings(spec)) + list(reading.notes) + list(findings.notes)
    notes += (list(proxies.notes) if proxies is not None else []) + (list(model.notes) if model is not None else [])
    if views is None:
        notes += _idle_rules(spec, findings.verdicts)
    if not spec.policy:
        notes.append("the spec has no policy rules, so the overall verdict is inconclusive")
    return AuditResult(spec=spec, verdict=overall(list(findings.verdicts["verdict"])), groups=findings.groups,
                       comparisons=findings.comparisons, verdicts=findings.verdicts, spread=findings.spread,
                       notes=tuple(notes), provenance=provenance, counts=findings.primary,
                       tables=findings.tables | ({"proxies": proxies.table} if proxies is not None else {})
                       | (model.tables if model is not None else {}), family=findings.family)


def _idle_rules(spec: AuditSpec, verdicts: Any) -> list[str]:
    """A warning for every policy rule that judged no group (its metric is not reported in the views it names):
    a rule that silently judges nothing would read as a rule that found nothing wrong."""
    judged = set(verdicts["rule_index"].tolist()) if len(verdicts) else set()
    return [f"warning: policy[{i}] ({rule.describe()}) judged no group: '{rule.metric}' is not reported in "
            f"{'the views ' + ', '.join(repr(v) for v in rule.views) if rule.views else 'any view'} of this audit; "
            f"check the rule's metric and views" for i, rule in enumerate(spec.policy) if i not in judged]


def scan_proxies(spec: "str | Path | Mapping[str, Any] | AuditSpec", data: Any = None) -> ProxyFindings | None:
    """The proxy scan ``spec.proxies`` asks for (a second scan of the data), or None when it asks for none."""
    return _scan_proxies(*load_spec(spec), data)


def _scan_proxies(spec: AuditSpec, base_dir: Path, data: Any) -> ProxyFindings | None:
    if spec.proxies is None:
        return None
    from audit.proxy_scan import proxy_table

    scan = proxy_table(spec, base_dir, data)
    return ProxyFindings(table=scan.table, notes=tuple(scan.notes))


def run(spec: "str | Path | Mapping[str, Any] | AuditSpec", data: Any = None, *,
        fingerprint: bool = True, options: EngineOptions = EngineOptions(), trust_model: bool = False) -> AuditResult:
    """Run an audit.

    Parameters
    ----------
    spec : path, mapping or AuditSpec
        The audit spec; a path is read as YAML and ``data.path`` taken relative to it.
    data : DataFrame, polars or pyarrow table, DuckDB relation, Spark DataFrame or LoadedTable, optional
        Replaces the spec's data (``data.path`` or ``data.url``). Never
        modified. A Spark DataFrame is counted by Spark: one aggregation on the
        cluster, and only the counts come back to this process.
    fingerprint : bool
        Hash the columns used of data passed in or of a database table for the
        provenance record (files are always hashed). In-memory data costs one
        extra pass over those columns; a database or Spark computes it in the
        pass of checks before the counting.
    options : EngineOptions
        ``EngineOptions(engine="spark", master=...)`` reads ``data.path`` with
        Spark; ``progress=`` hears how far long queries are.
    trust_model : bool
        Load a pickle or joblib model, or a skops file naming types outside
        the trusted set (``--trust-model``). Never set from a spec.

    Returns
    -------
    AuditResult
        Tables, overall verdict (``pass``, ``fail`` or ``inconclusive``) and provenance.

    Examples
    --------
    >>> result = audit.run("examples/compas/spec.yaml")   # doctest: +SKIP
    >>> result.verdict                                      # doctest: +SKIP
    'fail'
    """
    loaded, base_dir = load_spec(spec)
    found = None
    if loaded.model is not None:
        from audit.model_audit import model_findings, score_rows

        scored = score_rows(loaded, base_dir, data, trust=trust_model)
        data = scored.data
    counted = _count(loaded, base_dir, data, fingerprint=fingerprint, options=options)
    proxies = _scan_proxies(loaded, base_dir, data)
    if loaded.model is not None:
        found = model_findings(loaded, scored, proxies.table if proxies is not None else None)
    result = derive_result(loaded, counted, proxies=proxies, model=found)
    if not loaded.custom_metrics:
        return result
    from audit.custom_metrics import custom_findings
    from audit.sources import open_relation

    table, note = custom_findings(loaded, open_relation(loaded, base_dir, data))
    return replace(result, tables=result.tables | {"custom_metrics": table}, notes=result.notes + (note,))
