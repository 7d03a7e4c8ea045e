"""Proxy detection: how strongly each other column of the data reveals a protected attribute.

A model that never sees ``ethnicity`` can still use it through a stand-in:
the district someone lives in, the province of their household registration,
the language of their application. :func:`scan_proxies` measures, for every
candidate column and every protected attribute, the association between the
two, ranks the candidates within each protected attribute and flags those at
or above a threshold.

One measure serves every column so one threshold and one ranking serve them
all: **Cramér's V** (no bias correction) of the contingency table protected ×
candidate. A categorical candidate enters the table with its values; a numeric
candidate with its quantile bins (deciles by default). Missing values (NULL,
and NaN in floating-point columns) are a category of their own, on both sides.
Numeric candidates also get the strongest one-vs-rest **AUC** of the column
over the protected groups, and every scored row gets the **normalised mutual
information** (the share of the protected attribute's entropy the column's
categories or bins reveal).

All counting happens in DuckDB; Python only sees contingency tables and
histograms. Queries per scan, whatever the number of candidate columns:

1. one profile (row count and approximate distinct counts of every column);
2. at most one exact distinct count, for the columns whose approximate count
   lies near a decision boundary (``numeric_bins``, ``max_levels``);
3. one quantile query for all numeric candidates (if there are any);
4. one ``GROUPING SETS`` aggregation counting the tables of every categorical
   candidate and of every numeric candidate with at most 5,000 distinct values
   against every protected attribute at once;
5. one aggregation per numeric candidate with more than 5,000 distinct values,
   which computes its binned table and its exact AUC in DuckDB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from audit.counts import is_numeric_sql_type
from audit.sql import quote_identifier, without_nan
from audit.errors import DataError, Problem, ReasonCode, UsageError, did_you_mean, format_problems

if TYPE_CHECKING:
    import duckdb

__all__ = ["ProxyScan", "scan_proxies", "TABLE_COLUMNS", "EXACT_AUC_VALUES"]

TABLE_COLUMNS: tuple[str, ...] = ("protected", "column", "kind", "measure", "strength", "auc", "nmi", "levels",
                                  "n", "flagged", "rank", "status", "reason")
"""The columns of :attr:`ProxyScan.table`, in order."""

EXACT_AUC_VALUES = 5_000
"""A numeric candidate with at most this many distinct values has its value histogram counted in the shared
aggregation and its AUC computed in Python; above it, the AUC is computed inside DuckDB. Both are exact."""

OK, UNDEFINED, SKIPPED = "ok", "undefined", "skipped"
CATEGORICAL, NUMERIC = "categorical", "numeric"

_VIEW = "_audit_proxy_scan"
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})


@dataclass(frozen=True)
class ProxyScan:
    """The result of :func:`scan_proxies`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (protected attribute, candidate column), columns :data:`TABLE_COLUMNS`:

        - ``protected``, ``column``: the pair scored.
        - ``kind``: ``"categorical"`` or ``"numeric"``.
        - ``measure``: ``"Cramér's V"``, ``"Cramér's V (deciles)"`` or ``"Cramér's V (N quantile bins)"``.
        - ``strength``: Cramér's V, unitless in [0, 1]; NaN when undefined or skipped.
        - ``auc``: numeric candidates only: max over the protected groups of max(AUC, 1 − AUC) of the column
          separating the group from the rest, in [0.5, 1]; rows where the candidate is missing are left
          out. NaN for categorical candidates (categories have no order) and when undefined.
        - ``nmi``: mutual information of protected × candidate categories (or bins), divided by the entropy
          of the protected attribute; unitless in [0, 1] (bits per bit).
        - ``levels``: columns of the contingency table (categories or non-empty bins, the missing
          category included); for a skipped candidate, its number of distinct values.
        - ``n``: rows scanned.
        - ``flagged``: ``strength >= threshold`` (False when strength is NaN).
        - ``rank``: 1 for the strongest candidate of each protected attribute (ties share the smaller
          rank); NaN for undefined and skipped rows.
        - ``status``: ``"ok"``, ``"undefined"`` or ``"skipped"``; ``reason`` says why when not ok.

        Sorted by protected attribute (in the order given), then strength descending (NaN last).
    threshold : float
        The Cramér's V at or above which a column is flagged.
    notes : tuple of str
        Plain-language remarks for the report (skipped columns, how AUC and bins are defined).
    """

    table: pd.DataFrame
    threshold: float
    notes: tuple[str, ...]

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged rows of :attr:`table` (a copy)."""
        return self.table[self.table["flagged"]].reset_index(drop=True)


@dataclass(frozen=True)
class _Candidate:
    name: str
    kind: Literal["categorical", "numeric"]
    distinct: int
    skipped: bool = False
    in_duckdb: bool = False  # numeric with many values: binned table and AUC computed by DuckDB


@dataclass(frozen=True)
class _Scored:
    strength: float
    nmi: float
    auc: float
    levels: int
    status: str
    reason: str


def scan_proxies(relation: "duckdb.DuckDBPyRelation", protected: Sequence[str], *, exclude: Sequence[str] = (),
                 columns: Sequence[str] | None = None, threshold: float = 0.3, max_levels: int = 200,
                 numeric_bins: int = 10) -> ProxyScan:
    """Measure how strongly each candidate column reveals each protected attribute.

    Parameters
    ----------
    relation : duckdb.DuckDBPyRelation
        The data (a DataFrame, file or table opened by DuckDB). Never modified; it is only queried.
    protected : sequence of str
        Protected attribute columns. Each is treated as categorical; NULL (and NaN) is a group of its own.
    exclude : sequence of str
        Columns never scored (outcome, decision, score, weights). Names not in the relation are ignored.
    columns : sequence of str, optional
        The candidate columns. Default: every column not in ``protected``. ``exclude`` applies either way;
        a protected column listed here is scored against the *other* protected attributes.
    threshold : float
        Flag a candidate whose Cramér's V is at least this; in (0, 1].
    max_levels : int
        A categorical candidate with more distinct values than this (an identifier, free text) is skipped,
        not scored; so is every pair with a protected attribute that has more groups than this.
    numeric_bins : int
        A numeric column (a DuckDB number type with more than ``numeric_bins`` distinct values) is cut into
        this many equal-frequency bins; numbers with fewer distinct values are categorical.

    Returns
    -------
    ProxyScan
        The ranked table (see :class:`ProxyScan`), the threshold and notes.

    Raises
    ------
    DataError
        ``COLUMN_NOT_FOUND`` when a protected column or a listed candidate is not in the relation.
    UsageError
        ``THRESHOLD_INVALID`` for a threshold outside (0, 1]; ``SPEC_INVALID`` for no protected columns,
        ``numeric_bins`` below 2 or ``max_levels`` below 1.

    Notes
    -----
    *Cramér's V* is :math:`\\sqrt{\\chi^2 / (n\\,(\\min(r, c) - 1))}` with :math:`\\chi^2` Pearson's statistic
    of the r × c table of observed categories (empty rows and columns dropped), without Yates' or
    Bergsma's correction; it equals ``scipy.stats.contingency.association(table, method="cramer")``. It is
    undefined (status ``undefined``, strength NaN) when the table has a single row (one protected group,
    missing counted as a group) or a single column (a constant candidate), or no rows at all.

    *Numeric bins* are right-closed, ``(c[j-1], c[j]]``, between the cut points
    ``quantile_cont(x, j / numeric_bins)``, j = 1 … numeric_bins − 1, as ``pandas.qcut(x, numeric_bins,
    duplicates="drop")`` does: cut points equal to each other, to the minimum or to the maximum are dropped,
    so heavy ties merge bins. Missing values form one more bin. Binning trades detail for a scale shared
    with categorical columns: a column that reveals a group only within one bin is under-rated.

    *AUC* is the Mann–Whitney statistic P(X_g > X_rest) + ½ P(X_g = X_rest) of the column's exact values
    for each protected group g against all other rows (the missing group included), over rows where the
    column is not missing; the table reports the largest max(AUC, 1 − AUC). It is exact for every
    column (it equals ``sklearn.metrics.roc_auc_score``, ties included): from the per-group histogram of
    values in Python for at most :data:`EXACT_AUC_VALUES` distinct values, by window sums in DuckDB above.
    A maximum over groups favours small groups, whose AUC varies more by chance.

    *NMI* is I(P; C) / H(P), both in bits, from the same table as Cramér's V (for numeric columns the
    binned table): ``mutual_info_score(p, c) / ln 2`` divided by the entropy of ``p`` in bits.

    Distinct counts come from ``approx_count_distinct`` (HyperLogLog; a few percent off), checked by an
    exact count when they lie near ``numeric_bins`` or ``max_levels``; the count in a skip reason can be
    approximate when it is far above ``max_levels``.

    Examples
    --------
    >>> import duckdb, pandas as pd
    >>> frame = pd.DataFrame({"ethnicity": ["a", "a", "b", "b"] * 25, "district": ["x", "x", "y", "y"] * 25,
    ...                       "shoe": ["s", "t"] * 50})
    >>> scan = scan_proxies(duckdb.connect().from_df(frame), ["ethnicity"])
    >>> print(scan.table[["column", "strength", "flagged", "rank"]].to_string(index=False))
      column  strength  flagged  rank
    district       1.0     True   1.0
        shoe       0.0    False   2.0
    """
    protected, exclude_set, columns, threshold = _check_arguments(protected, exclude, columns, threshold,
                                                                  max_levels, numeric_bins)
    available = list(relation.columns)
    types = {name: str(type_).upper() for name, type_ in zip(available, relation.types)}
    _check_columns_exist(protected, columns, available)
    if columns is None:
        candidates = [c for c in available if c not in protected and c not in exclude_set]
    else:
        candidates = [c for c in dict.fromkeys(columns) if c not in exclude_set]
    notes: list[str] = []
    if not candidates:
        notes.append("no candidate columns to scan for proxies (every column is protected or excluded)")
        return ProxyScan(_empty_table(), threshold, tuple(notes))

    profiled = list(dict.fromkeys([*protected, *candidates]))
    rows, distinct = _profile(relation, profiled, types, numeric_bins, max_levels)
    groups_ok = {p: distinct[p] <= max_levels for p in protected}
    plans = [_plan(c, types[c], distinct[c], numeric_bins, max_levels) for c in candidates]
    numeric = [plan.name for plan in plans if plan.kind == NUMERIC]
    cuts = _cut_points(relation, numeric, types, numeric_bins, rows)
    scorable_protected = [p for p in protected if groups_ok[p]]

    results: dict[tuple[str, str], _Scored] = {}
    shared = [plan for plan in plans if not plan.skipped and not plan.in_duckdb]
    if scorable_protected and shared:
        results.update(_score_shared(relation, scorable_protected, shared, types, cuts, rows))
    for plan in plans:
        if plan.in_duckdb and scorable_protected:
            results.update(_score_in_duckdb(relation, scorable_protected, plan, types, cuts[plan.name], rows))

    records = []
    for p in protected:
        for plan in plans:
            if plan.name == p:
                continue
            measure = _measure_name(plan.kind, numeric_bins)
            if not groups_ok[p]:
                scored = _Scored(math.nan, math.nan, math.nan, distinct[p], SKIPPED,
                                 f"protected column '{p}' has {distinct[p]} distinct values (more than "
                                 f"max_levels={max_levels}); not scored")
            elif plan.skipped:
                scored = _Scored(math.nan, math.nan, math.nan, plan.distinct, SKIPPED,
                                 f"{plan.distinct} distinct values (an identifier or free text?); not scored")
            else:
                scored = results[(p, plan.name)]
            records.append({"protected": p, "column": plan.name, "kind": plan.kind, "measure": measure,
                            "strength": scored.strength, "auc": scored.auc, "nmi": scored.nmi,
                            "levels": scored.levels, "n": rows, "status": scored.status,
                            "reason": scored.reason})
    table = _finish_table(records, protected, threshold)
    notes.extend(_notes(table, plans, numeric_bins, max_levels))
    return ProxyScan(table, threshold, tuple(notes))


# --------------------------------------------------------------------------------------------- validation


def _check_arguments(protected: Sequence[str], exclude: Sequence[str], columns: Sequence[str] | None,
                     threshold: float, max_levels: int, numeric_bins: int
                     ) -> tuple[list[str], set[str], list[str] | None, float]:
    if isinstance(protected, str):
        protected = [protected]
    protected_list = list(dict.fromkeys(protected))
    if not protected_list:
        raise UsageError("parameter 'protected' of scan_proxies must name at least one column; got none",
                         reason=ReasonCode.SPEC_INVALID)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not (0 < float(threshold) <= 1):
        raise UsageError(f"parameter 'threshold' of scan_proxies must be a number in (0, 1] (a Cramér's V); "
                         f"got {threshold!r}", reason=ReasonCode.THRESHOLD_INVALID)
    for name, value, low in (("numeric_bins", numeric_bins, 2), ("max_levels", max_levels, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise UsageError(f"parameter '{name}' of scan_proxies must be an integer >= {low}; got {value!r}",
                             reason=ReasonCode.SPEC_INVALID)
    if isinstance(exclude, str):
        exclude = [exclude]
    if isinstance(columns, str):
        columns = [columns]
    return protected_list, set(exclude), (list(columns) if columns is not None else None), float(threshold)


def _check_columns_exist(protected: list[str], columns: list[str] | None, available: list[str]) -> None:
    missing = [("protected", p) for p in protected if p not in available]
    missing += [("candidate", c) for c in (columns or ()) if c not in available]
    if not missing:
        return
    problems = [Problem(f"{role} column '{name}'", f"not in the data{did_you_mean(name, available)}")
                for role, name in missing]
    names = ", ".join(f"'{name}'" for _, name in missing)
    raise DataError(format_problems(
        f"column {names} not found for the proxy scan; the data have the columns "
        f"{', '.join(repr(a) for a in available)}; correct the name or add the column", problems),
        reason=ReasonCode.COLUMN_NOT_FOUND, problems=problems)


# --------------------------------------------------------------------------------------------- SQL helpers


def _is_nested(type_name: str) -> bool:
    return "[" in type_name or type_name.startswith(("STRUCT", "MAP", "UNION"))


def _value_sql(name: str, type_name: str) -> str:
    """A column as a grouping key: NaN becomes NULL; nested types become text (so Python can hash them)."""
    q = quote_identifier(name)
    if type_name in _FLOAT_TYPES:
        return without_nan(q)
    if _is_nested(type_name):
        return f"{q}::VARCHAR"
    return q


def _number_sql(name: str, type_name: str) -> str:
    """A numeric column as DOUBLE, NaN as NULL."""
    q = quote_identifier(name)
    if type_name in _FLOAT_TYPES:
        return without_nan(f"{q}::DOUBLE")
    return f"{q}::DOUBLE"


def _double(value: float) -> str:
    return f"{value!r}::DOUBLE" if math.isfinite(value) else f"'{value!r}'::DOUBLE"


# --------------------------------------------------------------------------------------------- planning


def _profile(relation: Any, names: list[str], types: dict[str, str], numeric_bins: int,
             max_levels: int) -> tuple[int, dict[str, int]]:
    """Row count and distinct non-missing values per column; exact near the decision boundaries."""
    parts = ", ".join(f"approx_count_distinct({_value_sql(n, types[n])})" for n in names)
    values = relation.query(_VIEW, f"SELECT count(*), {parts} FROM {_VIEW}").fetchall()[0]
    rows = int(values[0])
    distinct = {n: int(v or 0) for n, v in zip(names, values[1:])}
    near = []
    for n in names:
        bounds = [max_levels] + ([numeric_bins] if is_numeric_sql_type(types[n]) else [])
        if any(0.7 * b - 3 <= distinct[n] <= 1.4 * b + 3 for b in bounds):
            near.append(n)
    if near:  # each of these has few distinct values, so an exact count is cheap
        parts = ", ".join(f"count(DISTINCT {_value_sql(n, types[n])})" for n in near)
        exact = relation.query(_VIEW, f"SELECT {parts} FROM {_VIEW}").fetchall()[0]
        distinct.update({n: int(v) for n, v in zip(near, exact)})
    return rows, distinct


def _plan(name: str, type_name: str, distinct: int, numeric_bins: int, max_levels: int) -> _Candidate:
    if is_numeric_sql_type(type_name) and distinct > numeric_bins:
        return _Candidate(name, NUMERIC, distinct, in_duckdb=distinct > EXACT_AUC_VALUES)
    return _Candidate(name, CATEGORICAL, distinct, skipped=distinct > max_levels)


def _measure_name(kind: str, numeric_bins: int) -> str:
    if kind == CATEGORICAL:
        return "Cramér's V"
    return "Cramér's V (deciles)" if numeric_bins == 10 else f"Cramér's V ({numeric_bins} quantile bins)"


def _cut_points(relation: Any, numeric: list[str], types: dict[str, str], numeric_bins: int,
                rows: int) -> dict[str, np.ndarray]:
    """Interior cut points of each numeric column: distinct quantiles strictly between minimum and maximum."""
    if not numeric or rows == 0:
        return {name: np.array([], dtype=float) for name in numeric}
    probabilities = "[" + ", ".join(_double(j / numeric_bins) for j in range(numeric_bins + 1)) + "]"
    parts = ", ".join(f"quantile_cont({_number_sql(n, types[n])}, {probabilities})" for n in numeric)
    values = relation.query(_VIEW, f"SELECT {parts} FROM {_VIEW}").fetchall()[0]
    cuts: dict[str, np.ndarray] = {}
    for name, quantiles in zip(numeric, values):
        q = np.array([v for v in (quantiles or []) if v is not None and not math.isnan(v)], dtype=float)
        if q.size < 2:
            cuts[name] = np.array([], dtype=float)
            continue
        low, high = q.min(), q.max()
        cuts[name] = np.unique(q[(q > low) & (q < high)])
    return cuts


# --------------------------------------------------------------------------------------------- counting


def _score_shared(relation: Any, protected: list[str], plans: list[_Candidate], types: dict[str, str],
                  cuts: dict[str, np.ndarray], rows: int) -> dict[tuple[str, str], _Scored]:
    """Every (protected, candidate) table of the shared candidates in one GROUPING SETS aggregation."""
    k = len(protected)
    selects = [f"{_value_sql(p, types[p])} AS _g{i}" for i, p in enumerate(protected)]
    selects += [f"{_number_sql(c.name, types[c.name]) if c.kind == NUMERIC else _value_sql(c.name, types[c.name])}"
                f" AS _c{j}" for j, c in enumerate(plans)]
    sets = ", ".join(f"(_g{i}, _c{j})" for i, p in enumerate(protected) for j, c in enumerate(plans)
                     if c.name != p)
    if not sets:
        return {}
    g_index = " + ".join(f"{i} * (1 - GROUPING(_g{i}))" for i in range(k))
    c_index = " + ".join(f"{j} * (1 - GROUPING(_c{j}))" for j in range(len(plans)))
    keys = ", ".join([f"_g{i}" for i in range(k)] + [f"_c{j}" for j in range(len(plans))])
    sql = (f"SELECT {g_index} AS _gi, {c_index} AS _ci, {keys}, count(*) AS _n "
           f"FROM (SELECT {', '.join(selects)} FROM {_VIEW}) GROUP BY GROUPING SETS ({sets})")
    result = relation.query(_VIEW, sql).fetchnumpy()
    g_idx = np.asarray(result["_gi"], dtype=np.int64)
    c_idx = np.asarray(result["_ci"], dtype=np.int64)
    counts = np.asarray(result["_n"], dtype=np.int64)
    key = g_idx * len(plans) + c_idx
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    scored: dict[tuple[str, str], _Scored] = {}
    for i, p in enumerate(protected):
        for j, plan in enumerate(plans):
            if plan.name == p:
                continue
            target = i * len(plans) + j
            sel = order[np.searchsorted(key_sorted, target, "left"):np.searchsorted(key_sorted, target, "right")]
            g_codes = _codes(result[f"_g{i}"][sel])
            values = result[f"_c{j}"][sel]
            n = counts[sel]
            if plan.kind == CATEGORICAL:
                table = _contingency(g_codes, _codes(values), n)
                scored[(p, plan.name)] = _score_table(table, rows, p, plan, math.nan)
            else:
                missing = np.ma.getmaskarray(values)
                x = np.asarray(np.ma.getdata(values), dtype=float)
                bins = np.where(missing, len(cuts[plan.name]) + 1, np.searchsorted(cuts[plan.name], x, "left"))
                table = _contingency(g_codes, bins, n)
                auc = _auc_from_histogram(g_codes[~missing], x[~missing], n[~missing])
                scored[(p, plan.name)] = _score_table(table, rows, p, plan, auc)
    return scored


def _score_in_duckdb(relation: Any, protected: list[str], plan: _Candidate, types: dict[str, str],
                     cuts: np.ndarray, rows: int) -> dict[tuple[str, str], _Scored]:
    """Binned tables and exact AUC of one many-valued numeric candidate against every protected attribute."""
    k = len(protected)
    x = _number_sql(plan.name, types[plan.name])
    selects = [f"{_value_sql(p, types[p])} AS _g{i}" for i, p in enumerate(protected)] + [f"{x} AS _x"]
    sets = ", ".join(f"(_g{i}, _x)" for i, p in enumerate(protected) if p != plan.name)
    if not sets:
        return {}
    g_index = " + ".join(f"{i} * (1 - GROUPING(_g{i}))" for i in range(k))
    g_cols = ", ".join(f"_g{i}" for i in range(k))
    bin_sql = " + ".join(f"(_x > {_double(float(c))})::INTEGER" for c in cuts) or "0"
    ctes = [f"h AS MATERIALIZED (SELECT {g_index} AS _gi, {g_cols}, _x, count(*) AS _n "
            f"FROM (SELECT {', '.join(selects)} FROM {_VIEW}) GROUP BY GROUPING SETS ({sets}))"]
    parts = [f"SELECT 0 AS _part, _gi, {g_cols}, CASE WHEN _x IS NULL THEN NULL ELSE {bin_sql} END AS _b, "
             f"sum(_n)::BIGINT AS _n, NULL::DOUBLE AS _auc FROM h GROUP BY ALL"]
    nulls = ", ".join("NULL" for _ in range(k))
    for i, p in enumerate(protected):
        if p == plan.name:
            continue
        ctes.append(
            f"w{i} AS (SELECT _g{i} AS g, _n AS c, sum(_n) OVER (PARTITION BY _x) AS cx, "
            f"coalesce(sum(_n) OVER (PARTITION BY _g{i} ORDER BY _x ROWS BETWEEN UNBOUNDED PRECEDING AND 1 "
            f"PRECEDING), 0) AS below_g, "
            f"sum(_n) OVER (ORDER BY _x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto "
            f"FROM h WHERE _gi = {i} AND _x IS NOT NULL)")
        ctes.append(
            f"a{i} AS (SELECT sum(c)::DOUBLE AS pos, "
            f"sum(c * (2 * (upto - cx - below_g) + (cx - c)))::DOUBLE AS u2 FROM w{i} GROUP BY g)")
        parts.append(
            f"SELECT 1, {i}, {nulls}, NULL, NULL, max(greatest(u2 / (2 * pos * (t - pos)), "
            f"1 - u2 / (2 * pos * (t - pos)))) FROM a{i}, (SELECT sum(pos) AS t FROM a{i}) "
            f"WHERE pos > 0 AND t - pos > 0")
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(parts)
    result = relation.query(_VIEW, sql).fetchnumpy()
    part = np.asarray(result["_part"], dtype=np.int64)
    g_idx = np.asarray(result["_gi"], dtype=np.int64)
    scored: dict[tuple[str, str], _Scored] = {}
    for i, p in enumerate(protected):
        if p == plan.name:
            continue
        sel = np.flatnonzero((part == 0) & (g_idx == i))
        bins = result["_b"][sel]
        b = np.where(np.ma.getmaskarray(bins), len(cuts) + 1, np.ma.getdata(bins)).astype(np.int64)
        table = _contingency(_codes(result[f"_g{i}"][sel]), b, np.asarray(result["_n"][sel], dtype=np.int64))
        auc_rows = np.flatnonzero((part == 1) & (g_idx == i))
        auc_value = result["_auc"][auc_rows]
        auc = math.nan if auc_value.size == 0 or np.ma.getmaskarray(auc_value)[0] else float(auc_value[0])
        scored[(p, plan.name)] = _score_table(table, rows, p, plan, auc)
    return scored


def _codes(values: Any) -> np.ndarray:
    """Integer codes of a (masked) array of values; the masked (missing) entries share one code of their own.

    Codes follow the sorted order of the values, not the order the engine returned them in, so that the
    statistics (sums in floating point) come out bit for bit the same on every run and engine.
    """
    mask = np.ma.getmaskarray(values)
    data = np.ma.getdata(values)
    codes = np.zeros(len(mask), dtype=np.int64)
    present = ~mask
    if present.any():
        codes[present] = pd.factorize(pd.Series(data[present], copy=True), use_na_sentinel=False,
                                       sort=True)[0]
    codes[mask] = codes[present].max() + 1 if present.any() else 0
    return codes


def _contingency(row_codes: np.ndarray, column_codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The rows × columns table of counts, without empty rows or columns."""
    if len(counts) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    rows, r = np.unique(row_codes, return_inverse=True)
    cols, c = np.unique(column_codes, return_inverse=True)
    table = np.zeros((len(rows), len(cols)), dtype=np.int64)
    np.add.at(table, (r, c), counts)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


# --------------------------------------------------------------------------------------------- measures


def _score_table(table: np.ndarray, rows: int, protected: str, plan: _Candidate, auc: float) -> _Scored:
    levels = int(table.shape[1]) if table.ndim == 2 else 0
    if rows == 0 or table.sum() == 0:
        return _Scored(math.nan, math.nan, math.nan, levels, UNDEFINED, "the data have no rows")
    if table.shape[0] < 2:
        return _Scored(math.nan, math.nan, math.nan, levels, UNDEFINED,
                       f"protected column '{protected}' has a single group (missing counts as a group); "
                       f"association is undefined")
    if table.shape[1] < 2:
        why = ("all its values fall into one quantile bin (heavy ties)" if plan.kind == NUMERIC
               else "it has a single value (missing counts as a value)")
        return _Scored(math.nan, math.nan, math.nan, levels, UNDEFINED,
                       f"column '{plan.name}' is constant: {why}; association is undefined")
    return _Scored(cramers_v(table), normalised_mutual_information(table), auc, levels, OK, "")


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of a contingency table, without bias correction.

    Parameters
    ----------
    table : array of shape (r, c)
        Counts (non-negative); no row or column may sum to 0.

    Returns
    -------
    float
        :math:`\\sqrt{\\chi^2 / (n (\\min(r, c) - 1))}`, unitless in [0, 1]; NaN when r or c is below 2 or
        the table is empty.
    """
    observed = np.asarray(table, dtype=float)
    n = observed.sum()
    if observed.ndim != 2 or min(observed.shape) < 2 or n <= 0:
        return math.nan
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(observed.shape) - 1)))


def normalised_mutual_information(table: np.ndarray) -> float:
    """Mutual information of rows and columns divided by the entropy of the rows (both in bits).

    Parameters
    ----------
    table : array of shape (r, c)
        Counts; rows are the protected groups.

    Returns
    -------
    float
        I(R; C) / H(R), unitless in [0, 1]: the share of the row variable's uncertainty the column removes.
        NaN when H(R) = 0 (one row) or the table is empty.
    """
    observed = np.asarray(table, dtype=float)
    n = observed.sum()
    if n <= 0:
        return math.nan
    p_rows = observed.sum(axis=1) / n
    p_rows = p_rows[p_rows > 0]
    entropy = float(-(p_rows * np.log(p_rows)).sum())
    if entropy <= 0:
        return math.nan
    joint = observed / n
    outer = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n ** 2
    nonzero = joint > 0
    information = float((joint[nonzero] * (np.log(joint[nonzero]) - np.log(outer[nonzero]))).sum())
    return max(information, 0.0) / entropy


def _auc_from_histogram(groups: np.ndarray, values: np.ndarray, counts: np.ndarray) -> float:
    """max over groups of max(AUC, 1 − AUC), one group vs the rest, from counts of (group, value) pairs."""
    if len(counts) == 0:
        return math.nan
    _, g = np.unique(groups, return_inverse=True)
    _, v = np.unique(values, return_inverse=True)
    hist = np.zeros((g.max() + 1, v.max() + 1), dtype=float)
    np.add.at(hist, (g, v), counts.astype(float))
    total = hist.sum(axis=0)
    below_all = np.cumsum(total) - total
    below_group = np.cumsum(hist, axis=1) - hist
    rest_below = below_all[None, :] - below_group
    rest_tied = total[None, :] - hist
    positives = hist.sum(axis=1)
    negatives = total.sum() - positives
    u2 = (hist * (2 * rest_below + rest_tied)).sum(axis=1)
    valid = (positives > 0) & (negatives > 0)
    if not valid.any():
        return math.nan
    auc = u2[valid] / (2 * positives[valid] * negatives[valid])
    return float(np.max(np.maximum(auc, 1 - auc)))


# --------------------------------------------------------------------------------------------- the table


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({
        "protected": pd.Series(dtype=object), "column": pd.Series(dtype=object), "kind": pd.Series(dtype=object),
        "measure": pd.Series(dtype=object), "strength": pd.Series(dtype=float), "auc": pd.Series(dtype=float),
        "nmi": pd.Series(dtype=float), "levels": pd.Series(dtype=np.int64), "n": pd.Series(dtype=np.int64),
        "flagged": pd.Series(dtype=bool), "rank": pd.Series(dtype=float), "status": pd.Series(dtype=object),
        "reason": pd.Series(dtype=object)})


def _finish_table(records: list[dict[str, Any]], protected: list[str], threshold: float) -> pd.DataFrame:
    if not records:
        return _empty_table()
    table = pd.DataFrame.from_records(records)
    table["levels"] = table["levels"].astype(np.int64)
    table["n"] = table["n"].astype(np.int64)
    table["flagged"] = (table["strength"] >= threshold).fillna(False).astype(bool)
    table["rank"] = table.groupby("protected", sort=False)["strength"].rank(method="min", ascending=False)
    order = {p: i for i, p in enumerate(protected)}
    table["_p"] = table["protected"].map(order)
    table["_s"] = table["strength"].fillna(-1.0)
    table = table.sort_values(["_p", "_s"], ascending=[True, False], kind="stable")
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)


def _notes(table: pd.DataFrame, plans: list[_Candidate], numeric_bins: int, max_levels: int) -> list[str]:
    notes = []
    skipped = [plan.name for plan in plans if plan.skipped]
    if skipped:
        notes.append(f"not scored, more than {max_levels} distinct values (identifiers or free text?): "
                     + ", ".join(skipped))
    if any(plan.kind == NUMERIC for plan in plans):
        notes.append(f"numeric columns are cut into {numeric_bins} equal-frequency bins for Cramér's V; their "
                     f"auc is the strongest one-group-vs-rest AUC of the exact values (rows where the column "
                     f"is missing left out); categorical columns have no auc")
    undefined = table[table["status"] == UNDEFINED]
    for row in undefined.itertuples():
        notes.append(f"{row.column} vs {row.protected}: {row.reason}")
    return notes
