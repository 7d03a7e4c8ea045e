"""Generate the synthetic Lạc Giang citizen trust-score data set.

Everything in this file is invented. "Tỉnh Lạc Giang" is a fictional
Vietnamese province in the northern uplands, and its "Chỉ số tín nhiệm công
dân" (citizen trust index) pilot does not exist. The data imitate the shape of
the city social-credit pilots in China (a points account that starts at 1,000,
with a "redlist" of trustworthy people and a "blacklist" of untrustworthy ones,
as in Rongcheng) fed by the kind of data a Vietnamese personal record (sơ yếu
lý lịch) and household registration (hộ khẩu) hold: family background, party
membership, residence status. No row describes a real person.

The score has no ethnicity or religion term. The planted disparity runs
through its inputs, whose distributions differ by group: relatives' records in
the family background, a social-network score built from contacts' scores,
party membership, temporary-residence status and a flag for worship at an
unregistered religious site. README.md beside this file states every planted
fact; :func:`true_tier_shares` computes the exact tier shares the generator
implies for any group, without sampling.

Run ``python generate.py`` to (re)write ``trust_score.csv`` beside this script,
or import :func:`generate` to get the same rows as a DataFrame.

Only ``numpy.random.default_rng(seed)`` and its ``.random()`` method are used:
every categorical draw comes from cumulative probabilities on ``.random()`` and
every normal draw from the Box-Muller transform, so the output does not depend
on numpy's implementation of higher-level samplers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from audit.synthetic import categorical, draw, draw_given, standard_normal

OUTPUT_FILE = Path(__file__).resolve().parent / "trust_score.csv"
N_ROWS = 24_000
SEED = 20260301

# --------------------------------------------------------------------------- population

SEXES = ("nam", "nữ")
SEX_P = (0.49, 0.51)

AGE_BANDS = ("18-29", "30-44", "45-59", "60+")
AGE_P = (0.27, 0.33, 0.25, 0.15)

# Shares close to those of an upland province of the north (Kinh about half).
ETHNICITIES = ("Kinh", "Tày", "Dao", "H'Mông", "Thái", "Mường", "Khác")
ETHNICITY_P = (0.48, 0.17, 0.10, 0.10, 0.08, 0.035, 0.035)

RELIGIONS = ("Không tôn giáo", "Phật giáo", "Công giáo", "Tin Lành")
# P(religion | ethnicity). Phật giáo is always one eighth of Không tôn giáo, so
# the two have the same ethnic mix and, with no input depending on either,
# the same tier shares: Phật giáo is planted equal to the reference.
RELIGION_P: dict[str, tuple[float, float, float, float]] = {
    "Kinh": (0.800, 0.100, 0.090, 0.010),
    "Tày": (0.800, 0.100, 0.090, 0.010),
    "Dao": (0.720, 0.090, 0.040, 0.150),
    "H'Mông": (0.400, 0.050, 0.010, 0.540),
    "Thái": (0.840, 0.105, 0.020, 0.035),
    "Mường": (0.800, 0.100, 0.090, 0.010),
    "Khác": (0.800, 0.100, 0.090, 0.010),
}
MISSING_RELIGION_P = 0.012  # religion not declared; removed after scoring, at random

COMMUNES = ("Phường Lạc Giang", "Phường Bình Sơn", "Xã Tân Khê", "Xã Hòa Mỹ", "Xã Yên Lâm",
            "Xã Nà Lương", "Xã Mường Khoa", "Xã Nậm Sương", "Xã Sín Chải", "Xã Pắc Ngà")
# P(commune | ethnicity): where each group lives. The commune does not enter the score.
COMMUNE_P: dict[str, tuple[float, ...]] = {
    "Kinh": (0.26, 0.20, 0.16, 0.14, 0.14, 0.04, 0.02, 0.02, 0.01, 0.01),
    "Tày": (0.08, 0.06, 0.14, 0.04, 0.10, 0.38, 0.10, 0.06, 0.02, 0.02),
    "Dao": (0.02, 0.02, 0.04, 0.02, 0.06, 0.10, 0.06, 0.38, 0.20, 0.10),
    "H'Mông": (0.01, 0.01, 0.02, 0.01, 0.02, 0.03, 0.05, 0.15, 0.30, 0.40),
    "Thái": (0.03, 0.03, 0.04, 0.02, 0.06, 0.08, 0.62, 0.06, 0.03, 0.03),
    "Mường": (0.08, 0.06, 0.20, 0.06, 0.30, 0.08, 0.14, 0.04, 0.02, 0.02),
    "Khác": (0.30, 0.20, 0.10, 0.05, 0.10, 0.10, 0.05, 0.05, 0.03, 0.02),
}
CATHOLIC_PARISH = "Xã Hòa Mỹ"
CATHOLIC_PARISH_P = 0.40  # share of Catholics who live in the parish commune, whatever their ethnicity

# --------------------------------------------------------------------------- the score's inputs

REGISTRATIONS = ("thường trú", "tạm trú")  # permanent registration here / temporary, registered elsewhere
TEMPORARY_P = {"Kinh": 0.08, "Tày": 0.08, "Dao": 0.14, "H'Mông": 0.22, "Thái": 0.11, "Mường": 0.08, "Khác": 0.08}
RECORD_UNAVAILABLE_P = 0.50  # a temporary resident's lý lịch is held by the home province

FAMILY_RECORDS = ("không", "tiền án", "an ninh")  # none / a relative's conviction / a relative's security case
CONVICTION_P = {"Kinh": 0.05, "Tày": 0.05, "Dao": 0.10, "H'Mông": 0.13, "Thái": 0.09, "Mường": 0.05, "Khác": 0.05}
SECURITY_P_ETHNICITY = {"Kinh": 0.01, "Tày": 0.01, "Dao": 0.04, "H'Mông": 0.08, "Thái": 0.04, "Mường": 0.01,
                        "Khác": 0.01}
SECURITY_P_RELIGION = {"Không tôn giáo": 0.0, "Phật giáo": 0.0, "Công giáo": 0.10, "Tin Lành": 0.10}

PARTY_P_ETHNICITY = {"Kinh": 0.10, "Tày": 0.10, "Dao": 0.06, "H'Mông": 0.04, "Thái": 0.06, "Mường": 0.10,
                     "Khác": 0.10}
PARTY_FACTOR_RELIGION = {"Không tôn giáo": 1.0, "Phật giáo": 1.0, "Công giáo": 0.2, "Tin Lành": 0.1}

WORSHIP_P = {"Không tôn giáo": 0.004, "Phật giáo": 0.004, "Công giáo": 0.02, "Tin Lành": 0.60}

# Social-network score (0-100): the mean trust of a person's phone and Zalo contacts, rescaled. Contacts
# are mostly of the same community, so a group scored low drags its members' network score down.
NETWORK_MEAN = 60.0
NETWORK_SD = 10.0
NETWORK_SHIFT_ETHNICITY = {"Kinh": 0.0, "Tày": 0.0, "Dao": -6.0, "H'Mông": -9.0, "Thái": -8.0, "Mường": 0.0,
                           "Khác": 0.0}
NETWORK_SHIFT_RELIGION = {"Không tôn giáo": 0.0, "Phật giáo": 0.0, "Công giáo": -6.0, "Tin Lành": -8.0}
NETWORK_MISSING_P = {"Kinh": 0.03, "Tày": 0.03, "Dao": 0.08, "H'Mông": 0.12, "Thái": 0.05, "Mường": 0.03,
                     "Khác": 0.03}

FINES_P = (0.82, 0.11, 0.045, 0.017, 0.008)  # unpaid administrative fines: 0, 1, 2, 3, 4; the same for all
VOLUNTEER_SESSIONS_P = (0.45,) + tuple(0.55 * 0.8 ** k / sum(0.8 ** j for j in range(1, 13)) for k in range(1, 13))
HOURS_PER_SESSION = 4  # volunteer hours are recorded in half-day sessions of 4 hours; the same for all

# --------------------------------------------------------------------------- the score and its tiers

BASE_POINTS = 1000.0
POINTS = {
    "temporary": -50.0,          # tạm trú
    "conviction": -60.0,         # a relative's conviction in the lý lịch
    "security": -150.0,          # a relative's security case in the lý lịch
    "record_unavailable": -30.0,  # lý lịch not available (held elsewhere)
    "per_network_point": 3.0,    # × (network score − 60)
    "network_missing": -15.0,
    "party": 50.0,
    "per_fine": -30.0,
    "per_volunteer_hour": 1.5,   # up to 40 hours
    "worship": -60.0,            # worship at an unregistered site
}
VOLUNTEER_CAP_HOURS = 40
NOISE_SD = 35.0  # the inputs not in this extract (neighbourhood reports, traffic records, online behaviour)

TIERS = ("blacklist", "watchlist", "standard", "redlist")
TIER_CUTS = (870, 940, 1040)  # an integer score below 870 is blacklist, 870-939 watchlist, ...


# --------------------------------------------------------------------------- sampling helpers


def _categorical_rows(u: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Index of the category each uniform ``u[i]`` falls into, with row-specific probabilities (n × k)."""
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative /= cumulative[:, -1:]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws with row-specific probabilities ``p``."""
    return (rng.random(len(p)) < p).astype(np.int64)


def _lookup(mapping: Mapping[str, float], keys: np.ndarray) -> np.ndarray:
    """``mapping[key]`` for every key, as floats."""
    return np.array([mapping[k] for k in keys], dtype=float)


# --------------------------------------------------------------------------- the model


def record_probabilities(ethnicity: str, religion: str) -> tuple[float, float, float]:
    """P(family record = không, tiền án, an ninh) for a person whose lý lịch is available."""
    conviction = CONVICTION_P[ethnicity]
    security = SECURITY_P_ETHNICITY[ethnicity] + SECURITY_P_RELIGION[religion]
    return 1.0 - conviction - security, conviction, security


def party_probability(ethnicity: str, religion: str) -> float:
    """P(party member) for a person of this ethnicity and religion."""
    return PARTY_P_ETHNICITY[ethnicity] * PARTY_FACTOR_RELIGION[religion]


def network_mean(ethnicity: str, religion: str) -> float:
    """Mean social-network score of the group."""
    return NETWORK_MEAN + NETWORK_SHIFT_ETHNICITY[ethnicity] + NETWORK_SHIFT_RELIGION[religion]


def volunteer_points(hours: np.ndarray) -> np.ndarray:
    """Points for volunteer hours, capped."""
    return POINTS["per_volunteer_hour"] * np.minimum(hours, VOLUNTEER_CAP_HOURS)


def tier_of(score: np.ndarray) -> np.ndarray:
    """The tier of each integer score."""
    return np.asarray(TIERS, dtype=object)[np.searchsorted(np.asarray(TIER_CUTS), score, side="right")]


def generate(n: int = N_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Return ``n`` synthetic adult residents of Lạc Giang with their trust score and tier.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed for ``numpy.random.default_rng``. The published file uses the defaults.

    Returns
    -------
    pandas.DataFrame
        Columns ``resident_id``, ``commune``, ``sex``, ``age_band``, ``ethnicity``, ``religion`` (missing
        for about 1.2% of rows), ``registration``, ``family_record`` (missing when the lý lịch is held
        elsewhere), ``party_member``, ``unregistered_worship``, ``social_network_score`` (missing without a
        registered phone), ``unpaid_fines``, ``volunteer_hours``, ``trust_score`` and ``tier``; see README.md.
    """
    rng = np.random.default_rng(seed)
    sex = draw(rng, SEXES, SEX_P, n)
    age_band = draw(rng, AGE_BANDS, AGE_P, n)
    ethnicity = draw(rng, ETHNICITIES, ETHNICITY_P, n)
    religion = draw_given(rng.random(len(ethnicity)), ethnicity, RELIGION_P, RELIGIONS)
    commune = draw_given(rng.random(len(ethnicity)), ethnicity, COMMUNE_P, COMMUNES)
    in_parish = (religion == "Công giáo") & (rng.random(n) < CATHOLIC_PARISH_P)
    commune[in_parish] = CATHOLIC_PARISH

    temporary = _bernoulli(rng, _lookup(TEMPORARY_P, ethnicity))
    registration = np.asarray(REGISTRATIONS, dtype=object)[temporary]
    record_unavailable = (temporary == 1) & (rng.random(n) < RECORD_UNAVAILABLE_P)
    pairs = list(zip(ethnicity, religion))
    record_p = np.array([record_probabilities(*pair) for pair in pairs])
    family_record = np.asarray(FAMILY_RECORDS, dtype=object)[_categorical_rows(rng.random(n), record_p)]
    family_record[record_unavailable] = None

    party_member = _bernoulli(rng, np.array([party_probability(*pair) for pair in pairs]))
    unregistered_worship = _bernoulli(rng, _lookup(WORSHIP_P, religion))
    network = np.array([network_mean(*pair) for pair in pairs]) + NETWORK_SD * standard_normal(rng, n)
    network = np.round(np.clip(network, 0.0, 100.0), 1)
    network_missing = rng.random(n) < _lookup(NETWORK_MISSING_P, ethnicity)
    unpaid_fines = categorical(rng.random(n), FINES_P).astype(np.int64)
    volunteer_hours = HOURS_PER_SESSION * categorical(rng.random(n), VOLUNTEER_SESSIONS_P).astype(np.int64)

    points = (BASE_POINTS
              + POINTS["temporary"] * temporary
              + POINTS["conviction"] * (family_record == "tiền án")
              + POINTS["security"] * (family_record == "an ninh")
              + POINTS["record_unavailable"] * record_unavailable
              + np.where(network_missing, POINTS["network_missing"],
                         POINTS["per_network_point"] * (network - NETWORK_MEAN))
              + POINTS["party"] * party_member
              + POINTS["per_fine"] * unpaid_fines
              + volunteer_points(volunteer_hours)
              + POINTS["worship"] * unregistered_worship
              + NOISE_SD * standard_normal(rng, n))
    trust_score = np.rint(points).astype(np.int64)

    religion = religion.copy()
    religion[rng.random(n) < MISSING_RELIGION_P] = None
    return pd.DataFrame({
        "resident_id": [f"LG{i:06d}" for i in range(1, n + 1)],
        "commune": commune,
        "sex": sex,
        "age_band": age_band,
        "ethnicity": ethnicity,
        "religion": religion,
        "registration": registration,
        "family_record": family_record,
        "party_member": party_member,
        "unregistered_worship": unregistered_worship,
        "social_network_score": np.where(network_missing, np.nan, network),
        "unpaid_fines": unpaid_fines,
        "volunteer_hours": volunteer_hours,
        "trust_score": trust_score,
        "tier": tier_of(trust_score),
    })


# --------------------------------------------------------------------------- exact tier shares (no sampling)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF."""
    return 0.5 * np.vectorize(math.erfc)(-np.asarray(x, dtype=float) / math.sqrt(2.0))


def _tier_shares_given(ethnicity: str, religion: str, temporary: int) -> np.ndarray:
    """Exact P(tier) for one ethnicity × religion × registration cell, summed over every other input."""
    fines = np.arange(len(FINES_P))
    hours = HOURS_PER_SESSION * np.arange(len(VOLUNTEER_SESSIONS_P))
    discrete_mean = (POINTS["per_fine"] * fines[:, None] + volunteer_points(hours)[None, :]).ravel()
    discrete_p = (np.asarray(FINES_P)[:, None] * np.asarray(VOLUNTEER_SESSIONS_P)[None, :]).ravel()
    record_p = np.asarray(record_probabilities(ethnicity, religion))
    unavailable = RECORD_UNAVAILABLE_P if temporary else 0.0
    records = [(POINTS["record_unavailable"], unavailable)] + [
        (points, (1.0 - unavailable) * p) for points, p in
        zip((0.0, POINTS["conviction"], POINTS["security"]), record_p)]
    party = party_probability(ethnicity, religion)
    worship = WORSHIP_P[religion]
    missing = NETWORK_MISSING_P[ethnicity]
    network_shift = POINTS["per_network_point"] * (network_mean(ethnicity, religion) - NETWORK_MEAN)
    networks = [(POINTS["network_missing"], NOISE_SD, missing),
                (network_shift, math.hypot(NOISE_SD, POINTS["per_network_point"] * NETWORK_SD), 1.0 - missing)]
    edges = np.array([-np.inf, *(c - 0.5 for c in TIER_CUTS), np.inf])  # an integer score s has s ± 0.5
    shares = np.zeros(len(TIERS))
    for record_points, p_record in records:
        for party_points, p_party in ((POINTS["party"], party), (0.0, 1.0 - party)):
            for worship_points, p_worship in ((POINTS["worship"], worship), (0.0, 1.0 - worship)):
                for network_points, sd, p_network in networks:
                    mean = (BASE_POINTS + POINTS["temporary"] * temporary + record_points + party_points
                            + worship_points + network_points + discrete_mean)
                    cdf = _normal_cdf((edges[None, :] - mean[:, None]) / sd)
                    weight = p_record * p_party * p_worship * p_network * discrete_p
                    shares += weight @ np.diff(cdf, axis=1)
    return shares


def true_tier_shares(by: str | Sequence[str]) -> pd.DataFrame:
    """Exact tier shares implied by the generator for the groups of ``by``, without sampling.

    Parameters
    ----------
    by : str or sequence of str
        ``ethnicity``, ``religion``, ``registration`` or ``sex`` (or several, for intersections).
        Religion is the declared religion before the random removal of 1.2% of values.

    Returns
    -------
    pandas.DataFrame
        One row per group (indexed by the group), one column per tier, and ``share`` (the group's share
        of the population).
    """
    by = [by] if isinstance(by, str) else list(by)
    rows = []
    for e, p_e in zip(ETHNICITIES, ETHNICITY_P):
        for r, p_r in zip(RELIGIONS, RELIGION_P[e]):
            for temporary, registration in enumerate(REGISTRATIONS):
                p_t = TEMPORARY_P[e] if temporary else 1.0 - TEMPORARY_P[e]
                shares = _tier_shares_given(e, r, temporary)
                for s, p_s in zip(SEXES, SEX_P):
                    rows.append({"ethnicity": e, "religion": r, "registration": registration, "sex": s,
                                 "weight": p_e * p_r * p_t * p_s, **dict(zip(TIERS, shares))})
    cells = pd.DataFrame(rows)
    for tier in TIERS:
        cells[tier] *= cells["weight"]
    out = cells.groupby(by, sort=False)[[*TIERS, "weight"]].sum()
    out[list(TIERS)] = out[list(TIERS)].div(out["weight"], axis=0)
    return out.rename(columns={"weight": "share"})


if __name__ == "__main__":
    generate().to_csv(OUTPUT_FILE, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")
