"""``audit init``: inspect a data file and write a starter spec.

The inspection reads the file once with DuckDB (column types, distinct
counts, the most frequent values of low-cardinality columns) and guesses,
from names and values, which columns are protected attributes, which is the
ground truth, and which is the decision or score. Every guess is marked by a
``# CHECK`` comment the user must read.

The spec is written by YAML's safe dumper, one top-level key at a time, never
by formatting data values into YAML text: a column name or value holding a
newline, quotes, a colon, ``#`` or a YAML keyword stays one quoted string and
can never become a key of the spec. Values are proposed as written in the file
(``positive: ['yes']``). Where the inspection finds nothing (no column named
like a protected attribute, no decision column), the spec holds a placeholder
starting with ``CHECK:`` (:data:`PLACEHOLDERS`) that ``audit validate``
refuses (:func:`placeholder_problems`) until the user fills it in; a guess is
never made from a column's values alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from audit.counts import is_numeric_sql_type
from audit.errors import Problem
from audit.labels import format_label
from audit.text_filter import reads_as_number
from audit.wording import visible

PROTECTED_WORDS = ("sex", "gender", "race", "ethnic", "nationality", "citizenship", "religion", "age",
                   "disab", "language", "origin", "marital", "country_of_birth", "migration", "caste",
                   "gioi_tinh", "dan_toc", "ton_giao", "quoc_tich", "tuoi", "que_quan", "foreign")
OUTCOME_WORDS = ("outcome", "label", "actual", "truth", "y_true", "target", "recid", "fraud", "default",
                 "reoffend", "found", "result", "unlawful")
DECISION_WORDS = ("decision", "flag", "pred", "selected", "approved", "granted", "risk_level", "score_text",
                  "high_risk", "sanction", "tier", "classification", "y_pred")
SCORE_WORDS = ("score", "risk", "prob", "propensity")
ADVERSE_WORDS = ("flag", "risk", "fraud", "sanction", "black", "red", "reject", "deny", "denied", "score_text")

PROTECTED_PLACEHOLDER = "CHECK: name the protected attribute"
DECISION_PLACEHOLDER = "CHECK: name the decision column"
POSITIVE_PLACEHOLDER = "CHECK: the value of a positive decision"
PLACEHOLDERS = {
    PROTECTED_PLACEHOLDER: "write the name of a column that holds a protected attribute (sex, ethnicity, age band, "
                           "...); the columns are listed at the top of the spec",
    DECISION_PLACEHOLDER: "write the name of the column that holds the decision about each person",
    POSITIVE_PLACEHOLDER: "write the value of the decision column that is a positive decision, as written in the "
                          "data",
}
_COMMENT_VALUE_LENGTH = 40
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True)
class ColumnProfile:
    """What the inspection learned about one column."""

    name: str
    type: str
    distinct: int
    missing: int
    top: tuple[tuple[str, int], ...]
    numbers: bool = False

    @property
    def numeric(self) -> bool:
        """A number column: a numeric type, or text whose every value is a number (a CSV file's score)."""
        return is_numeric_sql_type(self.type) or self.numbers

    @property
    def binary(self) -> bool:
        return self.distinct == 2


def _has(name: str, words: tuple[str, ...]) -> bool:
    """Whether a word of ``name`` starts with one of ``words`` (``age_band``, ``ageBand`` and ``Age`` have
    ``age``; ``mortgage``, ``page`` and ``language`` do not; ``flagged`` has ``flag``)."""
    low = _WORD_START.sub("_", name).lower()
    return any(re.search(rf"(?<![a-z0-9]){re.escape(w)}", low) for w in words)


def _looks_like_id(name: str) -> bool:
    low = name.lower()
    return low in ("id", "name") or low.endswith("_id") or low.startswith("id_") or low.endswith("_nr")


def profile(relation: Any, *, max_values: int = 50) -> tuple[int, list[ColumnProfile]]:
    """Row count and per-column profile of a DuckDB relation, in two queries."""
    columns = relation.columns
    quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
    parts = ", ".join(f"approx_count_distinct({q}), count(*) FILTER (WHERE {q} IS NULL), "
                      + (f"bool_and({q} IS NULL OR ({reads_as_number(q)}))" if str(t).upper() == "VARCHAR"
                         else "FALSE")
                      for q, t in zip(quoted, relation.types))
    stats = relation.query("t", f"SELECT count(*), {parts} FROM t").fetchall()[0]
    rows = int(stats[0])
    profiles = []
    for i, (name, type_) in enumerate(zip(columns, relation.types)):
        distinct, missing = int(stats[1 + 3 * i]), int(stats[2 + 3 * i])
        numbers = bool(stats[3 + 3 * i]) and missing < rows
        top: tuple[tuple[str, int], ...] = ()
        if distinct <= max_values:
            values = relation.query("t", f"SELECT {quoted[i]}, count(*) AS n FROM t WHERE {quoted[i]} IS NOT NULL "
                                         f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {max_values + 1}").fetchall()
            top = tuple((format_label(v) or "", int(n)) for v, n in values)
            distinct = len(top)
        profiles.append(ColumnProfile(name, str(type_), distinct, missing, top, numbers))
    return rows, profiles


@dataclass(frozen=True)
class RoleGuess:
    """Which columns look like the audit's roles, from their names and values (every guess to be checked).

    ``protected`` are the columns whose name says they are a protected
    attribute (empty when none does: no column is guessed from its values
    alone), ``small`` every column with 2 to ``max_groups`` values that is not
    an identifier; ``outcome`` a binary ground-truth column; ``decision`` a
    column of decisions, or else ``score`` a numeric score; ``adverse`` whether
    the decision's name suggests it harms the person.
    """

    protected: tuple[ColumnProfile, ...]
    small: tuple[ColumnProfile, ...]
    outcome: ColumnProfile | None
    decision: ColumnProfile | None
    score: ColumnProfile | None
    adverse: bool

    @property
    def suggested_protected(self) -> tuple[ColumnProfile, ...]:
        """The protected attributes to propose: those recognised by name, never a column of another role."""
        return self.protected

    @property
    def candidates(self) -> tuple[ColumnProfile, ...]:
        """Columns with few values that no role took: what a protected attribute could be, for the user to
        choose from."""
        taken = {id(p) for p in (*self.protected, self.outcome, self.decision, self.score) if p is not None}
        return tuple(p for p in self.small if id(p) not in taken)


def positive_value(profile_: ColumnProfile) -> str:
    """The value of a label column most likely to mean "yes" (``1``, ``true``, ``yes``, ``y``, in any case), as
    written in the data; else its rarest value."""
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


def placeholder_problems(spec: Any, location: str = "") -> list[Problem]:
    """Every value of a spec (a mapping from YAML, or :func:`audit.spec.spec_to_dict`) that is still a
    placeholder of ``audit init`` (:data:`PLACEHOLDERS`), with where it is and what to write instead.

    Only the exact placeholders count: a value from the data that merely starts with ``CHECK:`` is not one.

    Examples
    --------
    >>> found = placeholder_problems({"protected": [{"column": PROTECTED_PLACEHOLDER}, {"column": "sex"}]})
    >>> [(p.location, p.message.partition(";")[0]) for p in found]
    [('protected[0].column', "'CHECK: name the protected attribute' is a placeholder written by audit init")]
    """
    if isinstance(spec, Mapping):
        return [p for key, value in spec.items()
                for p in placeholder_problems(value, f"{location}.{key}" if location else str(key))]
    if isinstance(spec, list):
        return [p for index, value in enumerate(spec) for p in placeholder_problems(value, f"{location}[{index}]")]
    if isinstance(spec, str) and spec in PLACEHOLDERS:
        return [Problem(location, f"'{spec}' is a placeholder written by audit init; {PLACEHOLDERS[spec]}")]
    return []


def starter_spec(data_path: Path, relation: Any, *, spec_dir: Path, max_groups: int = 50) -> str:
    """The text of a starter spec for the data, with the inspection and every guess as comments.

    The text is valid YAML whatever the data's column names and values (each section is written by
    :func:`yaml.safe_dump`; comments show values on one line, :func:`audit.wording.visible`).
    """
    rows, profiles = profile(relation, max_values=max_groups)
    guess = guess_roles(profiles, max_groups=max_groups)
    try:
        relative = data_path.resolve().relative_to(spec_dir.resolve())
    except ValueError:
        relative = data_path.resolve()
    name = data_path.stem.replace("_", " ").replace("-", " ")
    sections = [_header(data_path, rows, profiles),
                _section({"system": {"name": name}}, "CHECK: the system's name")
                + _section({"data": {"path": relative.as_posix()}}),
                _outcome_section(guess.outcome), _decision_section(guess), _protected_section(guess),
                _policy_section(guess)]
    return "\n".join(sections)


class _Dumper(yaml.SafeDumper):
    """YAML's safe dumper in the examples' style (a mapping of scalars or flat lists, and a list of scalars, on
    one line). Text holding a line break is double-quoted, its breaks written as escapes (PyYAML's single quotes
    would turn a NEL, U+2028 or U+2029 into a space); ``y`` and ``n`` in any case are quoted too: booleans in
    YAML 1.1, though PyYAML reads them as text (so a spec edited or read by another tool keeps them text)."""


def _text_style(value: str) -> str | None:
    if any(ch in value for ch in "\n\r\x85\u2028\u2029"):
        return '"'
    return "'" if value.lower() in ("y", "n") else None


def _flat(value: Any) -> bool:
    return all(not isinstance(v, (dict, list)) for v in value)


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style=_text_style(value)))
_Dumper.add_representer(list, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=_flat(value)))
_Dumper.add_representer(dict, lambda dumper, value: dumper.represent_mapping(
    "tag:yaml.org,2002:map", value.items(), flow_style=all(_flat(v) if isinstance(v, list) else
                                                          not isinstance(v, dict) for v in value.values())))


def yaml_text(body: dict[str, Any]) -> str:
    """``body`` (text, numbers, booleans, lists and mappings) as YAML that :func:`yaml.safe_load` reads back
    equal, whatever the text holds; written by a safe dumper (:class:`_Dumper`), text as Unicode, one line per
    short mapping.

    Examples
    --------
    >>> print(yaml_text({"decision": {"column": "a\\nreport: {k: 1}", "positive": ["yes", "Y"]}}), end="")
    decision: {column: "a\\nreport: {k: 1}", positive: ['yes', 'Y']}
    """
    return yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=2**31)


def _section(body: dict[str, Any], *comments: str) -> str:
    """Comment lines (each made one line, :func:`audit.wording.visible`), then ``body`` (:func:`yaml_text`)."""
    return "".join(f"# {visible(c)}\n" for c in comments) + yaml_text(body)


def _header(data_path: Path, rows: int, profiles: list[ColumnProfile]) -> str:
    lines = [f"Starter audit spec written by `audit init` for {data_path.name}",
             f"{rows:,} rows, {len(profiles)} columns. Every guess below is marked CHECK: read it before use. A value "
             f"that starts with 'CHECK:' is a placeholder: audit validate refuses the spec until you replace it.",
             "Columns (type, distinct values, missing):"]
    for p in profiles:
        values = ", ".join(f"{_shortened(v)} ({n:,})" for v, n in p.top[:6]) + (" …" if len(p.top) > 6 else "")
        lines.append(f"  {_shortened(p.name)}: {p.type}, {p.distinct:,} distinct, {p.missing:,} missing"
                     + (f"; {values}" if values else ""))
    return "".join(f"# {visible(line)}\n" for line in lines)


def _shortened(value: str) -> str:
    """A value for a comment: on one line, at most about 40 characters."""
    shown = visible(value)
    return shown if len(shown) <= _COMMENT_VALUE_LENGTH else shown[:_COMMENT_VALUE_LENGTH - 1] + "…"


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _outcome_section(outcome: ColumnProfile | None) -> str:
    if outcome is None:
        return "# outcome: {column: COLUMN, positive: VALUE}   # ground truth, if the data has it\n"
    return _section({"outcome": {"column": outcome.name, "positive": positive_value(outcome)}},
                    "CHECK: ground truth: the column of what really happened, and its value that counts as "
                    "positive, as written in the data")


def _decision_section(guess: RoleGuess) -> str:
    if guess.decision is not None:
        return _section({"decision": {"column": guess.decision.name, "positive": [positive_value(guess.decision)],
                                      "adverse": guess.adverse}},
                        "CHECK: which values are a positive decision (as written in the data), and does a positive "
                        "decision harm the person (adverse: true)?")
    if guess.score is not None:
        return _section({"score": {"column": guess.score.name, "threshold": 0.5, "adverse": True}},
                        "CHECK: the threshold at which people are acted on")
    return _section({"decision": {"column": DECISION_PLACEHOLDER, "positive": [POSITIVE_PLACEHOLDER],
                                  "adverse": False}},
                    "CHECK: no column's name says it is the decision: replace both placeholders, and say whether a "
                    "positive decision harms the person (adverse: true)")


def _protected_section(guess: RoleGuess) -> str:
    protected = guess.suggested_protected
    if not protected:
        others = ", ".join(f"{_shortened(p.name)} ({p.distinct} values)" for p in guess.candidates)
        return _section({"protected": [{"column": PROTECTED_PLACEHOLDER}]},
                        "CHECK: no column's name says it is a protected attribute: replace the placeholder with one",
                        f"columns with few values: {others}" if others else "no other column has a few values")
    largest = [f"  {_shortened(p.name)}: {_shortened(p.top[0][0])} ({_rows(p.top[0][1])})" for p in protected
               if p.top]
    body: dict[str, Any] = {"protected": [{"column": p.name} for p in protected]}
    if len(protected) >= 2:
        body["intersections"] = [[protected[0].name, protected[1].name]]
    return _section(body, "CHECK: the attributes to audit; the reference group is each one's largest unless you "
                          "add reference: GROUP", *(["largest groups:"] + largest if largest else []))


def _policy_section(guess: RoleGuess) -> str:
    policy = [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]
    if guess.outcome is not None and (guess.decision is not None or guess.score is not None):
        policy.append({"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"})
    return (_section({"policy": policy}, "the four-fifths band on the selection rate; add error-rate rules when "
                                         "there is an outcome")
            + _section({"statistics": {"confidence": 0.95, "correction": "holm", "min_group_size": 30}}))
