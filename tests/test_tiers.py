"""audit.tiers: every number against a direct computation on the rows, or scipy / statsmodels.

Per-row data are drawn with numpy (five tiers, three groups with a planted
disparity against group "b", and an unknown group), the count tables are made
with ``np.add.at``, and each statistic of :func:`audit.tiers.analyse_tiers` is
checked against the rows (rates, cumulative rates, pairwise probabilities) or
the reference implementation (statsmodels' Wilson, Katz-log and Newcombe
intervals and tests, scipy's chi-square, Cramér's V, Kruskal–Wallis and
Mann–Whitney) to 1e-9.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as sps
from scipy.stats.contingency import association
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

from audit import tiers as tiers_module
from audit.tiers import (
    CHI_SQUARE_TEST,
    COMPARISON_COLUMNS,
    GROUP_COLUMNS,
    KRUSKAL_WALLIS_TEST,
    MANN_WHITNEY_TEST,
    TEST_COLUMNS,
    TierTables,
    analyse_tiers,
    cumulative_direction,
)

TOL = 1e-9
TIERS = ("blacklist", "watch", "neutral", "trusted", "redlist")
KINDS = ("adverse", "adverse", "neutral", "favourable", "favourable")
LABELS = ("a", "b", "c", "(missing)")
UNKNOWN = (False, False, False, True)
CONFIDENCE = 0.95
SETTINGS = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------- data


def make_rows(seed: int = 3, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row group index, tier position and weight; group 'b' is pushed towards the adverse tiers."""
    rng = np.random.default_rng(seed)
    group = rng.choice(4, size=n, p=[0.5, 0.25, 0.2, 0.05])
    probs = np.array([
        [0.05, 0.15, 0.40, 0.30, 0.10],  # a: the reference
        [0.20, 0.25, 0.35, 0.15, 0.05],  # b: planted disparity
        [0.06, 0.14, 0.40, 0.28, 0.12],  # c: about like a
        [0.10, 0.20, 0.40, 0.20, 0.10],  # unknown
    ])
    tier = np.array([rng.choice(5, p=probs[g]) for g in group])
    weight = rng.uniform(0.5, 2.0, size=n)
    return group, tier, weight


def tables(group: np.ndarray, tier: np.ndarray, weight: np.ndarray, n_groups: int = 4,
           n_tiers: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.zeros((n_groups, n_tiers), dtype=np.int64)
    w = np.zeros((n_groups, n_tiers))
    w2 = np.zeros((n_groups, n_tiers))
    np.add.at(rows, (group, tier), 1)
    np.add.at(w, (group, tier), weight)
    np.add.at(w2, (group, tier), weight**2)
    return rows, w, w2


def run(rows: np.ndarray, w: np.ndarray | None = None, w2: np.ndarray | None = None, **overrides) -> TierTables:
    args = dict(tiers=TIERS, kinds=KINDS, ordered=True, attribute="race", labels=LABELS, unknown=UNKNOWN,
                reference=0, reference_rule="named", confidence=CONFIDENCE, min_expected=5.0, weighted=False)
    args.update(overrides)
    w = rows if w is None else w
    w2 = rows if w2 is None else w2
    return analyse_tiers(rows, w, w2, **args)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return make_rows()


@pytest.fixture(scope="module")
def unweighted(data) -> tuple[np.ndarray, TierTables]:
    group, tier, weight = data
    rows, _, _ = tables(group, tier, weight)
    return rows, run(rows)


def cell(frame: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in where.items():
        mask &= (frame[key] == value).to_numpy()
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------- shape


def test_columns_and_rows(unweighted) -> None:
    _, out = unweighted
    assert list(out.groups.columns) == GROUP_COLUMNS
    assert list(out.comparisons.columns) == COMPARISON_COLUMNS
    assert list(out.tests.columns) == TEST_COLUMNS
    metrics = [f"tier_rate:{t}" for t in TIERS] + [f"tier_at_least:{t}" for t in TIERS[1:]]
    assert len(out.groups) == len(metrics) * len(LABELS)
    assert sorted(out.groups.metric.unique()) == sorted(metrics)
    assert len(out.comparisons) == len(metrics) * 2  # b and c; never a nor the unknown group
    assert list(out.tests.test) == [CHI_SQUARE_TEST, KRUSKAL_WALLIS_TEST, MANN_WHITNEY_TEST, MANN_WHITNEY_TEST]
    assert (out.comparisons.p_adjusted.isna()).all()
    assert (out.groups.attribute == "race").all() and (out.comparisons.reference_rule == "named").all()


# ---------------------------------------------------------------- group rates


def test_tier_rates_equal_rows_and_statsmodels_wilson(data, unweighted) -> None:
    group, tier, _ = data
    _, out = unweighted
    for g, label in enumerate(LABELS):
        mine = tier[group == g]
        for t, name in enumerate(TIERS):
            row = cell(out.groups, group=label, metric=f"tier_rate:{name}")
            count, nobs = int(np.sum(mine == t)), mine.size
            low, high = proportion_confint(count, nobs, alpha=1 - CONFIDENCE, method="wilson")
            assert row.value == pytest.approx(np.mean(mine == t), abs=1e-15)
            assert row.ci_low == pytest.approx(low, abs=TOL) and row.ci_high == pytest.approx(high, abs=TOL)
            assert (row.n, row.numerator, row.denominator) == (nobs, count, nobs)
            assert row.status == "ok" and row.reason == "" and row.unknown == UNKNOWN[g]


def test_cumulative_rates_equal_rows(data, unweighted) -> None:
    group, tier, _ = data
    _, out = unweighted
    for g, label in enumerate(LABELS):
        mine = tier[group == g]
        for t, name in enumerate(TIERS):
            rows = out.groups[(out.groups.group == label) & (out.groups.metric == f"tier_at_least:{name}")]
            if t == 0:
                assert rows.empty  # "at least the first tier" is everyone: not reported
                continue
            row = rows.iloc[0]
            count = int(np.sum(mine >= t))
            low, high = proportion_confint(count, mine.size, alpha=1 - CONFIDENCE, method="wilson")
            assert row.value == pytest.approx(np.mean(mine >= t), abs=1e-15)
            assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=TOL)


def test_weighted_rates_equal_rows_and_kish_wilson(data) -> None:
    group, tier, weight = data
    out = run(*tables(group, tier, weight), weighted=True)
    for g, label in enumerate(LABELS):
        mine, w = tier[group == g], weight[group == g]
        n_eff = w.sum() ** 2 / np.sum(w**2)
        for metric, hit in [(f"tier_rate:{TIERS[1]}", mine == 1), (f"tier_at_least:{TIERS[3]}", mine >= 3)]:
            row = cell(out.groups, group=label, metric=metric)
            rate = w[hit].sum() / w.sum()
            low, high = proportion_confint(rate * n_eff, n_eff, alpha=1 - CONFIDENCE, method="wilson")
            assert row.value == pytest.approx(rate, abs=1e-12)
            assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=TOL)
            assert row.n == mine.size and row.numerator == pytest.approx(w[hit].sum(), rel=1e-12)
            assert row.denominator == pytest.approx(w.sum(), rel=1e-12)


def test_unit_weights_match_unweighted(unweighted) -> None:
    rows, out = unweighted
    weighted = run(rows, rows.astype(float), rows.astype(float), weighted=True)
    numeric = ["value", "ci_low", "ci_high", "n", "numerator", "denominator"]
    pd.testing.assert_frame_equal(weighted.groups[numeric], out.groups[numeric], rtol=1e-12, atol=1e-12)
    cols = ["value", "ratio", "ratio_ci_low", "ratio_ci_high", "difference_ci_low", "difference_ci_high",
            "impact_ratio"]
    pd.testing.assert_frame_equal(weighted.comparisons[cols], out.comparisons[cols], rtol=1e-12, atol=1e-12)
    assert weighted.tests.statistic.to_numpy() == pytest.approx(out.tests.statistic.to_numpy(), rel=1e-12)


# ---------------------------------------------------------------- comparisons


def test_comparisons_equal_statsmodels_and_scipy(data, unweighted) -> None:
    group, tier, _ = data
    _, out = unweighted
    ref = tier[group == 0]
    for _, row in out.comparisons.iterrows():
        g = LABELS.index(row.group)
        mine = tier[group == g]
        family, name = row.metric.split(":")
        t = TIERS.index(name)
        hit_g = (mine == t) if family == "tier_rate" else (mine >= t)
        hit_r = (ref == t) if family == "tier_rate" else (ref >= t)
        x1, n1, x2, n2 = int(hit_g.sum()), mine.size, int(hit_r.sum()), ref.size
        assert row.value == pytest.approx(x1 / n1) and row.reference_value == pytest.approx(x2 / n2)
        assert (row.n, row.reference_n) == (n1, n2)
        assert row.ratio == pytest.approx((x1 / n1) / (x2 / n2), rel=1e-12)
        assert row.difference == pytest.approx(x1 / n1 - x2 / n2, abs=1e-14)
        ratio_ci = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio", alpha=0.05)
        diff_ci = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05)
        assert (row.ratio_ci_low, row.ratio_ci_high) == pytest.approx(ratio_ci, rel=TOL)
        assert (row.difference_ci_low, row.difference_ci_high) == pytest.approx(diff_ci, abs=TOL)
        pooled = (x1 + x2) / (n1 + n2)
        small = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)) < 5.0
        if small:
            assert row.test == "fisher"
            odds, p = sps.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])
            assert row.p_value == pytest.approx(p, rel=TOL)
        else:
            assert row.test == "z"
            z, p = proportions_ztest([x1, x2], [n1, n2])
            assert (row.statistic, row.p_value) == pytest.approx((z, p), rel=TOL)
        assert row.status == "ok" and row.reason == ""


def test_weighted_comparisons_use_z_on_effective_counts(data) -> None:
    group, tier, weight = data
    out = run(*tables(group, tier, weight), weighted=True)
    row = cell(out.comparisons, group="b", metric="tier_rate:blacklist")
    effective = []
    for g in (1, 0):
        mine, w = tier[group == g], weight[group == g]
        n_eff = w.sum() ** 2 / np.sum(w**2)
        effective.append((w[mine == 0].sum() / w.sum() * n_eff, n_eff))
    (x1, n1), (x2, n2) = effective
    z, p = proportions_ztest([x1, x2], [n1, n2])
    assert row.test == "z (effective counts)"
    assert (row.statistic, row.p_value) == pytest.approx((z, p), rel=TOL)


def test_impact_ratio_and_four_fifths_follow_the_favourable_reading(unweighted) -> None:
    _, out = unweighted
    groups = out.groups[~out.groups.unknown]
    for metric, kind in [("tier_rate:redlist", "favourable"), ("tier_rate:blacklist", "adverse"),
                         ("tier_at_least:trusted", "favourable"), ("tier_rate:neutral", None)]:
        values = groups[groups.metric == metric].set_index("group").value
        for _, row in out.comparisons[out.comparisons.metric == metric].iterrows():
            if kind is None:
                assert np.isnan(row.impact_ratio) and row.four_fifths_flag is None
                continue
            reading = values if kind == "favourable" else 1 - values
            expected = reading[row.group] / reading.max()
            assert row.impact_ratio == pytest.approx(expected, rel=1e-12)
            assert row.four_fifths_flag == (expected < 0.8)
    # The planted disparity: b's share in the top tier is far below a's.
    assert cell(out.comparisons, group="b", metric="tier_rate:redlist").four_fifths_flag is True


def test_disadvantaged_follows_the_tier_kinds(unweighted) -> None:
    _, out = unweighted
    expected = {  # b is pushed towards the adverse tiers
        "tier_rate:blacklist": True,   # adverse and higher
        "tier_rate:watch": True,       # adverse and higher
        "tier_rate:neutral": None,     # neutral: no direction
        "tier_rate:trusted": True,     # favourable and lower
        "tier_rate:redlist": True,     # favourable and lower
        "tier_at_least:watch": None,   # adverse and favourable tiers mixed
        "tier_at_least:neutral": True,  # neutral + favourable: favourable, and lower
        "tier_at_least:redlist": True,
    }
    for metric, flag in expected.items():
        assert cell(out.comparisons, group="b", metric=metric).disadvantaged is flag, metric
    for _, row in out.comparisons.iterrows():
        family, name = row.metric.split(":")
        direction = KINDS[TIERS.index(name)] if family == "tier_rate" \
            else cumulative_direction(KINDS, TIERS.index(name))
        if direction in (None, "neutral") or row.value == row.reference_value:
            assert row.disadvantaged is None
        elif direction == "adverse":
            assert row.disadvantaged == (row.value > row.reference_value)
        else:
            assert row.disadvantaged == (row.value < row.reference_value)


def test_cumulative_direction() -> None:
    assert cumulative_direction(KINDS, 3) == "favourable"
    assert cumulative_direction(KINDS, 2) == "favourable"
    assert cumulative_direction(KINDS, 1) is None
    priority = ("favourable", "neutral", "adverse", "adverse")  # hotline priority, worst last
    assert cumulative_direction(priority, 1) == "adverse"
    assert cumulative_direction(priority, 0) is None
    assert cumulative_direction(("adverse", "neutral", "neutral"), 1) is None  # all neutral
    rows = np.array([[40, 30, 20, 10], [10, 20, 30, 40]])
    out = analyse_tiers(rows, rows, rows, tiers=("p4", "p3", "p2", "p1"), kinds=priority, ordered=True,  # type: ignore
                        attribute="x", labels=("a", "b"), unknown=(False, False), reference=0,
                        reference_rule="largest", confidence=0.9, min_expected=5.0, weighted=False)
    assert cell(out.comparisons, metric="tier_at_least:p3").disadvantaged is True
    assert cell(out.comparisons, metric="tier_rate:p4").disadvantaged is True  # favourable, lower


# ---------------------------------------------------------------- tests table


def test_chi_square_and_cramers_v_equal_scipy(unweighted) -> None:
    rows, out = unweighted
    known = rows[:3]
    chi2, p, dof, expected = sps.chi2_contingency(known, correction=False)
    row = cell(out.tests, test=CHI_SQUARE_TEST)
    assert (row.statistic, row.p_value, row.dof) == pytest.approx((chi2, p, dof), rel=TOL)
    assert row.effect == pytest.approx(association(known, method="cramer"), rel=TOL)
    assert row.effect_name == "Cramér's V" and row.n == known.sum() and row.status == "ok"
    assert row.group == "" and row.reference == ""
    assert ("expected counts below 5" in row.reason) == bool((expected < 5).any())


def test_kruskal_wallis_equals_scipy(data, unweighted) -> None:
    group, tier, _ = data
    _, out = unweighted
    h, p = sps.kruskal(*(tier[group == g] for g in range(3)))
    row = cell(out.tests, test=KRUSKAL_WALLIS_TEST)
    assert (row.statistic, row.p_value) == pytest.approx((h, p), rel=TOL)
    assert row.dof == 2 and row.status == "ok"


def test_mann_whitney_equals_scipy_and_pairwise_probability(data, unweighted) -> None:
    group, tier, _ = data
    _, out = unweighted
    ref = tier[group == 0]
    for g in (1, 2):
        mine = tier[group == g]
        result = sps.mannwhitneyu(mine, ref, method="asymptotic", use_continuity=True)
        row = cell(out.tests, test=MANN_WHITNEY_TEST, group=LABELS[g])
        assert (row.statistic, row.p_value) == pytest.approx((result.statistic, result.pvalue), rel=TOL)
        later = np.mean(mine[:, None] > ref[None, :]) + 0.5 * np.mean(mine[:, None] == ref[None, :])
        assert row.effect == pytest.approx(later, rel=1e-12)
        assert row.effect == pytest.approx(result.statistic / (mine.size * ref.size), rel=1e-12)
        assert row.effect_name == "probability of a later tier" and row.reference == "a"
        assert row.n == mine.size + ref.size
    # b is pushed towards the first-listed (lower) tiers
    assert cell(out.tests, test=MANN_WHITNEY_TEST, group="b").effect < 0.5


def test_weighted_chi_square_scales_each_group_to_its_kish_size(data) -> None:
    group, tier, weight = data
    rows, w, w2 = tables(group, tier, weight)
    out = run(rows, w, w2, weighted=True)
    scaled = w[:3] * (w[:3].sum(axis=1) / w2[:3].sum(axis=1))[:, None]
    chi2, p, dof, _ = sps.chi2_contingency(scaled, correction=False)
    row = cell(out.tests, test=CHI_SQUARE_TEST)
    assert (row.statistic, row.p_value) == pytest.approx((chi2, p), rel=TOL)
    # scipy's association() takes integer tables only: Cramér's V by its definition
    assert row.effect == pytest.approx(np.sqrt(chi2 / (scaled.sum() * (min(scaled.shape) - 1))), rel=TOL)
    assert "Kish" in row.reason and row.n == rows[:3].sum()


# ---------------------------------------------------------------- edge cases


def test_absent_tier_is_a_real_zero(data) -> None:
    group, tier, weight = data
    keep = tier != 4  # nobody in 'redlist'
    rows, _, _ = tables(group[keep], tier[keep], weight[keep])
    out = run(rows)
    for label in LABELS:
        row = cell(out.groups, group=label, metric="tier_rate:redlist")
        assert row.value == 0.0 and row.status == "ok" and row.ci_low == 0.0
        assert 0.0 < row.ci_high < 0.05
    comparison = cell(out.comparisons, group="b", metric="tier_rate:redlist")
    assert comparison.status == "undefined" and comparison.reason == "reference value is 0: ratio undefined"
    assert np.isnan(comparison.ratio) and comparison.difference == 0.0 and comparison.disadvantaged is None
    chi = cell(out.tests, test=CHI_SQUARE_TEST)
    known = rows[:3, :4]
    assert chi.statistic == pytest.approx(sps.chi2_contingency(known, correction=False)[0], rel=TOL)
    assert chi.dof == (3 - 1) * (4 - 1) and "redlist" in chi.reason


def test_group_without_rows_is_undefined_never_zero(data) -> None:
    group, tier, weight = data
    keep = group != 2  # nobody in 'c'
    rows, _, _ = tables(group[keep], tier[keep], weight[keep])
    out = run(rows)
    empty = out.groups[out.groups.group == "c"]
    assert empty.value.isna().all() and empty.ci_low.isna().all() and empty.ci_high.isna().all()
    assert (empty.status == "undefined").all() and (empty.reason == "the group has no rows").all()
    assert (empty.n == 0).all()
    compared = out.comparisons[out.comparisons.group == "c"]
    assert (compared.status == "undefined").all() and compared.ratio.isna().all()
    assert compared.disadvantaged.isna().all() and compared.four_fifths_flag.isna().all()
    mw = cell(out.tests, test=MANN_WHITNEY_TEST, group="c")
    assert mw.status == "undefined" and np.isnan(mw.p_value) and "no rows" in mw.reason
    chi = cell(out.tests, test=CHI_SQUARE_TEST)
    assert chi.statistic == pytest.approx(sps.chi2_contingency(rows[:2], correction=False)[0], rel=TOL)
    kw = cell(out.tests, test=KRUSKAL_WALLIS_TEST)
    assert kw.statistic == pytest.approx(sps.kruskal(tier[keep & (group == 0)], tier[keep & (group == 1)])[0],
                                         rel=TOL)
    # the reference itself empty: every comparison undefined, with the reason
    out = run(rows, reference=2)
    assert (out.comparisons.status == "undefined").all()
    assert (out.comparisons.reason == "reference group: the group has no rows").all()


def test_unknown_group_is_never_compared(unweighted) -> None:
    rows, out = unweighted
    assert "(missing)" not in set(out.comparisons.group) and "(missing)" not in set(out.tests.group)
    assert out.groups[out.groups.group == "(missing)"].unknown.all()
    # making the unknown group wildly different changes none of the comparisons or tests
    changed = rows.copy()
    changed[3] = [500, 0, 0, 0, 0]
    other = run(changed)
    pd.testing.assert_frame_equal(other.comparisons, out.comparisons)
    pd.testing.assert_frame_equal(other.tests, out.tests)
    # and the unknown group cannot be the reference
    with pytest.raises(ValueError, match="known group"):
        run(rows, reference=3)


def test_fewer_than_two_groups_or_tiers_leaves_tests_undefined() -> None:
    rows = np.array([[5, 0, 3], [0, 0, 0]])
    out = analyse_tiers(rows, rows, rows, tiers=("x", "y", "z"), kinds=("adverse", "neutral", "favourable"),
                        ordered=True, attribute="a", labels=("p", "q"), unknown=(False, False), reference=0,
                        reference_rule="named", confidence=0.95, min_expected=5.0, weighted=False)
    for name in (CHI_SQUARE_TEST, KRUSKAL_WALLIS_TEST):
        row = cell(out.tests, test=name)
        assert row.status == "undefined" and np.isnan(row.statistic) and "fewer than 2 known groups" in row.reason
    rows = np.array([[5, 0, 0], [7, 0, 0]])
    out = analyse_tiers(rows, rows, rows, tiers=("x", "y", "z"), kinds=("adverse", "neutral", "favourable"),
                        ordered=True, attribute="a", labels=("p", "q"), unknown=(False, False), reference=0,
                        reference_rule="named", confidence=0.95, min_expected=5.0, weighted=False)
    chi = cell(out.tests, test=CHI_SQUARE_TEST)
    assert chi.status == "undefined" and "fewer than 2 tiers" in chi.reason
    kw = cell(out.tests, test=KRUSKAL_WALLIS_TEST)
    assert kw.status == "undefined" and "same tier" in kw.reason


def test_unordered_tiers_have_no_cumulative_rates_nor_rank_tests(unweighted) -> None:
    rows, _ = unweighted
    out = run(rows, ordered=False)
    assert not out.groups.metric.str.startswith("tier_at_least").any()
    assert not out.comparisons.metric.str.startswith("tier_at_least").any()
    assert list(out.tests.test) == [CHI_SQUARE_TEST]


def test_inputs_are_not_mutated(data) -> None:
    group, tier, weight = data
    arrays = tables(group, tier, weight)
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)
    run(*arrays, weighted=True)
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("change, message", [
    (dict(kinds=("adverse",) * 4 + ("good",)), "kinds must each be one of"),
    (dict(tiers=TIERS[:4]), "one entry per column"),
    (dict(labels=LABELS[:3]), "one entry per row"),
    (dict(reference=7), "reference must be a group index"),
    (dict(confidence=1.5), "confidence"),
])
def test_bad_arguments_raise(unweighted, change, message) -> None:
    rows, _ = unweighted
    with pytest.raises(ValueError, match=message):
        run(rows, **change)


def test_bad_counts_raise(unweighted) -> None:
    rows, _ = unweighted
    with pytest.raises(ValueError, match="same shape"):
        run(rows, rows[:3], rows)
    with pytest.raises(ValueError, match="non-negative"):
        run(rows - 100)
    with pytest.raises(ValueError, match="whole row counts"):
        run(rows + 0.5)


# ---------------------------------------------------------------- properties


@st.composite
def count_table(draw: st.DrawFn) -> np.ndarray:
    """A small group × tier table with empty rows, empty columns and zeros drawn often."""
    n_groups = draw(st.integers(2, 4))
    n_tiers = draw(st.integers(2, 5))
    cells = st.one_of(st.just(0), st.integers(0, 40))
    table = np.array(draw(st.lists(cells, min_size=n_groups * n_tiers, max_size=n_groups * n_tiers)))
    return table.reshape(n_groups, n_tiers)


def _analyse(table: np.ndarray, kinds: tuple[str, ...], **extra) -> TierTables:
    g, t = table.shape
    return analyse_tiers(table, table, table, tiers=tuple(f"t{i}" for i in range(t)), kinds=kinds,  # type: ignore
                         ordered=True, attribute="a", labels=tuple(f"g{i}" for i in range(g)),
                         unknown=(False,) * g, reference=0, reference_rule="named", confidence=0.9,
                         min_expected=5.0, weighted=False, **extra)


@SETTINGS
@given(count_table(), st.data())
def test_rates_properties(table, draw) -> None:
    kinds = tuple(draw.draw(st.sampled_from(["favourable", "adverse", "neutral"])) for _ in range(table.shape[1]))
    out = _analyse(table, kinds)
    g_count, t_count = table.shape
    totals = table.sum(axis=1)
    for g in range(g_count):
        mine = out.groups[out.groups.group == f"g{g}"].set_index("metric")
        rates = mine.value[[f"tier_rate:t{t}" for t in range(t_count)]].to_numpy()
        if totals[g] == 0:  # undefined exactly when the group has no rows
            assert np.isnan(mine.value).all() and (mine.status == "undefined").all()
            continue
        assert (mine.status == "ok").all()
        np.testing.assert_allclose(rates, table[g] / totals[g], rtol=0, atol=1e-15)
        assert rates.sum() == pytest.approx(1.0, abs=1e-12)
        for t in range(1, t_count):
            assert mine.value[f"tier_at_least:t{t}"] == pytest.approx(rates[t:].sum(), abs=1e-12)
        assert (mine.ci_low <= mine.value + 1e-12).all() and (mine.value <= mine.ci_high + 1e-12).all()
        for t in range(t_count):
            low, high = proportion_confint(table[g, t], totals[g], alpha=0.1, method="wilson")
            row = mine.loc[f"tier_rate:t{t}"]
            assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=TOL)


@SETTINGS
@given(count_table())
def test_chi_square_property(table) -> None:
    out = _analyse(table, ("neutral",) * table.shape[1])
    row = cell(out.tests, test=CHI_SQUARE_TEST)
    reduced = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(reduced.shape) < 2:
        assert row.status == "undefined" and np.isnan(row.statistic) and "fewer than 2" in row.reason
        return
    chi2, p, dof, expected = quiet(sps.chi2_contingency, reduced, correction=False)
    assert row.statistic == pytest.approx(chi2, rel=TOL, abs=1e-12)
    assert row.p_value == pytest.approx(p, rel=TOL, abs=1e-12) and row.dof == dof
    assert row.effect == pytest.approx(quiet(association, reduced, method="cramer"), rel=TOL, abs=1e-12)
    poor = int((expected < 5).sum())
    if poor:
        assert f"chi-square approximation is poor: {poor} expected counts below 5" in row.reason
    else:
        assert "poor" not in row.reason


@SETTINGS
@given(count_table())
def test_rank_tests_property(table) -> None:
    out = _analyse(table, ("neutral",) * table.shape[1])
    positions = np.arange(table.shape[1])
    samples = [np.repeat(positions, row) for row in table]
    nonempty = [s for s in samples if s.size]
    kw = cell(out.tests, test=KRUSKAL_WALLIS_TEST)
    if len(nonempty) >= 2 and np.unique(np.concatenate(nonempty)).size >= 2:
        h, p = sps.kruskal(*nonempty)
        assert (kw.statistic, kw.p_value) == pytest.approx((h, p), rel=TOL, abs=1e-12)
    else:
        assert kw.status == "undefined"
    for g in range(1, table.shape[0]):
        mw = cell(out.tests, test=MANN_WHITNEY_TEST, group=f"g{g}")
        if samples[g].size == 0 or samples[0].size == 0:
            assert mw.status == "undefined"
            continue
        result = quiet(sps.mannwhitneyu, samples[g], samples[0], method="asymptotic", use_continuity=True)
        assert mw.statistic == pytest.approx(result.statistic, rel=TOL)
        if np.isfinite(result.pvalue):
            assert mw.p_value == pytest.approx(result.pvalue, rel=TOL, abs=1e-12)
        assert mw.effect == pytest.approx(result.statistic / (samples[g].size * samples[0].size), rel=1e-12)


@SETTINGS
@given(count_table(), st.randoms(use_true_random=False))
def test_relabelling_groups_changes_nothing(table, random) -> None:
    order = list(range(table.shape[0]))
    random.shuffle(order)
    kinds = ("adverse",) + ("neutral",) * (table.shape[1] - 2) + ("favourable",)
    out = _analyse(table, kinds)
    g = table.shape[0]
    names = tuple(f"t{i}" for i in range(table.shape[1]))
    shuffled = analyse_tiers(table[order], table[order], table[order], tiers=names, kinds=kinds,  # type: ignore
                             ordered=True, attribute="a",
                             labels=tuple(f"g{i}" for i in order), unknown=(False,) * g, reference=order.index(0),
                             reference_rule="named", confidence=0.9, min_expected=5.0, weighted=False)
    key = ["group", "metric"]
    pd.testing.assert_frame_equal(out.groups.sort_values(key).reset_index(drop=True),
                                  shuffled.groups.sort_values(key).reset_index(drop=True))
    pd.testing.assert_frame_equal(out.comparisons.sort_values(key).reset_index(drop=True),
                                  shuffled.comparisons.sort_values(key).reset_index(drop=True))
    chi, chi2 = cell(out.tests, test=CHI_SQUARE_TEST), cell(shuffled.tests, test=CHI_SQUARE_TEST)
    assert chi.statistic == pytest.approx(chi2.statistic, rel=1e-12, nan_ok=True)


def test_module_exports() -> None:
    assert set(tiers_module.__all__) >= {"analyse_tiers", "TierTables", "cumulative_direction"}
