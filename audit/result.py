"""The result of an audit: tidy tables with counts beside rates, the verdict, and provenance.

Tables are long pandas DataFrames, one type always:

* ``groups``: attribute, group, metric, value, ci_low, ci_high, n, numerator,
  denominator, status, reason, unknown
* ``comparisons``: attribute, group, reference, metric, value and reference
  value, ratio and difference with intervals, test, p_value, p_adjusted,
  impact_ratio, four_fifths_flag, disadvantaged, status, reason
* ``verdicts``: rule, metric, bound, attribute, group, reference, verdict,
  reason, estimate, its ordinary and family-level intervals, test, p_value,
  p_family, evidence, n, reference_n, and what would decide (:data:`VERDICT_COLUMNS`)
* ``spread``: min and max across groups per attribute and metric

``to_dict`` gives the versioned JSON shape of ``result.json``
(``RESULT_SCHEMA_VERSION``); NaN becomes ``null``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from audit.cells import CellCounts
from audit.comparisons import COMPARISON_FIELDS
from audit.family import Family
from audit.rates import GROUP_FIELDS
from audit.sources import DataProvenance
from audit.spec import AuditSpec, spec_to_dict

RESULT_SCHEMA_VERSION = "2.0"
"""2.0: verdicts judged as one family (family intervals, ``p_family``, ``evidence``, what would decide), the
``significant`` rule and its default; 1.x results (each verdict alone) still open in ``audit diff`` and the history."""

GROUP_COLUMNS = ["view", *GROUP_FIELDS]
COMPARISON_COLUMNS = ["view", *COMPARISON_FIELDS, "selective_labels"]
VERDICT_COLUMNS = ["rule_index", "rule", "view", "metric", "bound", "decision_rule", "band_low", "band_high",
                   "attribute", "group", "reference", "verdict", "reason", "estimate", "ci_low", "ci_high",
                   "family_ci_low", "family_ci_high", "test", "p_value", "p_family", "evidence", "n", "reference_n",
                   "disadvantaged", "selective_labels", "detectable_ratio", "detectable_difference", "needed_n",
                   "needed_reference_n", "needed_known_outcomes"]
"""Columns of the verdicts table: ``ci_low``/``ci_high`` are the ordinary interval (``statistics.confidence``),
``family_ci_low``/``family_ci_high`` the simultaneous one (``1 - alpha / family size``); ``p_family`` is Holm's
over the family; ``evidence`` is ``exact``, ``asymptotic`` or ``none``; the last five say what would decide an
inconclusive verdict (NaN for the others)."""
SPREAD_COLUMNS = ["view", "attribute", "metric", "groups", "min_group", "min", "max_group", "max", "min_max_ratio",
                  "max_difference"]
THRESHOLD_COLUMNS = ["view", "kind", "requested", "cutoff", "acted_on", "population", "note"]


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce the audit: versions, spec and data hashes, seed."""

    toolkit_version: str
    packages: dict[str, str]
    spec_sha256: str
    data: DataProvenance
    rows_read: int
    rows_used: int
    engine: str
    seed: int
    created_at: str
    model: dict[str, Any] | None = None
    """The model the audit scored with (file, format, SHA-256, features), when the spec names one."""
    merged_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    """Near-duplicate spellings of protected columns merged on request (``data.merge_near_duplicates``):
    ``{column: {spelling: merged_into}}``; empty when nothing was merged (see :mod:`audit.near_duplicates`)."""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


def table_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (NaN as None, numpy scalars as Python)."""
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass(frozen=True)
class Findings:
    """Every table derived from the counts, before provenance is attached."""

    groups: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame
    spread: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    notes: tuple[str, ...]
    primary: CellCounts | None
    rows_used: int
    family: Family = Family(0, 0.05)


@dataclass(frozen=True)
class AuditResult:
    """One audit's findings; build it with :func:`audit.run`."""

    spec: AuditSpec
    verdict: str
    groups: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame
    spread: pd.DataFrame
    notes: tuple[str, ...]
    provenance: Provenance
    counts: CellCounts | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    family: Family = Family(0, 0.05)
    """The verdicts as one family: its size and family-wise error rate (see :mod:`audit.family`)."""

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when no rule fails (and, with ``strict``, none is inconclusive), else 1."""
        if self.verdict == "fail":
            return 1
        if strict and self.verdict == "inconclusive":
            return 1
        return 0

    def verdict_counts(self) -> dict[str, int]:
        """How many rule × group verdicts are pass, fail and inconclusive."""
        counts = self.verdicts["verdict"].value_counts() if len(self.verdicts) else {}
        return {v: int(counts.get(v, 0)) for v in ("pass", "fail", "inconclusive")}

    def table(self, name: str) -> pd.DataFrame:
        """An extra table by name (``thresholds``, ``capacity``, ``calibration``, ``tests``, ``sweep_groups``,
        ``sweep_comparisons``, ``override_effects``, ``proxies``); empty when the audit has none."""
        return self.tables.get(name, pd.DataFrame())

    def tables_dict(self) -> dict[str, Any]:
        main = {"groups": table_records(self.groups), "comparisons": table_records(self.comparisons),
                "verdicts": table_records(self.verdicts), "spread": table_records(self.spread)}
        return main | {name: table_records(frame) for name, frame in sorted(self.tables.items())}

    @property
    def result_sha256(self) -> str:
        """SHA-256 of the verdict and the tables in canonical JSON (independent of time)."""
        body = {"verdict": self.verdict, **self.tables_dict()}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``result.json``."""
        provenance = asdict(self.provenance)
        provenance["result_sha256"] = self.result_sha256
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "system": spec_to_dict(self.spec)["system"],
            "verdict": self.verdict,
            "verdict_counts": self.verdict_counts(),
            "family": self.family.as_dict(),
            "adverse": self.spec.adverse,
            "notes": list(self.notes),
            "views": sorted(set(self.groups["view"])) if len(self.groups) else [],
            "labels": {
                "decision": _mapping_dict(self.counts.decision) if self.counts else None,
                "outcome": _mapping_dict(self.counts.outcome) if self.counts and self.counts.outcome else None,
            },
            "provenance": provenance,
            "spec": spec_to_dict(self.spec),
            **self.tables_dict(),
        }

    def to_json(self, *, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)


def _mapping_dict(mapping: Any) -> dict[str, Any]:
    return {"column": mapping.column, "positive": list(mapping.positive_values),
            "negative": list(mapping.negative_values),
            "rows": dict(zip(mapping.values, mapping.rows)), "missing_rows": mapping.missing_rows}
