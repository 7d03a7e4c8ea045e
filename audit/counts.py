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
* SQL (:func:`count_sql`): one ``GROUP BY GROUPING SETS`` query run where the
  data lives: DuckDB for files, DuckDB relations, polars and pyarrow tables
  and any frame with a ``where`` filter; PostgreSQL for a database table or
  query; Spark for a Spark DataFrame (see :mod:`audit.backends`). SQL
  semantics: rows where the filter is NULL are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import DataError, Problem, ReasonCode, did_you_mean, format_problems
from audit.labels import format_label
from audit.backends import Progress, SqlFailure, SqlTable
from audit.sql import Dialect

CHUNK_ROWS = 1 << 16
SMALL_RANGE = 4096
MAX_EXACT_VALUES = 10_000
DENSE_RANGE = 16_384
HISTOGRAM_BINS = 4096
LABEL_LIMIT = 1000


@dataclass(frozen=True)
class Binning:
    """How a numeric column (a score or an amount) becomes histogram bins.

    ``exact``: one bin per distinct value, so every statistic computed from
    the histogram equals the one computed from the rows. Otherwise the column
    has too many distinct values and is cut into ``bins`` equal-width bins
    from ``low`` (width ``width``), each split again at every value in
    ``splits`` (the cut-offs that must be exact: thresholds, top-k scores, the
    median, whose exact value is kept in ``median``). ``decimal`` allows the
    fast path for exact values with few decimals (see ``_NumericEncoder``). A bin is then named by the code ``u * (len(splits) + 1) + s``
    where ``u`` is its equal-width index and ``s`` the number of splits at or
    below the value; codes increase with the value.
    """

    exact: bool = True
    low: float = 0.0
    width: float = 1.0
    bins: int = 0
    splits: tuple[float, ...] = ()
    median: float | None = None
    decimal: bool = True

    def lower_edges(self, codes: np.ndarray) -> np.ndarray:
        """The smallest value a binned code can hold (its lower edge)."""
        u, seg = np.divmod(np.asarray(codes, dtype=np.int64), len(self.splits) + 1)
        split = np.array((-np.inf,) + tuple(self.splits))[seg]
        return np.maximum(self.low + u * self.width, split)


@dataclass(frozen=True)
class NumericAxis:
    """A numeric column counted as a histogram."""

    column: str
    binning: Binning = Binning()


@dataclass(frozen=True)
class CountPlan:
    """What to count, in one pass.

    Per *cell* (one value of every protected column) the pass counts rows by
    the values of each ``labels`` column (outcome, decision, final decision,
    checked flag: each an axis) and, when ``score`` is set, by the score's
    histogram bin (the last axis). Each ``amounts`` column gets its own
    histogram per cell with its sums. ``roles`` says what each label column
    is (``outcome``, ``decision``, ``final``, ``checked``). ``count`` names a
    column of counts when each row is a cell of an aggregate table.
    """

    def label_axis(self, role: str) -> int | None:
        """Position of the label axis with ``role`` among the label axes, or None."""
        return self.roles.index(role) if role in self.roles else None

    protected: tuple[str, ...]
    labels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    score: NumericAxis | None = None
    amounts: tuple[NumericAxis, ...] = ()
    weight: str | None = None
    count: str | None = None
    where: str | None = None
    max_groups: int = 50

    @property
    def columns(self) -> tuple[str, ...]:
        cols = list(self.protected) + list(self.labels)
        cols += [a.column for a in ((self.score,) if self.score else ()) + self.amounts]
        cols += [c for c in (self.weight, self.count) if c]
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class Histogram:
    """The bins of a numeric axis: ascending values (exact values, or lower edges when binned)."""

    values: np.ndarray
    exact: bool
    binning: Binning


@dataclass(frozen=True)
class AmountCounts:
    """One amount column per cell: histogram (last slot: missing) and sums of the values."""

    column: str
    histogram: Histogram
    rows: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray
    sum_wx: np.ndarray
    sum_wx2: np.ndarray


@dataclass(frozen=True)
class RawCounts:
    """Counts per cell × label values (× score bin), as an engine returns them.

    Axis ``k < len(levels)`` holds the observed values of protected column
    ``k`` plus a final slot for a missing value; then one axis per label
    column (its values plus a missing slot); then, with a score, one slot per
    histogram bin plus a missing slot. ``score_sum`` and ``score_sq`` hold
    Σw·s and Σw·s² per entry for a binned score (None when exact: the values
    give them).
    """

    levels: tuple[tuple[str, ...], ...]
    label_values: tuple[tuple[str, ...], ...]
    score: Histogram | None
    rows: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray
    score_sum: np.ndarray | None
    score_sq: np.ndarray | None
    amounts: tuple[AmountCounts, ...]
    rows_read: int
    engine: str

    def axis_rows(self, axis: int) -> np.ndarray:
        """Rows per slot of one axis (its values, then the missing slot), summed over every other axis."""
        return self.rows.sum(axis=tuple(a for a in range(self.rows.ndim) if a != axis))


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

    def sort_keys(self) -> list[Any]:
        return [label_order(label) for label in self.labels]

    @property
    def fixed(self) -> bool:
        """Whether codes are the same in every chunk (categories, small integer ranges)."""
        return self._mode != "generic"

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


class _NumericEncoder:
    """Histogram codes of a numeric column: one per distinct value (exact) or per bin (binned).

    The global codes are in order of first appearance; ``sort_keys`` gives
    each code's value (exact) or bin code (binned), which orders them.
    """

    def __init__(self, column: str, values: np.ndarray, binning: Binning) -> None:
        self.column = column
        self.binning = binning
        self._values = values
        self._keys = np.empty(0, dtype=np.float64)
        self._sorted = np.empty(0, dtype=np.float64)
        self._order = np.empty(0, dtype=np.int64)
        self._offset: int | None = None
        self._scale = 1.0
        scale = _decimal_scale(values) if binning.exact and binning.decimal and values.size else None
        if scale is not None:
            low = float(np.nanmin(values)) if values.dtype.kind == "f" else float(values.min())
            high = float(np.nanmax(values)) if values.dtype.kind == "f" else float(values.max())
            if np.isfinite(low) and np.isfinite(high):
                low_code, high_code = int(np.rint(low * scale)), int(np.rint(high * scale))
                if high_code - low_code < DENSE_RANGE:
                    self._offset, self._scale = low_code, scale
                    self._keys = np.arange(low_code, high_code + 1, dtype=np.float64) / scale
                    self._identity = np.append(np.arange(high_code - low_code + 1), -1)

    @property
    def labels(self) -> list[str]:
        return [repr(float(k)) for k in self._keys]

    @property
    def fixed(self) -> bool:
        return self._offset is not None

    def sort_keys(self) -> list[Any]:
        return list(self._keys)

    def keys(self) -> np.ndarray:
        return self._keys

    def codes(self, start: int, stop: int) -> np.ndarray:
        """Bin keys of a chunk as float (NaN = missing): the value itself, or the binned code."""
        chunk = self._values[start:stop].astype(np.float64, copy=False)
        if self.binning.exact:
            return chunk
        b = self.binning
        u = np.clip(np.floor((chunk - b.low) / b.width), 0, b.bins - 1)
        seg = np.searchsorted(np.asarray(b.splits, dtype=np.float64), chunk, side="right")
        return np.where(np.isnan(chunk), np.nan, u * (len(b.splits) + 1) + seg)

    def encode(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        if self._offset is not None:
            chunk = self._values[start:stop]
            size = len(self._keys) + 1
            if chunk.dtype.kind == "f":
                missing = np.isnan(chunk)
                scaled = np.rint(np.where(missing, 0.0, chunk) * self._scale)
                if not ((scaled / self._scale == chunk) | missing).all():
                    raise NotDecimal(self.column)  # the sample's decimals do not hold for every value
                codes = np.where(missing, size - 1, scaled - self._offset).astype(np.int64)
            else:
                codes = chunk.astype(np.int64) - self._offset
            return codes, self._identity
        keys = self.codes(start, stop)
        local, uniques = pd.factorize(keys, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=np.float64)
        position = np.searchsorted(self._sorted, uniques)
        found = position < self._sorted.size
        found[found] = self._sorted[position[found]] == uniques[found]
        to_global = np.empty(uniques.size + 1, dtype=np.int64)
        to_global[:-1][found] = self._order[position[found]]
        new = uniques[~found]
        if new.size:
            to_global[:-1][~found] = np.arange(self._keys.size, self._keys.size + new.size)
            self._keys = np.concatenate([self._keys, new])
            if self.binning.exact and self._keys.size > MAX_EXACT_VALUES:
                raise TooManyValues(self.column)
            self._order = np.argsort(self._keys, kind="stable")
            self._sorted = self._keys[self._order]
        to_global[-1] = -1
        codes = local.astype(np.int64)
        codes[codes < 0] = uniques.size
        return codes, to_global


def _decimal_scale(values: np.ndarray) -> float | None:
    """10**d when the first values look like numbers with at most d (≤ 6) decimals, else None.

    Only a hint from a sample: the caller checks every value before relying on it.
    """
    if values.dtype.kind in "iu":
        return 1.0
    sample = values[:1024]
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return None
    for digits in range(7):
        scale = 10.0 ** digits
        if np.array_equal(np.rint(sample * scale) / scale, sample):
            return scale
    return None


class _NoAxis:
    """Stand-in for an absent label column: every row is in the missing slot."""

    labels: list[str] = []
    fixed = True

    def sort_keys(self) -> list[Any]:
        return []

    def encode(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(stop - start, dtype=np.int64), np.array([-1], dtype=np.int64)


class _TooMany(Exception):
    def __init__(self, column: str, limit: int) -> None:
        super().__init__(column)
        self.column, self.limit = column, limit


class NotDecimal(Exception):
    """A float column whose first values looked like few-decimal numbers, but not all are; count it generically."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


class TooManyValues(Exception):
    """A numeric column has more distinct values than an exact histogram holds; count it binned."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


@dataclass
class _Table:
    """One count table, gathered chunk by chunk.

    When every axis has fixed codes (categories, small integer ranges), each
    chunk's ``bincount`` is added straight into one dense array; otherwise the
    chunk's non-zero entries are kept with their global codes and summed at the end.
    """

    keys: list[np.ndarray] = field(default_factory=list)
    sums: list[list[np.ndarray]] = field(default_factory=list)
    dense: list[np.ndarray | None] | None = None
    maps: list[np.ndarray] | None = None

    def add(self, encoded: list[tuple[np.ndarray, np.ndarray]], weights: list[np.ndarray | None],
            fixed: bool = False) -> None:
        """Count one chunk: ``weights[0]`` weighs the rows (None: 1 per row), the others are summed."""
        sizes = [len(g) for _, g in encoded]
        index = np.array(encoded[0][0], dtype=np.intp)
        for (codes, _), size in zip(encoded[1:], sizes[1:]):
            index *= size
            index += codes
        total = int(np.prod(sizes))
        if fixed:
            if self.dense is None:
                self.dense = [None] * len(weights)
                self.maps = [g for _, g in encoded]
            for i, w in enumerate(weights):
                if i > 0 and w is None:
                    continue  # without weights the weight sums equal the row counts
                counts = np.bincount(index, weights=w, minlength=total)
                self.dense[i] = counts if self.dense[i] is None else self.dense[i] + counts
            return
        rows = np.bincount(index, weights=weights[0], minlength=total)
        nonzero = np.flatnonzero(rows)
        local = np.unravel_index(nonzero, sizes)
        self.keys.append(np.stack([g[c] for (_, g), c in zip(encoded, local)]))
        sums = [rows[nonzero]]
        for w in weights[1:]:
            sums.append(rows[nonzero].astype(np.float64) if w is None
                        else np.bincount(index, weights=w, minlength=total)[nonzero])
        self.sums.append(sums)

    def finish(self) -> None:
        """Turn the dense accumulation (if any) into the sparse pieces the assembly reads."""
        if self.dense is None or self.dense[0] is None:
            return
        assert self.maps is not None
        rows = self.dense[0]
        nonzero = np.flatnonzero(rows)
        local = np.unravel_index(nonzero, [len(g) for g in self.maps])
        self.keys.append(np.stack([g[c] for g, c in zip(self.maps, local)]))
        self.sums.append([rows[nonzero]] + [(d if d is not None else rows)[nonzero].astype(np.float64)
                                            for d in self.dense[1:]])
        self.dense = None


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as numpy: plain integers as they are (no copy), anything else as float64 with NaN."""
    series = frame[column]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _count_pandas(frame: pd.DataFrame, plan: CountPlan) -> RawCounts:
    n = len(frame)
    try:
        protected: list[Any] = [_Encoder(c, frame[c], plan.max_groups) for c in plan.protected]
        label_axes: list[Any] = [_Encoder(c, frame[c], LABEL_LIMIT) for c in plan.labels]
    except _TooMany as error:
        raise _too_many_groups(error.column, f"more than {error.limit}", error.limit) from None
    score = _NumericEncoder(plan.score.column, _numeric(frame, plan.score.column), plan.score.binning) \
        if plan.score else None
    amounts = [_NumericEncoder(a.column, _numeric(frame, a.column), a.binning) for a in plan.amounts]
    amount_values = [_numeric(frame, a.column) for a in plan.amounts]
    score_values = _numeric(frame, plan.score.column) if plan.score and not plan.score.binning.exact else None
    weights = frame[plan.weight].to_numpy(dtype=np.float64) if plan.weight else None
    counts = frame[plan.count].to_numpy(dtype=np.float64) if plan.count else None
    main, amount_tables = _Table(), [_Table() for _ in amounts]
    main_axes = protected + label_axes + ([score] if score else [])
    main_fixed = all(e.fixed for e in main_axes)
    amount_fixed = [all(e.fixed for e in protected) and a.fixed for a in amounts]
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        try:
            cells = [e.encode(start, stop) for e in protected]
            encoded = cells + [e.encode(start, stop) for e in main_axes[len(protected):]]
        except _TooMany as error:
            raise _too_many_groups(error.column, f"more than {error.limit}", error.limit) from None
        c = None if counts is None else counts[start:stop]
        w = None if weights is None else weights[start:stop]
        rw = c if c is not None else None
        ww = w * c if (w is not None and c is not None) else (w if w is not None else c)
        ww2 = (w * w * c if c is not None else w * w) if w is not None else c
        sums = [rw, ww, ww2]
        if score_values is not None:
            s = np.nan_to_num(score_values[start:stop])
            base = ww if ww is not None else np.ones(stop - start)
            sums += [base * s, base * s * s]
        main.add(encoded, sums, main_fixed)
        for encoder, table, values, fixed in zip(amounts, amount_tables, amount_values, amount_fixed):
            x = np.nan_to_num(values[start:stop])
            base = ww if ww is not None else np.ones(stop - start)
            table.add(cells + [encoder.encode(start, stop)], [rw, ww, ww2, base * x, base * x * x], fixed)
    for table in [main] + amount_tables:
        table.finish()
    rows_read = int(counts.sum()) if counts is not None else n
    raw = _assemble(plan, main_axes, main, [(e, t) for e, t in zip(amounts, amount_tables)],
                    rows_read=rows_read, engine="pandas")
    histograms = ([raw.score] if raw.score else []) + [a.histogram for a in raw.amounts]
    for histogram, axis in zip(histograms, ([plan.score] if plan.score else []) + list(plan.amounts)):
        if histogram.exact and histogram.values.size > MAX_EXACT_VALUES:  # the rule of every engine
            raise TooManyValues(axis.column)
    return raw


def _dense(shape: list[int], keys: list[np.ndarray], sums: list[list[np.ndarray]], count: int) -> list[np.ndarray]:
    """Dense arrays (slot -1 = missing) from the sparse pieces of a table, summed with ``bincount``."""
    size = int(np.prod(shape))
    if not keys:
        return [np.zeros(shape, dtype=np.int64)] + [np.zeros(shape, dtype=np.float64) for _ in range(count - 1)]
    key = np.concatenate(keys, axis=1)
    key = np.where(key < 0, np.array(shape)[:, None] - 1, key)
    flat = np.ravel_multi_index(tuple(key), shape)
    arrays = []
    for i in range(count):
        values = np.concatenate([p[i] for p in sums]).astype(np.float64)
        total = np.bincount(flat, weights=values, minlength=size).reshape(shape)
        arrays.append(np.rint(total).astype(np.int64) if i == 0 else total)
    return arrays


def _assemble(plan: CountPlan, axes: list[Any], main: _Table,
              amounts: list[tuple[_NumericEncoder, _Table]], *, rows_read: int, engine: str) -> RawCounts:
    """Dense, sorted arrays from the sparse tables; values that never occur are dropped."""
    k = len(plan.protected)
    shape = [len(a.sort_keys()) + 1 for a in axes]
    arrays = _dense(shape, main.keys, main.sums, 5 if plan.score and not plan.score.binning.exact else 3)
    amount_arrays = [(_dense(shape[:k] + [len(e.sort_keys()) + 1], t.keys, t.sums, 5), e) for e, t in amounts]
    kept_labels: list[list[str]] = []
    takes: list[np.ndarray] = []
    for axis, encoder in enumerate(axes):
        keys = encoder.sort_keys()
        names = encoder.labels
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        other = tuple(a for a in range(len(shape)) if a != axis)
        used = arrays[0].sum(axis=other) > 0
        order = [i for i in order if used[i]]
        takes.append(np.array(order + [len(keys)], dtype=np.int64))
        kept_labels.append([names[i] for i in order])
    for axis, take in enumerate(takes):
        arrays = [np.take(a, take, axis=axis) for a in arrays]
    for axis in range(k):
        if len(kept_labels[axis]) > plan.max_groups:
            raise _too_many_groups(plan.protected[axis], str(len(kept_labels[axis])), plan.max_groups)
    score = None
    if plan.score is not None:
        encoder = axes[-1]
        score = _histogram(encoder, takes[-1][:-1])
    amount_counts = []
    for (array_set, encoder), spec in zip(amount_arrays, plan.amounts):
        for axis in range(k):
            array_set = [np.take(a, takes[axis], axis=axis) for a in array_set]
        keys = encoder.sort_keys()
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        used = array_set[0].sum(axis=tuple(range(k))) > 0
        order = [i for i in order if used[i]]
        take = np.array(order + [len(keys)], dtype=np.int64)
        rows, w, w2, wx, wx2 = (np.take(a, take, axis=k) for a in array_set)
        amount_counts.append(AmountCounts(column=spec.column, histogram=_histogram(encoder, take[:-1]),
                                          rows=rows, weights=w, weights_sq=w2, sum_wx=wx.sum(axis=k),
                                          sum_wx2=wx2.sum(axis=k)))
    extra = arrays[3:] if len(arrays) > 3 else [None, None]
    return RawCounts(levels=tuple(tuple(l) for l in kept_labels[:k]),
                     label_values=tuple(tuple(l) for l in kept_labels[k:k + len(plan.labels)]),
                     score=score, rows=arrays[0], weights=arrays[1], weights_sq=arrays[2],
                     score_sum=extra[0], score_sq=extra[1], amounts=tuple(amount_counts),
                     rows_read=rows_read, engine=engine)


def _histogram(encoder: Any, take: np.ndarray) -> Histogram:
    keys = np.asarray(encoder.sort_keys(), dtype=np.float64)[take] if len(take) else np.empty(0)
    binning = encoder.binning
    values = keys if binning.exact else binning.lower_edges(keys.astype(np.int64))
    return Histogram(values=values, exact=binning.exact, binning=binning)


# -- the DuckDB engine -------------------------------------------------------

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")


def is_numeric_sql_type(type_name: str) -> bool:
    """Whether a DuckDB type name is a number (integers, floats, decimals)."""
    upper = type_name.upper()
    return upper in _NUMERIC or upper.startswith("DECIMAL")


def _numeric_sql(dialect: Dialect, column: str, binning: Binning) -> str:
    """SQL for the histogram key of a numeric column: the value (exact) or the bin code (binned), NULL if missing."""
    x = dialect.number(column)
    if binning.exact:
        return x
    u = f"least(greatest(floor(({x} - {binning.low!r}) / {binning.width!r}), 0), {binning.bins - 1})"
    seg = " + ".join(dialect.integer(f"{x} >= {t!r}") for t in binning.splits) or "0"
    return f"({u} * {len(binning.splits) + 1} + {seg})"


class _SqlAxis:
    """Labels of one axis as a SQL engine returns them, in the protocol of the pandas encoders."""

    def __init__(self, column: str, limit: int | None, numeric: Binning | None = None) -> None:
        self.column, self.limit, self.binning = column, limit, numeric
        self.labels: list[str] = []
        self._keys: list[Any] = []
        self._index: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        if self.binning is not None:
            if value is None or (isinstance(value, float) and np.isnan(value)):
                return -1
            key: Any = float(value)
            label = repr(key)
        else:
            label = format_label(value)
            if label is None:
                return -1
            key = label_order(label)
        code = self._index.get(label)
        if code is None:
            code = self._index[label] = len(self.labels)
            self.labels.append(label)
            self._keys.append(key)
            if self.limit is not None and len(self.labels) > self.limit:
                raise _TooMany(self.column, self.limit)
        return code

    def codes(self, values: Any) -> np.ndarray:
        """:meth:`code` of every value of a column (pandas Series), computed once per distinct value."""
        inverse, uniques = pd.factorize(values, use_na_sentinel=True)
        if not len(uniques):
            return np.full(len(values), -1, dtype=np.int64)
        mapped = np.array([self.code(u) for u in uniques] + [-1], dtype=np.int64)
        return mapped[inverse]  # the sentinel -1 picks the last entry: missing

    def sort_keys(self) -> list[Any]:
        return self._keys


@dataclass(frozen=True)
class _CountQuery:
    """The counting query of a plan on one table, and how to read its result back."""

    sql: str
    kept: bool                  # whether ``kept`` is a key (the filter evaluated per row, not pushed into the scan)
    pushed: bool                # whether the filter is a WHERE in the scan (rows read counted apart)
    folded: tuple[tuple[str, int, int, int], ...] = ()  # label keys packed into ``lf``: (name, low, size, stride)

    def unfold(self, result: pd.DataFrame) -> pd.DataFrame:
        """The result with the packed label key ``lf`` split back into its columns (NaN for a missing value)."""
        if not self.folded:
            return result
        packed = result["lf"].to_numpy(dtype=np.int64)
        columns = {}
        for name, low, size, stride in self.folded:
            code = (packed // stride) % size
            columns[name] = np.where(code == size - 1, np.nan, code + low)
        return result.assign(**columns)


_MAX_PACKED = 2 ** 31  # packed keys stay in 32-bit integer arithmetic


def _fold(table: SqlTable, plan: CountPlan) -> tuple[tuple[str, int, int, int], ...]:
    """Narrow integer label columns packed into one grouping key (one key hashes faster than several)."""
    ranges = [(f"l{i}", table.small_range(c)) for i, c in enumerate(plan.labels)]
    narrow = [(name, r) for name, r in ranges if r is not None]
    folded, stride = [], 1
    for name, (low, high) in narrow:
        size = high - low + 2  # the last code is a missing value
        if stride * size >= _MAX_PACKED:
            break
        folded.append((name, low, size, stride))
        stride *= size
    return tuple(folded) if len(folded) > 1 else ()


def _count_query(table: SqlTable, plan: CountPlan) -> _CountQuery:
    """One aggregation: the main counts and (as further grouping sets) one histogram per amount, per cell."""
    d = table.dialect
    k = len(plan.protected)
    keys = [f"{table.value_sql(c)} AS k{i}" for i, c in enumerate(plan.protected)]
    folded = _fold(table, plan)
    packed = {name for name, *_ in folded}
    labels = [(f"l{i}", c) for i, c in enumerate(plan.labels) if f"l{i}" not in packed]
    keys += [f"{table.value_sql(c)} AS {name}" for name, c in labels]
    main_keys = [f"k{i}" for i in range(k)] + [name for name, _ in labels]
    if folded:
        columns = {f"l{i}": d.quote(c) for i, c in enumerate(plan.labels)}
        # `x + 128`, not `x - (-128)`: the literal 128 does not fit x's type, so the sum is computed wider
        keys.append(" + ".join(f"coalesce({columns[name]} {'+' if low < 0 else '-'} {abs(low)}, {size - 1}) * {stride}"
                               for name, low, size, stride in folded) + " AS lf")
        main_keys.append("lf")
    if plan.score:
        keys.append(f"{_numeric_sql(d, plan.score.column, plan.score.binning)} AS s")
        main_keys.append("s")
    keys += [f"{_numeric_sql(d, a.column, a.binning)} AS a{j}" for j, a in enumerate(plan.amounts)]
    pushed = bool(plan.where) and table.cheap_row_count
    kept = bool(plan.where) and not pushed
    inner = [f"{d.kept(plan.where)} AS kept"] if kept else []
    factors = [name for name, column in (("c", plan.count), ("w", plan.weight)) if column]
    inner += [f"{d.double(d.quote(column))} AS {name}" for name, column in (("c", plan.count), ("w", plan.weight))
              if column]
    if plan.score:
        inner.append(f"{d.number(plan.score.column)} AS sv")
    inner += [f"{d.number(a.column)} AS av{j}" for j, a in enumerate(plan.amounts)]

    def total(*terms: str) -> str:
        product = " * ".join(factors + list(terms))
        return f"sum({product})" if product else "count(*)"

    aggregates = ["sum(c) AS n" if plan.count else "count(*) AS n"]
    if plan.weight:  # without weights every person weighs 1: the weight sums are the counts
        aggregates += [f"{total()} AS w", f"{total('w')} AS w2"]
    if plan.score:
        aggregates += [f"{total('sv')} AS sw", f"{total('sv', 'sv')} AS sw2"]
    for j in range(len(plan.amounts)):
        aggregates += [f"{total(f'av{j}')} AS aw{j}", f"{total(f'av{j}', f'av{j}')} AS aw2_{j}"]
    tail = ["kept"] if kept else []
    sets = [main_keys + tail] + [[f"k{i}" for i in range(k)] + [f"a{j}"] + tail for j in range(len(plan.amounts))]
    names = list(dict.fromkeys(sum(sets, [])))
    # the mask over every key (Spark's grouping_id takes all of them, in order); the amounts' keys come last
    set_id = d.grouping(names) if plan.amounts else "0"
    # one set (no amounts) is a plain GROUP BY, which engines run a little faster
    grouping = ", ".join(names) if len(sets) == 1 else \
        "GROUPING SETS (" + ", ".join("(" + ", ".join(s_) + ")" for s_ in sets) + ")"
    where = f" WHERE {d.kept(plan.where)}" if pushed else ""
    sql = (f"SELECT {', '.join(names)}, {set_id} AS set_id, {', '.join(aggregates)} "
           f"FROM (SELECT {', '.join(keys + inner)} FROM {table.source}{where}) AS audit_rows "
           f"GROUP BY {grouping}")
    return _CountQuery(sql=sql, kept=kept, pushed=pushed, folded=folded)


def _sums(result: pd.DataFrame, plan: CountPlan) -> np.ndarray:
    """The sums of the result in the fixed order n, w, w2, [sw, sw2], [aw_j, aw2_j]… (weights 1 when none)."""
    def column(name: str) -> np.ndarray:
        return result[name].to_numpy(dtype=np.float64, na_value=0.0)

    n = column("n")
    parts = [n, column("w") if plan.weight else n, column("w2") if plan.weight else n]
    if plan.score:
        parts += [column("sw"), column("sw2")]
    for j in range(len(plan.amounts)):
        parts += [column(f"aw{j}"), column(f"aw2_{j}")]
    return np.column_stack(parts) if len(result) else np.empty((0, len(parts)))


def count_sql(table: SqlTable, plan: CountPlan, *, progress: Progress | None = None) -> RawCounts:
    """Count a SQL table with one ``GROUP BY GROUPING SETS`` query run by its engine; only the counts come back.

    Parameters
    ----------
    table : SqlTable
        The input (DuckDB, PostgreSQL or Spark); read, never written.
    plan : CountPlan
        What to count. ``plan.where`` is SQL of the table's engine; rows where
        it is false or NULL are dropped. On Parquet files it is pushed into the
        scan as a ``WHERE`` and the rows read are counted from the files'
        metadata; elsewhere it is evaluated per row in the same pass.
    progress : Progress, optional
        Hears how far the query is while it runs.

    Raises
    ------
    DataError
        ``WHERE_INVALID`` when the filter is not valid SQL on this data (or
        reads a file over data in memory), ``TOO_MANY_GROUPS`` when a
        protected column has more than ``plan.max_groups`` values,
        ``DATA_UNREADABLE`` when the engine cannot count the data.
    """
    query = _count_query(table, plan)
    try:
        result = table.fetch(query.sql, progress=progress)
        rows_total = (int(table.fetch(f"SELECT count(*) AS n FROM {table.source}")["n"].iloc[0])
                      if query.pushed else None)
    except SqlFailure as error:
        raise _sql_error(error, plan, table.columns) from None
    return _decode(query.unfold(result), plan, query, rows_total, engine=table.engine)


def _decode(result: pd.DataFrame, plan: CountPlan, query: _CountQuery, rows_total: int | None, *,
            engine: str) -> RawCounts:
    """The counting query's result as :class:`RawCounts` (labels in the engines' common form)."""
    k = len(plan.protected)
    axes: list[Any] = [_SqlAxis(c, plan.max_groups) for c in plan.protected]
    axes += [_SqlAxis(c, LABEL_LIMIT) for c in plan.labels]
    if plan.score:
        axes.append(_SqlAxis(plan.score.column, None, plan.score.binning))
    amount_axes = [_SqlAxis(a.column, None, a.binning) for a in plan.amounts]
    main, amount_tables = _Table(), [_Table() for _ in plan.amounts]
    sums = _sums(result, plan)
    set_ids = result["set_id"].to_numpy(dtype=np.int64) & ((1 << len(plan.amounts)) - 1)
    kept = (result["kept"].to_numpy(dtype=bool, na_value=False) if query.kept
            else np.ones(len(result), dtype=bool))
    n_amounts = len(plan.amounts)
    is_main = set_ids == (1 << n_amounts) - 1 if n_amounts else np.ones(len(result), dtype=bool)
    rows_read = rows_total if rows_total is not None else int(round(sums[is_main, 0].sum())) if len(result) else 0
    try:
        rows = is_main & kept
        if rows.any():
            chosen = result[rows]
            names = [f"k{i}" for i in range(k)] + [f"l{i}" for i in range(len(plan.labels))] + ["s"]  # one per axis
            main.keys.append(np.stack([axis.codes(chosen[name]) for axis, name in zip(axes, names)]))
            main.sums.append(list(sums[rows][:, :5 if plan.score else 3].T))
        for j in range(n_amounts):
            rows = (set_ids == (1 << n_amounts) - 1 - (1 << (n_amounts - 1 - j))) & kept
            if not rows.any():
                continue
            chosen = result[rows]
            key = [axis.codes(chosen[f"k{i}"]) for i, axis in enumerate(axes[:k])]
            key.append(amount_axes[j].codes(chosen[f"a{j}"]))
            offset = 3 + (2 if plan.score else 0) + 2 * j
            amount_tables[j].keys.append(np.stack(key))
            amount_tables[j].sums.append(list(np.concatenate([sums[rows][:, :3], sums[rows][:, offset:offset + 2]],
                                                             axis=1).T))
    except _TooMany as error:
        raise _too_many_groups(error.column, f"more than {error.limit}", error.limit) from None
    return _assemble(plan, axes, main, list(zip(amount_axes, amount_tables)), rows_read=rows_read, engine=engine)


def _sql_error(error: SqlFailure, plan: CountPlan, columns: Sequence[str]) -> DataError:
    """A query the engine refused, worded as the filter's problem (when there is one) or the data's."""
    text = error.text
    if plan.where and error.permission:  # a locked connection: data in memory
        return DataError(f"data.where: the filter \"{plan.where}\" tries to read a file or URL, and file access is "
                         f"not allowed in a filter over data in memory (an upload or a table passed in). Write a "
                         f"boolean SQL expression over the data's columns only, e.g. \"age >= 18 AND region <> "
                         f"'X'\"", reason=ReasonCode.WHERE_INVALID)
    if plan.where:
        import re

        missing = re.search(r'column "?`?([^"`\s]+)`?"? (?:not found|does not exist|cannot be resolved)', text,
                            flags=re.IGNORECASE)
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
    """Count a pandas frame in one chunked numpy pass (no ``where``; see module doc).

    Raises :class:`TooManyValues` when a numeric column planned as exact has
    more than ``MAX_EXACT_VALUES`` distinct values; the caller bins it and counts again.
    """
    while True:
        try:
            return _count_pandas(frame, plan)
        except NotDecimal as error:
            plan = with_binning(plan, error.column, Binning(exact=True, decimal=False))


def binning_between(low: float, high: float, splits: Sequence[float] = (), median: float | None = None) -> Binning:
    """``HISTOGRAM_BINS`` equal-width bins from ``low`` to ``high``, split at each of ``splits``."""
    width = (high - low) / HISTOGRAM_BINS if high > low else 1.0
    return Binning(exact=False, low=low, width=width, bins=HISTOGRAM_BINS,
                   splits=tuple(sorted({float(t) for t in splits})), median=median)


def with_binning(plan: CountPlan, column: str, binning: Binning) -> CountPlan:
    """The plan with ``column`` (the score or an amount) counted with ``binning``."""
    from dataclasses import replace

    score = plan.score
    if score is not None and score.column == column:
        score = NumericAxis(column, binning)
    amounts = tuple(NumericAxis(a.column, binning) if a.column == column else a for a in plan.amounts)
    return replace(plan, score=score, amounts=amounts)
