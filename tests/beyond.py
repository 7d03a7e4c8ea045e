"""Synthetic decisions beyond yes/no, with planted disparities, for the tests of scores, tiers, amounts,
overrides, selective labels, proxies and aggregate input.

One row per person: sex, ethnicity (groups A, B, C) and district (a strong proxy of ethnicity); a risk
score in points 0–100 (many ties) and its probability reading; the outcome, known only for investigated
rows; a citizen-trust tier; the model's recommendation and the caseworker's final decision; days to a
decision and a benefit amount.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

TIERS = {"blacklist": "adverse", "watch": "adverse", "neutral": "neutral", "trusted": "favourable",
         "redlist": "favourable"}


def make_rows(n: int = 6000, seed: int = 7) -> pd.DataFrame:
    """The synthetic table; ethnicity B is scored higher, tiered lower and waits longer (planted)."""
    rng = np.random.default_rng(seed)
    ethnicity = rng.choice(["A", "B", "C"], size=n, p=[0.6, 0.3, 0.1])
    sex = rng.choice(["F", "M"], size=n)
    home = {"A": ["D1", "D2", "D3", "D4"], "B": ["D5", "D6"], "C": ["D7", "D1"]}
    district = np.array([rng.choice(home[e]) if rng.random() < 0.9 else rng.choice(["D1", "D5", "D7"])
                         for e in ethnicity])
    shift = np.where(ethnicity == "B", 12, 0) + np.where(ethnicity == "C", 4, 0)
    risk = rng.normal(40, 15, n) + shift
    outcome = (rng.random(n) < 1 / (1 + np.exp(-(risk - 55) / 8))).astype(int)
    points = np.clip(np.round(risk + 10 * outcome), 0, 100).astype(int)
    investigated = np.where(points >= 50, rng.random(n) < 0.9, rng.random(n) < 0.15)
    tier_position = np.clip(np.round(2 + (50 - points) / 15 + rng.normal(0, 0.7, n)), 0, 4).astype(int)
    tiers = np.array(list(TIERS))[tier_position]
    recommendation = np.where(points >= 55, "flag", "clear")
    overturn = rng.random(n) < np.where(ethnicity == "B", 0.25, 0.05)
    final = np.where(overturn & (recommendation == "flag"), "clear", recommendation)
    days = np.clip(np.round(rng.gamma(3, 4, n) + np.where(ethnicity == "B", 5, 0)), 1, None).astype(int)
    amount = np.round(rng.normal(2_000_000, 400_000, n) - np.where(ethnicity == "B", 150_000, 0), -3)
    frame = pd.DataFrame({
        "sex": sex, "ethnicity": ethnicity, "district": district, "points": points,
        "probability": np.round(points / 100.0, 2), "outcome": np.where(investigated, outcome, 0),
        "investigated": np.where(investigated, "yes", "no"), "tier": tiers, "recommendation": recommendation,
        "final": final, "days": days, "amount": amount, "noise": rng.integers(0, 5, n),
    })
    frame.loc[rng.choice(n, 40, replace=False), "ethnicity"] = None
    frame.loc[rng.choice(n, 25, replace=False), "days"] = np.nan
    return frame


BASE: dict[str, Any] = {
    "system": {"name": "synthetic beyond yes/no"},
    "protected": [{"column": "ethnicity", "reference": "A"}, {"column": "sex"}],
    "intersections": [["ethnicity", "sex"]],
    "statistics": {"bootstrap_replicates": 200},
}


def spec(**parts: Any) -> dict[str, Any]:
    """The base spec with ``parts`` added (a deep copy; the base is never changed)."""
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(parts))
    return out


SCORE_SPEC = spec(outcome={"column": "outcome", "positive": 1},
                  score={"column": "probability", "threshold": [0.5, {"top_k": 500}, {"top_percent": 10}],
                         "adverse": True},
                  policy=[{"metric": "selection_rate", "ratio": [0.8, 1.25]},
                          {"metric": "auc", "difference": [-0.05, 0.05]}])
TIER_SPEC = spec(decision={"column": "tier", "tiers": {"values": TIERS, "ordered": True}},
                 policy=[{"metric": "tier_rate:blacklist", "ratio": [0.8, 1.25]}])
OVERRIDE_SPEC = spec(decision={"column": "recommendation", "positive": "flag", "adverse": True},
                     final_decision={"column": "final"},
                     policy=[{"metric": "selection_rate", "ratio": [0.8, 1.25]}])
AMOUNT_SPEC = spec(amounts=[{"column": "days", "higher_is": "adverse", "quantiles": [0.5, 0.9]},
                            {"column": "amount", "higher_is": "favourable"}],
                   policy=[{"metric": "mean:days", "ratio": [0.9, 1.1]}])
