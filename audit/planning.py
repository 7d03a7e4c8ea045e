"""Planning an audit before the data are collected: how many people a random evaluation sample needs.

An oversight body that can ask for a random evaluation sample (files reviewed
whatever the system decided) must say how large it has to be. :func:`plan_sample`
answers, for a group whose rate is ``ratio`` times the reference's
``base_rate``: how many people per group (group and reference of equal size)
a test at the family's level detects with the wanted power, and, given the
groups' shares of the population, how many people in total. :func:`detectable`
answers the reverse: the ratios a sample of a given size would detect.

Levels are family-level: ``alpha`` is divided by ``comparisons``, the number of
verdicts the audit will make (Bonferroni), as an audit judges them
(:mod:`audit.family`). The formulas are those of :mod:`audit.power`.

>>> plan = plan_sample(0.3, 0.8, power=0.8, alpha=0.05)
>>> plan.n_per_group
858
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from audit import power as _power
from audit.errors import ReasonCode, UsageError

__all__ = ["CountedShares", "GroupPlan", "SamplePlan", "detectable", "plan_sample", "shares_from_file"]


@dataclass(frozen=True)
class GroupPlan:
    """One group of a plan with shares: its share, the people it gets, and the ratio it could detect."""

    group: str
    share: float
    people: int | None
    reference: bool
    detectable_lower: float | None = None
    detectable_higher: float | None = None


@dataclass(frozen=True)
class SamplePlan:
    """The answer of :func:`plan_sample` or :func:`detectable`.

    ``n_per_group``: people in each of two groups of equal size (the group and
    its reference); ``n_total``: people in the whole sample, given ``groups``'
    shares (None without shares): the sum of the groups' people, each rounded
    up to whole people. ``detectable_lower``/``detectable_higher``: the
    ratios a sample of ``n_per_group`` per group detects (None when no ratio on
    that side is possible). ``level`` is ``alpha / comparisons``.
    """

    base_rate: float
    ratio: float | None
    power: float
    alpha: float
    comparisons: int
    level: float
    n_per_group: int | None
    detectable_lower: float | None
    detectable_higher: float | None
    n_total: int | None
    groups: tuple[GroupPlan, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``audit plan --json``)."""
        out = asdict(self)
        out["groups"] = [asdict(g) for g in self.groups]
        return out


@dataclass(frozen=True)
class CountedShares:
    """People per group of one column of a data file (values as written) and the rows without a value."""

    people: dict[str, int]
    missing: int


def shares_from_file(path: Path, attribute: str) -> CountedShares:
    """Count the people of each value of ``attribute`` in a data file, read as ``audit run`` reads data.

    Values are kept as written (:func:`audit.labels.format_label`); rows without
    a value are left out and counted in ``missing``. Groups are listed by size,
    largest first.

    Raises
    ------
    UsageError
        When the file does not exist, the column is not in it, or it holds fewer
        than 2 or more than ``statistics.max_groups`` groups (the messages name
        ``--shares-from`` and ``--attribute``).
    DataError
        When the file cannot be read.
    """
    import duckdb

    from audit.errors import DataError, did_you_mean
    from audit.labels import format_label
    from audit.readers import open_table
    from audit.spec import StatisticsSpec

    if not path.exists():
        raise UsageError(f"--shares-from: {path} does not exist; give the data file whose --attribute column holds "
                         f"the groups", reason=ReasonCode.OPTION_INVALID)
    try:
        relation, _ = open_table(path, duckdb.connect())
    except DataError as error:
        raise DataError(f"--shares-from: {error}", reason=error.reason) from None
    columns = list(relation.columns)
    if attribute not in columns:
        shown = ", ".join(repr(c) for c in columns[:20]) + (", …" if len(columns) > 20 else "")
        raise UsageError(f"--attribute {attribute!r} is not a column of {path}{did_you_mean(attribute, columns)}; "
                         f"its columns: {shown}", reason=ReasonCode.OPTION_INVALID)
    quoted = '"' + attribute.replace('"', '""') + '"'
    counts: dict[str, int] = {}
    missing = 0
    for value, rows in relation.query("t", f"SELECT {quoted}, count(*) FROM t GROUP BY 1").fetchall():
        label = format_label(value)
        if label is None:
            missing += int(rows)
        else:
            counts[label] = counts.get(label, 0) + int(rows)
    limit = StatisticsSpec().max_groups
    if len(counts) > limit:
        raise UsageError(f"--attribute {attribute!r} has {len(counts):,} distinct values in {path}; an audit compares "
                         f"at most {limit} groups (statistics.max_groups): choose a column of groups",
                         reason=ReasonCode.OPTION_INVALID)
    if len(counts) < 2:
        raise UsageError(f"--attribute {attribute!r} has {len(counts)} group(s) with a value in {path} "
                         f"({missing:,} rows without one); a plan compares at least two groups",
                         reason=ReasonCode.OPTION_INVALID)
    return CountedShares(dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))), missing)


def _check(base_rate: float, ratio: float | None, power: float, alpha: float, comparisons: int) -> None:
    problems = []
    if not (isinstance(base_rate, (int, float)) and 0.0 < base_rate < 1.0):
        problems.append(f"the reference rate (--base-rate) must be a rate strictly between 0 and 1, e.g. 0.3; got {base_rate!r}")
    if ratio is not None:
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > 0):
            problems.append(f"the ratio to detect (--ratio) must be a positive number, e.g. 0.8 or 1.25; got {ratio!r}")
        elif ratio == 1:
            problems.append("the ratio to detect (--ratio) must differ from 1: a ratio of 1 is no disparity, and no sample detects it")
        elif not problems and ratio * base_rate > 1.0:
            problems.append(f"the ratio {ratio:g} (--ratio) times the reference rate {base_rate:g} (--base-rate) is {ratio * base_rate:.3g}, not a "
                            f"rate; choose a ratio of at most {1.0 / base_rate:.3g}")
    if not (isinstance(power, (int, float)) and 0.0 < power < 1.0):
        problems.append(f"the power (--power) must be strictly between 0 and 1, e.g. 0.8; got {power!r}")
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 1.0):
        problems.append(f"alpha (--alpha) must be strictly between 0 and 1, e.g. 0.05; got {alpha!r}")
    if isinstance(comparisons, bool) or not isinstance(comparisons, int) or comparisons < 1:
        problems.append(f"the number of comparisons (--comparisons) must be a whole number of verdicts, at least 1; got {comparisons!r}")
    if problems:
        raise UsageError("; ".join(problems), reason=ReasonCode.OPTION_INVALID)


def _shares(shares: Mapping[str, float] | None, reference: str | None) -> tuple[dict[str, float], str | None]:
    if not shares:
        if reference is not None:
            raise UsageError("--reference needs the groups' shares (--share or --shares-from)",
                             reason=ReasonCode.OPTION_INVALID)
        return {}, None
    bad = [f"{g}={s!r}" for g, s in shares.items() if not (isinstance(s, (int, float)) and math.isfinite(s) and s > 0)]
    if bad:
        raise UsageError(f"every share must be a positive number; got {', '.join(bad)}",
                         reason=ReasonCode.OPTION_INVALID)
    if len(shares) < 2:
        raise UsageError(f"the groups' shares (--share or --shares-from) need at least two groups, a group and its "
                         f"reference; got {len(shares)}", reason=ReasonCode.OPTION_INVALID)
    total = sum(shares.values())
    normalised = {g: s / total for g, s in shares.items()}
    if reference is not None and reference not in normalised:
        raise UsageError(f"--reference '{reference}' is not one of the groups: {', '.join(normalised)}",
                         reason=ReasonCode.OPTION_INVALID)
    chosen = reference if reference is not None else max(normalised, key=normalised.__getitem__)
    return normalised, chosen


def _ceil(value: float) -> int | None:
    return int(math.ceil(value - 1e-9)) if math.isfinite(value) else None


def _ratios(base_rate: float, n: float, reference_n: float, level: float, power: float) -> tuple[float | None, ...]:
    lower, higher = (float(v) for v in _power.detectable_rates(base_rate, n, reference_n, alpha=level, power=power))
    return (None if math.isnan(lower) else lower / base_rate, None if math.isnan(higher) else higher / base_rate)


def plan_sample(base_rate: float, ratio: float, *, power: float = 0.8, alpha: float = 0.05,
                comparisons: int | None = None, shares: Mapping[str, float] | None = None,
                reference: str | None = None) -> SamplePlan:
    """The sample that detects a group rate of ``ratio × base_rate`` against the reference's ``base_rate``.

    Parameters
    ----------
    base_rate : float
        The reference group's rate (of the decision or the outcome metric), in (0, 1).
    ratio : float
        The disparity to detect: group rate / reference rate, positive and not 1
        (0.8 for the four-fifths rule).
    power : float, default 0.8
        Probability of detecting it.
    alpha : float, default 0.05
        The family-wise error rate (``statistics.alpha``).
    comparisons : int, optional
        Verdicts in the audit's family; default 1, or with ``shares`` the number of
        groups compared with the reference.
    shares : mapping of group to share, optional
        Each group's share of the population (normalised to sum to 1), for the total.
    reference : str, optional
        The reference group among ``shares``; default the largest.

    Returns
    -------
    SamplePlan
        ``n_per_group`` for two groups of equal size, and with shares ``n_total``:
        the smallest sample in which every group, at its share, is compared with
        the reference with that power.

    Raises
    ------
    UsageError
        For a rate outside (0, 1), a ratio of 1 or one that makes no rate, power
        or alpha outside (0, 1), fewer than 1 comparison, or bad shares.
    """
    normalised, chosen = _shares(shares, reference)
    m = comparisons if comparisons is not None else max(len(normalised) - 1, 1)
    _check(base_rate, ratio, power, alpha, m)
    level = alpha / m
    target = ratio * base_rate
    h = abs(float(_power.arcsine_effect(target, base_rate)))
    effective = (_power.z_total(level, power) / h) ** 2  # n1 n2 / (n1 + n2) needed
    per_group = _ceil(2.0 * effective)
    assert per_group is not None
    lower, higher = _ratios(base_rate, per_group, per_group, level, power)
    groups: list[GroupPlan] = []
    total = None
    if normalised and chosen is not None:
        s_ref = normalised[chosen]
        need = max(effective * (s + s_ref) / (s * s_ref) for g, s in normalised.items() if g != chosen)
        people = {group: _ceil(share * need) or 0 for group, share in normalised.items()}
        total = sum(people.values())  # each group rounded up to whole people: the total is their sum
        for group, share in normalised.items():
            low, high = (None, None) if group == chosen else _ratios(base_rate, people[group], people[chosen],
                                                                     level, power)
            groups.append(GroupPlan(group, share, people[group], group == chosen, low, high))
    return SamplePlan(base_rate, ratio, power, alpha, m, level, per_group, lower, higher, total, tuple(groups))


def detectable(base_rate: float, *, n_per_group: int | None = None, n_total: int | None = None,
               power: float = 0.8, alpha: float = 0.05, comparisons: int | None = None,
               shares: Mapping[str, float] | None = None, reference: str | None = None) -> SamplePlan:
    """The reverse of :func:`plan_sample`: the ratios a sample of a given size detects with ``power``.

    Give ``n_per_group`` (people in each of two equal groups) or ``n_total``
    with ``shares`` (each group compared with the reference at its share).
    Ratios that no rate in [0, 1] reaches are None.
    """
    normalised, chosen = _shares(shares, reference)
    m = comparisons if comparisons is not None else max(len(normalised) - 1, 1)
    _check(base_rate, None, power, alpha, m)
    for name, value in (("people per group (--n)", n_per_group), ("people in the whole sample (--n-total)", n_total)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
            raise UsageError(f"{name} must be a whole number of people, at least 2; got {value!r}",
                             reason=ReasonCode.OPTION_INVALID)
    if (n_per_group is None) == (n_total is None):
        raise UsageError("give exactly one of --n (people per group) and --n-total (with the groups' shares)",
                         reason=ReasonCode.OPTION_INVALID)
    if n_total is not None and not normalised:
        raise UsageError("--n-total needs the groups' shares (--share or --shares-from)",
                         reason=ReasonCode.OPTION_INVALID)
    level = alpha / m
    lower = higher = None
    groups: list[GroupPlan] = []
    if n_per_group is not None:
        lower, higher = _ratios(base_rate, n_per_group, n_per_group, level, power)
    else:
        assert n_total is not None and chosen is not None
        s_ref = normalised[chosen]
        for group, share in normalised.items():
            low, high = (None, None) if group == chosen else _ratios(base_rate, share * n_total, s_ref * n_total,
                                                                     level, power)
            groups.append(GroupPlan(group, share, _ceil(share * n_total), group == chosen, low, high))
    return SamplePlan(base_rate, None, power, alpha, m, level, n_per_group, lower, higher, n_total, tuple(groups))
