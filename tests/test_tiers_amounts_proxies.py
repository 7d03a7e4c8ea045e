"""Tiers, amounts and proxies through the whole engine and the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats as sps

import audit
from audit.cli import main

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402

FRAME = beyond.make_rows(6000, seed=9)


def test_tier_rates_and_views_equal_direct_counts() -> None:
    result = audit.run(beyond.TIER_SPEC, FRAME)
    rates = result.groups.query("view == 'tiers' and attribute == 'ethnicity'").set_index(["group", "metric"])
    for group in ("A", "B", "C"):
        tiers = FRAME[FRAME["ethnicity"] == group]["tier"]
        for tier in beyond.TIERS:
            assert rates.loc[(group, f"tier_rate:{tier}"), "value"] == (tiers == tier).mean()
        assert rates.loc[(group, "tier_at_least:trusted"), "value"] == tiers.isin(["trusted", "redlist"]).mean()
    adverse = result.groups.query("view == 'adverse tiers' and metric == 'selection_rate' and group == 'B' "
                                  "and attribute == 'ethnicity'")["value"].iloc[0]
    assert adverse == FRAME[FRAME["ethnicity"] == "B"]["tier"].isin(["blacklist", "watch"]).mean()
    tests = result.table("tests").query("view == 'tiers' and attribute == 'ethnicity'")
    chi = tests[tests["test"].str.startswith("chi-square")].iloc[0]
    known = FRAME.dropna(subset=["ethnicity"])
    expected = sps.chi2_contingency(pd.crosstab(known["ethnicity"], known["tier"]).to_numpy(), correction=False)
    assert chi["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert (tests["test"].str.contains("ordinal")).any()
    blacklist = result.verdicts.query("attribute == 'ethnicity' and group == 'B'")
    assert blacklist["verdict"].iloc[0] == "fail"  # B is blacklisted more often (planted)


def test_a_tier_the_spec_does_not_name_is_refused_and_a_missing_one_warned(tmp_path: Path) -> None:
    spec = beyond.spec(**{k: v for k, v in beyond.TIER_SPEC.items() if k not in beyond.BASE})
    with_unknown = FRAME.assign(tier=FRAME["tier"].where(FRAME.index % 97 != 0, "greylist"))
    with pytest.raises(audit.DataError, match="does not name: 'greylist'"):
        audit.run(spec, with_unknown)
    spec["decision"]["tiers"]["values"] = dict(beyond.TIERS, probation="adverse")
    result = audit.run(spec, FRAME)
    assert any("'probation'" in n and "never occur" in n for n in result.notes)
    rate = result.groups.query("metric == 'tier_rate:probation' and group == 'A'")["value"].iloc[0]
    assert rate == 0.0
    with_unknown.to_csv(tmp_path / "rows.csv", index=False)
    spec["data"] = {"path": "rows.csv"}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    run = CliRunner().invoke(main, ["run", str(tmp_path / "spec.yaml")])
    assert run.exit_code == 2 and "greylist" in run.output and "Traceback" not in run.output


def test_amounts_equal_numpy_and_scipy() -> None:
    result = audit.run(beyond.AMOUNT_SPEC, FRAME)
    groups = result.groups.query("view == 'amount: days' and attribute == 'ethnicity'").set_index(["group", "metric"])
    a = FRAME[FRAME["ethnicity"] == "A"]["days"].dropna().to_numpy()
    b = FRAME[FRAME["ethnicity"] == "B"]["days"].dropna().to_numpy()
    assert groups.loc[("B", "mean:days"), "value"] == pytest.approx(b.mean(), rel=1e-12)
    assert groups.loc[("B", "median:days"), "value"] == np.median(b)
    assert groups.loc[("B", "q90:days"), "value"] == np.quantile(b, 0.9)
    comparisons = result.comparisons.query("view == 'amount: days' and attribute == 'ethnicity' and group == 'B'")
    mean = comparisons[comparisons["metric"] == "mean:days"].iloc[0]
    assert mean["p_value"] == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue, rel=1e-9, abs=1e-300)
    assert mean["ratio"] == pytest.approx(b.mean() / a.mean(), rel=1e-12)
    assert mean["disadvantaged"] is True or mean["disadvantaged"] == True  # noqa: E712 - longer waits (planted)
    median = comparisons[comparisons["metric"] == "median:days"].iloc[0]
    expected = sps.mannwhitneyu(b, a, method="asymptotic", use_continuity=True)
    assert median["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    verdict = result.verdicts.query("attribute == 'ethnicity' and group == 'B'")["verdict"].iloc[0]
    assert verdict == "fail"


def test_an_amount_with_non_numbers_is_refused() -> None:
    frame = FRAME.assign(days=FRAME["days"].astype(object).where(FRAME.index % 40 != 0, "n/a"))
    with pytest.raises(audit.DataError, match=r"amounts\[0\].column: column 'days'.*must hold numbers.*'n/a'"):
        audit.run(beyond.AMOUNT_SPEC, frame)


def test_proxies_flag_the_district_for_ethnicity() -> None:
    spec = dict(beyond.OVERRIDE_SPEC, proxies={"threshold": 0.3})
    result = audit.run(spec, FRAME)
    proxies = result.table("proxies")
    ethnicity = proxies[proxies["protected"] == "ethnicity"].set_index("column")
    assert ethnicity.loc["district", "flagged"] and ethnicity.loc["district", "rank"] == 1
    assert not ethnicity.loc["noise", "flagged"]
    assert "recommendation" not in set(proxies["column"])  # columns the audit uses are not scanned
    summary = audit.outputs.summary_markdown(result) if hasattr(audit, "outputs") else None
    from audit.outputs import summary_markdown
    assert "`district` → ethnicity" in summary_markdown(result)
