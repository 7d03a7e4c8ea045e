"""Generate the synthetic Rivierstad welfare-fraud data set.

Everything in this file is invented. "Gemeente Rivierstad" is a fictional
Dutch municipality; the data imitate the shape of the welfare-fraud risk
models used by Rotterdam (2017-2021) and Amsterdam ("Slimme Check", 2023),
with one known, deliberately planted disparity so that an audit of the file
has a ground truth to find. README.md beside this file documents the planted
facts and the figures measured on the generated file.

Run ``python generate.py`` to (re)write ``welfare_fraud.csv`` beside this
script, or import :func:`generate` to get the same rows as a DataFrame.

Only ``numpy.random.default_rng(seed)`` and its ``.random()`` and
``.integers()`` methods are used, and every categorical draw is built from
cumulative probabilities on ``.random()``, so the output does not depend on
numpy's implementation of higher-level samplers (``choice``, ``normal``,
``binomial``), whose streams numpy does not promise to keep stable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit.synthetic import draw, draw_given, standard_normal

OUTPUT_FILE = Path(__file__).resolve().parent / "welfare_fraud.csv"

SEX = ["female", "male"]
SEX_P = [0.52, 0.48]

AGE_BANDS = ["18-26", "27-35", "36-45", "46-55", "56-67"]
AGE_P = [0.15, 0.22, 0.24, 0.22, 0.17]

NATIONALITIES = [
    "Dutch",
    "Moroccan",
    "Turkish",
    "Surinamese",
    "Polish",
    "Syrian",
    "Other EU",
    "Other",
]
NATIONALITY_P = [0.68, 0.08, 0.07, 0.05, 0.03, 0.04, 0.02, 0.03]

LANGUAGES = ["Dutch", "Arabic", "Turkish", "Polish", "English", "other"]
# P(language | nationality); rows follow NATIONALITIES, columns LANGUAGES.
LANGUAGE_P = {
    "Dutch": [0.95, 0.015, 0.015, 0.0, 0.01, 0.01],
    "Moroccan": [0.35, 0.50, 0.0, 0.0, 0.0, 0.15],
    "Turkish": [0.37, 0.0, 0.60, 0.0, 0.0, 0.03],
    "Surinamese": [0.92, 0.0, 0.0, 0.0, 0.03, 0.05],
    "Polish": [0.10, 0.0, 0.0, 0.75, 0.15, 0.0],
    "Syrian": [0.05, 0.85, 0.0, 0.0, 0.05, 0.05],
    "Other EU": [0.15, 0.0, 0.0, 0.0, 0.50, 0.35],
    "Other": [0.15, 0.15, 0.0, 0.0, 0.30, 0.40],
}

DISTRICTS = [
    "Havenkwartier",
    "Oude Dijk",
    "Molenwijk",
    "Rietveld",
    "Zuiderpark",
    "Kanaalzijde",
    "Bloemhof",
    "Weidebeek",
]
# P(district | Dutch) and P(district | any other nationality): non-Dutch
# residents live mostly in Havenkwartier, Zuiderpark, Kanaalzijde, Bloemhof.
DISTRICT_P_DUTCH = [0.07, 0.17, 0.15, 0.16, 0.07, 0.09, 0.06, 0.23]
DISTRICT_P_OTHER = [0.22, 0.05, 0.07, 0.05, 0.21, 0.16, 0.20, 0.04]

HOUSEHOLD_TYPES = ["single", "single parent", "couple", "couple with children"]
# Single parents on benefit are mostly women; household type does not enter
# the risk score, so this creates no disparity by sex.
HOUSEHOLD_P = {
    "female": [0.40, 0.30, 0.10, 0.20],
    "male": [0.60, 0.05, 0.12, 0.23],
}

FRAUD_BASE_RATE = 0.06  # the same for every group: the ground truth
FLAG_THRESHOLD = 0.70

# The planted disparity: additive shifts on the logit of the risk score.
SCORE_INTERCEPT = -0.85
SCORE_FRAUD_EFFECT = 1.30  # fraud cases score higher: the model is informative
SCORE_NOISE_SD = 1.00
SCORE_MONTHS_EFFECT = 0.10  # per standard deviation of log(months_on_benefit)
NATIONALITY_SHIFT = {
    "Dutch": 0.0,
    "Moroccan": 0.42,
    "Turkish": 0.42,
    "Surinamese": 0.30,
    "Polish": 0.21,
    "Syrian": 0.42,
    "Other EU": 0.17,
    "Other": 0.34,
}
LANGUAGE_SHIFT = {
    "Dutch": 0.0,
    "Arabic": 0.13,
    "Turkish": 0.13,
    "Polish": 0.0,
    "English": 0.0,
    "other": 0.0,
}
AGE_SHIFT = {"18-26": 0.26, "27-35": 0.08, "36-45": 0.0, "46-55": 0.0, "56-67": -0.05}
SEX_SHIFT = {"female": 0.0, "male": 0.0}  # no disparity by sex

MISSING_NATIONALITY_P = 0.015


def generate(n: int = 20000, seed: int = 20261122) -> pd.DataFrame:
    """Return ``n`` synthetic benefit applications of Gemeente Rivierstad.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed for ``numpy.random.default_rng``. The published file uses the
        defaults (n=20000, seed=20261122).

    Returns
    -------
    pandas.DataFrame
        Columns ``application_id``, ``sex``, ``age_band``, ``nationality``
        (missing for about 1.5% of rows), ``language``, ``district``,
        ``household_type``, ``months_on_benefit``, ``risk_score``,
        ``flagged`` and ``fraud_found``; see README.md.
    """
    rng = np.random.default_rng(seed)

    sex = draw(rng, SEX, SEX_P, n)
    age_band = draw(rng, AGE_BANDS, AGE_P, n)
    nationality = draw(rng, NATIONALITIES, NATIONALITY_P, n)
    language = draw_given(rng.random(n), nationality, LANGUAGE_P, LANGUAGES)
    district_table = {
        key: (DISTRICT_P_DUTCH if key == "Dutch" else DISTRICT_P_OTHER) for key in NATIONALITIES
    }
    district = draw_given(rng.random(n), nationality, district_table, DISTRICTS)
    household_type = draw_given(rng.random(n), sex, HOUSEHOLD_P, HOUSEHOLD_TYPES)

    # Months on benefit: a mix of short spells (1-24 months) and long ones (1-120).
    long_spell = rng.random(n) < 0.45
    months_short = rng.integers(1, 25, size=n)
    months_long = rng.integers(1, 121, size=n)
    months_on_benefit = np.where(long_spell, months_long, months_short).astype(np.int64)

    # Ground truth: the same fraud base rate for everyone.
    fraud_found = (rng.random(n) < FRAUD_BASE_RATE).astype(np.int64)

    # The risk score: informative about fraud, but shifted upward for
    # non-Dutch nationalities, Arabic and Turkish speakers and young people.
    log_months = np.log(months_on_benefit)
    months_z = (log_months - log_months.mean()) / log_months.std()
    logit = (
        SCORE_INTERCEPT
        + SCORE_FRAUD_EFFECT * fraud_found
        + SCORE_MONTHS_EFFECT * months_z
        + np.array([NATIONALITY_SHIFT[v] for v in nationality])
        + np.array([LANGUAGE_SHIFT[v] for v in language])
        + np.array([AGE_SHIFT[v] for v in age_band])
        + np.array([SEX_SHIFT[v] for v in sex])
        + SCORE_NOISE_SD * standard_normal(rng, n)
    )
    risk_score = np.round(1.0 / (1.0 + np.exp(-logit)), 3)
    flagged = (risk_score >= FLAG_THRESHOLD).astype(np.int64)

    # Nationality not recorded for about 1.5% of applications (after the
    # score was computed: the missing value is a gap in the audit data only).
    nationality = nationality.copy()
    nationality[rng.random(n) < MISSING_NATIONALITY_P] = None

    return pd.DataFrame(
        {
            "application_id": [f"W{i:06d}" for i in range(1, n + 1)],
            "sex": sex,
            "age_band": age_band,
            "nationality": nationality,
            "language": language,
            "district": district,
            "household_type": household_type,
            "months_on_benefit": months_on_benefit,
            "risk_score": risk_score,
            "flagged": flagged,
            "fraud_found": fraud_found,
        }
    )


def to_csv_text(df: pd.DataFrame) -> str:
    """The exact text written to ``welfare_fraud.csv``."""
    return df.to_csv(index=False, lineterminator="\n")


if __name__ == "__main__":
    generate().to_csv(OUTPUT_FILE, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")
