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
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator,
                      model_validator)

from audit.errors import Problem, ReasonCode, SpecError, did_you_mean, format_problems
from audit.metrics import METRICS, get_metric

SPEC_VERSION = 1
INTERSECTION_JOIN = " × "

Scalar = Union[str, int, float, bool]
_SCALAR_SCHEMA = {"type": ["string", "number", "boolean"]}
Values = Annotated[tuple[Scalar, ...] | None, WithJsonSchema({
    "anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1}, {"type": "null"}]})]


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
    sheet: str | int | None = Field(None, description="Excel sheet name or index (default: the first).")


class LabelSpec(_Model):
    """A binary column: which values count as positive."""

    column: str = Field(min_length=1)
    positive: Values = Field(
        None, description="Value(s) that count as positive; default 1 or true for a 0/1 or boolean column.")

    _check_positive = field_validator("positive", mode="before")(lambda cls, v: _as_values(v))


class OutcomeSpec(LabelSpec):
    """Ground truth: what actually happened (optional)."""


class DecisionSpec(LabelSpec):
    """The system's decision about each person."""

    adverse: bool = Field(False, description="True when a positive decision harms the person (a flag, a sanction).")


class ScoreSpec(_Model):
    """A numeric score turned into a decision at a threshold (score >= threshold is positive)."""

    column: str = Field(min_length=1)
    threshold: float
    adverse: bool = Field(False, description="True when a score at or above the threshold harms the person.")


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


Band = tuple[float | None, float | None]


class PolicyRule(_Model):
    """Bounds on a metric's ratio or difference against the reference group."""

    metric: str
    ratio: Band | None = Field(None, description="[low, high] band for group / reference; null for open.")
    difference: Band | None = Field(None, description="[low, high] band for group - reference; null for open.")
    rule: Literal["point", "ci"] = Field(
        "point", description="point: compare the estimate; ci: fail only if the whole interval is outside.")
    attributes: tuple[str, ...] | None = Field(
        None, description="Attributes or intersections (joined with ' × ') it applies to; default all.")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"must be one of {', '.join(METRICS)}; got '{value}'{did_you_mean(value, METRICS)}")
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

    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of every interval.")
    correction: Literal["holm", "bh", "none"] = Field(
        "holm", description="Multiple-comparison correction across all comparisons of the audit.")
    min_group_size: int = Field(30, ge=1, description="Below this many people a verdict is inconclusive.")
    min_expected: float = Field(5.0, gt=0, description="Fisher's exact test when an expected cell is below this.")
    reference_rule: ReferenceRule = Field("largest", description="Default rule for choosing reference groups.")
    max_groups: int = Field(50, ge=2, description="More distinct values than this in a protected attribute is an error.")
    bootstrap_replicates: int = Field(2000, ge=100, description="Replicates for metrics without a closed-form interval.")
    seed: int = Field(20240601, description="Seed of the bootstrap; recorded in every result.")


class AuditSpec(_Model):
    """A complete audit: system, data, labels, protected attributes, policy, statistics."""

    spec_version: Literal[1] = SPEC_VERSION
    system: SystemSpec
    data: DataSpec = DataSpec()
    outcome: OutcomeSpec | None = None
    decision: DecisionSpec | None = None
    score: ScoreSpec | None = None
    protected: tuple[ProtectedSpec, ...] = Field(min_length=1)
    intersections: tuple[IntersectionSpec, ...] = Field(
        (), description="Crossed attributes: [col_a, col_b] or {columns, reference, reference_rule}.")
    policy: tuple[PolicyRule, ...] = ()
    metrics: tuple[str, ...] | None = Field(None, description="Metrics to compute; default all that apply.")
    statistics: StatisticsSpec = StatisticsSpec()

    _intersections_before = field_validator("intersections", mode="before")(
        lambda cls, v: [_intersection_before(i) for i in v] if isinstance(v, (list, tuple)) else v)

    @property
    def decision_column(self) -> str:
        return self.decision.column if self.decision else self.score.column  # type: ignore[union-attr]

    @property
    def adverse(self) -> bool:
        return bool((self.decision or self.score).adverse)  # type: ignore[union-attr]

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
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message[0].lower()}{message[1:]}; got {got!r}"
    return f"{message[0].lower()}{message[1:]}"


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


def _cross_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks that span fields; tolerant of a raw dict that failed field validation."""
    problems: list[Problem] = []
    has_decision, has_score = raw.get("decision") is not None, raw.get("score") is not None
    if has_decision == has_score:
        problems.append(Problem("decision", "give exactly one of 'decision: {column, positive}' or "
                                            "'score: {column, threshold}'"))
    protected = raw.get("protected") or []
    columns = [p.get("column") for p in protected if isinstance(p, Mapping)]
    for i, column in enumerate(columns):
        if column is not None and columns.index(column) != i:
            problems.append(Problem(f"protected[{i}].column", f"'{column}' is listed twice"))
    known = [c for c in columns if isinstance(c, str)]
    names = list(known)
    for i, inter in enumerate(raw.get("intersections") or []):
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
    for i, rule in enumerate(raw.get("policy") or []):
        if not isinstance(rule, Mapping):
            continue
        metric = rule.get("metric")
        if isinstance(metric, str) and metric in METRICS and METRICS[metric].needs_outcome and not has_outcome:
            problems.append(Problem(f"policy[{i}].metric", f"'{metric}' needs ground truth; add "
                                                            f"'outcome: {{column, positive}}' or drop the rule"))
        for j, attribute in enumerate(rule.get("attributes") or []):
            if attribute not in names:
                problems.append(Problem(f"policy[{i}].attributes[{j}]",
                                        f"'{attribute}' is not a protected attribute or intersection"
                                        f"{did_you_mean(str(attribute), names)}"))
    for i, metric in enumerate(raw.get("metrics") or []):
        if metric not in METRICS:
            problems.append(Problem(f"metrics[{i}]", f"must be one of {', '.join(METRICS)}; got "
                                                     f"'{metric}'{did_you_mean(str(metric), METRICS)}"))
        elif METRICS[metric].needs_outcome and not has_outcome:
            problems.append(Problem(f"metrics[{i}]", f"'{metric}' needs ground truth; add 'outcome'"))
    return problems


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
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpecError(f"spec file '{path}' is not UTF-8 text (byte {error.start} is not valid); "
                        f"a spec must be a YAML text file", reason=ReasonCode.SPEC_NOT_YAML) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"spec file '{path}' is not valid YAML{where}: {problem}",
                        reason=ReasonCode.SPEC_NOT_YAML) from None
    if raw is None:
        raise SpecError(f"spec file '{path}' is empty; create one with: audit init DATA",
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


def spec_to_dict(spec: AuditSpec) -> dict[str, Any]:
    """The spec as plain JSON-compatible data, without defaults the user did not set."""
    return json.loads(spec.model_dump_json(exclude_unset=True, exclude_none=False))


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the spec, for editors and `audit validate`."""
    schema = AuditSpec.model_json_schema()
    items = schema["properties"]["intersections"]["items"]
    schema["properties"]["intersections"]["items"] = {  # the short form [a, b] is accepted too
        "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 2}, items]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Audit spec"
    return schema


__all__ = ["AuditSpec", "DataSpec", "DecisionSpec", "IntersectionSpec", "OutcomeSpec", "PolicyRule",
           "ProtectedSpec", "ScoreSpec", "StatisticsSpec", "SystemSpec", "INTERSECTION_JOIN",
           "load_spec", "read_spec_file", "spec_json_schema", "spec_to_dict", "validate_spec",
           "get_metric"]
