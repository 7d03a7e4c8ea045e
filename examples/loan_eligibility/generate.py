"""Generate the synthetic Sơn Lâm preferential-loan eligibility data set.

Everything in this file is invented. The "Sơn Lâm provincial branch of the
Social Policy Bank" is fictional, and so is the province. The data imitate
the shape of the preferential loans that the Vietnam Bank for Social Policies
(Ngân hàng Chính sách xã hội, VBSP) makes to poor households, near-poor
households and households that have recently escaped poverty: unsecured
loans of up to 100 million VND per household. The branch is imagined to
pre-screen every application with an eligibility-scoring model, to approve
those that score 60 or more, and to let the model suggest how much of the
requested amount to grant. Several disparities were planted on purpose so
that an audit of the file has a known ground truth to find; README.md beside
this file documents them with their true rates.

Run ``python generate.py`` to (re)write ``loan_eligibility.csv`` beside this
script, or import :func:`generate` to get the same rows as a DataFrame.

Only ``numpy.random.default_rng(seed)`` and its ``.random()`` and
``.integers()`` methods are used: every categorical draw is built from
cumulative probabilities on ``.random()`` and every normal draw by the
Box-Muller transform, so the output does not depend on numpy's
implementation of its higher-level samplers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from audit.synthetic import draw, draw_given, standard_normal

OUTPUT_FILE = Path(__file__).resolve().parent / "loan_eligibility.csv"
DEFAULT_N = 22_000
DEFAULT_SEED = 20260315

# --- Who applies (independent of one another unless said otherwise) -------------------------

SEX = ["female", "male"]
SEX_P = [0.56, 0.44]  # the borrower of record is often the woman of the household

AGE_BANDS = ["18-29", "30-39", "40-49", "50-59", "60+"]
AGE_P = [0.15, 0.27, 0.26, 0.20, 0.12]

DISABILITY = ["none", "mild", "severe"]  # degree certified under the Law on Persons with Disabilities
DISABILITY_P = [0.92, 0.05, 0.03]

ETHNICITIES = ["Kinh", "Tày", "Nùng", "Dao", "Mông", "Sán Chay", "other"]
ETHNICITY_P = [0.34, 0.22, 0.12, 0.12, 0.14, 0.03, 0.03]
HIGHLAND_GROUPS = ("Dao", "Mông")

# Commune of residence: an urban ward, or a rural commune of zone I, II or III
# (zone III: the most difficult communes of ethnic-minority and mountainous areas).
ZONES = ["urban ward", "zone I", "zone II", "zone III"]
ZONE_P_KINH = [0.30, 0.35, 0.25, 0.10]
ZONE_P_LOWLAND = [0.08, 0.32, 0.35, 0.25]  # Tày, Nùng, Sán Chay, other
ZONE_P_BY_HIGHLAND_GROUP = {"Dao": [0.02, 0.08, 0.25, 0.65], "Mông": [0.01, 0.04, 0.15, 0.80]}

POVERTY = ["poor", "near-poor", "recently escaped poverty"]
POVERTY_P_KINH = [0.35, 0.40, 0.25]
POVERTY_P_MINORITY = [0.55, 0.30, 0.15]  # the same for every ethnic minority

# Requested amount, million VND (the cap for these loans is 100 million VND per household).
REQUEST_LEVELS = [20, 30, 40, 50, 60, 70, 80, 100]
REQUEST_P_KINH = [0.05, 0.08, 0.12, 0.15, 0.15, 0.15, 0.15, 0.15]
REQUEST_P_MINORITY = [0.12, 0.16, 0.20, 0.18, 0.12, 0.09, 0.07, 0.06]

# --- The model: eligibility score and approval ------------------------------------------------

SCORE_BASE = 67.0
SCORE_NOISE_SD = 12.0
SCORE_POVERTY_EFFECT = {"poor": 3.0, "near-poor": 0.0, "recently escaped poverty": -3.0}
# The planted proxy: the model marks remote communes down ("collection cost").
SCORE_ZONE_EFFECT = {"urban ward": 0.0, "zone I": 0.0, "zone II": -4.0, "zone III": -16.0}
APPROVAL_CUTOFF = 60

# --- The amount: share of the request granted (approved applications only) -------------------

SHARE_LEVELS = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
SHARE_P = {
    "male": [0.62, 0.16, 0.10, 0.06, 0.04, 0.02],    # mean 0.920, median 1.0
    "female": [0.06, 0.04, 0.30, 0.26, 0.20, 0.14],  # mean 0.708, median 0.7: the planted cut
}
# Both sexes' medians, and the median 0.8 of any group with the applicants' mix of sexes, lie at least
# 0.10 inside one step of the ladder, so a sample median never sits on the edge between two steps.

# --- Processing time ---------------------------------------------------------------------------

DAYS_FLOOR = 3          # days = 3 + round(exp(N(log 8, 0.5))) + disability delay
DAYS_LOG_MEDIAN = 8.0
DAYS_LOG_SD = 0.5
DISABILITY_DELAY_DAYS = {"none": 0, "mild": 4, "severe": 8}  # the planted extra verification step

# --- Gaps in the records ------------------------------------------------------------------------

MISSING_ETHNICITY_P = 0.01
MISSING_DAYS_P = 0.006
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _lookup(values: np.ndarray, effects: Mapping[str, float]) -> np.ndarray:
    """The effect of each row's value."""
    return np.array([effects[v] for v in values], dtype=float)


def zone_table() -> dict[str, list[float]]:
    """P(commune zone | ethnicity), rows in the order of ``ETHNICITIES``."""
    return {e: ZONE_P_KINH if e == "Kinh" else ZONE_P_BY_HIGHLAND_GROUP.get(e, ZONE_P_LOWLAND)
            for e in ETHNICITIES}


def poverty_table() -> dict[str, list[float]]:
    """P(poverty status | ethnicity)."""
    return {e: POVERTY_P_KINH if e == "Kinh" else POVERTY_P_MINORITY for e in ETHNICITIES}


def request_table() -> dict[str, list[float]]:
    """P(requested amount | ethnicity)."""
    return {e: REQUEST_P_KINH if e == "Kinh" else REQUEST_P_MINORITY for e in ETHNICITIES}


def score_mean(poverty: str, zone: str) -> float:
    """Mean of the eligibility score (before noise, rounding and clipping) for a poverty status and zone."""
    return SCORE_BASE + SCORE_POVERTY_EFFECT[poverty] + SCORE_ZONE_EFFECT[zone]


def _eligibility_score(rng: np.random.Generator, poverty: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The model's score, 0-100 (whole points): poverty and zone effects plus normal noise."""
    mean = SCORE_BASE + _lookup(poverty, SCORE_POVERTY_EFFECT) + _lookup(zone, SCORE_ZONE_EFFECT)
    raw = mean + SCORE_NOISE_SD * standard_normal(rng, len(poverty))
    return np.clip(np.round(raw), 0, 100).astype(np.int64)


def _processing_days(rng: np.random.Generator, disability: np.ndarray) -> np.ndarray:
    """Days from application to decision: a log-normal spell plus the disability delay."""
    spell = np.round(np.exp(np.log(DAYS_LOG_MEDIAN) + DAYS_LOG_SD * standard_normal(rng, len(disability))))
    return DAYS_FLOOR + spell + _lookup(disability, DISABILITY_DELAY_DAYS)


def _blank(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    """A copy of ``values`` with about a share ``p`` of the entries, chosen at random, set to missing."""
    out = values.astype(object).copy()
    out[rng.random(len(values)) < p] = None
    return out


def generate(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return ``n`` synthetic applications for a preferential loan at the Sơn Lâm branch.

    Parameters
    ----------
    n : int
        Number of applications (rows).
    seed : int
        Seed for ``numpy.random.default_rng``; the shipped file uses the defaults.

    Returns
    -------
    pandas.DataFrame
        One row per application: ``application_id``, ``application_month``,
        ``sex``, ``age_band``, ``ethnicity`` (missing for about 1%),
        ``disability``, ``commune_zone``, ``area``, ``poverty_status``,
        ``requested_amount_mvnd``, ``eligibility_score``, ``approved``,
        ``granted_amount_mvnd`` and ``share_granted`` (empty unless approved)
        and ``processing_days`` (missing for about 0.6%); see README.md.
    """
    rng = np.random.default_rng(seed)
    month = draw(rng, MONTHS, [1.0] * len(MONTHS), n)
    sex = draw(rng, SEX, SEX_P, n)
    age_band = draw(rng, AGE_BANDS, AGE_P, n)
    disability = draw(rng, DISABILITY, DISABILITY_P, n)
    ethnicity = draw(rng, ETHNICITIES, ETHNICITY_P, n)
    zone = draw_given(rng.random(len(ethnicity)), ethnicity, zone_table(), ZONES)
    poverty = draw_given(rng.random(len(ethnicity)), ethnicity, poverty_table(), POVERTY)
    requested = draw_given(rng.random(len(ethnicity)), ethnicity, request_table(), REQUEST_LEVELS).astype(np.int64)

    score = _eligibility_score(rng, poverty, zone)
    approved = (score >= APPROVAL_CUTOFF).astype(np.int64)

    share = draw_given(rng.random(len(sex)), sex, SHARE_P, SHARE_LEVELS).astype(float)
    granted = np.round(requested * share, 1)
    days = _processing_days(rng, disability)

    ethnicity = _blank(rng, ethnicity, MISSING_ETHNICITY_P)  # not recorded: a gap in the audit data only
    days = _blank(rng, days, MISSING_DAYS_P)
    is_approved = approved == 1
    return pd.DataFrame(
        {
            "application_id": [f"SL{i:06d}" for i in range(1, n + 1)],
            "application_month": month,
            "sex": sex,
            "age_band": age_band,
            "ethnicity": ethnicity,
            "disability": disability,
            "commune_zone": zone,
            "area": np.where(zone == "urban ward", "urban", "rural"),
            "poverty_status": poverty,
            "requested_amount_mvnd": requested,
            "eligibility_score": score,
            "approved": approved,
            "granted_amount_mvnd": pd.array(np.where(is_approved, granted, np.nan), dtype="Float64"),
            "share_granted": pd.array(np.where(is_approved, np.round(share, 2), np.nan), dtype="Float64"),
            "processing_days": pd.array(days, dtype="Int64"),
        }
    )


if __name__ == "__main__":
    generate().to_csv(OUTPUT_FILE, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")
