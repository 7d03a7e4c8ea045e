"""Shared fixtures: paths of the bundled examples, a small synthetic audit table, and real services.

The services (``postgres_url``, ``spark``) are started once per test session by ``services.py``. When one
cannot start, its tests are skipped with the reason, except when the environment variable ``CI`` is set:
then they fail, so CI never passes by skipping them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager, ExitStack
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn, TypeVar

import numpy as np
import pandas as pd
import pytest

import services

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def compas_spec() -> Path:
    return EXAMPLES / "compas" / "spec.yaml"


@pytest.fixture
def welfare_spec() -> Path:
    return EXAMPLES / "welfare_fraud" / "spec.yaml"


def scenario_generator(name: str) -> ModuleType:
    """The seeded generator of a bundled scenario (``examples/<name>/generate.py``), loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"{name}_generate", EXAMPLES / name / "generate.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    """Skip, or in CI fail, the tests of a service that cannot start here."""
    if _in_ci():
        pytest.fail(f"{reason}\n(CI is set: the tests of this service must run, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(reason)


def _service(name: str, start: Callable[[], ContextManager[T]]) -> Iterator[T]:
    """Start a service for the session; skip (in CI: fail) its tests when it cannot start."""
    with ExitStack() as stack:
        try:
            value = stack.enter_context(start())
        except services.ServiceUnavailable as error:
            _unavailable(f"{name}: {error}")
        yield value


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of an empty database ``audit_test`` on a throwaway PostgreSQL server (127.0.0.1, trust auth).

    For example ``postgresql://postgres@127.0.0.1:54321/audit_test``; connect with
    ``adbc_driver_postgresql.dbapi.connect(postgres_url)`` and load frames with ``services.load_table``.
    Shared by the whole session: give tables names of their own.
    """
    yield from _service("PostgreSQL", services.postgres_server)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A SparkSession in local mode (``local[2]``, 127.0.0.1 only, no UI), shared by the whole session."""
    yield from _service("Spark", services.spark_session)
