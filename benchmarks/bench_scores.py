"""Score audits at 10M rows: per-group AUC and calibration, and a 100-threshold sweep, measured side by side.

Targets (issue 3), on one synthetic table with a score, an outcome and two protected attributes:

* a full score audit (per-group AUC with DeLong intervals, reliability tables, Brier, ECE, KS, the LL144
  scoring rate, every rate at the threshold) within 5x of one numpy pass over the same columns (the
  per-group score histogram a bare numpy program would make: ``np.bincount`` of group codes × outcome ×
  score code);
* the same audit with a 100-threshold sweep costs at most 2x the single-threshold audit.

Two score types are measured: points (integers 0–1000, 1,001 distinct values) and probabilities
rounded to three decimals (floats, 1,001 distinct values). For the float score the baseline gets the
score codes with ``np.rint(score * 1000)``, knowing the decimals in advance; the audit does not.

Run from the repository root with the project's environment (no extra packages needed):

    .venv/bin/python benchmarks/bench_scores.py            # 10M rows
    .venv/bin/python benchmarks/bench_scores.py --rows 1000000

Timing: ``time.perf_counter``, best of ``--repeat`` runs after one warm-up; the ratios are of those bests.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import audit

TARGET_PASS, TARGET_SWEEP = 5.0, 2.0


def make_table(rows: int, seed: int = 20261123) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.integers(0, 2, rows).astype(np.int8)
    ethnicity = rng.choice(3, rows, p=[0.6, 0.3, 0.1]).astype(np.int8)
    latent = rng.normal(0, 1, rows) + 0.3 * (ethnicity == 1)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(latent - 0.5) * 2))).astype(np.int8)
    probability = np.round(1 / (1 + np.exp(-(latent + 0.8 * y - 0.6))), 3)
    return pd.DataFrame({
        "sex": pd.Categorical.from_codes(sex, ["F", "M"]),
        "ethnicity": pd.Categorical.from_codes(ethnicity, ["A", "B", "C"]),
        "points": np.rint(probability * 1000).astype(np.int16),
        "probability": probability, "y": y})


def spec_for(column: str, sweep: bool) -> dict:
    threshold = 500 if column == "points" else 0.5
    score: dict = {"column": column, "threshold": threshold, "adverse": True}
    if sweep:
        score["sweep"] = {"start": 0 if column == "points" else 0.0, "stop": 1000 if column == "points" else 1.0,
                          "steps": 100}
    return {"system": {"name": "benchmark"}, "outcome": {"column": "y", "positive": 1}, "score": score,
            "protected": [{"column": "sex"}, {"column": "ethnicity"}], "intersections": [["sex", "ethnicity"]],
            "policy": [{"metric": "auc", "difference": [-0.05, 0.05]},
                       {"metric": "selection_rate", "ratio": [0.8, 1.25]}]}


def numpy_pass(frame: pd.DataFrame, column: str) -> np.ndarray:
    """One numpy pass: per-cell × outcome score histogram from the codes (what a bare program would do)."""
    sex = frame["sex"].cat.codes.to_numpy()
    ethnicity = frame["ethnicity"].cat.codes.to_numpy()
    y = frame["y"].to_numpy()
    score = frame[column].to_numpy()
    code = score.astype(np.intp) if column == "points" else np.rint(score * 1000).astype(np.intp)
    index = ((sex.astype(np.intp) * 3 + ethnicity) * 2 + y) * 1001 + code
    return np.bincount(index, minlength=6 * 2 * 1001)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"bench_scores  {dt.datetime.now().isoformat(timespec='seconds')}  {platform.node()}  "
          f"{os.cpu_count()} cores  Python {platform.python_version()}")
    start = time.perf_counter()
    frame = make_table(args.rows)
    print(f"table: {args.rows:,} rows (sex, ethnicity: category; points: int16; probability: float64, 3 decimals; "
          f"y: int8); 6 cells; made in {time.perf_counter() - start:.1f} s")
    failed = False
    print(f"\n{'score':<12} {'numpy pass s':>13} {'audit s':>9} {'audit+sweep s':>14} {'audit/numpy':>12} "
          f"{'sweep/audit':>12}")
    for column in ("points", "probability"):
        check = audit.run(spec_for(column, True), frame.head(200_000), fingerprint=False)
        assert len(check.table("sweep_groups")) and (check.groups["metric"] == "auc").any()
        base = best_of(lambda: numpy_pass(frame, column), args.repeat)
        single = best_of(lambda: audit.run(spec_for(column, False), frame, fingerprint=False), args.repeat)
        swept = best_of(lambda: audit.run(spec_for(column, True), frame, fingerprint=False), args.repeat)
        ratio, sweep_ratio = single / base, swept / single
        failed |= ratio > TARGET_PASS or sweep_ratio > TARGET_SWEEP
        print(f"{column:<12} {base:>13.3f} {single:>9.3f} {swept:>14.3f} {ratio:>12.2f} {sweep_ratio:>12.2f}")
    print(f"\ntargets: audit / numpy pass <= {TARGET_PASS:g}; audit with a 100-threshold sweep / audit <= "
          f"{TARGET_SWEEP:g}  ->  {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
