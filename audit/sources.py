"""Where the rows live: files, pandas, polars, pyarrow or DuckDB, counted where they are.

:func:`count_source` picks the counting engine for the data it is given (see
:mod:`audit.counts`), checks the columns and their types before counting, and
returns the counts with a :class:`DataProvenance` record (what was read, its
SHA-256 or fingerprint, encoding and delimiter) for the evidence trail.

A file read into memory (:class:`audit.uploads.LoadedTable`, such as an
upload) is counted exactly as the file on disk would be: the same DuckDB
checks and counting pass, and the file's provenance (name, format, SHA-256 of
its bytes). Whenever ``data.where`` is evaluated over in-memory data (a
LoadedTable, a pandas, polars or pyarrow table), it runs on a DuckDB
connection from :func:`audit.uploads.locked_connection`, which may not read
files or URLs; a filter that tries is a ``WHERE_INVALID`` error (worded by
``audit.counts._sql_error``, in the counting pass itself).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.backends import (DuckTable, PostgresTable, Progress, SparkTable, SqlFailure, SqlTable, is_spark_frame,
                            spark_read, spark_session)
from audit.counts import (MAX_EXACT_VALUES, Binning, CountPlan, NumericAxis, RawCounts, TooManyValues, _sql_error,
                          binning_between, check_columns, count_pandas, count_sql, with_binning)
from audit.thresholds import median_from, score_splits
from audit.errors import DataError, ReasonCode, SpecError, UsageError
from audit.spec import AuditSpec
from audit.sql import quote_identifier
from audit.text_filter import KEPT_COLUMN, typed_filter


@dataclass(frozen=True)
class DataProvenance:
    """What data an audit read, so that anyone can check it is the same data."""

    source: str
    format: str
    sha256: str | None
    fingerprint_method: str
    encoding: str | None = None
    delimiter: str | None = None
    size_bytes: int | None = None
    encoding_detected: bool | None = None


def _fields(spec: AuditSpec) -> dict[str, str]:
    fields = {p.column: f"protected[{i}].column" for i, p in enumerate(spec.protected)}
    if spec.outcome:
        fields[spec.outcome.column] = "outcome.column"
        if spec.outcome.checked:
            fields[spec.outcome.checked.column] = "outcome.checked.column"
    if spec.decision_column:
        fields[spec.decision_column] = "score.column" if spec.score else "decision.column"
    if spec.final_decision:
        fields[spec.final_decision.column] = "final_decision.column"
    for i, amount in enumerate(spec.amounts):
        fields[amount.column] = f"amounts[{i}].column"
    if spec.data.weight:
        fields[spec.data.weight] = "data.weight"
    if spec.data.count_column:
        fields[spec.data.count_column] = "data.count_column"
    return fields


def _numeric_columns(spec: AuditSpec) -> list[tuple[str, str]]:
    """(column, spec field) of every column that must hold numbers."""
    numeric = [(spec.score.column, "score.column")] if spec.score else []
    numeric += [(a.column, f"amounts[{i}].column") for i, a in enumerate(spec.amounts)]
    numeric += [(c, f) for c, f in ((spec.data.weight, "data.weight"), (spec.data.count_column, "data.count_column"))
                if c]
    return numeric


def _not_numbers(values: list[Any], column: str, field: str, source: str) -> DataError:
    shown = ", ".join(repr(v) for v in values[:3])
    return DataError(f"{field}: column '{column}' in {source} must hold numbers, but has values such as {shown}; "
                     f"clean the column or choose a numeric one", reason=ReasonCode.SCORE_NOT_NUMERIC)


def _check_pandas_types(frame: pd.DataFrame, spec: AuditSpec, source: str) -> None:
    for column, field in _numeric_columns(spec):
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()].unique().tolist()
            raise _not_numbers(bad or series.unique().tolist(), column, field, source)
    if spec.data.weight:
        weights = _finite_or_missing(frame, spec.data.weight, "data.weight", source)
        _check_weights(int(np.isnan(weights).sum()), float(np.nanmin(weights)) if weights.size else 0.0,
                       spec.data.weight, source)
    if spec.data.count_column:
        counts = _finite_or_missing(frame, spec.data.count_column, "data.count_column", source)
        finite = counts[np.isfinite(counts)]
        fractional = finite[np.mod(finite, 1) != 0]
        _check_counts(int(counts.size - finite.size), int((finite < 0).sum()), int(fractional.size),
                      float(finite.min()) if finite.size else 0.0,
                      float(fractional[0]) if fractional.size else None, spec.data.count_column, source)


def _finite_or_missing(frame: pd.DataFrame, column: str, field: str, source: str) -> np.ndarray:
    """A weight or count column of a DataFrame as floats (NaN where missing, as pandas means it); ±inf refused
    with the same message as on every other engine."""
    values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise _numbers_error(field, column, "nonfinite", int(infinite.size), values[infinite[0]],
                             int(infinite[0]) + 1, source)
    return values


def _check_counts(missing: int, negative: int, fractional: int, minimum: float, example: float | None,
                  column: str, source: str) -> None:
    """An aggregate table's counts must be whole numbers of people, zero or more."""
    if missing:
        raise DataError(f"data.count_column: column '{column}' in {source} has {missing:,} empty values; every "
                        f"row of an aggregate table needs its count (write 0 for an empty cell)",
                        reason=ReasonCode.COUNT_INVALID)
    if negative:
        raise DataError(f"data.count_column: column '{column}' in {source} has {negative:,} negative counts "
                        f"(lowest {minimum:g}); a count of people is zero or more", reason=ReasonCode.COUNT_INVALID)
    if fractional:
        raise DataError(f"data.count_column: column '{column}' in {source} has {fractional:,} counts that are not "
                        f"whole numbers (e.g. {example:g}); give counts of people, and put survey weights in "
                        f"data.weight", reason=ReasonCode.COUNT_INVALID)


def _number_of(table: SqlTable, column: str) -> str:
    """SQL of a numeric column as a 64-bit float; a text column read with TRY_CAST (NULL where not a number)."""
    d = table.dialect
    return d.try_double(d.quote(column)) if table.is_text(column) else d.double(d.quote(column))


_WHY_NUMBERS = {
    "data.weight": "every row needs a finite weight of zero or more",
    "data.count_column": "every row of an aggregate table needs a whole number of people (0 for an empty cell)",
}


@dataclass(frozen=True)
class _NumberCheck:
    """What the pass before the counting checks in one column that must hold numbers.

    A text column (a CSV or Excel file's) is read as numbers here and nowhere earlier: every value that is
    not a number (``1,5``, ``n/a``) is refused, never dropped. NaN and ±inf are refused in a weight or count
    column whatever its type, and in a text score or amount column (where ``NaN`` was written as text); in a
    typed float score, NaN stays a missing value as in pandas.
    """

    column: str
    field: str
    quoted: str
    conditions: tuple[tuple[str, str], ...]    # (kind, SQL condition of a bad row): "text", "nonfinite"

    @classmethod
    def of(cls, table: SqlTable, column: str, field: str) -> "_NumberCheck":
        d, q, text = table.dialect, table.dialect.quote(column), table.is_text(column)
        x = _number_of(table, column)
        found = [("text", f"{q} IS NOT NULL AND {x} IS NULL")] if text else []
        if text or field in _WHY_NUMBERS:
            found.append(("nonfinite", f"{x} IS NOT NULL AND {d.not_finite(x)}"))
        return cls(column, field, q, tuple(found))

    def parts(self, i: int) -> list[str]:
        """The profile query's columns: how many bad rows of each kind, and one bad value."""
        return [p for kind, condition in self.conditions
                for p in (f"count(*) FILTER (WHERE {condition}) AS {kind}{i}",
                          f"min({self.quoted}) FILTER (WHERE {condition}) AS {kind}_example{i}")]

    def raise_if_bad(self, row: Any, i: int, table: SqlTable, source: str) -> None:
        """Raise DataError naming the column, how many rows, one value and the first row, when any is bad."""
        for kind, condition in self.conditions:
            bad = row[f"{kind}{i}"]
            if bad is not None and not pd.isna(bad) and int(bad) > 0:
                raise _bad_numbers(self, kind, int(bad), row[f"{kind}_example{i}"], condition, table, source)


def _bad_numbers(check: _NumberCheck, kind: str, bad: int, example: Any, condition: str, table: SqlTable,
                 source: str) -> DataError:
    """The message for values of a numeric column that are not numbers, or not finite ones: the column, how
    many rows, the first such row (DuckDB) and its value, and what to do."""
    first = _first_bad(table, condition, check.quoted)
    return _numbers_error(check.field, check.column, kind, bad, first[1] if first else example,
                          first[0] if first else None, source)


def _numbers_error(field: str, column: str, kind: str, bad: int, example: Any, first: int | None,
                   source: str) -> DataError:
    """A numeric column with ``bad`` values that are not numbers (``kind`` "text") or not finite ones
    ("nonfinite"): the field, the column, how many rows, one value, the first data row (1-based, when known)
    and what to do."""
    where = f", the first in data row {first:,} (counting from 1 after the header)" if first else ""
    what = "values that are not numbers" if kind == "text" else "values that are not finite numbers (NaN or ±inf)"
    why = _WHY_NUMBERS.get(field, "it must hold numbers written with a decimal point, such as 0.75")
    if re.fullmatch(r"\s*[+-]?\d+,\d+\s*", str(example)):
        hint = "; the file seems to use a decimal comma: export it with a decimal point"
    elif field in _WHY_NUMBERS:
        hint = "; fix those rows, or leave them out with data.where"
    else:
        hint = f"; if '{example}' means a missing value, declare it with data.missing: ['{example}']"
    reason = {"data.weight": ReasonCode.WEIGHT_INVALID, "data.count_column": ReasonCode.COUNT_INVALID}.get(
        field, ReasonCode.SCORE_NOT_NUMERIC)
    return DataError(f"{field}: column '{column}' in {source} has {bad:,} row{'s' if bad != 1 else ''} "
                     f"with {what}, such as '{example}'{where}; {why}{hint}", reason=reason)


def _first_bad(table: SqlTable, condition: str, quoted: str) -> tuple[int, Any] | None:
    """(1-based position, value) of the first row where ``condition`` holds, in the order rows were read
    (DuckDB, whose CSV and Excel readers keep the file's order when told to); None on other engines."""
    if not isinstance(table, DuckTable):
        return None
    if table.connection is not None:
        table.connection.execute("SET preserve_insertion_order = true")
    try:
        found = table.fetch(f"SELECT audit_row, audit_value FROM (SELECT row_number() OVER () AS audit_row, "
                            f"{quoted} AS audit_value, * FROM {table.source}) WHERE {condition} "
                            f"ORDER BY audit_row LIMIT 1")
    except SqlFailure:
        return None
    return (int(found["audit_row"].iloc[0]), found["audit_value"].iloc[0]) if len(found) else None


def _check_weights(missing: int, minimum: float, column: str, source: str) -> None:
    if missing:
        raise DataError(f"data.weight: column '{column}' in {source} has {missing:,} empty values; every row "
                        f"needs a weight", reason=ReasonCode.WEIGHT_INVALID)
    if minimum < 0:
        raise DataError(f"data.weight: column '{column}' in {source} has negative weights (lowest {minimum:g}); "
                        f"weights must be zero or more", reason=ReasonCode.WEIGHT_INVALID)


def _check_sql_types(table: SqlTable, spec: AuditSpec, source: str) -> None:
    """Every column that must hold numbers does, by the engine's column types (no pass over the rows).

    A text column (a CSV file's) passes here: its values are read as numbers, and checked, in :func:`_profile`.
    """
    for column, field in _numeric_columns(spec):
        if not table.is_numeric(column) and not table.is_text(column):
            raise _not_numbers(_not_number_examples(table, column), column, field, source)


def _not_number_examples(table: SqlTable, column: str) -> list[Any]:
    """Up to three values of a column that are not numbers (DuckDB), or the column's type (other engines)."""
    if isinstance(table, DuckTable):
        quoted = quote_identifier(column)
        sample = table.fetch(f"SELECT DISTINCT {quoted} AS v FROM {table.source} WHERE {quoted} IS NOT NULL AND "
                             f"TRY_CAST({quoted} AS DOUBLE) IS NULL LIMIT 3")
        if len(sample):
            return list(sample["v"])
    return [table.type_name(column)]


@dataclass(frozen=True)
class _Profile:
    """What the pass before the counting learnt: numeric axes' ranges and the data's fingerprint."""

    axes: dict[str, tuple[float, float, float, float]]  # column -> (distinct, low, high, people)
    fingerprint: str | None


def _profile(table: SqlTable, spec: AuditSpec, plan: CountPlan, *, fingerprint: bool,
             progress: Progress | None, source: str) -> _Profile:
    """One pass before the counting, only when needed: weight and count checks, numeric ranges, fingerprint.

    Raises DataError for empty, negative or fractional counts, empty or
    negative weights, and a filter that is not valid SQL on this data.
    """
    d = table.dialect
    checks = [_NumberCheck.of(table, column, field) for column, field in _numeric_columns(spec)]
    parts = [p for i, check in enumerate(checks) for p in check.parts(i)]
    if plan.weight:
        q = _number_of(table, plan.weight)
        parts += [f"count(*) FILTER (WHERE {q} IS NULL) AS weight_missing",
                  f"min({q}) FILTER (WHERE NOT ({d.not_finite(q)})) AS weight_min"]
    if plan.count:
        q = _number_of(table, plan.count)
        finite = f"NOT ({d.not_finite(q)})"
        fractional = f"{finite} AND {q} <> floor({q})"
        parts += [f"count(*) FILTER (WHERE {q} IS NULL) AS count_missing",
                  f"count(*) FILTER (WHERE {q} < 0) AS count_negative",
                  f"count(*) FILTER (WHERE {fractional}) AS count_fractional",
                  f"min({q}) FILTER (WHERE {finite}) AS count_min",
                  f"min({q}) FILTER (WHERE {fractional}) AS count_example"]
    axes = ([plan.score] if plan.score else []) + list(plan.amounts)
    kept = d.kept(plan.where)
    people = _number_of(table, plan.count) if plan.count else "1"
    for i, axis in enumerate(axes):
        x = d.number(axis.column, text=table.is_text(axis.column))
        inside = f"FILTER (WHERE {kept} AND {x} IS NOT NULL)"
        parts += [f"{d.distinct(x)} {inside} AS distinct{i}", f"min({x}) {inside} AS low{i}",
                  f"max({x}) {inside} AS high{i}", f"sum({people}) {inside} AS people{i}"]
    if fingerprint:
        parts += ["count(*) AS fingerprint_rows", f"{d.row_hash_sum(plan.columns)} AS fingerprint_sum"]
    if not parts:
        return _Profile(axes={}, fingerprint=None)
    try:
        row = table.fetch(f"SELECT {', '.join(parts)} FROM {table.source}", progress=progress,
                          phase="checking").iloc[0]
    except SqlFailure as error:
        raise _sql_error(error, plan, table.columns) from None

    def number(name: str) -> float:
        value = row[name]
        return 0.0 if value is None or pd.isna(value) else float(value)

    for i, check in enumerate(checks):
        check.raise_if_bad(row, i, table, source)
    if plan.weight:
        _check_weights(int(number("weight_missing")), number("weight_min"), plan.weight, source)
    if plan.count:
        example = row["count_example"]
        _check_counts(int(number("count_missing")), int(number("count_negative")), int(number("count_fractional")),
                      number("count_min"), None if example is None or pd.isna(example) else float(example),
                      plan.count, source)
    ranges = {axis.column: (number(f"distinct{i}"), number(f"low{i}"), number(f"high{i}"), number(f"people{i}"))
              for i, axis in enumerate(axes)}
    digest = None
    if fingerprint:
        total = row["fingerprint_sum"]
        total_text = "None" if total is None or pd.isna(total) else str(int(total))
        digest = hashlib.sha256(f"{int(number('fingerprint_rows'))}:{total_text}:{','.join(plan.columns)}"
                                .encode()).hexdigest()
    return _Profile(axes=ranges, fingerprint=digest)


def _pandas_fingerprint(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """SHA-256 over the used columns' names, types and values, in row order.

    Numbers and category codes are hashed from their memory buffers (no copy, no
    per-row work); other columns through pandas' row hashes.
    """
    digest = hashlib.sha256()
    for column in columns:
        series = frame[column]
        digest.update(f"{column}\0{series.dtype}\0".encode())
        if isinstance(series.dtype, pd.CategoricalDtype):
            digest.update("\0".join(map(str, series.cat.categories)).encode())
            values = series.cat.codes.to_numpy()
        elif isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
            values = series.to_numpy()
        else:
            values = pd.util.hash_pandas_object(series, index=False).to_numpy()
        digest.update(memoryview(np.ascontiguousarray(values)).cast("B"))
    return digest.hexdigest()


def plan_for(spec: AuditSpec) -> CountPlan:
    """The counting plan of a spec (numeric columns planned as exact histograms)."""
    labels: list[tuple[str, str]] = []
    if spec.outcome:
        labels.append((spec.outcome.column, "outcome"))
    if spec.decision:
        labels.append((spec.decision.column, "decision"))
    if spec.final_decision:
        labels.append((spec.final_decision.column, "final"))
    if spec.outcome and spec.outcome.checked:
        labels.append((spec.outcome.checked.column, "checked"))
    return CountPlan(protected=spec.protected_columns, labels=tuple(c for c, _ in labels),
                     roles=tuple(r for _, r in labels),
                     score=NumericAxis(spec.score.column) if spec.score else None,
                     amounts=tuple(NumericAxis(a.column) for a in spec.amounts),
                     weight=spec.data.weight, count=spec.data.count_column, where=spec.data.where,
                     max_groups=spec.statistics.max_groups)


def _numpy_kth_largest(values: np.ndarray, counts: np.ndarray | None) -> Callable[[int], float]:
    """k-th highest of ``values`` (people per row in ``counts``, default 1)."""
    order = np.argsort(values)[::-1]
    descending = values[order]
    cumulative = np.cumsum(counts[order] if counts is not None else np.ones(values.size))
    return lambda k: float(descending[int(np.searchsorted(cumulative, k - 1e-9))])


def _sql_kth_largest(table: SqlTable, expression: str, where: str, count: str | None) -> Callable[[int], float]:
    """``kth_largest`` in SQL; each k is asked once (the median is needed by both the splits and the binning)."""
    import functools

    @functools.lru_cache(maxsize=None)
    def kth(k: int) -> float:
        rows = f"SELECT {expression} AS v{', ' + count + ' AS c' if count else ''} FROM {table.source} WHERE {where}"
        if count is None:  # one person per row: the k-th value in order, without a running sum
            query = f"SELECT v FROM ({rows}) AS r WHERE v IS NOT NULL ORDER BY v DESC LIMIT 1 OFFSET {k - 1}"
        else:
            query = (f"SELECT v FROM (SELECT v, sum(c) OVER (ORDER BY v DESC ROWS BETWEEN UNBOUNDED PRECEDING AND "
                     f"CURRENT ROW) AS cum FROM ({rows}) AS r WHERE v IS NOT NULL) AS s WHERE cum >= {k} "
                     f"ORDER BY cum LIMIT 1")
        return float(table.fetch(query)["v"].iloc[0])
    return kth


def _binning(spec: AuditSpec, column: str, low: float, high: float, population: int,
             kth: Callable[[int], float]) -> Binning:
    """The binning of a numeric column with too many distinct values for an exact histogram."""
    if spec.score is not None and column == spec.score.column:
        splits = score_splits(spec.score, population, kth)
        return binning_between(low, high, splits, median=median_from(kth, population) if population else None)
    return binning_between(low, high)


def _count_frame(frame: pd.DataFrame, spec: AuditSpec, plan: CountPlan) -> RawCounts:
    """Count a pandas frame; numeric columns with too many distinct values are binned and counted again."""
    while True:
        try:
            return count_pandas(frame, plan)
        except TooManyValues as error:
            values = frame[error.column].to_numpy(dtype=np.float64, na_value=np.nan)
            finite = np.isfinite(values)
            counts = frame[spec.data.count_column].to_numpy(dtype=np.float64)[finite] \
                if spec.data.count_column else None
            population = int(counts.sum()) if counts is not None else int(finite.sum())
            plan = with_binning(plan, error.column, _binning(
                spec, error.column, float(values[finite].min()), float(values[finite].max()), population,
                _numpy_kth_largest(values[finite], counts)))


@dataclass(frozen=True)
class EngineOptions:
    """How the rows are counted.

    Attributes
    ----------
    engine : {"auto", "spark"}
        ``auto``: DuckDB for files and data in memory, the database itself
        for ``data.url``, Spark for a Spark DataFrame passed in. ``spark``:
        ``data.path`` (a file, folder or glob, local or on a cluster's file
        system such as ``hdfs://`` or ``s3a://``) is read and counted by Spark.
    master : str, optional
        Spark's master URL for ``engine="spark"`` (``local[2]``,
        ``spark://host:7077``, ``yarn``); default: PySpark's own default.
    progress : Progress, optional
        Hears how far each long query is (see :mod:`audit.backends`).
    """

    engine: Literal["auto", "spark"] = "auto"
    master: str | None = None
    progress: Progress | None = None


def _count_table(table: SqlTable, spec: AuditSpec, plan: CountPlan, *, source: str, fingerprint: bool,
                 progress: Progress | None) -> tuple[RawCounts, str | None]:
    """Check and count a SQL table: at most one pass of checks, the binning queries, one counting pass."""
    _check_sql_types(table, spec, source)
    table, plan = _typed_filter(table, plan)
    profile = _profile(table, spec, plan, fingerprint=fingerprint, progress=progress, source=source)
    d = table.dialect
    where = d.kept(plan.where)
    count = d.double(d.quote(plan.count)) if plan.count else None
    for axis in ([plan.score] if plan.score else []) + list(plan.amounts):
        distinct, low, high, people = profile.axes[axis.column]
        if _too_many_values(table, axis.column, where, distinct):
            plan = with_binning(plan, axis.column, _binning(
                spec, axis.column, low, high, int(people), _sql_kth_largest(table, d.number(axis.column), where,
                                                                            count)))
    return count_sql(table, plan, progress=progress), profile.fingerprint


def _typed_filter(table: SqlTable, plan: CountPlan) -> tuple[SqlTable, CountPlan]:
    """A file read as text whose ``data.where`` names text columns: the filter evaluated over their typed
    view (:mod:`audit.text_filter`) into one more column, which becomes the plan's filter."""
    if not plan.where or not isinstance(table, DuckTable):
        return table, plan
    import duckdb

    try:
        relation = typed_filter(table.relation, plan.where)
    except duckdb.Error as error:
        failure = SqlFailure(str(error).strip().splitlines()[0], permission=isinstance(error, duckdb.PermissionException))
        raise _sql_error(failure, plan, table.columns) from None
    if relation is None:
        return table, plan
    return (DuckTable(relation, table.connection),
            replace(plan, where=quote_identifier(KEPT_COLUMN)))


def _too_many_values(table: SqlTable, column: str, where: str, estimate: float) -> bool:
    """Whether a numeric column has more than ``MAX_EXACT_VALUES`` distinct values (then it is binned).

    Exactly the pandas engine's rule, so every engine bins the same columns:
    an estimate far from the limit decides alone; near it (within a factor
    of 2, far beyond the estimators' error of a few per cent) the distinct
    values are counted exactly, which is cheap because there are few.
    """
    d = table.dialect
    if d.exact_distinct:
        return estimate > MAX_EXACT_VALUES
    if not MAX_EXACT_VALUES / 2 < estimate < 2 * MAX_EXACT_VALUES:
        return estimate >= 2 * MAX_EXACT_VALUES
    x = d.number(column)
    exact = table.fetch(f"SELECT count(DISTINCT {x}) AS n FROM {table.source} WHERE {where}")["n"].iloc[0]
    return int(exact) > MAX_EXACT_VALUES


def _count_file(table: SqlTable, info: Any, name: str, spec: AuditSpec, plan: CountPlan, fields: dict[str, str],
                progress: Progress | None) -> tuple[RawCounts, DataProvenance]:
    """Count a file's table (on disk, or read into memory) and record the file's provenance."""
    source = f"'{name}'"
    check_columns(table.columns, plan, source=source, fields=fields)
    raw, _ = _count_table(table, spec, plan, source=source, fingerprint=False, progress=progress)
    return raw, DataProvenance(source=name, format=info.format, sha256=info.sha256,
                               fingerprint_method="sha256 of the file's bytes", encoding=info.encoding,
                               encoding_detected=info.encoding_detected if info.encoding else None,
                               delimiter=info.delimiter, size_bytes=info.size_bytes)


def _count_database(spec: AuditSpec, plan: CountPlan, fields: dict[str, str], *, fingerprint: bool,
                    progress: Progress | None) -> tuple[RawCounts, DataProvenance]:
    """Count a database table or query where it lives: one check pass and one aggregation, counts only back."""
    data = spec.data
    table = PostgresTable(data.url or "", table=data.table, query=data.query)
    try:
        check_columns(table.columns, plan, source=table.description, fields=fields)
        raw, digest = _count_table(table, spec, plan, source=table.description, fingerprint=fingerprint,
                                   progress=progress)
    finally:
        table.close()
    return raw, DataProvenance(
        source=f"{table.shown} {f'table {data.table}' if data.table else 'query'}", format="postgresql",
        sha256=digest, fingerprint_method="sha256 of PostgreSQL's row count and sum of md5-based row hashes of the "
                                          "columns used" if fingerprint else "not computed")


def _count_spark_file(spec: AuditSpec, base_dir: Path, plan: CountPlan, fields: dict[str, str], *,
                      master: str | None, progress: Progress | None) -> tuple[RawCounts, DataProvenance]:
    """Read ``data.path`` with Spark and count it there; a local file is identified by the SHA-256 of its bytes."""
    from audit.readers import detect_format, file_sha256

    text = spec.data.path or ""
    local = "://" not in text
    if local and not Path(text).is_absolute():
        text = str(base_dir / text)
    fmt = detect_format(text) if Path(text).suffix else "parquet"  # a folder (or folder/*) of Parquet parts
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"data.path: --engine spark reads Parquet and CSV files, not {fmt}; convert the file, or "
                         f"run without --engine spark", reason=ReasonCode.UNSUPPORTED_DATA)
    digest = file_sha256(text) if local else None
    frame = spark_read(spark_session(master), text, fmt, missing=tuple(spec.data.missing or ()))
    table = SparkTable(frame)
    try:
        source = f"'{spec.data.path}'"
        check_columns(table.columns, plan, source=source, fields=fields)
        raw, fingerprint = _count_table(table, spec, plan, source=source, fingerprint=not local, progress=progress)
    finally:
        table.close()
    return raw, DataProvenance(source=str(spec.data.path), format=fmt, sha256=digest or fingerprint,
                               fingerprint_method="sha256 of the file's bytes" if local else
                               "sha256 of Spark's row count and sum of row hashes of the columns used")


def count_source(spec: AuditSpec, base_dir: Path, data: Any = None, *, fingerprint: bool = True,
                 options: EngineOptions = EngineOptions()) -> tuple[RawCounts, DataProvenance]:
    """Count the data named by the spec, or the ``data`` given in its place, in one pass where it lives.

    Parameters
    ----------
    spec : AuditSpec
        The validated spec (columns, filter, weights, read options, file or database).
    base_dir : Path
        Folder a relative ``data.path`` is taken from.
    data : LoadedTable, DataFrame, polars or pyarrow table, DuckDB relation, Spark DataFrame, optional
        Replaces the spec's data. A :class:`audit.uploads.LoadedTable` is
        counted as its file (the spec's read options are not applied again:
        the file was read when it was loaded). Never modified.
    fingerprint : bool
        Hash the used columns of a table passed in or of a database table
        (files are identified by the SHA-256 of their bytes instead).
    options : EngineOptions
        Engine (Spark for ``data.path``), Spark master and progress callback.

    Returns
    -------
    raw : RawCounts
        The counts of the one pass.
    provenance : DataProvenance
        For a file or LoadedTable: its name, format, SHA-256 of the bytes,
        encoding, delimiter and size in bytes; for a database or Spark: the
        source and a fingerprint of the columns used.

    Raises
    ------
    DataError
        The data cannot be read, lacks a column, has a non-numeric score,
        weight or count column, or ``data.where`` is not a valid filter
        (``WHERE_INVALID``, also when it tries to read a file over data in
        memory); a database cannot be reached or has no such table.
    UsageError
        Data of an unsupported type, ``engine="spark"`` without a file, or a
        driver (PostgreSQL, PySpark) that is not installed.
    """
    from audit.uploads import LoadedTable, locked_connection

    plan = plan_for(spec)
    fields = _fields(spec)
    progress = options.progress
    if options.engine == "spark" and (data is not None or not spec.data.path):
        raise UsageError("--engine spark reads the spec's data.path with Spark (a Spark DataFrame is counted by "
                         "Spark without it); give the spec a data.path, or drop --engine spark",
                         reason=ReasonCode.OPTION_INVALID)
    if data is None:
        if spec.data.url:
            return _count_database(spec, plan, fields, fingerprint=fingerprint, progress=progress)
        if not spec.data.path:
            raise SpecError("data.path: the spec names no data file; add 'data: {path: FILE}' (or a database "
                            "'url' with a 'table'), or pass the data directly", reason=ReasonCode.SPEC_INVALID)
        if options.engine == "spark":
            return _count_spark_file(spec, base_dir, plan, fields, master=options.master, progress=progress)
        con, relation, info = _open_file(spec, base_dir)
        return _count_file(DuckTable(relation, con, cheap_row_count=info.format == "parquet"), info,
                           str(spec.data.path), spec, plan, fields, progress)
    if isinstance(data, LoadedTable):
        return _count_file(DuckTable(_loaded_relation(data, spec)), data.info, data.name, spec, plan, fields,
                           progress)
    if isinstance(data, pd.DataFrame):
        source = "the DataFrame"
        check_columns([str(c) for c in data.columns], plan, source=source, fields=fields)
        _check_pandas_types(data, spec, source)
        digest = _pandas_fingerprint(data, plan.columns) if fingerprint else None
        provenance = DataProvenance(source="pandas.DataFrame", format="pandas", sha256=digest,
                                    fingerprint_method="sha256 of the values of the columns used"
                                    if fingerprint else "not computed")
        if plan.where is None:
            return _count_frame(data, spec, plan), provenance
        raw, _ = _count_table(DuckTable(locked_connection().from_df(data)), spec, plan, source=source,
                              fingerprint=False, progress=progress)
        return raw, provenance
    if is_spark_frame(data):
        table: SqlTable = SparkTable(data)
        kind, method = "Spark DataFrame", "sha256 of Spark's row count and sum of row hashes of the columns used"
    else:
        relation, kind = _as_relation(data)
        table, method = DuckTable(relation), "sha256 of DuckDB's sum of row hashes of the columns used"
    source = f"the {kind}"
    try:
        check_columns(table.columns, plan, source=source, fields=fields)
        raw, digest = _count_table(table, spec, plan, source=source, fingerprint=fingerprint, progress=progress)
    finally:
        table.close()
    return raw, DataProvenance(source=kind, format=kind, sha256=digest,
                               fingerprint_method=method if fingerprint else "not computed")


def read_options(spec: AuditSpec) -> Any:
    """How the spec says its file is read: :class:`audit.readers.ReadOptions` from ``data``."""
    from audit.readers import ReadOptions

    data = spec.data
    return ReadOptions(encoding=data.encoding, delimiter=data.delimiter, sheet=data.sheet,
                       missing=tuple(data.missing or ()))


def _open_file(spec: AuditSpec, base_dir: Path) -> tuple[Any, Any, Any]:
    """(connection, relation, TableInfo) of the spec's file on a DuckDB connection of its own."""
    import duckdb

    from audit.readers import open_table

    path = Path(spec.data.path or "")
    con = duckdb.connect(config={"preserve_insertion_order": False})
    relation, info = open_table(path if path.is_absolute() else base_dir / path, con, options=read_options(spec))
    return con, relation, info


def open_relation(spec: AuditSpec, base_dir: Path, data: Any = None) -> Any:
    """The audit's data as a DuckDB relation, without counting it (for scans beyond the counting pass).

    In-memory data (a LoadedTable, a pandas, polars or pyarrow table) is put on
    a locked connection (no file access), so ``data.where`` can be applied to
    it safely; the spec's own file is opened on a connection of its own.

    Raises
    ------
    UsageError
        For a database (``data.url``) or a Spark DataFrame: these scans run on
        files and data in memory only.
    """
    from audit.uploads import LoadedTable, locked_connection

    if (data is None and spec.data.url) or is_spark_frame(data):
        where = "a database (data.url)" if data is None else "a Spark DataFrame"
        raise UsageError(f"proxies: the proxy scan reads every column of the data, and runs on files and data in "
                         f"memory only, not on {where}; remove 'proxies' from the spec for this run, or export the "
                         f"candidate columns to a Parquet file and audit that", reason=ReasonCode.UNSUPPORTED_DATA)
    if isinstance(data, LoadedTable):
        return _loaded_relation(data, spec)
    if data is None:
        return _open_file(spec, base_dir)[1]
    if isinstance(data, pd.DataFrame):
        return locked_connection().from_df(data)
    return _as_relation(data)[0]


def _loaded_relation(data: Any, spec: AuditSpec) -> Any:
    """A file read into memory (a LoadedTable) as a relation, with the spec's ``data.missing`` markers as NULL
    in its text columns: the file may have been read before the spec was known (an upload), and the audit must
    count it exactly as ``audit run`` counts the file (a no-op when it was read with the same markers)."""
    from audit.uploads import relation_of

    relation = relation_of(data)
    markers = tuple(spec.data.missing or ())
    if not markers:
        return relation
    listing = ", ".join("'" + m.replace("'", "''") + "'" for m in markers)
    columns = [f"(CASE WHEN {quote_identifier(c)} IN ({listing}) THEN NULL ELSE {quote_identifier(c)} END) AS "
               f"{quote_identifier(c)}" if str(t).upper() == "VARCHAR" else quote_identifier(c)
               for c, t in zip(relation.columns, relation.types)]
    return relation.project(", ".join(columns))


def _as_relation(data: Any) -> tuple[Any, str]:
    """A DuckDB relation over data passed in (on a locked connection unless it is a relation already)."""
    import duckdb

    from audit.uploads import locked_connection

    if isinstance(data, duckdb.DuckDBPyRelation):
        return data, "DuckDB relation"
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        frame = data.collect() if hasattr(data, "collect") else data
        return locked_connection().from_arrow(frame.to_arrow()), "polars DataFrame"
    if module == "pyarrow":
        return locked_connection().from_arrow(data), "pyarrow Table"
    hint = (" (read it first with audit.uploads.load_table(MemoryFile(...)), and pass the LoadedTable)"
            if type(data).__name__ == "MemoryFile" else "")
    raise UsageError(f"data of type {type(data).__name__} is not supported{hint}; pass a LoadedTable, a pandas, "
                     f"polars or pyarrow table, a DuckDB relation, or a file path in the spec",
                     reason=ReasonCode.UNSUPPORTED_DATA)
