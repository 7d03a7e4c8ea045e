"""Model access at scale: the flip test and the ThresholdOptimizer frontier on 1M rows (never part of the suite).

Target (issue 8): with a logistic regression (a scikit-learn pipeline saved with skops) on 1,000,000 rows,
the counterfactual flip test (inside ``audit.run``) and the ThresholdOptimizer frontier (``audit alternatives``
without re-training: three constraints, fitted on half the rows and judged on the other half) take under 60 s
together on 2 cores.

The table has five features (income, age, months, group with 4 values, sex with 2); the model takes group and
sex, so the flip test scores the rows 4 times (3 other groups + 1 other sex). Printed beside the two parts:
one plain ``predict_proba`` pass of the pipeline over all rows, so the flip test's cost can be read as a
multiple of scoring the data once, and the audit of the same rows without a model (``model`` removed, the
decisions precomputed).

Run (from the repository root):

    .venv/bin/python benchmarks/bench_models.py              # 1M rows
    .venv/bin/python benchmarks/bench_models.py --rows 200000

Timing: ``time.perf_counter``, one warm-up of the model audit at 10k rows, then best of ``--repeat`` (2).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

GROUPS = np.array(["north", "south", "east", "west"])


def make_rows(n: int, seed: int = 5) -> pd.DataFrame:
    """Synthetic applicants; the outcome depends on income and months, and a little on group."""
    rng = np.random.default_rng(seed)
    group = GROUPS[rng.integers(0, 4, n)]
    frame = pd.DataFrame({"income": np.round(rng.random(n) * 100, 2), "age": rng.integers(18, 80, n).astype(float),
                          "months": rng.integers(1, 120, n).astype(float), "group": group,
                          "sex": np.where(rng.random(n) < 0.5, "f", "m")})
    logit = -3 + 0.04 * frame["income"] + 0.01 * frame["months"] + 0.4 * (group == "south")
    frame["outcome"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def fit_model(frame: pd.DataFrame, path: Path) -> None:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pipe = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), ["income", "age", "months"]),
                                                  ("cat", OneHotEncoder(), ["group", "sex"])])),
                     ("logisticregression", LogisticRegression(max_iter=500))])
    sample = frame.sample(100_000, random_state=1) if len(frame) > 100_000 else frame
    pipe.fit(sample[["income", "age", "months", "group", "sex"]], sample["outcome"])
    sio.dump(pipe, path)


def spec_for(folder: Path, *, model: bool = True) -> dict:
    spec = {"system": {"name": "benchmark"}, "outcome": {"column": "outcome", "positive": 1},
            "decision": {"column": "decision", "positive": 1},
            "protected": [{"column": "group", "reference": "north"}, {"column": "sex"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}
    if model:
        spec["model"] = {"path": str(folder / "model.skops"), "features": ["income", "age", "months", "group", "sex"]}
    return spec


def best(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import skops.io as sio

    import audit
    from audit.alternatives import AlternativeOptions, find_alternatives

    frame = make_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fit_model(frame, folder / "model.skops")
        pipe = sio.load(folder / "model.skops")
        features = frame[["income", "age", "months", "group", "sex"]]
        audit.run(spec_for(folder), make_rows(10_000))                          # warm-up: imports
        score_once, _ = best(lambda: pipe.predict_proba(features), args.repeat)
        audited, result = best(lambda: audit.run(spec_for(folder), frame, fingerprint=False), args.repeat)
        decided = frame.assign(decision=pipe.predict(features))
        plain, _ = best(lambda: audit.run(spec_for(folder, model=False), decided, fingerprint=False), args.repeat)
        options = AlternativeOptions(attribute="group")
        frontier_s, frontier = best(lambda: find_alternatives(spec_for(folder), frame, options=options), args.repeat)
    flips = result.table("flips")
    print(f"bench_models: {args.rows:,} rows, {os.cpu_count()} cores, {platform.python_version()}, "
          f"best of {args.repeat}")
    print(f"  one predict_proba pass of the pipeline       {score_once:8.2f} s")
    print(f"  audit without a model (decisions given)      {plain:8.2f} s")
    print(f"  audit with the model: scoring + flip test    {audited:8.2f} s  ({len(flips)} flip rows, "
          f"{audited / score_once:.1f}x one scoring pass)")
    print(f"  ThresholdOptimizer frontier (3 constraints)  {frontier_s:8.2f} s  (judged on "
          f"{frontier.rows_judged:,} rows)")
    total = audited + frontier_s
    print(f"  flip test + frontier                         {total:8.2f} s  target < 60 s: "
          f"{'PASS' if total < 60 else 'FAIL'}")
    print(f"  largest flip rate: {flips['flip_rate'].max():.4f} ({flips.loc[flips['flip_rate'].idxmax(), 'group']} "
          f"→ {flips.loc[flips['flip_rate'].idxmax(), 'set_to']}); " + frontier.sentence("selection_rate"))


if __name__ == "__main__":
    main()
