"""Models for tests/test_models.py: built in code, saved with skops, ONNX, pickle and joblib.

The classes here are outside skops's trusted set on purpose (a skops file naming them is refused without
--trust-model), and one returns the wrong number of predictions.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

GROUPS = ("a", "b", "c")


def people(n: int = 6_000, seed: int = 11) -> pd.DataFrame:
    """Rows with an income (0-100), an age, a group and a sex; the outcome depends on income only."""
    rng = np.random.default_rng(seed)
    income = np.round(rng.random(n) * 100, 2)
    frame = pd.DataFrame({"person": np.arange(1, n + 1), "income": income,
                          "age": rng.integers(18, 80, n).astype(float),
                          "group": np.array(GROUPS)[rng.integers(0, 3, n)],
                          "sex": np.where(rng.random(n) < 0.5, "f", "m")})
    frame["outcome"] = (rng.random(n) < 0.15 + 0.5 * (income > 60)).astype(int)
    return frame


def fitted_pipeline(frame: pd.DataFrame, *, uses_group: bool = True) -> Pipeline:
    """Scaler + one-hot + logistic regression fitted on the rows (group dropped when ``uses_group`` is False)."""
    group = ("cat", OneHotEncoder(categories=[list(GROUPS)]), ["group"]) if uses_group else ("cat", "drop", ["group"])
    pipe = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), ["income", "age"]), group])),
                     ("logisticregression", LogisticRegression())])
    target = frame["outcome"] if uses_group else frame["outcome"]
    return pipe.fit(frame[["income", "age", "group"]], target)


def planted_pipeline(frame: pd.DataFrame, *, group_b_bonus: float = 20.0) -> Pipeline:
    """A pipeline whose decision is exactly ``income + bonus x [group = b] >= 50`` (coefficients set by hand).

    So flipping a row of group a or c to b changes its decision exactly when 50 - bonus <= income < 50, and
    flipping b to another group when 50 - bonus <= income < 50 too.
    """
    pipe = Pipeline([("prep", ColumnTransformer([("num", "passthrough", ["income"]),
                                                  ("cat", OneHotEncoder(categories=[list(GROUPS)]), ["group"])])),
                     ("logisticregression", LogisticRegression())])
    pipe.fit(frame[["income", "group"]], frame["outcome"])
    model = pipe.named_steps["logisticregression"]
    scale = 4.0                                    # steep, so probabilities are far from 0.5 except at the edge
    model.coef_ = np.array([[scale, 0.0, scale * group_b_bonus, 0.0]])
    model.intercept_ = np.array([-scale * 50.0 + 1e-6])
    return pipe


class Doubler(TransformerMixin, BaseEstimator):
    """Multiplies its input by two: harmless, but not a type skops trusts by default."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) * 2


class ShortPredictor(ClassifierMixin, BaseEstimator):
    """Returns one prediction fewer than it is given rows: the wrong shape."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.zeros(len(X) - 1, dtype=int)


def save_pickle(model, path: Path) -> Path:
    path.write_bytes(pickle.dumps(model))
    return path


def save_onnx(pipe: Pipeline, features: list[str], frame: pd.DataFrame, path: Path) -> Path:
    """Export ``pipe`` with one ONNX input per feature (strings as string tensors) and plain probabilities."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types = [(f, StringTensorType([None, 1]) if frame[f].dtype == object or str(frame[f].dtype).startswith("str")
              else FloatTensorType([None, 1])) for f in features]
    onx = to_onnx(pipe, initial_types=types, options={id(pipe.steps[-1][1]): {"zipmap": False}}, target_opset=17)
    path.write_bytes(onx.SerializeToString())
    return path
