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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.counts import (MAX_EXACT_VALUES, CountPlan, NumericAxis, RawCounts, TooManyValues, binning_between,
                          Binning, check_columns, count_duckdb, count_pandas, is_numeric_sql_type,
                          with_binning)
from audit.thresholds import median_from, score_splits
from audit.errors import DataError, ReasonCode, SpecError, UsageError
from audit.spec import AuditSpec
from audit.sql import number_sql, quote_identifier


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
        weights = frame[spec.data.weight].to_numpy(dtype=np.float64, na_value=np.nan)
        _check_weights(int(np.isnan(weights).sum()), float(np.nanmin(weights)) if weights.size else 0.0,
                       spec.data.weight, source)
    if spec.data.count_column:
        counts = frame[spec.data.count_column].to_numpy(dtype=np.float64, na_value=np.nan)
        finite = counts[np.isfinite(counts)]
        fractional = finite[np.mod(finite, 1) != 0]
        _check_counts(int(counts.size - finite.size), int((finite < 0).sum()), int(fractional.size),
                      float(finite.min()) if finite.size else 0.0,
                      float(fractional[0]) if fractional.size else None, spec.data.count_column, source)


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


def _check_weights(missing: int, minimum: float, column: str, source: str) -> None:
    if missing:
        raise DataError(f"data.weight: column '{column}' in {source} has {missing:,} empty values; every row "
                        f"needs a weight", reason=ReasonCode.WEIGHT_INVALID)
    if minimum < 0:
        raise DataError(f"data.weight: column '{column}' in {source} has negative weights (lowest {minimum:g}); "
                        f"weights must be zero or more", reason=ReasonCode.WEIGHT_INVALID)


def _check_sql_types(relation: Any, spec: AuditSpec, source: str) -> None:
    types = dict(zip(relation.columns, map(str, relation.types)))
    for column, field in _numeric_columns(spec):
        if not is_numeric_sql_type(types[column]):
            quoted = quote_identifier(column)
            sample = relation.query("t", f"SELECT DISTINCT {quoted} FROM t WHERE {quoted} IS NOT NULL AND "
                                         f"TRY_CAST({quoted} AS DOUBLE) IS NULL LIMIT 3").fetchall()
            raise _not_numbers([r[0] for r in sample] or [types[column]], column, field, source)
    if spec.data.weight:
        quoted = quote_identifier(spec.data.weight)
        missing, minimum = relation.query(
            "t", f"SELECT count(*) FILTER (WHERE {quoted} IS NULL), min({quoted}) FROM t").fetchall()[0]
        _check_weights(int(missing), float(minimum or 0.0), spec.data.weight, source)
    if spec.data.count_column:
        q = quote_identifier(spec.data.count_column)
        missing, negative, fractional, minimum, example = relation.query(
            "t", f"SELECT count(*) FILTER (WHERE {q} IS NULL), count(*) FILTER (WHERE {q} < 0), "
                 f"count(*) FILTER (WHERE {q}::DOUBLE <> floor({q}::DOUBLE)), min({q})::DOUBLE, "
                 f"min({q}::DOUBLE) FILTER (WHERE {q}::DOUBLE <> floor({q}::DOUBLE)) FROM t").fetchall()[0]
        _check_counts(int(missing), int(negative), int(fractional), float(minimum or 0.0), example,
                      spec.data.count_column, source)


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


def _relation_fingerprint(relation: Any, columns: tuple[str, ...]) -> str:
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    count, total = relation.query("t", f"SELECT count(*), sum(hash({quoted})::HUGEINT) FROM t").fetchall()[0]
    return hashlib.sha256(f"{count}:{total}:{','.join(columns)}".encode()).hexdigest()


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


def _sql_kth_largest(relation: Any, expression: str, where: str, count: str) -> Callable[[int], float]:
    """``kth_largest`` in SQL; each k is asked once (the median is needed by both the splits and the binning)."""
    import functools

    @functools.lru_cache(maxsize=None)
    def kth(k: int) -> float:
        if count == "1.0":  # one person per row: the k-th value in order, without a running sum
            query = (f"SELECT v FROM (SELECT {expression} AS v FROM t WHERE {where}) WHERE v IS NOT NULL "
                     f"ORDER BY v DESC LIMIT 1 OFFSET {k - 1}")
        else:
            query = (f"SELECT v FROM (SELECT v, sum(c) OVER (ORDER BY v DESC ROWS UNBOUNDED PRECEDING) AS cum FROM "
                     f"(SELECT {expression} AS v, {count} AS c FROM t WHERE {where}) WHERE v IS NOT NULL) "
                     f"WHERE cum >= {k} ORDER BY cum LIMIT 1")
        return float(relation.query("t", query).fetchall()[0][0])
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


def _count_relation(relation: Any, spec: AuditSpec, plan: CountPlan) -> RawCounts:
    """Count a DuckDB relation; numeric columns with many distinct values (estimated first) are binned."""
    axes = ([plan.score] if plan.score else []) + list(plan.amounts)
    if axes:
        where = f"coalesce(({plan.where})::BOOLEAN, FALSE)" if plan.where else "TRUE"
        count = f"{quote_identifier(plan.count)}::DOUBLE" if plan.count else "1.0"
        parts = []
        for axis in axes:
            x = number_sql(quote_identifier(axis.column))
            parts += [f"approx_count_distinct({x})", f"min({x})", f"max({x})", f"sum({count}) FILTER (WHERE {x} IS "
                                                                              f"NOT NULL)"]
        try:
            profile = relation.query("t", f"SELECT {', '.join(parts)} FROM t WHERE {where}").fetchall()[0]
        except Exception as error:  # noqa: BLE001 - reported as the filter's or the data's problem
            from audit.counts import _sql_error
            raise _sql_error(error, plan, relation.columns) from None
        for i, axis in enumerate(axes):
            distinct, low, high, population = profile[4 * i:4 * i + 4]
            if distinct and distinct > MAX_EXACT_VALUES // 2:
                x = number_sql(quote_identifier(axis.column))
                plan = with_binning(plan, axis.column, _binning(
                    spec, axis.column, float(low), float(high), int(population or 0),
                    _sql_kth_largest(relation, x, where, count)))
    return count_duckdb(relation, plan)


def _count_file(relation: Any, info: Any, name: str, spec: AuditSpec, plan: CountPlan,
                fields: dict[str, str]) -> tuple[RawCounts, DataProvenance]:
    """Count a file's relation (on disk, or read into memory) and record the file's provenance."""
    source = f"'{name}'"
    check_columns(relation.columns, plan, source=source, fields=fields)
    _check_sql_types(relation, spec, source)
    raw = _count_relation(relation, spec, plan)
    return raw, DataProvenance(source=name, format=info.format, sha256=info.sha256,
                               fingerprint_method="sha256 of the file's bytes", encoding=info.encoding,
                               delimiter=info.delimiter, size_bytes=info.size_bytes)


def count_source(spec: AuditSpec, base_dir: Path, data: Any = None, *,
                 fingerprint: bool = True) -> tuple[RawCounts, DataProvenance]:
    """Count the data named by the spec, or the ``data`` given in its place, in one pass.

    Parameters
    ----------
    spec : AuditSpec
        The validated spec (columns, filter, weights, read options).
    base_dir : Path
        Folder a relative ``data.path`` is taken from.
    data : LoadedTable, DataFrame, polars or pyarrow table, DuckDB relation, optional
        Replaces ``data.path``. A :class:`audit.uploads.LoadedTable` is
        counted as its file (the spec's read options are not applied again:
        the file was read when it was loaded). Never modified.
    fingerprint : bool
        Hash the used columns of a table passed in (files and loaded files
        are identified by the SHA-256 of their bytes instead).

    Returns
    -------
    raw : RawCounts
        The counts of the one pass.
    provenance : DataProvenance
        For a file or LoadedTable: its name, format, SHA-256 of the bytes,
        encoding, delimiter and size in bytes.

    Raises
    ------
    DataError
        The data cannot be read, lacks a column, has a non-numeric score,
        weight or count column, or ``data.where`` is not a valid filter
        (``WHERE_INVALID``, also when it tries to read a file over data in
        memory).
    """
    import duckdb

    from audit.uploads import LoadedTable, locked_connection, relation_of

    plan = plan_for(spec)
    fields = _fields(spec)
    if data is None:
        if not spec.data.path:
            raise SpecError("data.path: the spec names no data file; add 'data: {path: FILE}' or pass the data "
                            "directly", reason=ReasonCode.SPEC_INVALID)
        from audit.readers import ReadOptions, open_table

        path = Path(spec.data.path)
        if not path.is_absolute():
            path = base_dir / path
        con = duckdb.connect()
        relation, info = open_table(path, con, options=ReadOptions(
            encoding=spec.data.encoding, delimiter=spec.data.delimiter, sheet=spec.data.sheet))
        return _count_file(relation, info, str(spec.data.path), spec, plan, fields)
    if isinstance(data, LoadedTable):
        return _count_file(relation_of(data), data.info, data.name, spec, plan, fields)
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
        relation = locked_connection().from_df(data)
        return _count_relation(relation, spec, plan), provenance
    relation, kind = _as_relation(data)
    source = f"the {kind}"
    check_columns(relation.columns, plan, source=source, fields=fields)
    _check_sql_types(relation, spec, source)
    digest = _relation_fingerprint(relation, plan.columns) if fingerprint else None
    raw = _count_relation(relation, spec, plan)
    return raw, DataProvenance(source=kind, format=kind, sha256=digest,
                               fingerprint_method="sha256 of DuckDB's sum of row hashes of the columns used"
                               if fingerprint else "not computed")


def open_relation(spec: AuditSpec, base_dir: Path, data: Any = None) -> Any:
    """The audit's data as a DuckDB relation, without counting it (for scans beyond the counting pass).

    In-memory data (a LoadedTable, a pandas, polars or pyarrow table) is put on
    a locked connection (no file access), so ``data.where`` can be applied to
    it safely; the spec's own file is opened on a connection of its own.
    """
    import duckdb

    from audit.uploads import LoadedTable, locked_connection, relation_of

    if isinstance(data, LoadedTable):
        return relation_of(data)
    if data is None:
        from audit.readers import ReadOptions, open_table

        path = Path(spec.data.path or "")
        relation, _ = open_table(path if path.is_absolute() else base_dir / path, duckdb.connect(), options=ReadOptions(
            encoding=spec.data.encoding, delimiter=spec.data.delimiter, sheet=spec.data.sheet))
        return relation
    if isinstance(data, pd.DataFrame):
        return locked_connection().from_df(data)
    return _as_relation(data)[0]


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
