"""Where the rows live: files, pandas, polars, pyarrow or DuckDB, counted where they are.

:func:`count_source` picks the counting engine for the data it is given (see
:mod:`audit.counts`), checks the columns and their types before counting, and
returns the counts with a :class:`DataProvenance` record (what was read, its
SHA-256 or fingerprint, encoding and delimiter) for the evidence trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.counts import CountPlan, RawCounts, check_columns, count_duckdb, count_pandas, is_numeric_sql_type
from audit.errors import DataError, ReasonCode, SpecError, UsageError
from audit.spec import AuditSpec


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
    fields[spec.decision_column] = "score.column" if spec.score else "decision.column"
    if spec.data.weight:
        fields[spec.data.weight] = "data.weight"
    return fields


def _not_numbers(values: list[Any], column: str, field: str, source: str) -> DataError:
    shown = ", ".join(repr(v) for v in values[:3])
    return DataError(f"{field}: column '{column}' in {source} must hold numbers, but has values such as {shown}; "
                     f"clean the column or choose a numeric one", reason=ReasonCode.SCORE_NOT_NUMERIC)


def _check_pandas_types(frame: pd.DataFrame, spec: AuditSpec, source: str) -> None:
    numeric = [(spec.score.column, "score.column")] if spec.score else []
    if spec.data.weight:
        numeric.append((spec.data.weight, "data.weight"))
    for column, field in numeric:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()].unique().tolist()
            if bad or pd.api.types.is_bool_dtype(series):
                raise _not_numbers(bad or series.unique().tolist(), column, field, source)
            raise _not_numbers(series.unique().tolist(), column, field, source)
    if spec.data.weight:
        weights = frame[spec.data.weight].to_numpy(dtype=np.float64)
        _check_weights(int(np.isnan(weights).sum()), float(np.nanmin(weights)) if weights.size else 0.0,
                       spec.data.weight, source)


def _check_weights(missing: int, minimum: float, column: str, source: str) -> None:
    if missing:
        raise DataError(f"data.weight: column '{column}' in {source} has {missing:,} empty values; every row "
                        f"needs a weight", reason=ReasonCode.WEIGHT_INVALID)
    if minimum < 0:
        raise DataError(f"data.weight: column '{column}' in {source} has negative weights (lowest {minimum:g}); "
                        f"weights must be zero or more", reason=ReasonCode.WEIGHT_INVALID)


def _check_sql_types(relation: Any, spec: AuditSpec, source: str) -> None:
    types = dict(zip(relation.columns, map(str, relation.types)))
    numeric = [(spec.score.column, "score.column")] if spec.score else []
    if spec.data.weight:
        numeric.append((spec.data.weight, "data.weight"))
    for column, field in numeric:
        if not is_numeric_sql_type(types[column]):
            quoted = '"' + column.replace('"', '""') + '"'
            sample = relation.query("t", f"SELECT DISTINCT {quoted} FROM t WHERE {quoted} IS NOT NULL AND "
                                         f"TRY_CAST({quoted} AS DOUBLE) IS NULL LIMIT 3").fetchall()
            raise _not_numbers([r[0] for r in sample] or [types[column]], column, field, source)
    if spec.data.weight:
        quoted = '"' + spec.data.weight.replace('"', '""') + '"'
        missing, minimum = relation.query(
            "t", f"SELECT count(*) FILTER (WHERE {quoted} IS NULL), min({quoted}) FROM t").fetchall()[0]
        _check_weights(int(missing), float(minimum or 0.0), spec.data.weight, source)


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
    """The counting plan of a spec."""
    return CountPlan(protected=spec.protected_columns,
                     outcome=spec.outcome.column if spec.outcome else None,
                     decision=spec.decision_column,
                     score_threshold=spec.score.threshold if spec.score else None,
                     weight=spec.data.weight, where=spec.data.where,
                     max_groups=spec.statistics.max_groups)


def count_source(spec: AuditSpec, base_dir: Path, data: Any = None, *,
                 fingerprint: bool = True) -> tuple[RawCounts, DataProvenance]:
    """Count the data named by the spec, or the ``data`` given in its place, in one pass."""
    import duckdb

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
        source = f"'{spec.data.path}'"
        check_columns(relation.columns, plan, source=source, fields=fields)
        _check_sql_types(relation, spec, source)
        raw = count_duckdb(relation, plan)
        return raw, DataProvenance(source=str(spec.data.path), format=info.format, sha256=info.sha256,
                                   fingerprint_method="sha256 of the file's bytes", encoding=info.encoding,
                                   delimiter=info.delimiter, size_bytes=info.size_bytes)
    if isinstance(data, pd.DataFrame):
        source = "the DataFrame"
        check_columns([str(c) for c in data.columns], plan, source=source, fields=fields)
        _check_pandas_types(data, spec, source)
        digest = _pandas_fingerprint(data, plan.columns) if fingerprint else None
        provenance = DataProvenance(source="pandas.DataFrame", format="pandas", sha256=digest,
                                    fingerprint_method="sha256 of the values of the columns used"
                                    if fingerprint else "not computed")
        if plan.where is None:
            return count_pandas(data, plan), provenance
        relation = duckdb.connect().from_df(data)
        return count_duckdb(relation, plan), provenance
    relation, kind = _as_relation(data)
    source = f"the {kind}"
    check_columns(relation.columns, plan, source=source, fields=fields)
    _check_sql_types(relation, spec, source)
    digest = _relation_fingerprint(relation, plan.columns) if fingerprint else None
    raw = count_duckdb(relation, plan)
    return raw, DataProvenance(source=kind, format=kind, sha256=digest,
                               fingerprint_method="sha256 of DuckDB's sum of row hashes of the columns used"
                               if fingerprint else "not computed")


def _as_relation(data: Any) -> tuple[Any, str]:
    import duckdb

    if isinstance(data, duckdb.DuckDBPyRelation):
        return data, "DuckDB relation"
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        frame = data.collect() if hasattr(data, "collect") else data
        return duckdb.connect().from_arrow(frame.to_arrow()), "polars DataFrame"
    if module == "pyarrow":
        return duckdb.connect().from_arrow(data), "pyarrow Table"
    raise UsageError(f"data of type {type(data).__name__} is not supported; pass a pandas, polars or pyarrow "
                     f"table, a DuckDB relation, or a file path in the spec", reason=ReasonCode.UNSUPPORTED_DATA)
