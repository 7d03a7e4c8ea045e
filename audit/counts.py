"""Counting: one pass over the rows gives every count the audit needs.

The only code that reads rows. It counts people per *cell* (one combination of
values of every protected attribute) × ground-truth value × decision value,
with the sum of weights and of squared weights beside the row count. Every
marginal group and intersection is then summed from the cells
(:meth:`CellCounts.groups`), never re-read.

Two engines produce the same :class:`RawCounts`:

* ``pandas``: a chunked numpy pass (codes, one combined index, ``bincount``)
  for pandas frames without a ``where`` filter; memory stays bounded by the
  chunk size, and the input is never written to.
* ``duckdb``: one ``GROUP BY`` query for files, DuckDB relations, polars and
  pyarrow tables, and any frame with a ``where`` filter (SQL semantics: rows
  where the filter is NULL are dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import DataError, Problem, ReasonCode, did_you_mean, format_problems
from audit.labels import format_label, unknown_label
from audit.metrics import MISSING, N_STATES, NEG, POS

CHUNK_ROWS = 1 << 16
SMALL_RANGE = 4096


@dataclass(frozen=True)
class CountPlan:
    """What to count: column names and how to read the outcome and the decision.

    ``score_threshold`` set means the decision column is a score and a row is
    positive when ``score >= score_threshold``.
    """

    protected: tuple[str, ...]
    outcome: str | None
    decision: str
    score_threshold: float | None = None
    weight: str | None = None
    where: str | None = None
    max_groups: int = 50

    @property
    def columns(self) -> tuple[str, ...]:
        cols = list(self.protected) + [c for c in (self.outcome, self.decision, self.weight) if c]
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class RawCounts:
    """Counts per cell × outcome value × decision value, as an engine returns them.

    Axis ``k < len(protected)`` holds ``len(levels[k])`` observed values plus a
    final slot for a missing value; the outcome and decision axes likewise
    (``outcome_labels`` is empty when there is no ground truth, leaving only
    the missing slot). For a score, the decision labels are
    ``("below", "at or above")`` the threshold.
    """

    levels: tuple[tuple[str, ...], ...]
    outcome_labels: tuple[str, ...]
    decision_labels: tuple[str, ...]
    rows: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray
    rows_read: int
    engine: str


SCORE_LABELS = ("below", "at or above")


def label_order(label: str) -> tuple[int, float, str]:
    """Sort key of labels: numbers in numeric order first, then text in alphabetical order."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


# -- the pandas engine -------------------------------------------------------

class _Encoder:
    """Codes of one column, chunk by chunk, with one global list of labels."""

    def __init__(self, column: str, series: pd.Series, max_levels: int | None) -> None:
        self.column = column
        self.max_levels = max_levels
        self.labels: list[str] = []
        self._index: dict[str, int] = {}
        self._values: np.ndarray | None = None
        self._offset = 0
        self._mode = "generic"
        self._series = series
        self._global: np.ndarray | None = None
        self._has_missing = False
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            self._mode = "codes"
            self._values = series.cat.codes.to_numpy()
            self._has_missing = bool((self._values < 0).any())
            for category in dtype.categories:
                self._add(format_label(category))
        elif dtype == np.bool_:
            self._mode = "offset"
            self._values = series.to_numpy()
            self._offset = 0
            for value in (False, True):
                self._add(format_label(value))
        elif isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            values = series.to_numpy()
            finite = values if dtype.kind in "iu" else values[~np.isnan(values)]
            if finite.size and (dtype.kind in "iu" or np.all(np.mod(finite, 1) == 0)):
                low, high = int(finite.min()), int(finite.max())
                if high - low < SMALL_RANGE:
                    self._mode = "offset"
                    self._values = values
                    self._offset = low
                    for value in range(low, high + 1):
                        self._add(format_label(value))
            elif not finite.size and dtype.kind == "f":
                self._mode = "offset"
                self._values = values

    def _add(self, label: str | None) -> int:
        if label is None:
            return -1
        code = self._index.get(label)
        if code is None:
            code = self._index[label] = len(self.labels)
            self.labels.append(label)
            if self._mode == "generic" and self.max_levels is not None and len(self.labels) > self.max_levels:
                raise _TooMany(self.column, self.max_levels)
        return code

    def encode(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Local codes in ``[0, size)`` (``size - 1`` = missing) and their global codes (-1 = missing).

        Codes are views of the column where possible (category codes, integers from 0),
        in the column's own narrow integer type; the caller widens them once.
        """
        if self._mode == "codes":
            codes = self._values[start:stop]
            size = len(self.labels) + 1
            if self._has_missing:
                codes = np.where(codes < 0, size - 1, codes)
            return codes, self._identity()
        if self._mode == "offset":
            chunk = self._values[start:stop]
            size = len(self.labels) + 1
            if chunk.dtype.kind == "f":
                missing = np.isnan(chunk)
                codes = np.where(missing, size - 1, np.nan_to_num(chunk) - self._offset).astype(np.int64)
            elif self._offset == 0:
                codes = chunk
            else:
                codes = chunk.astype(np.int64) - self._offset
            return codes, self._identity()
        local, uniques = pd.factorize(self._series.iloc[start:stop], use_na_sentinel=True)
        to_global = np.array([self._add(format_label(u)) for u in uniques] + [-1], dtype=np.int64)
        codes = local.astype(np.int64)
        codes[codes < 0] = len(uniques)
        return codes, to_global

    def _identity(self) -> np.ndarray:
        """Global codes of the fixed modes: each label is itself, the last slot is missing."""
        if self._global is None:
            self._global = np.append(np.arange(len(self.labels)), -1)
        return self._global


class _ScoreEncoder:
    """Codes 0 (below), 1 (at or above the threshold), 2 (missing) of a numeric score."""

    labels = list(SCORE_LABELS)

    def __init__(self, values: np.ndarray, threshold: float) -> None:
        self._values = values
        self._threshold = threshold

    def encode(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        chunk = self._values[start:stop]
        codes = (chunk >= self._threshold).astype(np.int64)
        if chunk.dtype.kind == "f":
            codes[np.isnan(chunk)] = 2
        return codes, np.array([0, 1, -1], dtype=np.int64)


class _NoOutcome:
    labels: list[str] = []

    def encode(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(stop - start, dtype=np.int64), np.array([-1], dtype=np.int64)


class _TooMany(Exception):
    def __init__(self, column: str, limit: int) -> None:
        super().__init__(column)
        self.column, self.limit = column, limit


def _count_pandas(frame: pd.DataFrame, plan: CountPlan) -> RawCounts:
    n = len(frame)
    try:
        encoders: list[Any] = [_Encoder(c, frame[c], plan.max_groups) for c in plan.protected]
    except _TooMany as error:
        raise _too_many_groups(error.column, f"more than {error.limit}", plan.max_groups) from None
    encoders.append(_Encoder(plan.outcome, frame[plan.outcome], 1000) if plan.outcome else _NoOutcome())
    if plan.score_threshold is not None:
        encoders.append(_ScoreEncoder(frame[plan.decision].to_numpy(), plan.score_threshold))
    else:
        encoders.append(_Encoder(plan.decision, frame[plan.decision], 1000))
    weights = frame[plan.weight].to_numpy(dtype=np.float64) if plan.weight else None
    keys: list[np.ndarray] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, max(n, 1), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        if stop <= start:
            break
        try:
            encoded = [e.encode(start, stop) for e in encoders]
        except _TooMany as error:
            raise _too_many_groups(error.column, f"more than {error.limit}", plan.max_groups) from None
        sizes = [len(g) for _, g in encoded]
        index = np.array(encoded[0][0], dtype=np.intp)  # one wide array per chunk, updated in place
        for (codes, _), size in zip(encoded[1:], sizes[1:]):
            index *= size
            index += codes
        total = int(np.prod(sizes))
        rows = np.bincount(index, minlength=total)
        nonzero = np.flatnonzero(rows)
        local = np.unravel_index(nonzero, sizes)
        keys.append(np.stack([g[c] for (_, g), c in zip(encoded, local)]))
        if weights is None:
            counts = rows[nonzero]
            parts.append((counts, counts.astype(np.float64), counts.astype(np.float64)))
        else:
            w = weights[start:stop]
            parts.append((rows[nonzero], np.bincount(index, weights=w, minlength=total)[nonzero],
                          np.bincount(index, weights=w * w, minlength=total)[nonzero]))
    labels = [list(e.labels) for e in encoders]
    return _assemble(labels, keys, parts, rows_read=n, engine="pandas", plan=plan)


def _assemble(labels: list[list[str]], keys: list[np.ndarray],
              parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], *, rows_read: int,
              engine: str, plan: CountPlan) -> RawCounts:
    """Dense arrays from sparse (global code, counts) pieces; unused labels are dropped."""
    names = plan.protected
    max_groups = [plan.max_groups] * len(names)
    shape = [len(l) + 1 for l in labels]
    rows = np.zeros(shape, dtype=np.int64)
    weights = np.zeros(shape, dtype=np.float64)
    weights_sq = np.zeros(shape, dtype=np.float64)
    if keys:
        key = np.concatenate(keys, axis=1)
        key = np.where(key < 0, np.array(shape)[:, None] - 1, key)
        index = tuple(key)
        np.add.at(rows, index, np.concatenate([p[0] for p in parts]))
        np.add.at(weights, index, np.concatenate([p[1] for p in parts]))
        np.add.at(weights_sq, index, np.concatenate([p[2] for p in parts]))
    keep_labels: list[tuple[str, ...]] = []
    for axis, axis_labels in enumerate(labels):
        if axis_labels and not (axis == len(labels) - 1 and list(axis_labels) == list(SCORE_LABELS)):
            order = sorted(range(len(axis_labels)), key=lambda i: label_order(axis_labels[i]))
            take = np.array(order + [len(axis_labels)])
            rows, weights, weights_sq = (np.take(a, take, axis=axis) for a in (rows, weights, weights_sq))
            axis_labels = [axis_labels[i] for i in order]
        other = tuple(a for a in range(rows.ndim) if a != axis)
        used = rows.sum(axis=other) > 0
        used[-1] = True  # the missing slot stays
        if axis_labels and not used[:-1].all():
            rows, weights, weights_sq = (np.compress(used, a, axis=axis) for a in (rows, weights, weights_sq))
        keep_labels.append(tuple(l for l, u in zip(axis_labels, used[:-1]) if u))
    k = len(labels) - 2
    for axis in range(k):
        if len(keep_labels[axis]) > max_groups[axis]:
            raise _too_many_groups(names[axis], str(len(keep_labels[axis])), max_groups[axis])
    return RawCounts(levels=tuple(keep_labels[:k]), outcome_labels=keep_labels[k],
                     decision_labels=keep_labels[k + 1], rows=rows, weights=weights,
                     weights_sq=weights_sq, rows_read=rows_read, engine=engine)


# -- the DuckDB engine -------------------------------------------------------

def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")


def is_numeric_sql_type(type_name: str) -> bool:
    """Whether a DuckDB type name is a number (integers, floats, decimals)."""
    upper = type_name.upper()
    return upper in _NUMERIC or upper.startswith("DECIMAL")


def _count_duckdb(relation: Any, plan: CountPlan) -> RawCounts:
    import duckdb

    keys = [f"{_ident(c)} AS k{i}" for i, c in enumerate(plan.protected)]
    outcome = _ident(plan.outcome) if plan.outcome else "NULL"
    if plan.score_threshold is not None:
        score = _ident(plan.decision)
        decision = (f"CASE WHEN {score} IS NULL OR isnan({score}::DOUBLE) THEN NULL "
                    f"WHEN {score} >= {float(plan.score_threshold)!r} THEN 1 ELSE 0 END")
    else:
        decision = _ident(plan.decision)
    weight = f"{_ident(plan.weight)}::DOUBLE" if plan.weight else "1.0"
    kept = f"coalesce(({plan.where})::BOOLEAN, FALSE)" if plan.where else "TRUE"
    query = (f"SELECT {', '.join(keys)}, {outcome} AS y, {decision} AS d, {kept} AS kept, "
             f"count(*)::BIGINT AS n, sum({weight}) AS w, sum({weight} * {weight}) AS w2 "
             f"FROM audit_input GROUP BY ALL")
    try:
        result = relation.query("audit_input", query).fetchall()
    except duckdb.Error as error:
        raise _sql_error(error, plan, relation.columns) from None
    k = len(plan.protected)
    labels: list[list[str]] = [[] for _ in range(k + 2)]
    if plan.score_threshold is not None:
        labels[k + 1] = list(SCORE_LABELS)
    index: list[dict[str, int]] = [{l: i for i, l in enumerate(ls)} for ls in labels]
    limits = [plan.max_groups] * k + [1000, 1000]
    key_rows: list[list[int]] = []
    counts: list[tuple[int, float, float]] = []
    rows_read = 0
    for record in result:
        n, w, w2 = record[-3], record[-2], record[-1]
        rows_read += n
        if not record[k + 2]:
            continue
        key: list[int] = []
        for axis in range(k + 2):
            value = record[axis]
            if axis == k + 1 and plan.score_threshold is not None:
                key.append(-1 if value is None else int(value))
                continue
            label = format_label(value)
            if label is None:
                key.append(-1)
                continue
            code = index[axis].get(label)
            if code is None:
                code = index[axis][label] = len(labels[axis])
                labels[axis].append(label)
                if len(labels[axis]) > limits[axis]:
                    name = plan.protected[axis] if axis < k else (plan.outcome if axis == k else plan.decision)
                    raise _too_many_groups(name, f"more than {limits[axis]}", limits[axis])
            key.append(code)
        key_rows.append(key)
        counts.append((n, float(w or 0.0), float(w2 or 0.0)))
    if not key_rows:
        return _assemble(labels, [], [], rows_read=rows_read, engine="duckdb", plan=plan)
    array = np.array(counts, dtype=np.float64)
    parts = [(array[:, 0].astype(np.int64), array[:, 1], array[:, 2])]
    return _assemble(labels, [np.array(key_rows, dtype=np.int64).T], parts, rows_read=rows_read,
                     engine="duckdb", plan=plan)


def _sql_error(error: Exception, plan: CountPlan, columns: Sequence[str]) -> DataError:
    text = str(error).strip().splitlines()[0]
    if plan.where:
        import re

        missing = re.search(r'column "?([^"\s]+)"? not found', text, flags=re.IGNORECASE)
        hint = did_you_mean(missing.group(1), columns) if missing else ""
        return DataError(f"data.where: the filter \"{plan.where}\" is not a valid SQL condition on this data: "
                         f"{text}{hint}. Write a boolean SQL expression over the data's columns, e.g. "
                         f"\"age >= 18 AND region <> 'X'\"", reason=ReasonCode.WHERE_INVALID)
    return DataError(f"the data could not be counted: {text}", reason=ReasonCode.DATA_UNREADABLE)


def _too_many_groups(column: str, found: str, limit: int) -> DataError:
    return DataError(
        f"column '{column}' has {found} distinct values; an audited column should have a few groups "
        f"(is it an ID or a free-text column?). Choose another column, group its values into bands "
        f"first, or raise statistics.max_groups (now {limit})", reason=ReasonCode.TOO_MANY_GROUPS)


# -- checks shared by both engines -------------------------------------------

def check_columns(available: Sequence[str], plan: CountPlan, *, source: str, fields: dict[str, str]) -> None:
    """Every column the plan needs exists; one DataError lists every missing one."""
    problems = [Problem(fields.get(c, "column"),
                        f"column '{c}' is not in {source}{did_you_mean(c, available)}")
                for c in plan.columns if c not in available]
    if problems:
        shown = ", ".join(list(available)[:30]) + (" …" if len(available) > 30 else "")
        raise DataError(format_problems(f"{len(problems)} column(s) named in the spec are missing from "
                                        f"{source}; its columns are: {shown}", problems),
                        reason=ReasonCode.COLUMN_NOT_FOUND, problems=problems)


def count_pandas(frame: pd.DataFrame, plan: CountPlan) -> RawCounts:
    """Count a pandas frame in one chunked numpy pass (no ``where``; see module doc)."""
    return _count_pandas(frame, plan)


def count_duckdb(relation: Any, plan: CountPlan) -> RawCounts:
    """Count a DuckDB relation with one ``GROUP BY`` query; only the counts come back."""
    return _count_duckdb(relation, plan)
