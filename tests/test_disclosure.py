"""The disclosure audit and the public release: every published file renders from one release; no count below k
that the release withholds can be worked out from all published numbers together (checked by linear programs
across tables, views, cut-offs and intersections); non-linear statistics of a withheld cell are withheld; no
hash or size of unpublished data is published."""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit
from audit.disclosure import RULE, check_release, enforce
from audit.model_audit import agreement_note
from audit.public_files import public_dict
from audit.release import build_release
from audit.suppression import complete_calibration, suppress

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402


@pytest.fixture(scope="module")
def scores() -> audit.AuditResult:
    """800 scored rows with two thresholds and a three-step sweep: suppression's own rules leave counts the
    published numbers pin (measured: 22 before the disclosure audit)."""
    spec = copy.deepcopy(beyond.SCORE_SPEC)
    spec["score"]["threshold"] = [0.5, {"top_k": 100}]
    spec["score"]["sweep"] = {"start": 0.3, "stop": 0.7, "steps": 3}
    return audit.run(spec, data=beyond.make_rows().sample(800, random_state=1))


def test_the_linear_programs_find_counts_that_rules_one_sum_at_a_time_leave_pinned(scores) -> None:
    found = check_release(scores, suppress(scores))
    assert len(found.violations) >= 5 and found.checked > 1000
    for violation in found.violations:
        assert violation.high - violation.low < 1           # one whole number is left: the count is worked out
        assert violation.low - 1e-6 <= violation.value <= violation.high + 1e-6  # and it is the true one
        assert violation.value < 10 and violation.binding   # a count below k, with the published counts that pin it


def test_the_release_withholds_more_until_nothing_is_pinned(scores) -> None:
    public, check = enforce(scores)
    assert check.added > 0 and check.rounds >= 1 and check.rule == RULE
    assert check_release(scores, public).violations == []
    before = check_release(scores, suppress(scores)).violations
    tables = {"groups": public.groups, **public.tables}
    for violation in before:  # each pinned count is now withheld, or the counts that pinned it no longer all show
        table, position, column = violation.ref
        if column in ("numerator", "denominator", "n"):
            shown = tables[table].iloc[position][column]
            assert isinstance(shown, str) or any(
                isinstance(tables[t].iloc[p][c], str) or tables[t].iloc[p][c] is None
                for t, p, c in violation.binding if t in tables and c in tables[t].columns)


def test_the_published_files_state_the_rule_and_what_it_withheld(scores, tmp_path) -> None:
    release = build_release(scores)
    body = public_dict(release)
    assert body["disclosure_check"]["rule"] == RULE and body["disclosure_check"]["ran"] is True
    assert body["withheld_cells"]["disclosure"] == release.check.added > 0
    assert "result_sha256" not in json.dumps(body) and body["provenance"]["public_sha256"] == release.public_sha256
    assert body["provenance"]["data"]["sha256"] is None and body["provenance"]["data"]["size_bytes"] is None
    from audit.report.writer import render_report_html
    html = render_report_html(release, lang="en")
    assert "Disclosure audit" in html and f"withheld {release.check.added} more" in html
    assert scores.provenance.data.sha256 not in html and scores.result_sha256 not in html


def _max_group_withheld() -> audit.AuditResult:
    """Group 'c' (4 people, all flagged) has the highest selection rate; 'a', 'b' and 'd' are large (secondary
    suppression withholds 'd', the smallest, so that the total does not give c's size back)."""
    rng = np.random.default_rng(5)
    group = np.array(["a"] * 300 + ["b"] * 200 + ["d"] * 150 + ["c"] * 4)
    decision = np.where(group == "c", 1, (rng.random(654) < 0.3).astype(int))
    spec = {"system": {"name": "impact"}, "decision": {"column": "d", "positive": 1},
            "protected": [{"column": "g", "reference": "a"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]}
    return audit.run(spec, data=pd.DataFrame({"g": group, "d": decision}))


def test_an_impact_ratio_over_a_withheld_highest_group_is_withheld() -> None:
    result = _max_group_withheld()
    internal = result.comparisons.set_index("group")
    assert internal.loc["b", "impact_ratio"] < 1  # b's rate over c's (100 %): with b's rate it gives c's back
    public = build_release(result).result.comparisons.set_index("group")
    assert public.loc["b", "value"] == pytest.approx(internal.loc["b", "value"])  # b's rate is published
    assert public.loc["b", "impact_ratio"] is None
    assert public.loc["b", "four_fifths_flag"] is None


def test_an_impact_ratio_over_a_published_highest_group_stays() -> None:
    rng = np.random.default_rng(6)
    group = np.array(["a"] * 300 + ["b"] * 200)
    spec = {"system": {"name": "impact"}, "decision": {"column": "d", "positive": 1},
            "protected": [{"column": "g", "reference": "a"}], "policy": []}
    result = audit.run(spec, data=pd.DataFrame({"g": group, "d": (rng.random(500) < 0.3).astype(int)}))
    internal = result.comparisons.set_index("group")["impact_ratio"]
    public = build_release(result).result.comparisons.set_index("group")["impact_ratio"]
    assert public.astype(float).tolist() == pytest.approx(internal.tolist())


def test_the_model_agreement_share_is_withheld_when_few_rows_differ() -> None:
    result = _max_group_withheld()
    column = result.spec.decision_column
    for share, rows, published in ((298 / 300, 300, False), (270 / 300, 300, True)):
        model = {"path": "m.skops", "sha256": "0" * 64, "agreement_with_data": share, "agreement_rows": rows}
        provenance = dataclasses.replace(result.provenance, model=model)
        variant = dataclasses.replace(result, provenance=provenance,
                                      notes=(*result.notes, agreement_note(column, share)))
        public = build_release(variant).result
        assert ("agreement_with_data" in public.provenance.model) is published
        assert "agreement_rows" not in public.provenance.model
        assert (agreement_note(column, share) in public.notes) is published
        assert (agreement_note(column, None) in public.notes) is not published


def test_empty_calibration_bins_are_listed_so_that_no_bin_is_a_published_zero() -> None:
    frame = pd.DataFrame({"attribute": ["g"] * 3, "group": ["a", "a", "b"], "bin": [0, 1, 0],
                          "bin_low": [0.0, 0.5, 0.0], "bin_high": [0.5, 1.0, 0.5], "n": [30.0, 20.0, 4.0],
                          "mean_predicted": [0.2, 0.7, 0.3], "observed_rate": [0.1, 0.6, 0.25],
                          "observed_ci_low": [0.0] * 3, "observed_ci_high": [1.0] * 3})
    full = complete_calibration(frame)
    assert len(full) == 4 and list(full.columns) == list(frame.columns)
    empty = full[(full["group"] == "b") & (full["bin"] == 1)].iloc[0]
    assert empty["n"] == 0 and (empty["bin_low"], empty["bin_high"]) == (0.5, 1.0) and pd.isna(empty["observed_rate"])
    assert len(frame) == 3  # the input is not changed
