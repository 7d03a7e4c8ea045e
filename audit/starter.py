"""``audit init``: inspect a data file and write a starter spec.

The inspection reads the file once with DuckDB (column types, distinct
counts, the most frequent values of low-cardinality columns) and guesses,
from names and values, which columns are protected attributes, which is the
ground truth, and which is the decision or score. Every guess is written as a
YAML comment the user can check; the result validates as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.counts import is_numeric_sql_type
from audit.labels import format_label

PROTECTED_WORDS = ("sex", "gender", "race", "ethnic", "nationality", "citizenship", "religion", "age",
                   "disab", "language", "origin", "marital", "country_of_birth", "migration", "caste",
                   "gioi_tinh", "dan_toc", "ton_giao", "quoc_tich", "tuoi", "que_quan", "foreign")
OUTCOME_WORDS = ("outcome", "label", "actual", "truth", "y_true", "target", "recid", "fraud", "default",
                 "reoffend", "found", "result", "unlawful")
DECISION_WORDS = ("decision", "flag", "pred", "selected", "approved", "granted", "risk_level", "score_text",
                  "high_risk", "sanction", "tier", "classification", "y_pred")
SCORE_WORDS = ("score", "risk", "prob", "propensity")
ADVERSE_WORDS = ("flag", "risk", "fraud", "sanction", "black", "red", "reject", "deny", "denied", "score_text")
ID_WORDS = ("id", "_id", "name", "number", "nr", "key")


@dataclass(frozen=True)
class ColumnProfile:
    """What the inspection learned about one column."""

    name: str
    type: str
    distinct: int
    missing: int
    top: tuple[tuple[str, int], ...]

    @property
    def numeric(self) -> bool:
        return is_numeric_sql_type(self.type)

    @property
    def binary(self) -> bool:
        return self.distinct == 2


def _has(name: str, words: tuple[str, ...]) -> bool:
    low = name.lower()
    return any(w in low for w in words)


def _looks_like_id(name: str) -> bool:
    low = name.lower()
    return low in ("id", "name") or low.endswith("_id") or low.startswith("id_") or low.endswith("_nr")


def profile(relation: Any, *, max_values: int = 50) -> tuple[int, list[ColumnProfile]]:
    """Row count and per-column profile of a DuckDB relation, in two queries."""
    columns = relation.columns
    quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
    parts = ", ".join(f"approx_count_distinct({q}), count(*) FILTER (WHERE {q} IS NULL)" for q in quoted)
    stats = relation.query("t", f"SELECT count(*), {parts} FROM t").fetchall()[0]
    rows = int(stats[0])
    profiles = []
    for i, (name, type_) in enumerate(zip(columns, relation.types)):
        distinct, missing = int(stats[1 + 2 * i]), int(stats[2 + 2 * i])
        top: tuple[tuple[str, int], ...] = ()
        if distinct <= max_values:
            values = relation.query("t", f"SELECT {quoted[i]}, count(*) AS n FROM t WHERE {quoted[i]} IS NOT NULL "
                                         f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {max_values + 1}").fetchall()
            top = tuple((format_label(v) or "", int(n)) for v, n in values)
            distinct = len(top)
        profiles.append(ColumnProfile(name, str(type_), distinct, missing, top))
    return rows, profiles


def _yaml_value(value: str) -> str:
    if re.fullmatch(r"-?\d+(\.\d+)?", value) or re.fullmatch(r"[A-Za-z_][\w \-/.]*", value) and \
            value.lower() not in ("yes", "no", "true", "false", "on", "off", "null", "y", "n"):
        return value if not value.endswith(" ") else f"'{value}'"
    return "'" + value.replace("'", "''") + "'"


def _positive(profile_: ColumnProfile) -> str:
    return _yaml_value(positive_value(profile_))


@dataclass(frozen=True)
class RoleGuess:
    """Which columns look like the audit's roles, from their names and values (every guess to be checked).

    ``protected`` are likely protected attributes (or, when none is recognised,
    the first small column), ``small`` every column with 2 to ``max_groups``
    values that is not an identifier; ``outcome`` a binary ground-truth column;
    ``decision`` a column of decisions, or else ``score`` a numeric score;
    ``adverse`` whether the decision's name suggests it harms the person.
    """

    protected: tuple[ColumnProfile, ...]
    small: tuple[ColumnProfile, ...]
    outcome: ColumnProfile | None
    decision: ColumnProfile | None
    score: ColumnProfile | None
    adverse: bool

    @property
    def suggested_protected(self) -> tuple[ColumnProfile, ...]:
        return self.protected or self.small[:1]


def positive_value(profile_: ColumnProfile) -> str:
    """The value of a label column most likely to mean "yes" (``1``, ``true``, ``yes``), else its rarest value."""
    values = [v for v, _ in profile_.top]
    for word in ("1", "true", "yes", "y"):
        for v in values:
            if v.lower() == word:
                return v
    return values[-1] if values else "1"


def guess_roles(profiles: list[ColumnProfile], *, max_groups: int = 50) -> RoleGuess:
    """Guess the protected attributes, ground truth and decision or score among profiled columns."""
    small = [p for p in profiles if 2 <= p.distinct <= max_groups and not _looks_like_id(p.name)]
    protected = [p for p in small if _has(p.name, PROTECTED_WORDS) and not p.name.lower().endswith("_count")]
    binary = [p for p in small if p.binary and p not in protected]
    outcome = next((p for p in binary if _has(p.name, OUTCOME_WORDS)), None)
    decision = next((p for p in small if p not in protected and p is not outcome and _has(p.name, DECISION_WORDS)
                     and p.distinct <= 10), None)
    score = None
    if decision is None:
        score = next((p for p in profiles if p.numeric and p.distinct > max_groups and _has(p.name, SCORE_WORDS)),
                     None)
        if score is None:
            decision = next((p for p in binary if p is not outcome), None)
    return RoleGuess(protected=tuple(protected), small=tuple(small), outcome=outcome, decision=decision,
                     score=score, adverse=decision is not None and _has(decision.name, ADVERSE_WORDS))


def starter_spec(data_path: Path, relation: Any, *, spec_dir: Path, max_groups: int = 50) -> str:
    """The text of a starter spec for the data, with the inspection as comments."""
    rows, profiles = profile(relation, max_values=max_groups)
    guess = guess_roles(profiles, max_groups=max_groups)
    protected, outcome, decision, score = list(guess.protected), guess.outcome, guess.decision, guess.score
    try:
        relative = data_path.resolve().relative_to(spec_dir.resolve())
    except ValueError:
        relative = data_path.resolve()
    lines = [f"# Starter audit spec written by `audit init` for {data_path.name}",
             f"# {rows:,} rows, {len(profiles)} columns. Every guess below is marked CHECK: read it before use.",
             "# Columns (type, distinct values, missing):"]
    for p in profiles:
        values = ", ".join(f"{v} ({n:,})" for v, n in p.top[:6]) + (" …" if len(p.top) > 6 else "")
        lines.append(f"#   {p.name}: {p.type}, {p.distinct:,} distinct, {p.missing:,} missing"
                     + (f"; {values}" if values else ""))
    name = data_path.stem.replace("_", " ").replace("-", " ")
    lines += ["", "system:", f"  name: {_yaml_value(name)}   # CHECK: the system's name", "data:",
              f"  path: {_yaml_value(str(relative))}"]
    if outcome:
        lines += [f"outcome: {{column: {_yaml_value(outcome.name)}, positive: {_positive(outcome)}}}"
                  f"   # CHECK: ground truth"]
    else:
        lines += ["# outcome: {column: COLUMN, positive: VALUE}   # ground truth, if the data has it"]
    if decision:
        adverse = "true" if guess.adverse else "false"
        lines += [f"decision: {{column: {_yaml_value(decision.name)}, positive: [{_positive(decision)}], "
                  f"adverse: {adverse}}}   # CHECK: which values are positive, and does it harm the person?"]
    elif score:
        lines += [f"score: {{column: {_yaml_value(score.name)}, threshold: 0.5, adverse: true}}"
                  f"   # CHECK: the threshold at which people are acted on"]
    else:
        lines += ["decision: {column: COLUMN, positive: [VALUE], adverse: false}   # CHECK: no decision column "
                  "was recognised; name it here"]
    lines.append("protected:   # CHECK: the attributes to audit; reference = the comparison group")
    for p in guess.suggested_protected:
        largest = p.top[0][0] if p.top else None
        comment = f"   # largest group: {largest}" if largest else ""
        lines.append(f"  - {{column: {_yaml_value(p.name)}}}{comment}")
    if len(protected) >= 2:
        lines.append(f"intersections: [[{_yaml_value(protected[0].name)}, {_yaml_value(protected[1].name)}]]")
    lines += ["policy:   # the four-fifths band on the selection rate; add error-rate rules when there is an outcome",
              "  - {metric: selection_rate, ratio: [0.8, 1.25], rule: ci}"]
    if outcome and (decision or score):
        lines.append("  - {metric: fpr, ratio: [0.8, 1.25], rule: ci}")
    lines += ["statistics: {confidence: 0.95, correction: holm, min_group_size: 30}", ""]
    return "\n".join(lines)
