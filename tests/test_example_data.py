"""Checks on the data shipped in examples/.

The welfare-fraud file is synthetic: the generator must reproduce it byte for
byte, and the disparity planted in it (documented in
examples/welfare_fraud/README.md) must hold. The COMPAS file is ProPublica's,
copied unchanged: its hash and ProPublica's published filtered counts must hold.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WELFARE_DIR = EXAMPLES / "welfare_fraud"
WELFARE_CSV = WELFARE_DIR / "welfare_fraud.csv"
COMPAS_CSV = EXAMPLES / "compas" / "compas-scores-two-years.csv"
COMPAS_SHA256 = "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "welfare_fraud_generate", WELFARE_DIR / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def welfare() -> pd.DataFrame:
    return pd.read_csv(WELFARE_CSV)


def test_generator_reproduces_csv_byte_for_byte():
    generated = _load_generator().generate().to_csv(index=False, lineterminator="\n")
    assert generated.encode("utf-8") == WELFARE_CSV.read_bytes()


def test_welfare_columns_and_size(welfare):
    assert list(welfare.columns) == [
        "application_id",
        "sex",
        "age_band",
        "nationality",
        "language",
        "district",
        "household_type",
        "months_on_benefit",
        "risk_score",
        "flagged",
        "fraud_found",
    ]
    assert len(welfare) == 20000
    assert welfare["application_id"].iloc[0] == "W000001"
    assert welfare["application_id"].iloc[-1] == "W020000"
    assert ((welfare["risk_score"] >= 0.70).astype(int) == welfare["flagged"]).all()
    assert welfare["risk_score"].between(0, 1).all()


def test_overall_base_rate(welfare):
    assert 0.05 <= welfare["fraud_found"].mean() <= 0.07


def test_non_dutch_flagged_about_twice_as_often(welfare):
    known = welfare[welfare["nationality"].notna()]
    dutch = known[known["nationality"] == "Dutch"]
    non_dutch = known[known["nationality"] != "Dutch"]
    ratio = non_dutch["flagged"].mean() / dutch["flagged"].mean()
    assert 1.7 <= ratio <= 2.4, ratio


def test_no_disparity_by_sex(welfare):
    female = welfare.loc[welfare["sex"] == "female", "flagged"].mean()
    male = welfare.loc[welfare["sex"] == "male", "flagged"].mean()
    assert 0.9 <= female / male <= 1.1, female / male


def test_base_rate_equal_across_nationality(welfare):
    known = welfare[welfare["nationality"].notna()]
    dutch = known.loc[known["nationality"] == "Dutch", "fraud_found"].mean()
    non_dutch = known.loc[known["nationality"] != "Dutch", "fraud_found"].mean()
    assert 0.8 <= non_dutch / dutch <= 1.25, non_dutch / dutch


def test_missing_nationality_share(welfare):
    share = welfare["nationality"].isna().mean()
    assert 0.01 <= share <= 0.02, share


def test_compas_copy_is_unchanged():
    digest = hashlib.sha256(COMPAS_CSV.read_bytes()).hexdigest()
    assert digest == COMPAS_SHA256


def test_compas_propublica_filter_counts():
    # keep_default_na=False so that a literal "N/A" stays text, as in DuckDB.
    df = pd.read_csv(COMPAS_CSV, keep_default_na=False, na_values=[""])
    kept = df[
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
    ]
    assert len(kept) == 6172
    assert int((kept["two_year_recid"] == 1).sum()) == 2809
