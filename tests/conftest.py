"""Shared fixtures: paths of the bundled examples and a small synthetic audit table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def compas_spec() -> Path:
    return EXAMPLES / "compas" / "spec.yaml"


@pytest.fixture
def welfare_spec() -> Path:
    return EXAMPLES / "welfare_fraud" / "spec.yaml"


def synthetic(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Two protected attributes, ground truth and a decision with a built-in disparity for group 'b'."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["f", "m"], size=n)
    y = (rng.random(n) < 0.3).astype(int)
    p_flag = np.where(group == "b", 0.5, 0.25) * np.where(y == 1, 1.5, 1.0)
    d = (rng.random(n) < p_flag).astype(int)
    return pd.DataFrame({"group": group, "sex": sex, "y": y, "d": d, "w": rng.uniform(0.5, 2.0, n)})


BASE_SPEC = {
    "system": {"name": "synthetic"},
    "outcome": {"column": "y", "positive": 1},
    "decision": {"column": "d", "positive": 1, "adverse": True},
    "protected": [{"column": "group", "reference": "a"}, {"column": "sex"}],
    "intersections": [["group", "sex"]],
    "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"},
               {"metric": "fpr", "ratio": [0.8, 1.25], "rule": "point"}],
}


@pytest.fixture
def frame() -> pd.DataFrame:
    return synthetic()


@pytest.fixture
def base_spec() -> dict:
    import copy

    return copy.deepcopy(BASE_SPEC)
