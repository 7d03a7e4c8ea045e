"""The Sơn Lâm loan-eligibility scenario: its planted rates hold on the shipped CSV, and the audit reads them.

See examples/loan_eligibility/README.md ("Ground truth"). The true rates are computed here from the
generator's parameters in closed form, and the shipped file must lie near them.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import audit
from audit.expected import load_expected
from audit.power import detectable_rates
from conftest import EXAMPLES, scenario_generator

FOLDER = EXAMPLES / "loan_eligibility"


def _generator():
    return scenario_generator("loan_eligibility")


GEN = _generator()


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _p_approve(poverty: str, zone: str) -> float:
    """P(score >= 60): the rounded score reaches 60 exactly when the raw score reaches 59.5."""
    mean = GEN.score_mean(poverty, zone)
    return 1.0 - _normal_cdf((GEN.APPROVAL_CUTOFF - 0.5 - mean) / GEN.SCORE_NOISE_SD)


def true_approval(ethnicity: str, poverty: str | None = None) -> float:
    """True approval rate of an ethnic group (optionally within one poverty status)."""
    zones = GEN.zone_table()[ethnicity]
    if poverty is not None:
        return sum(pz * _p_approve(poverty, z) for z, pz in zip(GEN.ZONES, zones))
    povs = GEN.poverty_table()[ethnicity]
    return sum(pp * true_approval(ethnicity, p) for p, pp in zip(GEN.POVERTY, povs))


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "loan_eligibility.csv")


@pytest.fixture(scope="module")
def result():
    return audit.run(FOLDER / "spec.yaml")


def test_true_rates_are_the_documented_ones() -> None:
    assert true_approval("Kinh") == pytest.approx(0.6606, abs=5e-4)
    assert true_approval("Tày") == pytest.approx(0.6012, abs=5e-4)
    assert true_approval("Dao") == pytest.approx(0.4175, abs=5e-4)
    assert true_approval("Mông") == pytest.approx(0.3556, abs=5e-4)
    share = {s: sum(v * p for v, p in zip(GEN.SHARE_LEVELS, ps)) for s, ps in GEN.SHARE_P.items()}
    assert share == pytest.approx({"male": 0.920, "female": 0.708})


@pytest.mark.parametrize("ethnicity", ["Kinh", "Tày", "Nùng", "Dao", "Mông", "Sán Chay", "other"])
def test_approval_by_ethnicity_is_near_its_true_rate(data, ethnicity) -> None:
    rows = data[data.ethnicity == ethnicity]
    tolerance = 4 * math.sqrt(0.25 / len(rows))
    assert rows.approved.mean() == pytest.approx(true_approval(ethnicity), abs=tolerance)


@pytest.mark.parametrize("poverty", ["poor", "near-poor", "recently escaped poverty"])
def test_dao_and_mong_are_approved_less_at_equal_poverty_status(data, poverty) -> None:
    rate = data[data.poverty_status == poverty].groupby("ethnicity").approved.mean()
    for group in ("Dao", "Mông"):
        assert true_approval(group, poverty) / true_approval("Kinh", poverty) < 0.65
        assert rate[group] / rate["Kinh"] < 0.75


def test_approval_does_not_depend_on_sex_disability_or_age(data) -> None:
    for column in ("sex", "disability", "age_band"):
        rates = data.groupby(column).approved.mean()
        assert rates.max() - rates.min() < 0.05, column


def test_women_get_a_smaller_share_of_the_same_request(data) -> None:
    approved = data[data.approved == 1]
    by_sex = approved.groupby("sex")
    assert by_sex.requested_amount_mvnd.mean().agg(lambda s: s.max() / s.min()) < 1.03
    assert by_sex.share_granted.mean()["female"] == pytest.approx(0.708, abs=0.01)
    assert by_sex.share_granted.mean()["male"] == pytest.approx(0.920, abs=0.01)
    assert by_sex.share_granted.median().to_dict() == {"female": 0.7, "male": 1.0}
    # every ethnic group mixes the sexes alike, so its median share is 0.8
    assert set(approved.groupby("ethnicity").share_granted.median()) == {0.8}


def test_granted_amount_is_empty_exactly_when_refused(data) -> None:
    refused = data.approved == 0
    assert data.granted_amount_mvnd.isna().eq(refused).all()
    assert data.share_granted.isna().eq(refused).all()


def test_applicants_with_a_disability_wait_longer(data) -> None:
    days = data.groupby("disability").processing_days
    assert days.median().to_dict() == {"mild": 15.0, "none": 11.0, "severe": 19.0}
    assert days.mean().to_dict() == pytest.approx({"none": 12.07, "mild": 16.07, "severe": 20.07}, abs=0.4)


def _ethnicity_share(ethnicity: str) -> float:
    """Expected share of applications of an ethnicity whose ethnicity is recorded."""
    return (1 - GEN.MISSING_ETHNICITY_P) * GEN.ETHNICITY_P[GEN.ETHNICITIES.index(ethnicity)]


def test_expected_approval_fails_are_the_groups_truly_outside_the_band() -> None:
    expected = load_expected(FOLDER / "expected_findings.yaml")
    listed = {g for e in expected.fail if (e.metric, e.attribute) == ("selection_rate", "ethnicity") for g in e.groups}
    ratios = {e: true_approval(e) / true_approval("Kinh") for e in GEN.ETHNICITIES if e != "Kinh"}
    outside = {e for e, ratio in ratios.items() if not 0.8 <= ratio <= 1.25}
    assert listed == outside == {"Dao", "Mông"}
    assert ratios["Tày"] == pytest.approx(0.910, abs=1e-3)          # a real gap, inside the band


def test_the_smallest_planted_group_is_large_enough_for_the_family() -> None:
    """Dao × male: the family-level test (0.05 / 130) detects a ratio of 0.89 with 80% power; planted 0.632."""
    male = GEN.SEX_P[GEN.SEX.index("male")]
    n, reference_n = (GEN.DEFAULT_N * _ethnicity_share(e) * male for e in ("Dao", "Kinh"))
    assert (round(n), round(reference_n)) == (1150, 3258)
    lower, _ = detectable_rates(true_approval("Kinh"), n, reference_n, alpha=0.05 / 130)
    assert float(lower) / true_approval("Kinh") == pytest.approx(0.89, abs=0.005)
    assert true_approval("Dao") / true_approval("Kinh") < 0.65


def test_every_rule_is_decided_by_significance_over_one_family(result) -> None:
    assert result.spec.spec_version == 2
    assert {rule.rule for rule in result.spec.policy} == {"significant"}
    assert result.family.size == 130 == 5 * (6 + 1 + 2 + 4 + 13)
    assert result.verdict_counts() == {"pass": 104, "fail": 26, "inconclusive": 0}


def test_a_significant_gap_inside_the_band_passes(result) -> None:
    v = result.verdicts.set_index(["metric", "attribute", "group"])
    tay = v.loc[("selection_rate", "ethnicity", "Tày")]
    assert tay.verdict == "pass" and tay.estimate == pytest.approx(0.919, abs=1e-3) and tay.p_family < 1e-6
    young = v.loc[("mean:share_granted", "age_band", "18-29")]
    assert young.verdict == "pass" and young.estimate == pytest.approx(1.025, abs=1e-3)
    assert young.p_family == pytest.approx(0.0041, abs=1e-4)          # significant, but a 2% difference
    small = v.loc[("selection_rate", "ethnicity × sex", "Sán Chay × male")]
    assert small.verdict == "pass" and small.family_ci_low < 0.8      # a pass, not a proof of equality


def test_approval_rule_passes_for_sex_while_the_share_rule_fails(result) -> None:
    v = result.verdicts.set_index(["metric", "attribute", "group"])["verdict"]
    assert v[("selection_rate", "sex", "female")] == "pass"
    assert v[("mean:share_granted", "sex", "female")] == "fail"
    assert v[("median:share_granted", "sex", "female")] == "fail"


def test_granted_amount_differs_by_ethnicity_but_the_share_does_not(result) -> None:
    c = result.comparisons.set_index(["metric", "attribute", "group"])
    amount = c.loc[("mean:granted_amount_mvnd", "ethnicity", "Tày")]
    share = c.loc[("mean:share_granted", "ethnicity", "Tày")]
    assert amount.ratio_ci_high < 0.85          # Tày households asked for less ...
    assert share.ratio_ci_low > 0.95 and share.ratio_ci_high < 1.05   # ... and got the same share of it
    assert "granted_amount_mvnd" not in " ".join(result.verdicts.metric)   # reported, not judged


def test_commune_zone_and_area_are_flagged_as_proxies_of_ethnicity(result) -> None:
    proxies = result.tables["proxies"]
    flagged = proxies[proxies.flagged.astype(bool)]
    assert sorted(zip(flagged.protected, flagged.column)) == [("ethnicity", "area"), ("ethnicity", "commune_zone")]
