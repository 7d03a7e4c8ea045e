"""``audit.power`` against statsmodels' ``NormalIndPower``: the closed forms give the power that was asked for.

statsmodels computes the power of a two-sided z test of two proportions on the arcsine scale (Cohen's h)
with both tails; the closed forms leave out the far tail. For levels up to 0.1 and power from 0.7 that tail
is below 7e-5 (``Φ(-2 z(0.95) - z(0.7))``), so the two agree within 1e-4 over the ranges drawn here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower

from audit.planning import plan_sample
from audit.power import arcsine_effect, detectable_normal, detectable_rates, needed_sizes, needed_sizes_normal

TOLERANCE = 1e-4
rates = st.floats(0.02, 0.98)
sizes = st.floats(10, 5_000)
levels = st.floats(1e-5, 0.1)
powers = st.floats(0.7, 0.95)
examples = settings(max_examples=100, deadline=None)


def statsmodels_power(rate: float, reference_rate: float, n: float, reference_n: float, alpha: float) -> float:
    """The power statsmodels gives a test of ``rate`` (n people) against ``reference_rate`` (reference_n people)."""
    effect = float(arcsine_effect(rate, reference_rate))
    return float(NormalIndPower().power(effect, nobs1=n, alpha=alpha, ratio=reference_n / n))


@examples
@given(reference_rate=rates, n=sizes, reference_n=sizes, alpha=levels, power=powers)
def test_detectable_rates_are_detected_with_the_asked_power(reference_rate: float, n: float, reference_n: float,
                                                             alpha: float, power: float) -> None:
    lower, higher = (float(v) for v in detectable_rates(reference_rate, n, reference_n, alpha=alpha, power=power))
    for rate, extreme in ((lower, 0.0), (higher, 1.0)):
        if math.isnan(rate):   # undefined only when even a rate of 0 (or 1) would not be detected
            assert statsmodels_power(extreme, reference_rate, n, reference_n, alpha) < power + TOLERANCE
        else:
            assert 0.0 <= rate <= 1.0
            assert statsmodels_power(rate, reference_rate, n, reference_n, alpha) == pytest.approx(power, abs=TOLERANCE)
    assert math.isnan(lower) or lower < reference_rate
    assert math.isnan(higher) or higher > reference_rate


@examples
@given(rate=rates, target=rates, n=sizes, reference_n=sizes, alpha=levels, power=powers)
def test_needed_sizes_reach_the_asked_power(rate: float, target: float, n: float, reference_n: float, alpha: float,
                                            power: float) -> None:
    assume(abs(float(arcsine_effect(rate, target))) > 1e-3)
    group, reference = (float(v) for v in needed_sizes(rate, target, n, reference_n, alpha=alpha, power=power))
    assert math.isfinite(group) and math.isfinite(reference)
    achieved = statsmodels_power(rate, target, group, reference, alpha)
    if group == 1.0:               # the group needs under one person: at least one, and more power than asked
        assert achieved >= power - TOLERANCE
    else:
        assert achieved == pytest.approx(power, abs=TOLERANCE)
    if reference != pytest.approx(reference_n):   # the reference grows only with the group, in proportion
        assert reference / group == pytest.approx(reference_n / n)


def test_needed_sizes_are_infinite_when_the_rates_are_equal() -> None:
    group, reference = needed_sizes(0.3, 0.3, 100, 400, alpha=0.05)
    assert math.isinf(float(group)) and math.isinf(float(reference))


@examples
@given(distance=st.floats(0.01, 2.0), se_group=st.floats(0.005, 1.0), se_reference=st.floats(0.005, 1.0), n=sizes,
       reference_n=sizes, alpha=levels, power=powers)
def test_needed_sizes_normal_make_the_distance_detectable(distance: float, se_group: float, se_reference: float,
                                                          n: float, reference_n: float, alpha: float,
                                                          power: float) -> None:
    group, reference = (float(v) for v in needed_sizes_normal(distance, se_group, se_reference, n, reference_n,
                                                              alpha=alpha, power=power))
    # standard errors shrink as 1 / sqrt(people): the ones the needed sizes would give
    new_group, new_reference = se_group * math.sqrt(n / group), se_reference * math.sqrt(reference_n / reference)
    detectable = float(detectable_normal(new_group, new_reference, alpha=alpha, power=power))
    if group == 1.0:
        assert detectable <= distance * (1 + 1e-9)
    else:
        assert detectable == pytest.approx(distance, rel=1e-9)
    today = float(detectable_normal(se_group, se_reference, alpha=alpha, power=power))
    assert (group <= n * (1 + 1e-9)) == (today <= distance * (1 + 1e-9))   # more people only when needed


def test_needed_sizes_normal_for_no_distance_or_no_standard_error() -> None:
    assert np.isinf(needed_sizes_normal(0.0, 0.1, 0.1, 100, 100, alpha=0.05)).all()
    assert np.isnan(needed_sizes_normal(0.2, np.nan, 0.1, 100, 100, alpha=0.05)).all()


@examples
@given(base_rate=st.floats(0.05, 0.6), ratio=st.floats(0.5, 0.95) | st.floats(1.05, 1.5), alpha=levels,
       power=powers, comparisons=st.integers(1, 50))
def test_plan_sample_is_the_smallest_size_with_the_asked_power(base_rate: float, ratio: float, alpha: float,
                                                               power: float, comparisons: int) -> None:
    plan = plan_sample(base_rate, ratio, power=power, alpha=alpha, comparisons=comparisons)
    level = alpha / comparisons
    assert plan.level == pytest.approx(level)
    n = plan.n_per_group
    assert n is not None
    rate = ratio * base_rate
    assert statsmodels_power(rate, base_rate, n, n, level) >= power - 1e-6
    assert statsmodels_power(rate, base_rate, n - 1, n - 1, level) < power + TOLERANCE
    solved = NormalIndPower().solve_power(float(arcsine_effect(rate, base_rate)), nobs1=None, alpha=level,
                                          power=power, ratio=1.0)
    assert abs(n - math.ceil(solved)) <= 1
