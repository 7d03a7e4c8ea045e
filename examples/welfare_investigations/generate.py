"""Generate the synthetic Havenburg welfare-investigations data set.

Everything in this file is invented. "Gemeente Havenburg" is a fictional Dutch
municipality. The data imitate how a city's welfare-fraud risk model is really
used, in the style of Rotterdam's model (2017-2021): every recipient of social
assistance (*bijstand*) gets a risk score, the fraud team investigates only the
1,200 highest scores of the year, and whether an unlawful payment was found is
known **only for the investigated cases**. A few other cases are investigated
after a tip or a data-matching hit. The model does not use nationality, but it
raises the score of recipients whose language at home is not Dutch and of
those who live in two districts where many migrants live; so its flags differ
by nationality through those proxies. README.md beside this file documents
every planted fact and the figures measured on the generated file.

Run ``python generate.py`` to (re)write ``welfare_investigations.csv`` beside
this script, or import :func:`generate` to get the same rows as a DataFrame;
:func:`true_rates` gives the exact rates the parameters imply, without sampling.

Only ``numpy.random.default_rng(seed)`` and its ``.random()`` and
``.integers()`` methods are used; categorical draws come from cumulative
probabilities on ``.random()`` and normal draws from the Box-Muller transform,
so the output does not depend on numpy's higher-level samplers, whose streams
numpy does not promise to keep stable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import norm

from audit.synthetic import draw, draw_given, standard_normal

OUTPUT_FILE = Path(__file__).resolve().parent / "welfare_investigations.csv"

DEFAULT_N = 25_000
DEFAULT_SEED = 20260318
CAPACITY = 1_200  # investigations the fraud team can do in the year: the top-k of the score

SEX = ("female", "male")
SEX_P = (0.54, 0.46)

# Age bands of recipients (18 to the state-pension age) and their shares.
AGE_BANDS = {"18-26": (18, 26), "27-35": (27, 35), "36-45": (36, 45), "46-55": (46, 55), "56-66": (56, 66)}
AGE_P = (0.14, 0.21, 0.24, 0.23, 0.18)

NATIONALITIES = ("Dutch", "Moroccan", "Turkish", "Surinamese", "Syrian", "Polish", "Other EU", "Other")
NATIONALITY_P = (0.60, 0.09, 0.08, 0.06, 0.05, 0.03, 0.03, 0.06)
MISSING_NATIONALITY_P = 0.008  # not recorded in the extract; removed after scoring

LANGUAGES = ("Dutch", "Arabic", "Tamazight", "Turkish", "Polish", "English", "other")
# P(language spoken at home | nationality); columns follow LANGUAGES.
LANGUAGE_P: dict[str, tuple[float, ...]] = {
    "Dutch": (0.90, 0.02, 0.01, 0.02, 0.00, 0.01, 0.04),
    "Moroccan": (0.25, 0.40, 0.30, 0.00, 0.00, 0.00, 0.05),
    "Turkish": (0.25, 0.00, 0.00, 0.70, 0.00, 0.00, 0.05),
    "Surinamese": (0.92, 0.00, 0.00, 0.00, 0.00, 0.02, 0.06),
    "Syrian": (0.05, 0.85, 0.00, 0.00, 0.00, 0.00, 0.10),
    "Polish": (0.10, 0.00, 0.00, 0.00, 0.80, 0.10, 0.00),
    "Other EU": (0.10, 0.00, 0.00, 0.00, 0.00, 0.40, 0.50),
    "Other": (0.15, 0.10, 0.00, 0.00, 0.00, 0.25, 0.50),
}

# The Dutch-language requirement of the Participation Act (taaleis): met, not met, or exempt.
REQUIREMENT = ("met", "not met", "exempt")
REQUIREMENT_P_DUTCH_HOME = (0.96, 0.01, 0.03)
REQUIREMENT_P_OTHER_HOME = (0.50, 0.38, 0.12)
REQUIREMENT_PENDING_MONTHS = 3  # spells this short are often not assessed yet (missing value)
REQUIREMENT_PENDING_P = 0.60

# P(needs an interpreter | language requirement); a missing requirement counts as "met".
INTERPRETER_P = {"met": 0.01, "not met": 0.45, "exempt": 0.10}

DISTRICTS = ("Havendijk", "Kaaipark", "Oud-Noord", "Lindenhof", "Vlietzoom", "Duinrand")
MIGRANT_DISTRICTS = ("Havendijk", "Kaaipark")  # the two districts whose residents the score shifts up
# P(district | nationality); columns follow DISTRICTS.
DISTRICT_P: dict[str, tuple[float, ...]] = {
    "Dutch": (0.04, 0.04, 0.22, 0.22, 0.23, 0.25),
    "Moroccan": (0.30, 0.50, 0.06, 0.06, 0.05, 0.03),
    "Turkish": (0.55, 0.25, 0.06, 0.06, 0.05, 0.03),
    "Surinamese": (0.07, 0.07, 0.12, 0.50, 0.14, 0.10),
    "Syrian": (0.35, 0.50, 0.05, 0.04, 0.04, 0.02),
    "Polish": (0.30, 0.20, 0.35, 0.05, 0.05, 0.05),
    "Other EU": (0.25, 0.20, 0.25, 0.10, 0.10, 0.10),
    "Other": (0.35, 0.35, 0.10, 0.08, 0.07, 0.05),
}

HOUSEHOLD_TYPES = ("single", "single parent", "couple", "couple with children")
# Single parents on social assistance are mostly women. Household type does not enter the score.
HOUSEHOLD_P = {"female": (0.44, 0.32, 0.08, 0.16), "male": (0.70, 0.04, 0.10, 0.16)}

LONG_SPELL_P = 0.45  # months on benefit: a mix of short spells (1-24) and long ones (1-120)

# Ground truth: the same rate of unlawful payment for everyone.
FRAUD_BASE_RATE = 0.08

# The risk score's logit. Nationality, sex, age and household type have no weight;
# language at home and district are the planted proxies.
SCORE_INTERCEPT = -1.75
SCORE_FRAUD_EFFECT = 1.30
SCORE_MONTHS_EFFECT = 0.15  # per standard deviation of log(months_on_benefit)
SCORE_LANGUAGE_SHIFT = 0.65  # language at home is not Dutch
SCORE_DISTRICT_SHIFT = 0.50  # lives in Havendijk or Kaaipark
SCORE_NOISE_SD = 1.00

# Investigations outside the top-k: tips and data-matching hits, which find fraud far more often.
TIP_P = {True: 0.03, False: 0.002}  # P(tip | unlawful payment), among cases outside the top-k


def _ages(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Age band and age in whole years (uniform within the band)."""
    band = draw(rng, tuple(AGE_BANDS), AGE_P, n)
    low = np.array([AGE_BANDS[b][0] for b in band])
    high = np.array([AGE_BANDS[b][1] for b in band])
    return band, rng.integers(low, high + 1)


def _months_on_benefit(rng: np.random.Generator, n: int) -> np.ndarray:
    """Length of the current benefit spell in months (1-120)."""
    long_spell = rng.random(n) < LONG_SPELL_P
    short, long_ = rng.integers(1, 25, size=n), rng.integers(1, 121, size=n)
    return np.where(long_spell, long_, short).astype(np.int64)


def _language_requirement(rng: np.random.Generator, language: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The Dutch-language requirement (met / not met / exempt); missing for some short spells."""
    home = np.where(language == "Dutch", "Dutch", "other")
    table = {"Dutch": REQUIREMENT_P_DUTCH_HOME, "other": REQUIREMENT_P_OTHER_HOME}
    requirement = draw_given(rng.random(len(home)), home, table, REQUIREMENT)
    pending = (months <= REQUIREMENT_PENDING_MONTHS) & (rng.random(len(months)) < REQUIREMENT_PENDING_P)
    requirement[pending] = None
    return requirement


def _needs_interpreter(rng: np.random.Generator, requirement: np.ndarray) -> np.ndarray:
    """'yes' or 'no': whether contacts with the recipient need an interpreter."""
    known = np.where(pd.isna(requirement), "met", requirement)
    p = np.array([INTERPRETER_P[r] for r in known])
    return np.where(rng.random(len(known)) < p, "yes", "no").astype(object)


def risk_logit(fraud: np.ndarray, months: np.ndarray, language: np.ndarray, district: np.ndarray,
               noise: np.ndarray) -> np.ndarray:
    """The model's logit: informative about fraud, shifted up by the two proxies."""
    log_months = np.log(months)
    months_z = (log_months - log_months.mean()) / log_months.std()
    return (SCORE_INTERCEPT + SCORE_FRAUD_EFFECT * fraud + SCORE_MONTHS_EFFECT * months_z
            + SCORE_LANGUAGE_SHIFT * (language != "Dutch")
            + SCORE_DISTRICT_SHIFT * np.isin(district, MIGRANT_DISTRICTS)
            + SCORE_NOISE_SD * noise)


def top_k_flags(score: np.ndarray, k: int) -> np.ndarray:
    """Rows at or above the k-th highest score (ties with it included, as the audit counts top-k)."""
    cutoff = np.sort(score)[-k]
    return score >= cutoff


def _months_distribution() -> tuple[np.ndarray, np.ndarray]:
    """Every spell length (1-120 months) and its probability under :func:`_months_on_benefit`."""
    months = np.arange(1, 121)
    p = LONG_SPELL_P / 120 + (1 - LONG_SPELL_P) * (months <= 24) / 24
    return months, p


def _share_above(cutoff: float, shift: float) -> float:
    """P(logit > cutoff) for a recipient whose fixed logit terms add ``shift`` to the intercept.

    Integrates the months term over its exact distribution (standardised with the population's mean and
    standard deviation of log months, the limit of what :func:`risk_logit` does on a large file) and the
    normal noise in closed form.
    """
    months, p = _months_distribution()
    log_months = np.log(months)
    mean = float(p @ log_months)
    months_z = (log_months - mean) / np.sqrt(float(p @ (log_months - mean) ** 2))
    centre = SCORE_INTERCEPT + shift + SCORE_MONTHS_EFFECT * months_z
    return float(p @ norm.sf((cutoff - centre) / SCORE_NOISE_SD))


def _exposure(nationality: str) -> tuple[float, float]:
    """P(language at home is not Dutch) and P(lives in a migrant district) for one nationality."""
    other_language = 1.0 - LANGUAGE_P[nationality][LANGUAGES.index("Dutch")]
    migrant_district = sum(p for d, p in zip(DISTRICTS, DISTRICT_P[nationality]) if d in MIGRANT_DISTRICTS)
    return other_language, migrant_district


def _selection_rate(cutoff: float, nationality: str, fraud_rate: float) -> float:
    """P(logit > cutoff) in one nationality, among recipients with the given rate of unlawful payment."""
    other_language, migrant_district = _exposure(nationality)
    rate = 0.0
    for fraud, p_fraud in ((1, fraud_rate), (0, 1.0 - fraud_rate)):
        for language, p_language in ((1, other_language), (0, 1.0 - other_language)):
            for district, p_district in ((1, migrant_district), (0, 1.0 - migrant_district)):
                shift = (SCORE_FRAUD_EFFECT * fraud + SCORE_LANGUAGE_SHIFT * language
                         + SCORE_DISTRICT_SHIFT * district)
                rate += p_fraud * p_language * p_district * _share_above(cutoff, shift)
    return rate


def true_rates(capacity_share: float = CAPACITY / DEFAULT_N) -> pd.DataFrame:
    """The exact selection rate and false-positive rate of every nationality, without sampling.

    The population's cut-off is the logit above which a share ``capacity_share`` of all recipients lies (the
    top 1,200 of 25,000 by default); the rates integrate the score's distribution in each nationality. Sex
    enters nothing, so every nationality × sex cell has its nationality's rates.

    Parameters
    ----------
    capacity_share : float
        Share of recipients selected by the score, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by nationality (Dutch first), with ``selection_rate``, ``fpr`` (P(selected | no unlawful
        payment)) and ``checked_fpr`` (the same share among the innocent recipients who were investigated, the
        only ones the city knows to be innocent: selected by the score, or tipped off outside the top-k) as
        shares in [0, 1], and ``selection_ratio``, ``fpr_ratio`` and ``checked_fpr_ratio`` against Dutch
        nationals.

    Raises
    ------
    ValueError
        ``capacity_share`` is not in (0, 1).
    """
    if not 0.0 < capacity_share < 1.0:
        raise ValueError(f"capacity_share must be in (0, 1); got {capacity_share}")

    def population_share(cutoff: float) -> float:
        return sum(p * _selection_rate(cutoff, nat, FRAUD_BASE_RATE) for nat, p in zip(NATIONALITIES, NATIONALITY_P))

    cutoff = brentq(lambda c: population_share(c) - capacity_share, -20.0, 20.0)
    rates = pd.DataFrame({"selection_rate": [_selection_rate(cutoff, n, FRAUD_BASE_RATE) for n in NATIONALITIES],
                          "fpr": [_selection_rate(cutoff, n, 0.0) for n in NATIONALITIES]},
                         index=pd.Index(NATIONALITIES, name="nationality"))
    rates["checked_fpr"] = rates["fpr"] / (rates["fpr"] + TIP_P[False] * (1.0 - rates["fpr"]))
    ratios = {"selection_rate": "selection_ratio", "fpr": "fpr_ratio", "checked_fpr": "checked_fpr_ratio"}
    for rate, ratio in ratios.items():
        rates[ratio] = rates[rate] / rates.loc["Dutch", rate]
    return rates


def generate(seed: int = DEFAULT_SEED, n: int = DEFAULT_N, *, with_truth: bool = False) -> pd.DataFrame:
    """Return ``n`` synthetic social-assistance recipients of Gemeente Havenburg for one year.

    Parameters
    ----------
    seed : int
        Seed for ``numpy.random.default_rng``; the shipped file uses the default.
    n : int
        Number of recipients (rows).
    with_truth : bool
        Also return the column ``true_fraud`` (whether an unlawful payment exists, for every row), which
        the city cannot know and the shipped file does not contain. For the README's hidden figures only.

    Returns
    -------
    pandas.DataFrame
        Columns ``recipient_id``, ``sex``, ``age``, ``age_band``, ``nationality`` (missing for about 0.8%),
        ``language_at_home``, ``dutch_language_requirement`` (missing when not yet assessed),
        ``needs_interpreter``, ``district``, ``household_type``, ``months_on_benefit``, ``risk_score``,
        ``investigated``, ``investigation_reason`` and ``fraud_found`` (missing unless investigated);
        see README.md.
    """
    rng = np.random.default_rng(seed)

    sex = draw(rng, SEX, SEX_P, n)
    age_band, age = _ages(rng, n)
    nationality = draw(rng, NATIONALITIES, NATIONALITY_P, n)
    language = draw_given(rng.random(len(nationality)), nationality, LANGUAGE_P, LANGUAGES)
    district = draw_given(rng.random(len(nationality)), nationality, DISTRICT_P, DISTRICTS)
    household = draw_given(rng.random(len(sex)), sex, HOUSEHOLD_P, HOUSEHOLD_TYPES)
    months = _months_on_benefit(rng, n)
    requirement = _language_requirement(rng, language, months)
    interpreter = _needs_interpreter(rng, requirement)

    fraud = rng.random(n) < FRAUD_BASE_RATE
    logit = risk_logit(fraud, months, language, district, standard_normal(rng, n))
    risk_score = np.round(1.0 / (1.0 + np.exp(-logit)), 4)

    flagged = top_k_flags(risk_score, CAPACITY)
    tip = ~flagged & (rng.random(n) < np.where(fraud, TIP_P[True], TIP_P[False]))
    investigated = flagged | tip
    reason = np.where(flagged, "risk score", np.where(tip, "tip or data match", None)).astype(object)
    fraud_found = pd.array(np.where(investigated, fraud.astype(int), 0), dtype="Int64")
    fraud_found[~investigated] = pd.NA

    nationality = nationality.copy()
    nationality[rng.random(n) < MISSING_NATIONALITY_P] = None

    frame = pd.DataFrame({
        "recipient_id": [f"HB{i:06d}" for i in range(1, n + 1)],
        "sex": sex,
        "age": age.astype(np.int64),
        "age_band": age_band,
        "nationality": nationality,
        "language_at_home": language,
        "dutch_language_requirement": requirement,
        "needs_interpreter": interpreter,
        "district": district,
        "household_type": household,
        "months_on_benefit": months,
        "risk_score": risk_score,
        "investigated": investigated.astype(np.int64),
        "investigation_reason": reason,
        "fraud_found": fraud_found,
    })
    if with_truth:
        frame["true_fraud"] = fraud.astype(np.int64)
    return frame


if __name__ == "__main__":
    generate().to_csv(OUTPUT_FILE, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")
