"""Engine speed and memory, measured side by side in one run (never part of the test suite).

Target (issue 2): on one synthetic 10M-row table with two protected attributes (12
intersectional cells), a full audit (all metrics, intervals, tests, comparisons,
verdicts) runs >= 100x faster than fairlearn's MetricFrame computing the same metrics
by group, >= 10x faster than aequitas' Group + Bias, within 3x of a single numpy
bincount pass over the same columns, and adds < half the input's size in memory.

Run:  PY=$(bash benchmarks/setup_bench_env.sh) && $PY benchmarks/bench_engine.py [--rows N] [--baseline-rows N]
fairlearn (about 37 s per million rows here) is measured at --baseline-rows (default 1M)
and scaled linearly to --rows; the output says so. aequitas runs at --rows.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

import audit

SPEC = {
    "system": {"name": "benchmark"},
    "outcome": {"column": "y", "positive": 1},
    "decision": {"column": "d", "positive": 1, "adverse": True},
    "protected": [{"column": "sex"}, {"column": "ethnicity"}],
    "intersections": [["sex", "ethnicity"]],
    "policy": [{"metric": m, "ratio": [0.8, 1.25], "rule": "ci"} for m in ("selection_rate", "fpr", "fnr")],
}


def make_table(rows: int, seed: int = 1) -> pd.DataFrame:
    """A decisions table: 2 x 6 protected cells, outcome, decision with a disparity, and other columns."""
    rng = np.random.default_rng(seed)
    eth = rng.choice(6, size=rows, p=[0.55, 0.15, 0.1, 0.1, 0.05, 0.05]).astype(np.int8)
    sex = (rng.random(rows) < 0.5).astype(np.int8)
    y = (rng.random(rows) < 0.1).astype(np.int8)
    score = np.clip(rng.normal(0.3 + 0.3 * y + 0.05 * (eth > 0), 0.15), 0, 1)
    return pd.DataFrame({
        "sex": pd.Categorical.from_codes(sex, ["female", "male"]),
        "ethnicity": pd.Categorical.from_codes(eth, ["A", "B", "C", "D", "E", "F"]),
        "district": pd.Categorical.from_codes(rng.integers(0, 20, rows).astype(np.int8), [f"d{i}" for i in range(20)]),
        "age": rng.integers(18, 90, rows).astype(np.int32),
        "score": score,
        "y": y,
        "d": (score >= 0.5).astype(np.int8),
    })


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time of ``repeat`` runs after a warm-up, and peak traced allocation (MB) of one run."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 1e6


def ours(frame: pd.DataFrame) -> Callable[[], object]:
    return lambda: audit.run(SPEC, data=frame)  # as users call it: with the provenance fingerprint


def bincount(frame: pd.DataFrame) -> Callable[[], object]:
    def run() -> np.ndarray:
        a = frame["sex"].cat.codes.to_numpy().astype(np.int64)
        b = frame["ethnicity"].cat.codes.to_numpy()
        index = ((a * 6 + b) * 2 + frame["y"].to_numpy()) * 2 + frame["d"].to_numpy()
        return np.bincount(index, minlength=48)
    return run


def fairlearn_metricframe(frame: pd.DataFrame) -> Callable[[], object]:
    from fairlearn.metrics import (MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate,
                                   true_negative_rate, true_positive_rate)
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score

    metrics = {"count": count, "selection_rate": selection_rate, "tpr": true_positive_rate,
               "fpr": false_positive_rate, "fnr": false_negative_rate, "tnr": true_negative_rate,
               "accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score,
               "f1": f1_score, "ppv": precision_score}
    return lambda: MetricFrame(metrics=metrics, y_true=frame["y"], y_pred=frame["d"],
                               sensitive_features=frame[["sex", "ethnicity"]])


def aequitas_group_bias(frame: pd.DataFrame) -> Callable[[], object]:
    from aequitas.bias import Bias
    from aequitas.group import Group

    table = pd.DataFrame({"score": frame["d"].astype(int), "label_value": frame["y"].astype(int),
                          "sex": frame["sex"].astype(str).astype(object),
                          "ethnicity": frame["ethnicity"].astype(str).astype(object)})

    def run() -> object:
        crosstab, _ = Group().get_crosstabs(table.copy(), attr_cols=["sex", "ethnicity"])
        return Bias().get_disparity_major_group(crosstab, original_df=table.copy())
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000_000,
                        help="rows for fairlearn (scaled linearly to --rows); aequitas runs at --rows")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    frame = make_table(args.rows)
    input_mb = frame.memory_usage(deep=True).sum() / 1e6
    print(f"table: {args.rows:,} rows, {frame.shape[1]} columns, {input_mb:,.0f} MB in memory; 12 cells")
    results: dict[str, tuple[float, float, int]] = {}
    results["ours"] = (*measure(ours(frame), args.repeat), args.rows)
    results["bincount"] = (*measure(bincount(frame), args.repeat), args.rows)
    start = time.perf_counter()
    audit.run(SPEC, data=frame, fingerprint=False)
    unfingerprinted = time.perf_counter() - start
    small = frame.iloc[: args.baseline_rows].copy() if args.baseline_rows < args.rows else frame
    for name, factory, data in (("fairlearn", fairlearn_metricframe, small), ("aequitas", aequitas_group_bias, frame)):
        seconds, peak = measure(factory(data), 1)
        results[name] = (seconds * args.rows / len(data), peak, len(data))
    print(f"\n{'engine':<12}{'measured rows':>15}{'seconds at ' + format(args.rows, ','):>22}{'peak MB':>10}")
    for name, (seconds, peak, measured) in results.items():
        scaled = " (scaled)" if measured != args.rows else ""
        print(f"{name:<12}{measured:>15,}{seconds:>13.3f}{scaled:<9}{peak:>10.0f}")
    t = {k: v[0] for k, v in results.items()}
    print(f"\nours without the provenance fingerprint (SHA-256 of the columns used): {unfingerprinted:.3f} s")
    checks = [
        ("fairlearn MetricFrame / ours", t["fairlearn"] / t["ours"], ">=", 100),
        ("aequitas Group+Bias / ours", t["aequitas"] / t["ours"], ">=", 10),
        ("ours / numpy bincount", t["ours"] / t["bincount"], "<=", 3),
        ("ours peak added memory / input size", results["ours"][1] / input_mb, "<", 0.5),
    ]
    print()
    for label, value, op, target in checks:
        ok = value >= target if op == ">=" else (value <= target if op == "<=" else value < target)
        print(f"{label:<40}{value:>10.2f}   target {op} {target:<5} {'PASS' if ok else 'FAIL'}")
    print("\nmemory: peak of tracemalloc-traced allocations (numpy and pandas buffers) during one run")


if __name__ == "__main__":
    main()
