"""How often the audit reaches each verdict on data sets drawn from the Rivierstad generator.

The expected findings of ``welfare_fraud`` and ``welfare_scores`` are derived
from the planted facts (:func:`generate.planted_rates`) and from these
chances: a planted disparity the audit finds in at least 80% of data sets
(the power the audit itself plans for) must be found in the shipped file; one
it finds less often is too small for family-level evidence, and its verdict
in the shipped file is a matter of chance. README.md quotes the chances.

Run ``python chances.py [spec.yaml] [data sets]`` from the project's virtual
environment; it prints a CSV (view, metric, attribute, group and the share of
data sets with each verdict). The data sets use seeds 1000, 1001, ... (never
the shipped file's seed). 200 data sets of ``spec.yaml`` take about a minute,
of ``../welfare_scores/spec.yaml`` about ten.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd

import audit

HERE = Path(__file__).resolve().parent
FIRST_SEED = 1000


@cache
def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("welfare_fraud_generate", HERE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chances(spec: Path, data_sets: int) -> pd.DataFrame:
    """Share of ``data_sets`` generated files on which each verdict of ``spec`` is fail, inconclusive or pass.

    Parameters
    ----------
    spec : Path
        An audit spec of the generator's columns (its ``data`` is replaced by each generated file).
    data_sets : int
        How many files to draw (seeds ``FIRST_SEED`` onwards); at least 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``view``, ``metric``, ``attribute``, ``group``, ``fail``, ``inconclusive``, ``pass``: shares in
        [0, 1] that sum to 1 in each row.
    """
    if data_sets < 1:
        raise ValueError(f"data_sets must be at least 1; got {data_sets!r}")
    keys = ["view", "metric", "attribute", "group"]
    runs = [audit.run(spec, _generator().generate(seed=FIRST_SEED + i), fingerprint=False).verdicts[keys + ["verdict"]]
            for i in range(data_sets)]
    verdicts = pd.concat(runs, ignore_index=True).astype({"group": str})
    table = pd.crosstab([verdicts[k] for k in keys], verdicts["verdict"]) / data_sets
    return table.reindex(columns=["fail", "inconclusive", "pass"], fill_value=0.0).reset_index()


if __name__ == "__main__":
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "spec.yaml"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(chances(spec_path.resolve(), count).round(3).to_csv(index=False), end="")
