"""The audit spec: a typed, frozen model of the YAML file, validated lazily.

``load_spec`` reads a YAML file (or takes a dict) and reports *every* problem at
once in one :class:`~audit.errors.SpecError`, each with the field's path
(``policy[0].metric``) and what is expected. Paths in ``data.path`` are
resolved relative to the spec file. ``spec_json_schema`` exports the JSON
Schema that editors use to complete and check spec files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
import datetime as dt
from typing import Annotated, Any, Literal, Union

import numpy as np
import yaml
from pydantic import (BaseModel, ConfigDict, Field, StrictBool, ValidationError, WithJsonSchema, field_validator,
                      model_validator)

from audit.errors import Problem, ReasonCode, SpecError, did_you_mean, format_problems
from audit.labels import format_label
from audit.metrics import EXTRA_METRICS, METRICS, get_metric, metric_family
from audit.spec_yaml import SpecLoader, load_spec_yaml

SPEC_VERSION = 2
INTERSECTION_JOIN = " × "

Scalar = Union[str, int, float, bool]
_SCALAR_SCHEMA = {"type": ["string", "number", "boolean"]}
Values = Annotated[tuple[Scalar, ...] | None, WithJsonSchema({
    "anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1}, {"type": "null"}]})]


Finite = Annotated[float, Field(allow_inf_nan=False)]
"""A number that is neither NaN nor infinite (``.nan`` and ``.inf`` are refused where a number is meant)."""

MAX_SHEET = 10_000
"""Highest sheet index of ``data.sheet`` (a workbook has far fewer)."""

MAX_ROWS = 10**12
"""Bound of the fields that count people (``top_k``, ``min_group_size``): far above any real data set."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_values(value: Any) -> tuple[Scalar, ...] | None:
    """Normalise ``positive``: a scalar or a list of scalars, as a tuple."""
    if value is None:
        return None
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError("must list at least one value")
    for v in values:
        if not isinstance(v, (str, int, float, bool)):
            raise ValueError(f"must be a value or a list of values; got {v!r}")
    return tuple(values)


class SystemSpec(_Model):
    """The system being audited."""

    name: str = Field(min_length=1, description="Name of the system under audit.")
    owner: str | None = Field(None, description="Agency or organisation that operates the system.")
    purpose: str | None = Field(None, description="What the system is used for.")
    description: str | None = None


class DataSpec(_Model):
    """Where the decisions are and which rows to audit."""

    path: str | None = Field(None, description="CSV, Parquet or Excel file; relative to the spec file.")
    where: str | None = Field(None, description="SQL boolean expression; rows where it is false or NULL are dropped.")
    weight: str | None = Field(None, description="Column of non-negative sample weights.")
    encoding: str | None = Field(None, description="Text encoding of a CSV file (default: detected).")
    delimiter: str | None = Field(None, description="Field delimiter of a CSV file (default: detected).")
    sheet: Annotated[str | int | None, WithJsonSchema({"anyOf": [
        {"type": "string"}, {"type": "integer", "minimum": 0, "maximum": MAX_SHEET}, {"type": "null"}]})] = Field(
        None, description="Excel sheet name or index from 0 (default: the first).")
    missing: tuple[str, ...] | None = Field(
        None, description="Texts that mean a missing value in CSV and Excel files, besides the empty cell "
                          "(which is always missing), for example ['NA', 'N/A', 'null']. Matched exactly as "
                          "written (case and spaces count). Values not listed stay values.")
    merge_near_duplicates: StrictBool = Field(
        False, description="Merge groups of a protected column that differ only in Unicode normalisation "
                           "(NFC), surrounding spaces or letter case into their most frequent spelling; the "
                           "merge is recorded in the result. Off by default: such groups are kept apart and "
                           "named in a warning.")
    count_column: str | None = Field(
        None, description="Aggregate input: each row is a cell of a table of counts, and this column says how "
                          "many people it stands for (non-negative whole numbers).")
    url: str | None = Field(
        None, description="A database instead of a file: a PostgreSQL URL such as "
                          "postgresql://auditor@db.example:5432/decisions (give the password with PGPASSWORD or "
                          "~/.pgpass, not here). The database does the counting; only counts come back.")
    table: str | None = Field(None, description="With url: the table (or schema.table) to audit.")
    query: str | None = Field(None, description="With url: one SELECT statement, in the database's SQL, whose "
                                                "rows are audited (instead of table).")

    @field_validator("sheet")
    @classmethod
    def _sheet_index(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and not 0 <= value <= MAX_SHEET:
            raise ValueError(f"a sheet's index counts from 0 (the first sheet) to {MAX_SHEET}; got {value}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "DataSpec":
        if self.path and self.url:
            raise ValueError("give either 'path' (a file) or 'url' (a database), not both")
        if self.url:
            if (self.table is None) == (self.query is None):
                raise ValueError("with 'url', give exactly one of 'table' or 'query'")
            file_options = [k for k in ("encoding", "delimiter", "sheet", "missing") if getattr(self, k) is not None]
            if file_options:
                raise ValueError(f"{', '.join(file_options)} only apply to files, not to a database 'url'")
            if not self.url.lower().startswith(("postgresql://", "postgres://")):
                raise ValueError(f"'url' must be a PostgreSQL URL (postgresql://user@host:port/database); got "
                                 f"'{self.url.split('://')[0]}://…'")
            from urllib.parse import urlsplit

            if urlsplit(self.url).password is not None:
                raise ValueError("'url' holds a password, which would be written into every report and "
                                 "result.json; remove it and give it with the PGPASSWORD environment variable or "
                                 "a ~/.pgpass file")
        elif self.table is not None or self.query is not None:
            raise ValueError("'table' and 'query' need 'url' (the database to read them from)")
        return self


class LabelSpec(_Model):
    """A binary column: which values count as positive."""

    column: str = Field(min_length=1)
    positive: Values = Field(
        None, description="Value(s) that count as positive; default 1 or true for a 0/1 or boolean column.")

    _check_positive = field_validator("positive", mode="before")(lambda cls, v: _as_values(v))


def _label_before(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


class CheckedSpec(LabelSpec):
    """Which rows had their ground truth checked (selective labels); the others have no known outcome."""


class OutcomeSpec(LabelSpec):
    """Ground truth: what actually happened (optional)."""

    checked: CheckedSpec | None = Field(
        None, description="Selective labels: a column saying which rows were checked (e.g. investigated); "
                          "error rates then use the checked rows only. A column name or {column, positive}.")

    _checked_before = field_validator("checked", mode="before", json_schema_input_type=Union[str, CheckedSpec, None])(
        lambda cls, v: _label_before(v))


TierKind = Literal["favourable", "adverse", "neutral"]


class TiersSpec(_Model):
    """A decision with several tiers, each favourable, adverse or neutral for the person."""

    values: dict[str, TierKind] = Field(
        min_length=2, description="Every tier value and its kind, listed in order (lowest first when ordered), "
                                  "e.g. {blacklist: adverse, neutral: neutral, redlist: favourable}.")
    ordered: bool = Field(True, description="Whether the tiers have an order (enables cumulative rates and the "
                                            "ordinal shift test).")

    @field_validator("values", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {(format_label(k) if k is not None else ""): v for k, v in value.items()}
        return value

    @property
    def adverse(self) -> tuple[str, ...]:
        return tuple(t for t, k in self.values.items() if k == "adverse")

    @property
    def favourable(self) -> tuple[str, ...]:
        return tuple(t for t, k in self.values.items() if k == "favourable")


class DecisionSpec(LabelSpec):
    """The system's decision about each person: yes/no (``positive``) or several ``tiers``."""

    adverse: bool = Field(False, description="True when a positive decision harms the person (a flag, a sanction).")
    tiers: TiersSpec | None = Field(None, description="Several ordered or unordered tiers instead of yes/no.")


class FinalDecisionSpec(LabelSpec):
    """The final human decision when the system only recommends (human in the loop)."""


class ThresholdSpec(_Model):
    """One way of turning the score into a decision: a cut-off, the k highest, or the top per cent."""

    value: Finite | None = Field(None, description="Cut-off: score >= value is positive.")
    top_k: int | None = Field(None, ge=1, le=MAX_ROWS, description="The k highest scores are acted on (capacity).")
    top_percent: float | None = Field(None, gt=0, le=100, description="The highest p per cent are acted on.")

    @model_validator(mode="after")
    def _exactly_one(self) -> "ThresholdSpec":
        given = [k for k in ("value", "top_k", "top_percent") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'value', 'top_k' or 'top_percent'")
        return self

    @property
    def name(self) -> str:
        if self.top_k is not None:
            return f"top {self.top_k:,}"
        if self.top_percent is not None:
            return f"top {self.top_percent:g}%"
        return f"score ≥ {self.value:g}"


def _thresholds_before(value: Any) -> Any:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    return [{"value": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in items]


class SweepSpec(_Model):
    """A grid of cut-offs at which every group metric and comparison is reported."""

    start: Finite
    stop: Finite
    steps: int = Field(101, ge=2, le=201, description="Cut-offs in the grid, 'start' and 'stop' included (201: "
                                                      "steps of half a per cent of the range). Every cut-off "
                                                      "adds a full table of groups and comparisons.")

    @model_validator(mode="after")
    def _ordered(self) -> "SweepSpec":
        if self.stop <= self.start:
            raise ValueError(f"'stop' must be above 'start'; got {self.start:g} and {self.stop:g}")
        if not np.isfinite(self.stop - self.start):
            raise ValueError(f"the range from {self.start:g} to {self.stop:g} is too wide to divide; narrow it")
        if len(set(self.grid())) != self.steps:
            raise ValueError(f"{self.steps} steps from {self.start:g} to {self.stop:g} do not give {self.steps} "
                             f"distinct cut-offs (12 significant digits); use fewer steps or a wider range")
        return self

    def grid(self) -> tuple[float, ...]:
        """The cut-offs, evenly spaced and rounded to 12 significant digits (0.45, not 0.45000000000000007)."""
        return tuple(float(f"{x:.12g}") for x in np.linspace(self.start, self.stop, self.steps))


class ScoreSpec(_Model):
    """A numeric score turned into decisions at one or more thresholds (score >= cut-off is positive)."""

    column: str = Field(min_length=1)
    threshold: tuple[ThresholdSpec, ...] = Field(
        min_length=1, description="A cut-off, or {top_k: N}, {top_percent: P}, or a list of these.")
    adverse: bool = Field(False, description="True when a score at or above the threshold harms the person.")
    sweep: SweepSpec | None = Field(None, description="Report every metric across a grid of cut-offs.")
    calibration_bins: int = Field(10, ge=2, le=100, description="Bins of the reliability table (uniform on [0, 1]).")
    probability: bool | None = Field(
        None, description="Whether the score is a probability (calibration is reported only then); default: "
                          "when every score lies in [0, 1].")

    _threshold_before = field_validator(
        "threshold", mode="before",
        json_schema_input_type=Union[float, ThresholdSpec, list[Union[float, ThresholdSpec]]])(
        lambda cls, v: _thresholds_before(v))

    @model_validator(mode="after")
    def _distinct_names(self) -> "ScoreSpec":
        names = [t.name for t in self.threshold]
        if len(set(names)) != len(names):
            raise ValueError(f"thresholds are listed twice: {', '.join(names)}")
        return self


class AmountSpec(_Model):
    """A numeric outcome such as a benefit amount or days to process."""

    column: str = Field(min_length=1)
    higher_is: TierKind = Field(description="Whether a higher value is favourable (a benefit), adverse (a delay) "
                                            "or neutral for the person.")
    quantiles: tuple[Finite, ...] = Field((0.5, 0.9), description="Quantiles reported per group (0.5 = median).")

    @field_validator("quantiles")
    @classmethod
    def _in_range(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        bad = [q for q in value if not 0 < q < 1]
        if bad:
            raise ValueError(f"quantiles must lie strictly between 0 and 1; got {', '.join(map(str, bad))}")
        uneven = [q for q in value if abs(q * 100 - round(q * 100)) > 1e-9]
        if uneven:
            raise ValueError(f"quantiles must be whole percentiles such as 0.9 or 0.95; got "
                             f"{', '.join(map(str, uneven))}")
        return tuple(sorted(set(value) | {0.5}))


class ProxySpec(_Model):
    """Scan the other columns of the data for stand-ins of the protected attributes."""

    threshold: float = Field(0.3, gt=0, le=1, description="Flag a column whose Cramér's V with a protected "
                                                          "attribute is at least this.")
    columns: tuple[str, ...] | None = Field(None, description="Columns to scan; default every other column.")
    exclude: tuple[str, ...] = Field((), description="Columns not to scan (e.g. identifiers).")
    numeric_bins: int = Field(10, ge=2, le=100, description="Quantile bins of a numeric column.")


ReferenceRule = Literal["largest", "most_favourable"]


class ProtectedSpec(_Model):
    """A protected attribute and how its reference group is chosen."""

    column: str = Field(min_length=1)
    reference: Scalar | None = Field(None, description="The reference group; default chosen by reference_rule.")
    reference_rule: ReferenceRule | None = Field(
        None, description="Rule when no reference is named (default: statistics.reference_rule).")


class IntersectionSpec(_Model):
    """Two or more protected attributes crossed."""

    columns: tuple[str, ...] = Field(min_length=2)
    reference: tuple[Scalar, ...] | None = None
    reference_rule: ReferenceRule | None = None

    @model_validator(mode="after")
    def _reference_matches(self) -> "IntersectionSpec":
        if self.reference is not None and len(self.reference) != len(self.columns):
            raise ValueError(f"reference must give one value per column ({len(self.columns)}); "
                             f"got {len(self.reference)}")
        return self

    @property
    def name(self) -> str:
        return INTERSECTION_JOIN.join(self.columns)


def _intersection_before(value: Any) -> Any:
    return {"columns": value} if isinstance(value, (list, tuple)) else value


Band = tuple[Finite | None, Finite | None]


def default_rule(spec_version: Any) -> str:
    """The decision rule of a policy rule that names none: ``point`` in a version 1 spec, else the model's default."""
    return "point" if spec_version == 1 else PolicyRule.model_fields["rule"].default


NO_TEST_METRICS = ("quantile", "brier", "ece", "calibration_in_the_large")
"""Metric families whose comparisons have neither a test nor an interval: only ``rule: point`` can judge them."""


class PolicyRule(_Model):
    """Bounds on a metric's ratio or difference against the reference group."""

    metric: str
    ratio: Band | None = Field(None, description="[low, high] band for group / reference; null for open.")
    difference: Band | None = Field(None, description="[low, high] band for group - reference; null for open.")
    rule: Literal["significant", "ci", "point"] = Field(
        "significant", description="significant: fail when the estimate is outside the band and the family-adjusted "
                                   "test rejects equality with the reference, pass when it is inside (the four-fifths "
                                   "rule as enforced); ci: pass only when the family-level interval lies inside the "
                                   "band, fail only when it lies outside; point: compare the estimate alone (not "
                                   "statistically established).")
    attributes: tuple[str, ...] | None = Field(
        None, min_length=1, description="Attributes or intersections (joined with ' × ') it applies to; default all.")
    views: tuple[str, ...] | None = Field(
        None, min_length=1, description="Decision views it applies to (e.g. 'top 1,000', 'final', 'adverse tiers'); "
                                        "default all.")
    selective_labels: Literal["allow", "refuse"] = Field(
        "allow", description="refuse: a metric computed on checked cases only (selective labels) never passes; "
                             "its verdict is at best inconclusive.")

    @field_validator("attributes", "views", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and not value:
            raise ValueError("an empty list selects nothing; name at least one, or drop the key to cover them all")
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        family = metric_family(value)
        if value not in METRICS and family not in EXTRA_METRICS:
            known = list(METRICS) + list(EXTRA_METRICS)
            raise ValueError(f"must be one of {', '.join(known)}; got '{value}'{did_you_mean(value, known)}")
        if value == "count":
            raise ValueError("'count' has no ratio to bound; use 'share' or a rate")
        return value

    @model_validator(mode="after")
    def _one_band(self) -> "PolicyRule":
        if (self.ratio is None) == (self.difference is None):
            raise ValueError("give exactly one of 'ratio: [low, high]' or 'difference: [low, high]'")
        band = self.ratio if self.ratio is not None else self.difference
        low, high = band
        if low is None and high is None:
            raise ValueError("the band needs at least one bound")
        if low is not None and high is not None and low >= high:
            raise ValueError(f"the band's low bound must be below its high bound; got [{low}, {high}]")
        if self.ratio is not None and any(b is not None and b <= 0 for b in band):
            raise ValueError(f"ratio bounds must be positive; got [{low}, {high}]")
        return self

    @property
    def bound(self) -> Literal["ratio", "difference"]:
        return "ratio" if self.ratio is not None else "difference"

    @property
    def band(self) -> Band:
        return self.ratio if self.ratio is not None else self.difference  # type: ignore[return-value]

    def describe(self) -> str:
        low, high = self.band
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        return f"{self.metric} {self.bound} in [{lo}, {hi}] ({self.rule})"


class StatisticsSpec(_Model):
    """How uncertainty is quantified and when evidence is too thin."""

    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of the ordinary per-group and "
                                                                   "per-comparison intervals.")
    alpha: float = Field(0.05, gt=0.0, lt=0.5, description="Family-wise error rate of the verdicts: the largest chance "
                                                           "that an audit of data without any disparity reports a "
                                                           "fail, however many verdicts it makes (rules significant "
                                                           "and ci).")
    correction: Literal["holm", "bh", "none"] = Field(
        "holm", description="Correction of the comparisons table's p-values within each decision view, for reading. "
                            "Verdicts use their own family: every verdict of the audit, adjusted by Holm at alpha.")
    min_group_size: int = Field(
        30, ge=1, le=MAX_ROWS, description="Below this many people in a comparison's denominator (group or "
                                           "reference) a verdict is inconclusive, for the point rule and for "
                                           "comparisons whose evidence is only asymptotic; rates compared without "
                                           "weights are decided by exact evidence at any size.")
    min_expected: float = Field(
        1000.0, gt=0, le=1e12, description="Fisher's exact test when an expected cell count is below this, the z "
                                           "test above: family-adjusted p-values sit far in the z test's tail, "
                                           "where it needs large counts.")
    reference_rule: ReferenceRule = Field("largest", description="Default rule for choosing reference groups.")
    max_groups: int = Field(50, ge=2, le=10_000, description="More distinct values than this in a protected "
                                                             "attribute is an error.")
    bootstrap_replicates: int = Field(2000, ge=100, le=100_000, description="Replicates for metrics without a "
                                                                            "closed-form interval.")
    seed: int = Field(20240601, ge=0, le=2**32 - 1, description="Seed of the bootstrap (0 to 4294967295); recorded "
                                                                "in every result.")


Framework = Literal["nyc_ll144", "eu_ai_act", "vietnam", "canada_aia", "nist_ai_rmf"]


class ReportSpec(_Model):
    """What the oversight report says beyond the numbers: its cover, scope, frameworks and sign-off."""

    language: Literal["en", "vi"] = Field("en", description="Language of the report: en or vi.")
    title: str | None = Field(None, description="Report title; default 'Algorithmic audit: <system name>'.")
    agency: str | None = Field(None, description="Agency that owns the system; default system.owner.")
    decision_supported: str | None = Field(None, description="The decision the system supports.")
    affected: str | None = Field(None, description="Who is affected by the decisions.")
    period: str | None = Field(None, description="Period the data covers, e.g. 'January to June 2026'.")
    data_source: str | None = Field(None, description="Where the data came from (system logs, an extract, ...).")
    audit_date: dt.date | None = Field(None, description="Date of the audit; default the day the report is made.")
    auditor: str | None = None
    reviewer: str | None = None
    frameworks: tuple[Framework, ...] = Field(
        (), description="Framework profiles, each adding its section: nyc_ll144, eu_ai_act, vietnam, "
                        "canada_aia, nist_ai_rmf.")
    small_cell_k: int = Field(10, ge=1, le=1000, description="Published outputs show counts below k as '< k' "
                                                            "and withhold the rates built on them.")
    small_share: float | None = Field(
        None, gt=0, lt=1, description="Categories below this share of the data are excluded from impact ratios "
                                      "(NYC LL144 allows 2%); the report lists them with their count and rate.")
    small_share_justification: str | None = None
    answers: dict[str, str] = Field(
        default_factory=dict, description="Answers to framework checklist items, by item id (see 'audit "
                                          "frameworks'), e.g. eu_ai_act.fria.process.")
    limitations: tuple[str, ...] = Field((), description="Limitations to add to those the audit finds itself.")
    recommendations: tuple[str, ...] = ()


class ModelSpec(_Model):
    """The model itself, when the oversight body has it: it scores the rows and answers counterfactual questions."""

    path: str = Field(description="Model file, relative to the spec: a scikit-learn pipeline saved with skops "
                                  "(.skops) or an ONNX model (.onnx). Pickle and joblib files can run any code when "
                                  "loaded and are refused unless the command line says --trust-model.")
    features: tuple[str, ...] = Field(min_length=1, description="Columns the model takes, in the order it expects.")
    positive: Scalar = Field(1, description="The class whose probability is the score; a decision equal to it is "
                                            "positive.")
    threshold: float | None = Field(None, ge=0, le=1, description="Decide 'probability of positive >= threshold' "
                                                                  "instead of the model's own predicted class.")
    flip_test: bool = Field(True, description="Counterfactual flip test: set each protected attribute (and each "
                                              "flagged proxy) the model takes to every other group's value, "
                                              "score again, and report the share of decisions that change.")
    flip_attributes: tuple[str, ...] | None = Field(
        None, description="Columns to flip; default every protected column and flagged proxy among the features.")
    sensitive_rows: int = Field(20, ge=0, le=1000, description="Rows most sensitive to a flip listed (by row "
                                                                "number only, no other data).")


class TrainingSpec(_Model):
    """Training data for re-training less discriminatory alternatives (``audit alternatives``)."""

    path: str = Field(description="CSV, Parquet or Excel file with the model's features, the outcome column and "
                                  "the protected columns; relative to the spec.")


class CustomMetricSpec(_Model):
    """A metric that is not a function of counts, computed per group with fairlearn's MetricFrame."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name in the results.")
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                          description="'module:function' with scikit-learn's signature f(y_true, y_pred), e.g. "
                                      "sklearn.metrics:matthews_corrcoef. Runs code: the CLI and Python API only.")
    input: Literal["decision", "score"] = Field("decision", description="What is passed as y_pred: the decision "
                                                                        "(0/1) or the score.")
    replicates: int = Field(200, ge=0, le=5000, description="Bootstrap replicates of its within-group interval (0: "
                                                             "none); each calls the function once per group.")


class AuditSpec(_Model):
    """A complete audit: system, data, labels, protected attributes, policy, statistics."""

    spec_version: Literal[1, 2] = Field(SPEC_VERSION, description="Version of the spec format: 2 (current) or 1, in "
                                                                  "which a policy rule without 'rule' means 'point'.")
    system: SystemSpec
    data: DataSpec = DataSpec()
    outcome: OutcomeSpec | None = None
    decision: DecisionSpec | None = None
    score: ScoreSpec | None = None
    final_decision: FinalDecisionSpec | None = Field(
        None, description="Human in the loop: the final decision, when 'decision' or 'score' is the system's "
                          "recommendation. Its values must be those of the decision unless 'positive' is given.")
    amounts: tuple[AmountSpec, ...] = Field((), description="Numeric outcomes: amounts, delays, durations.")
    proxies: ProxySpec | None = Field(None, description="Scan the other columns for proxies of the protected "
                                                        "attributes ({} for the defaults).")
    protected: tuple[ProtectedSpec, ...] = Field(min_length=1)
    intersections: tuple[IntersectionSpec, ...] = Field(
        (), description="Crossed attributes: [col_a, col_b] or {columns, reference, reference_rule}.")
    policy: tuple[PolicyRule, ...] = ()
    metrics: tuple[str, ...] | None = Field(None, description="Metrics to compute; default all that apply.")
    custom_metrics: tuple[CustomMetricSpec, ...] = Field(
        (), description="Metrics beyond the counts, as Python callables, computed by group with fairlearn.")
    model: ModelSpec | None = Field(None, description="The model: decisions and scores when the data has only "
                                                      "features, and the counterfactual flip test.")
    training: TrainingSpec | None = None
    statistics: StatisticsSpec = StatisticsSpec()
    report: ReportSpec = ReportSpec()

    @model_validator(mode="before")
    @classmethod
    def _version_1_rules(cls, data: Any) -> Any:
        """A version 1 spec keeps its meaning: a policy rule without 'rule' was the point rule then."""
        if not isinstance(data, Mapping) or data.get("spec_version") != 1 or not isinstance(data.get("policy"),
                                                                                           (list, tuple)):
            return data
        policy = [{**rule, "rule": default_rule(1)} if isinstance(rule, Mapping) and "rule" not in rule else rule
                  for rule in data["policy"]]
        return {**data, "policy": policy}

    _intersections_before = field_validator("intersections", mode="before")(
        lambda cls, v: [_intersection_before(i) for i in v] if isinstance(v, (list, tuple)) else v)
    _proxies_before = field_validator("proxies", mode="before", json_schema_input_type=Union[ProxySpec, bool, None])(
        lambda cls, v: {} if v is True else v)
    _final_before = field_validator("final_decision", mode="before",
                                   json_schema_input_type=Union[str, FinalDecisionSpec, None])(
        lambda cls, v: _label_before(v))

    @property
    def decision_column(self) -> str | None:
        """The column of the system's decision or score (None for an audit of amounts only)."""
        if self.decision is not None:
            return self.decision.column
        return self.score.column if self.score is not None else None

    @property
    def tiers(self) -> TiersSpec | None:
        return self.decision.tiers if self.decision is not None else None

    @property
    def adverse(self) -> bool:
        """Whether a positive decision harms the person (False for tiers and amounts-only audits)."""
        source = self.decision or self.score
        return bool(source.adverse) if source is not None else False

    def view_names(self) -> tuple[str, ...]:
        """The decision views this audit reports, in order (see :mod:`audit.views`)."""
        names: list[str] = []
        if self.score is not None:
            names += [t.name for t in self.score.threshold] + ["score"]
        elif self.tiers is not None:
            tiers = self.tiers
            names += (["adverse tiers"] if tiers.adverse else []) + (["favourable tiers"] if tiers.favourable
                                                                      else []) + ["tiers"]
        elif self.decision is not None:
            names.append("decision")
        if self.final_decision is not None:
            names += ["final", "overrides"]
        names += [f"amount: {a.column}" for a in self.amounts]
        return tuple(names)

    @property
    def protected_columns(self) -> tuple[str, ...]:
        return tuple(p.column for p in self.protected)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Every attribute audited: the protected columns, then each intersection's name."""
        return self.protected_columns + tuple(i.name for i in self.intersections)

    def metric_names(self) -> tuple[str, ...]:
        """The metrics this audit computes, in registry order."""
        has_outcome = self.outcome is not None
        chosen = set(self.metrics) if self.metrics is not None else None
        policy = {rule.metric for rule in self.policy}
        return tuple(name for name, m in METRICS.items()
                     if (has_outcome or not m.needs_outcome)
                     and (chosen is None or name in chosen or name in policy or name in ("count", "share")))


# -- validation -------------------------------------------------------------

def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after[_reference_matches(), IntersectionSpec]",):
            continue
        elif isinstance(item, str) and ("[" in item or item in ("str", "int", "float", "bool", "tuple", "list")):
            continue  # pydantic's union and validator tags
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _friendly(error: Mapping[str, Any], model_fields: Mapping[str, Any] | None = None) -> str:
    kind = error["type"]
    message = str(error["msg"])
    got = error.get("input")
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in ("literal_error", "enum"):
        return f"{message[0].lower()}{message[1:]}; got {got!r}"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind in _SHOW_INPUT:
        shown = f"{got:g}" if isinstance(got, float) else repr(got)
        return f"{message[0].lower()}{message[1:]}; got {shown}"
    return f"{message[0].lower()}{message[1:]}"


_SHOW_INPUT = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_from_float",
               "finite_number")
"""Kinds of pydantic error whose message is clearer with the value that arrived ('less than or equal to
100000; got 1e+12')."""


_FIELDS_AT: dict[str, type[BaseModel]] = {}


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at the parent of ``loc`` (for 'did you mean')."""
    model: Any = AuditSpec
    for item in loc[:-1]:
        if isinstance(item, int) or not hasattr(model, "model_fields"):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return []
        annotation = field.annotation
        model = _model_in(annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = error.errors()
    for item in errors:
        loc = tuple(item["loc"])
        if item["type"] == "too_short" and any(tuple(e["loc"])[:len(loc)] == loc and len(e["loc"]) > len(loc)
                                               for e in errors):
            continue  # a consequence of the errors inside it
        message = _friendly(item)
        if item["type"] == "extra_forbidden":
            message += did_you_mean(str(loc[-1]), _known_fields(loc))
        key = (_location(loc), message)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(*key))
    return problems


def _list(value: Any) -> list[Any] | tuple[Any, ...]:
    """``value`` when it is a list, else an empty list: cross checks skip what the model already refuses."""
    return value if isinstance(value, (list, tuple)) else []


def _map(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (see :func:`_list`)."""
    return value if isinstance(value, Mapping) else {}


def _cross_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks that span fields; tolerant of a raw dict that failed field validation."""
    problems: list[Problem] = []
    has_decision, has_score = raw.get("decision") is not None, raw.get("score") is not None
    if has_decision and has_score:
        problems.append(Problem("decision", "give only one of 'decision: {column, positive}' or "
                                            "'score: {column, threshold}'"))
    elif not has_decision and not has_score and not raw.get("amounts"):
        problems.append(Problem("decision", "give one of 'decision: {column, positive}' or "
                                            "'score: {column, threshold}' (or 'amounts' to audit numbers only)"))
    decision = _map(raw.get("decision"))
    if decision.get("tiers") is not None:
        if decision.get("positive") is not None:
            problems.append(Problem("decision.positive", "a decision with 'tiers' marks each tier favourable, "
                                                         "adverse or neutral instead; drop 'positive'"))
        if raw.get("final_decision") is not None:
            problems.append(Problem("final_decision", "human overrides are supported for yes/no decisions and "
                                                      "scores, not for tiers"))
    if raw.get("final_decision") is not None and not (has_decision or has_score):
        problems.append(Problem("final_decision", "needs the system's recommendation in 'decision' or 'score'"))
    answers = _map(_map(raw.get("report")).get("answers"))
    if answers:
        from audit.report.frameworks import item_ids

        known_items = item_ids()
        for item in answers:
            if item not in known_items:
                problems.append(Problem(f"report.answers.{item}", f"not a checklist item{did_you_mean(str(item), known_items)}; "
                                                                  f"'audit frameworks' lists the ids"))
    if raw.get("model") is not None and not (has_decision or has_score):
        problems.append(Problem("model", "say where the model's output goes: 'decision: {column}' for its "
                                         "predicted class or 'score: {column, threshold}' for its probability"))
    if raw.get("training") is not None and (raw.get("model") is None or raw.get("outcome") is None):
        problems.append(Problem("training", "re-training alternatives needs 'model' and 'outcome'"))
    if raw.get("custom_metrics") and (raw.get("outcome") is None or not (has_decision or has_score)):
        problems.append(Problem("custom_metrics", "a custom metric compares 'outcome' with the decision or score; "
                                                  "the spec needs both"))
    for i, metric in enumerate(_list(raw.get("custom_metrics"))):
        if isinstance(metric, Mapping) and metric.get("input") == "score" and not has_score:
            problems.append(Problem(f"custom_metrics[{i}].input", "'score' passes the score, but the spec's "
                                                                  "decision is yes/no; use 'input: decision'"))
    model = _map(raw.get("model"))
    features = _list(model.get("features"))
    for i, column in enumerate(_list(model.get("flip_attributes"))):
        if column not in features:
            problems.append(Problem(f"model.flip_attributes[{i}]", f"'{column}' is not among model.features "
                                                                   f"{list(features)}; only a column the model "
                                                                   f"takes can change its decision"))
    amount_columns = [a.get("column") for a in _list(raw.get("amounts")) if isinstance(a, Mapping)]
    for i, column in enumerate(amount_columns):
        if column is not None and amount_columns.index(column) != i:
            problems.append(Problem(f"amounts[{i}].column", f"'{column}' is listed twice"))
    columns = [p.get("column") for p in _list(raw.get("protected")) if isinstance(p, Mapping)]
    for i, column in enumerate(columns):
        if column is not None and columns.index(column) != i:
            problems.append(Problem(f"protected[{i}].column", f"'{column}' is listed twice"))
    known = [c for c in columns if isinstance(c, str)]
    names = list(known)
    for i, inter in enumerate(_list(raw.get("intersections"))):
        cols = inter.get("columns") if isinstance(inter, Mapping) else inter
        if not isinstance(cols, (list, tuple)):
            continue
        for j, col in enumerate(cols):
            if col not in known:
                problems.append(Problem(f"intersections[{i}][{j}]",
                                        f"'{col}' is not a protected column{did_you_mean(str(col), known)}; "
                                        f"add it to 'protected' first"))
        if len(set(map(str, cols))) != len(cols):
            problems.append(Problem(f"intersections[{i}]", "names a column twice"))
        names.append(INTERSECTION_JOIN.join(map(str, cols)))
    has_outcome = raw.get("outcome") is not None
    for i, rule in enumerate(_list(raw.get("policy"))):
        if not isinstance(rule, Mapping):
            continue
        metric = rule.get("metric")
        if isinstance(metric, str) and metric in METRICS and METRICS[metric].needs_outcome and not has_outcome:
            problems.append(Problem(f"policy[{i}].metric", f"'{metric}' needs ground truth; add "
                                                            f"'outcome: {{column, positive}}' or drop the rule"))
        elif isinstance(metric, str) and metric_family(metric) in EXTRA_METRICS:
            message = _extra_metric_problem(metric, raw)
            if message:
                problems.append(Problem(f"policy[{i}].metric", message))
        written = rule.get("rule")
        effective = written if written is not None else default_rule(raw.get("spec_version"))
        family = metric_family(metric) if isinstance(metric, str) else None
        if family in ("median", "quantile") and effective == "ci":
            problems.append(Problem(f"policy[{i}].rule", f"a comparison of '{metric}' has no confidence interval, so "
                                                         f"'rule: ci' could never decide; use 'rule: significant' "
                                                         f"(medians: the Mann-Whitney test) or 'rule: point', or "
                                                         f"compare means ('mean:...') with 'rule: ci'"))
        elif family in NO_TEST_METRICS and effective in ("ci", "significant"):
            how = "the default rule, 'significant'," if written is None else f"'rule: {written}'"
            problems.append(Problem(f"policy[{i}].rule", f"a comparison of '{metric}' has no test or interval, so "
                                                         f"{how} could never decide it; write 'rule: point' to "
                                                         f"compare the estimate with the band"))
        if isinstance(metric, str) and metric in METRICS and not (has_decision or has_score):
            problems.append(Problem(f"policy[{i}].metric", f"'{metric}' is a decision metric, but the spec has "
                                                            f"no decision or score"))
        for j, attribute in enumerate(_list(rule.get("attributes"))):
            if attribute not in names:
                problems.append(Problem(f"policy[{i}].attributes[{j}]",
                                        f"'{attribute}' is not a protected attribute or intersection"
                                        f"{did_you_mean(str(attribute), names)}; the spec's are: "
                                        f"{', '.join(map(str, names)) or '(none)'}"))
    for i, metric in enumerate(_list(raw.get("metrics"))):
        if not isinstance(metric, str):
            continue  # the model says what type it must be
        if metric not in METRICS:
            problems.append(Problem(f"metrics[{i}]", f"must be one of {', '.join(METRICS)}; got "
                                                     f"'{metric}'{did_you_mean(str(metric), METRICS)}"))
        elif METRICS[metric].needs_outcome and not has_outcome:
            problems.append(Problem(f"metrics[{i}]", f"'{metric}' needs ground truth; add 'outcome'"))
    return problems


def policy_views(spec: AuditSpec) -> tuple[str, ...]:
    """Every view a policy rule's ``views`` may name: :meth:`AuditSpec.view_names`, and ``labels`` (the check
    rates) with selective labels."""
    checked = spec.outcome is not None and spec.outcome.checked is not None
    return spec.view_names() + (("labels",) if checked else ())


def _view_problems(spec: AuditSpec) -> list[Problem]:
    """A policy rule's ``views`` naming a view the spec does not have (it would judge nothing, silently)."""
    known = policy_views(spec)
    return [Problem(f"policy[{i}].views[{j}]", f"'{view}' is not a decision view of this spec"
                                               f"{did_you_mean(view, known)}; its views are: {', '.join(known)}")
            for i, rule in enumerate(spec.policy) for j, view in enumerate(rule.views or ()) if view not in known]


def _extra_metric_problem(metric: str, raw: Mapping[str, Any]) -> str | None:
    """Why a metric outside the rate registry cannot be used with this spec, or None when it can."""
    family = metric_family(metric)
    qualifier = metric.partition(":")[2]
    info = EXTRA_METRICS[family]
    tiers = _map(raw.get("decision")).get("tiers")
    tiers = tiers if isinstance(tiers, Mapping) else None
    outcome = raw.get("outcome") if isinstance(raw.get("outcome"), Mapping) else None
    if info.needs == "score" and raw.get("score") is None:
        return f"'{metric}' needs a score: add 'score: {{column, threshold}}'"
    if info.needs == "score_outcome" and (raw.get("score") is None or outcome is None):
        return f"'{metric}' needs a score and ground truth ('score' and 'outcome')"
    if info.needs == "final_decision" and raw.get("final_decision") is None:
        return f"'{metric}' needs the final human decision: add 'final_decision: {{column}}'"
    if info.needs == "checked" and (outcome is None or outcome.get("checked") is None):
        return f"'{metric}' needs 'outcome.checked' (which rows were checked)"
    if info.needs == "tiers":
        names = [format_label(k) or "" for k in _map(tiers.get("values"))] if tiers else []
        if not tiers:
            return f"'{metric}' needs a decision with tiers: add 'decision.tiers'"
        if qualifier not in names:
            return (f"'{metric}' names tier '{qualifier}', which 'decision.tiers' does not list"
                    f"{did_you_mean(qualifier, names)}; write '{family}:TIER' with one of: {', '.join(names)}")
        if family == "tier_at_least" and tiers.get("ordered") is False:
            return f"'{metric}' needs ordered tiers; the spec says 'ordered: false'"
    if info.needs == "amount":
        columns = [a.get("column") for a in _list(raw.get("amounts"))
                   if isinstance(a, Mapping) and isinstance(a.get("column"), str)]
        if qualifier not in columns:
            return (f"'{metric}' names '{qualifier}', which is not in 'amounts'{did_you_mean(qualifier, columns)}; "
                    f"write '{family}:COLUMN' with one of: {', '.join(map(str, columns)) or '(none listed)'}")
    if info.needs != "tiers" and info.needs != "amount" and qualifier:
        return f"'{family}' takes no ':' qualifier; got '{metric}'"
    return None


def validate_spec(raw: Any, *, source: str = "spec") -> AuditSpec:
    """Validate a spec given as a mapping; raise one SpecError listing every problem.

    Parameters
    ----------
    raw : mapping
        The parsed YAML.
    source : str
        Where it came from, for the message (a file path or "spec").
    """
    if not isinstance(raw, Mapping):
        raise SpecError(f"{source}: a spec must be a YAML mapping with keys such as 'system', 'data', "
                        f"'decision' and 'protected'; got {type(raw).__name__}",
                        reason=ReasonCode.SPEC_INVALID)
    problems: list[Problem] = []
    spec: AuditSpec | None = None
    try:
        spec = AuditSpec.model_validate(raw)
    except ValidationError as error:
        problems.extend(_pydantic_problems(error))
    problems.extend(p for p in _cross_problems(raw) if p not in problems)
    if spec is not None:
        problems.extend(_view_problems(spec))
    if problems or spec is None:
        count = len(problems)
        raise SpecError(format_problems(f"{source}: {count} problem{'s' if count != 1 else ''} in the spec",
                                        problems), reason=ReasonCode.SPEC_INVALID, problems=problems)
    return spec


def read_spec_file(path: str | Path) -> Any:
    """Parse a YAML spec file; missing, unreadable and non-YAML files raise SpecError."""
    path = Path(path)
    if not path.exists():
        raise SpecError(f"spec file '{path}' does not exist; check the path "
                        f"(create a starter spec with: audit init DATA)",
                        reason=ReasonCode.SPEC_NOT_FOUND)
    if path.is_dir():
        raise SpecError(f"'{path}' is a folder; give the path of a spec file (.yaml)",
                        reason=ReasonCode.SPEC_NOT_FOUND)
    return parse_spec_text(path.read_bytes(), source=f"spec file '{path}'")


def parse_spec_text(data: bytes, *, source: str) -> Any:
    """Parse the bytes of a YAML spec (a file's, or an upload's); raise SpecError naming ``source``.

    The text must be UTF-8 (a byte-order mark is allowed) and valid YAML, and not empty. It is read as
    meant (:func:`audit.spec_yaml.load_spec_yaml`): YAML 1.2 booleans and numbers, no duplicate keys, no
    alias bombs or deep nesting, and data values (``positive``, ``reference``, tier names, column names) as
    the text written.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpecError(f"{source} is not UTF-8 text (byte {error.start} is not valid); "
                        f"a spec must be a YAML text file saved as UTF-8", reason=ReasonCode.SPEC_NOT_YAML) from None
    raw = load_spec_yaml(text, source=source)
    if raw is None:
        raise SpecError(f"{source} is empty; create one with: audit init DATA",
                        reason=ReasonCode.SPEC_NOT_YAML)
    return raw


def load_spec(spec: "str | Path | Mapping[str, Any] | AuditSpec") -> tuple[AuditSpec, Path]:
    """Load and validate a spec; return it with the folder that relative paths start from.

    A path is read as YAML and its ``data.path`` is taken relative to the
    spec's folder; a dict or an :class:`AuditSpec` is taken relative to the
    current directory.
    """
    if isinstance(spec, AuditSpec):
        return spec, Path.cwd()
    if isinstance(spec, Mapping):
        return validate_spec(spec), Path.cwd()
    path = Path(spec)
    return validate_spec(read_spec_file(path), source=str(path)), path.resolve().parent


# -- warnings: settings that do nothing or contradict -------------------------------

def _file_format(spec: AuditSpec) -> str | None:
    """The format of ``data.path`` by its extension (csv, parquet or excel), or None (a database, unknown)."""
    from audit.readers import SUPPORTED_EXTENSIONS

    return SUPPORTED_EXTENSIONS.get(Path(spec.data.path).suffix.lower()) if spec.data.path else None


_FORMAT_NAMES = {"csv": "a CSV file", "parquet": "a Parquet file", "excel": "an Excel workbook"}

_IGNORED_BY = {"sheet": (("csv", "parquet"), "sheets"), "encoding": (("excel", "parquet"), "text encoding"),
               "delimiter": (("excel", "parquet"), "delimiter"),
               "missing": (("parquet",), "text markers of missing values (its types say what is missing)")}
"""Each file option of ``data``: the formats that ignore it, and what those formats lack."""


def _file_warnings(spec: AuditSpec) -> list[str]:
    """File options the data file's format ignores (a sheet of a CSV file, the encoding of a workbook)."""
    fmt = _file_format(spec)
    return [f"warning: data.{option} is set, but '{spec.data.path}' is {_FORMAT_NAMES[fmt]}, which has no "
            f"{lacks}; the setting does nothing"
            for option, (formats, lacks) in _IGNORED_BY.items()
            if fmt in formats and getattr(spec.data, option) is not None]


def _label_columns(spec: AuditSpec) -> list[tuple[str, str]]:
    """(field, column) of every column that holds a decision, a score or an outcome."""
    roles = [("decision.column", spec.decision.column if spec.decision else None),
             ("score.column", spec.score.column if spec.score else None),
             ("final_decision.column", spec.final_decision.column if spec.final_decision else None),
             ("outcome.column", spec.outcome.column if spec.outcome else None),
             ("outcome.checked.column", spec.outcome.checked.column if spec.outcome and spec.outcome.checked
              else None)]
    return [(field, column) for field, column in roles if column is not None]


_SAME_COLUMN = {("decision.column", "outcome.column"): "the decision is its own ground truth, so every error "
                                                         "rate is 0",
                ("score.column", "outcome.column"): "the score is its own ground truth",
                ("decision.column", "final_decision.column"): "no decision can ever be overridden",
                ("score.column", "final_decision.column"): "no decision can ever be overridden",
                ("outcome.column", "outcome.checked.column"): "only rows with a positive outcome count as checked"}


def _column_warnings(spec: AuditSpec) -> list[str]:
    """A decision, score or outcome column that is also protected, or two roles given the same column."""
    roles = _label_columns(spec)
    warnings = [f"warning: {field} '{column}' is also protected[{spec.protected_columns.index(column)}]; its groups "
                f"are its own values, so comparing them by it says nothing"
                for field, column in roles if column in spec.protected_columns]
    for i, (field, column) in enumerate(roles):
        for other, other_column in roles[i + 1:]:
            if column == other_column:
                why = _SAME_COLUMN.get((field, other), "one column cannot play both parts")
                warnings.append(f"warning: {field} and {other} are both '{column}': {why}; check the spec")
    return warnings


def _reference_warnings(spec: AuditSpec) -> list[str]:
    """A ``reference_rule`` next to a named ``reference``, which always wins."""
    named = [(f"protected[{i}]", p.reference_rule) for i, p in enumerate(spec.protected)
             if p.reference is not None and p.reference_rule is not None]
    named += [(f"intersections[{i}]", x.reference_rule) for i, x in enumerate(spec.intersections)
              if x.reference is not None and x.reference_rule is not None]
    return [f"warning: {where} names a reference, so its 'reference_rule: {rule}' does nothing"
            for where, rule in named]


def _setting_warnings(spec: AuditSpec) -> list[str]:
    """Settings that only act with another setting the spec does not have."""
    warnings = []
    if spec.report.small_share_justification is not None and spec.report.small_share is None:
        warnings.append("warning: report.small_share_justification is set without report.small_share; it does "
                        "nothing")
    if spec.score is not None and spec.score.probability is False and "calibration_bins" in \
            spec.score.model_fields_set:
        warnings.append("warning: score.calibration_bins is set, but 'score.probability: false' turns calibration "
                        "off; it does nothing")
    if spec.proxies is not None and spec.proxies.columns is not None:
        unused = [c for c in spec.proxies.exclude if c not in spec.proxies.columns]
        if unused:
            warnings.append(f"warning: proxies.exclude lists {', '.join(repr(c) for c in unused)}, which "
                            f"proxies.columns does not scan anyway; it does nothing")
    if spec.model is not None and not spec.model.flip_test and spec.model.flip_attributes is not None:
        warnings.append("warning: model.flip_attributes is set, but 'model.flip_test: false' turns the flip test "
                        "off; it does nothing")
    return warnings


def _policy_warnings(spec: AuditSpec) -> list[str]:
    """Policy rules written twice (each copy is judged, and the family grows), or refusing what cannot arise."""
    warnings = []
    checked = spec.outcome is not None and spec.outcome.checked is not None
    for i, rule in enumerate(spec.policy):
        if rule in spec.policy[:i]:
            warnings.append(f"warning: policy[{i}] repeats policy[{spec.policy.index(rule)}]; both are judged, "
                            f"which only makes the family of verdicts larger; drop one")
        if rule.selective_labels == "refuse" and not checked:
            warnings.append(f"warning: policy[{i}] says 'selective_labels: refuse', but the spec has no "
                            f"outcome.checked, so no metric uses checked cases only; it does nothing")
    return warnings


_WARNINGS = (_file_warnings, _column_warnings, _reference_warnings, _setting_warnings, _policy_warnings)


def spec_warnings(spec: AuditSpec) -> tuple[str, ...]:
    """Settings of a valid spec that do nothing or contradict each other, one sentence each.

    Each text starts with ``"warning: "``. They do not stop an audit: the
    engine adds them to the result's notes and ``audit validate`` prints
    them. Examples: ``data.sheet`` on a CSV file, ``data.encoding`` on a
    workbook, the decision column also protected, the outcome column equal
    to the decision column, a ``reference_rule`` beside a named
    ``reference``, a policy rule written twice. An empty tuple when nothing
    is odd.
    """
    return tuple(warning for check in _WARNINGS for warning in check(spec))


def spec_to_dict(spec: AuditSpec) -> dict[str, Any]:
    """The spec as plain JSON-compatible data, without defaults the user did not set."""
    return json.loads(spec.model_dump_json(exclude_unset=True, exclude_none=False))


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _short(value: Any) -> bool:
    """Whether a mapping or list is small enough to write on one line (``{metric: fpr, ratio: [0.8, 1.25]}``)."""
    items = value.values() if isinstance(value, Mapping) else value
    flat = all(_is_scalar(v) or (isinstance(v, list) and all(map(_is_scalar, v))) for v in items)
    return flat and len(json.dumps(value, ensure_ascii=False)) <= 72


class _SpecDumper(yaml.SafeDumper):
    """YAML in the style of the examples: short mappings and lists of scalars on one line.

    Text is quoted whenever YAML 1.1 or the spec's YAML 1.2 reading (:class:`SpecLoader`) would take it for
    something else (``'yes'``, ``'01'``, ``'1e3'``), so any YAML reader gets the text back.
    """


for _first, _resolvers in SpecLoader.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        _SpecDumper.add_implicit_resolver(_tag, _regexp, [_first])

_SpecDumper.add_representer(dict, lambda dumper, value: dumper.represent_mapping(
    "tag:yaml.org,2002:map", value.items(), flow_style=_short(value)))
_SpecDumper.add_representer(list, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=all(map(_is_scalar, value)) and _short(value)))


def spec_to_yaml(spec: AuditSpec, *, header: str | None = None) -> str:
    """The spec as YAML text that :func:`load_spec` reads back to an equal spec.

    Only what the spec's author set is written (defaults are left out), in the
    order of the spec's fields; short lists stay on one line
    (``ratio: [0.8, 1.25]``); text is written as Unicode, not escaped.
    ``header`` becomes comment lines at the top. A spec read from YAML comes
    back equal; in one built in Python, a value of the data given as a number
    or boolean (``positive: 1``) comes back as the text YAML writes for it
    (``'1'``), since a spec file names data values as written.
    """
    body = yaml.dump(spec_to_dict(spec), Dumper=_SpecDumper, sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) if header else ""
    return comments + body


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec, for editors and `audit validate`."""
    schema = AuditSpec.model_json_schema()
    items = schema["properties"]["intersections"]["items"]
    schema["properties"]["intersections"]["items"] = {  # the short form [a, b] is accepted too
        "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 2}, items]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Audit spec"
    return schema


__all__ = ["AmountSpec", "AuditSpec", "CheckedSpec", "DataSpec", "DecisionSpec", "FinalDecisionSpec",
           "IntersectionSpec", "OutcomeSpec", "PolicyRule", "ProtectedSpec", "ProxySpec", "ScoreSpec",
           "StatisticsSpec", "SweepSpec", "SystemSpec", "ThresholdSpec", "TiersSpec", "INTERSECTION_JOIN",
           "load_spec", "parse_spec_text", "policy_views", "read_spec_file", "spec_json_schema", "spec_to_dict",
           "spec_to_yaml", "spec_warnings", "validate_spec",
           "get_metric"]
