"""Generate the synthetic complaint-triage data of a 1022-style city hotline (Ho Chi Minh City).

Everything in this file is invented. The Ho Chi Minh City 1022 hotline and
portal is real (phone line 1022, Zalo, web portal, the Công dân số app); the
AI triage model, its priority tiers, the caseworkers' overrides and every row
here are synthetic. The district and ward names are real Ho Chi Minh City
names as they stood before the restructuring of 1 July 2025 (districts and
their wards, e.g. Quận 1: Phường Bến Nghé); the complaints are not.

Each row is one citizen complaint or request (phản ánh, kiến nghị) received
between January and June 2025. An AI model gives it a priority tier (thấp,
thường, cao, khẩn cấp); a caseworker (cán bộ) may raise or lower it; the
hotline then records the hours until the first response to the citizen.
Three disparities are planted on purpose, so that an audit has a known
ground truth (README.md beside this file documents them and the true rates):

1. the AI gives lower priority to complaints from Huyện Cần Giờ and Huyện
   Củ Chi, and to complaints written in a language other than Vietnamese;
2. caseworkers raise the priority more often for the central districts
   (Quận 1, Quận 3);
3. the first response takes longer for the phone channel and for complaints
   in Chinese (Tiếng Hoa) and Khmer.

Every other district and language has exactly the same tier distribution and
raise rate as its reference; the knock-on effects that follow (e.g. on response
times through lower tiers and the phone share) are listed in README.md.

Run ``python generate.py`` to (re)write ``hotline_1022.csv`` beside this
script, or import :func:`generate` to get the same rows as a DataFrame.
Only ``numpy.random.default_rng(seed)`` and its ``.random()`` method are
used; categorical draws come from cumulative probabilities, logistic and
normal noise from inverse-CDF and Box-Muller transforms, so the output does
not depend on numpy's higher-level samplers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit.synthetic import pick, standard_normal

OUTPUT_FILE = Path(__file__).resolve().parent / "hotline_1022.csv"
DEFAULT_SEED = 10222025
DEFAULT_N = 20000

# -- where complaints come from ------------------------------------------------

# District (quận / huyện / thành phố) -> (share of complaints, wards used here).
# Real names before the 1 July 2025 restructuring; a few wards per district.
DISTRICTS: dict[str, tuple[float, list[str]]] = {
    "Quận 1": (0.12, ["Phường Bến Nghé", "Phường Bến Thành", "Phường Đa Kao", "Phường Tân Định"]),
    "Quận 3": (0.09, ["Phường Võ Thị Sáu", "Phường 9", "Phường 14"]),
    "Quận 7": (0.09, ["Phường Tân Phong", "Phường Tân Hưng", "Phường Phú Mỹ"]),
    "Quận Bình Thạnh": (0.13, ["Phường 22", "Phường 25", "Phường 26"]),
    "Thành phố Thủ Đức": (0.17, ["Phường Linh Trung", "Phường Thảo Điền", "Phường Hiệp Bình Chánh"]),
    "Huyện Bình Chánh": (0.12, ["Xã Vĩnh Lộc A", "Xã Lê Minh Xuân", "Thị trấn Tân Túc"]),
    "Huyện Hóc Môn": (0.08, ["Thị trấn Hóc Môn", "Xã Bà Điểm", "Xã Xuân Thới Thượng"]),
    "Huyện Nhà Bè": (0.07, ["Thị trấn Nhà Bè", "Xã Phước Kiển", "Xã Hiệp Phước"]),
    "Huyện Củ Chi": (0.08, ["Thị trấn Củ Chi", "Xã Tân Thông Hội", "Xã An Nhơn Tây", "Xã Phú Mỹ Hưng"]),
    "Huyện Cần Giờ": (0.05, ["Thị trấn Cần Thạnh", "Xã Bình Khánh", "Xã Long Hòa", "Xã Thạnh An"]),
}
CENTRAL_DISTRICTS = ("Quận 1", "Quận 3")
RURAL_DISTRICTS = ("Huyện Bình Chánh", "Huyện Hóc Môn", "Huyện Nhà Bè", "Huyện Củ Chi", "Huyện Cần Giờ")
MISSING_DISTRICT_P = 0.015  # no location given (the portal accepts reports without an address)
MISSING_WARD_P = 0.03       # district given, ward not

LANGUAGES = ["Tiếng Việt", "Tiếng Anh", "Tiếng Hoa", "Tiếng Khmer"]
LANGUAGE_P = [0.875, 0.055, 0.045, 0.025]  # independent of district and channel

CHANNELS = ["Điện thoại 1022", "Zalo", "Cổng thông tin", "Ứng dụng Công dân số", "Email"]
# P(channel | district): residents of the rural districts (huyện) phone more.
CHANNEL_P_URBAN = [0.25, 0.27, 0.15, 0.25, 0.08]
CHANNEL_P_RURAL = [0.35, 0.27, 0.12, 0.20, 0.06]

CATEGORIES = ["Hạ tầng đô thị", "Môi trường", "An ninh trật tự", "Giao thông", "Hành chính"]
CATEGORY_P = [0.28, 0.22, 0.15, 0.17, 0.18]  # independent of everything else

# -- the AI triage model (an ordinal logit) ------------------------------------

TIERS = ["thấp", "thường", "cao", "khẩn cấp"]  # lowest first
TIER_CUTS = [-1.4, 0.6, 2.4]                   # tier >= k when latent > cut k
CATEGORY_EFFECT = {"Hạ tầng đô thị": 0.0, "Môi trường": 0.0, "An ninh trật tự": 0.6,
                   "Giao thông": 0.3, "Hành chính": -0.5}
# The planted disparity: lower priority for two outlying districts and for
# complaints not in Vietnamese. Every other district shifts by 0.
DISTRICT_SHIFT = {"Huyện Cần Giờ": -1.2, "Huyện Củ Chi": -1.0}
LANGUAGE_SHIFT = {"Tiếng Việt": 0.0, "Tiếng Anh": -1.2, "Tiếng Hoa": -1.2, "Tiếng Khmer": -1.6}

# -- the caseworker's review ---------------------------------------------------

HIGH_TIERS = ("cao", "khẩn cấp")
RAISE_P_CENTRAL = 0.35  # P(thấp/thường raised to cao) in Quận 1 and Quận 3
RAISE_P_OTHER = 0.03    # ... everywhere else (and when the district is unknown)
LOWER_P = 0.08          # P(cao/khẩn cấp lowered to thường), the same for everyone

# -- hours to the first response -----------------------------------------------

RESPONSE_BASE_HOURS = 20.0
RESPONSE_SIGMA = 0.6    # log-normal spread
TIER_RESPONSE = {"thấp": 1.05, "thường": 1.0, "cao": 0.85, "khẩn cấp": 0.6}  # of the final tier
CATEGORY_RESPONSE = {"Hạ tầng đô thị": 1.0, "Môi trường": 1.0, "An ninh trật tự": 0.9,
                     "Giao thông": 0.9, "Hành chính": 1.2}
CHANNEL_RESPONSE = {"Điện thoại 1022": 1.7}   # calls are transcribed and routed by hand; others 1.0
LANGUAGE_RESPONSE = {"Tiếng Hoa": 1.4, "Tiếng Khmer": 1.6}  # translation; others 1.0
MISSING_RESPONSE_P = 0.02  # still awaiting a first response when the data were extracted

PERIOD_START = np.datetime64("2025-01-01")
PERIOD_DAYS = 181  # 1 January to 30 June 2025


def _standard_logistic(rng: np.random.Generator, n: int) -> np.ndarray:
    """Standard logistic draws by the inverse CDF on ``rng.random()``."""
    u = np.clip(rng.random(n), 1e-12, 1.0 - 1e-12)
    return np.log(u / (1.0 - u))


def _lookup(values: np.ndarray, table: dict[str, float], default: float) -> np.ndarray:
    """Map each value through ``table`` (``default`` for values it does not list, and for missing ones)."""
    return np.array([table.get(v, default) for v in values], dtype=float)


def channel_probabilities(district: str | None) -> list[float]:
    """P(channel | district): the rural districts' mix, or the urban one (also for an unknown district)."""
    return CHANNEL_P_RURAL if district in RURAL_DISTRICTS else CHANNEL_P_URBAN


def raise_probability(district: str | None) -> float:
    """P(a caseworker raises a thấp/thường recommendation to cao) for a complaint from ``district``."""
    return RAISE_P_CENTRAL if district in CENTRAL_DISTRICTS else RAISE_P_OTHER


def _locations(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """District and ward of each complaint (either may be missing)."""
    names = list(DISTRICTS)
    district = pick(rng.random(n), names, [DISTRICTS[d][0] for d in names])
    u_ward = rng.random(n)
    ward = np.empty(n, dtype=object)
    for name in names:
        mask = district == name
        wards = DISTRICTS[name][1]
        ward[mask] = pick(u_ward[mask], wards, [1.0] * len(wards))
    no_district = rng.random(n) < MISSING_DISTRICT_P
    no_ward = no_district | (rng.random(n) < MISSING_WARD_P)
    district = np.where(no_district, None, district)
    ward = np.where(no_ward, None, ward)
    return district, ward


def _channels(u: np.ndarray, district: np.ndarray) -> np.ndarray:
    """The channel of each complaint, drawn from the mix of its district."""
    rural = np.array([d in RURAL_DISTRICTS for d in district], dtype=bool)
    return np.where(rural, pick(u, CHANNELS, CHANNEL_P_RURAL), pick(u, CHANNELS, CHANNEL_P_URBAN))


def _ai_priority(rng: np.random.Generator, district: np.ndarray, language: np.ndarray,
                 category: np.ndarray) -> np.ndarray:
    """The AI's priority tier: an ordinal logit on category, with the planted district and language shifts."""
    latent = (_lookup(category, CATEGORY_EFFECT, 0.0) + _lookup(district, DISTRICT_SHIFT, 0.0)
              + _lookup(language, LANGUAGE_SHIFT, 0.0) + _standard_logistic(rng, len(category)))
    level = (latent[:, None] > np.asarray(TIER_CUTS)[None, :]).sum(axis=1)
    return np.asarray(TIERS, dtype=object)[level]


def _final_priority(rng: np.random.Generator, ai: np.ndarray, district: np.ndarray) -> np.ndarray:
    """The caseworker's tier: thấp/thường raised to cao, or cao/khẩn cấp lowered to thường, else unchanged."""
    u = rng.random(len(ai))
    high = np.isin(ai, HIGH_TIERS)
    raise_p = np.array([raise_probability(d) for d in district])
    final = ai.copy()
    final[~high & (u < raise_p)] = "cao"
    final[high & (u < LOWER_P)] = "thường"
    return final


def _response_hours(rng: np.random.Generator, final: np.ndarray, category: np.ndarray, channel: np.ndarray,
                    language: np.ndarray) -> np.ndarray:
    """Hours to the first response: log-normal, scaled by tier, category, channel and language (0.1 h)."""
    n = len(final)
    hours = (RESPONSE_BASE_HOURS * _lookup(final, TIER_RESPONSE, 1.0) * _lookup(category, CATEGORY_RESPONSE, 1.0)
             * _lookup(channel, CHANNEL_RESPONSE, 1.0) * _lookup(language, LANGUAGE_RESPONSE, 1.0)
             * np.exp(RESPONSE_SIGMA * standard_normal(rng, n)))
    hours = np.maximum(np.round(hours, 1), 0.1)
    return np.where(rng.random(n) < MISSING_RESPONSE_P, np.nan, hours)


def generate(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return ``n`` synthetic complaints to the hotline, January to June 2025.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed for ``numpy.random.default_rng``; the shipped file uses the defaults.

    Returns
    -------
    pandas.DataFrame
        Columns ``complaint_id``, ``received_date``, ``channel``, ``language``,
        ``district`` (missing for about 1.5%), ``ward`` (missing for about 4.5%),
        ``category``, ``ai_priority``, ``final_priority`` and ``response_hours``
        (missing for about 2%); see README.md.
    """
    rng = np.random.default_rng(seed)
    received = PERIOD_START + (rng.random(n) * PERIOD_DAYS).astype(np.int64).astype("timedelta64[D]")
    district, ward = _locations(rng, n)
    language = pick(rng.random(n), LANGUAGES, LANGUAGE_P)
    channel = _channels(rng.random(n), district)
    category = pick(rng.random(n), CATEGORIES, CATEGORY_P)
    ai = _ai_priority(rng, district, language, category)
    final = _final_priority(rng, ai, district)
    hours = _response_hours(rng, final, category, channel, language)
    order = np.argsort(received, kind="stable")  # ids follow the order of arrival
    frame = pd.DataFrame({
        "received_date": pd.Series(received).dt.strftime("%Y-%m-%d"),
        "channel": channel, "language": language, "district": district, "ward": ward,
        "category": category, "ai_priority": ai, "final_priority": final, "response_hours": hours,
    }).iloc[order].reset_index(drop=True)
    frame.insert(0, "complaint_id", [f"PA{i:06d}" for i in range(1, n + 1)])
    return frame


if __name__ == "__main__":
    generate().to_csv(OUTPUT_FILE, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")
