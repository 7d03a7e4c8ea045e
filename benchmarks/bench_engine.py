"""Engine speed and memory, measured side by side in one run (never part of the test suite).

Target (issue 2): on one synthetic 10M-row table with two protected attributes (12
intersectional cells), a full audit (all metrics, intervals, tests, comparisons,
verdicts) runs >= 100x faster than fairlearn's MetricFrame computing the same metrics
by group, >= 10x faster than aequitas' Group + Bias on the same table, within 3x of a
single numpy bincount pass over the same columns, and the memory it adds on top of the
input stays under half the input's size.

Run (from the repository root):

    PY=$(bash benchmarks/setup_bench_env.sh)
    $PY benchmarks/bench_engine.py              # 10M rows
    $PY benchmarks/bench_engine.py --quick      # 1M rows, smaller time budget for the baselines

Timing: ``time.perf_counter``, best of ``--repeat`` (3) runs after one warm-up run.
Memory, two measures of one engine's peak *added* memory (the input table already exists):

* ``traced MB`` (the one checked against the target): peak of ``tracemalloc``-traced
  allocations during one separate run. numpy registers its data buffers with
  tracemalloc, so this covers numpy and pandas arrays (and Python objects); memory
  allocated by C/C++ libraries without telling tracemalloc is not seen.
* ``RSS MB``: the process's resident-set high-water mark (Linux ``VmHWM``, reset
  before each timed run through ``/proc/self/clear_refs``) minus the RSS before the
  run; the largest over the timed runs. It sees every allocation, but memory the
  allocator reuses from earlier frees is not counted again, so it can read lower.

fairlearn and aequitas are slow: each is first probed at ``--probe-rows`` rows; it is
then measured at the largest of (--rows, 1M, probe rows) whose estimated cost for
warm-up + repeats + the traced run fits ``--budget`` seconds, and its time is scaled
linearly to --rows. The table says which sizes were measured and which were scaled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import re
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import pandas as pd

import audit

SPEC = {
    "system": {"name": "benchmark"},
    "outcome": {"column": "y", "positive": 1},
    "decision": {"column": "d", "positive": 1, "adverse": True},
    "protected": [{"column": "sex"}, {"column": "ethnicity"}],
    "intersections": [["sex", "ethnicity"]],
    # no "metrics" key: every metric of the registry (the default)
    "policy": [
        {"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"},
        {"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"},
        {"metric": "fnr", "ratio": [0.8, 1.25], "rule": "ci"},
    ],
}

SEXES = ["female", "male"]
ETHNICITIES = ["A", "B", "C", "D", "E", "F"]


def make_table(rows: int, seed: int = 1) -> pd.DataFrame:
    """A decisions table: sex x ethnicity (12 cells), outcome y and decision d with a disparity, other columns."""
    rng = np.random.default_rng(seed)
    sex = (rng.random(rows) < 0.49).astype(np.int8)
    eth = rng.choice(6, size=rows, p=[0.55, 0.15, 0.1, 0.1, 0.05, 0.05]).astype(np.int8)
    age = rng.integers(18, 90, rows).astype(np.int32)
    y = (rng.random(rows) < 0.08 + 0.0005 * (age - 18)).astype(np.int8)
    # the built-in disparity: ethnicities other than A (and men, slightly) get higher scores at equal y
    score = rng.normal(0.3 + 0.3 * y + 0.05 * (eth > 0) + 0.01 * sex, 0.15)
    np.clip(score, 0.0, 1.0, out=score)
    return pd.DataFrame({
        "sex": pd.Categorical.from_codes(sex, SEXES),
        "ethnicity": pd.Categorical.from_codes(eth, ETHNICITIES),
        "district": pd.Categorical.from_codes(rng.integers(0, 20, rows).astype(np.int8),
                                              [f"district {i:02d}" for i in range(20)]),
        "age": age,
        "score": score,
        "y": y,
        "d": (score >= 0.5).astype(np.int8),
    })


# -- measuring -------------------------------------------------------------------

def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.MULTILINE).group(1))


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Measured:
    engine: str
    rows: int              # rows measured
    seconds: float         # best time at the measured rows
    traced_mb: float       # tracemalloc peak of one run
    rss_mb: float | None   # largest RSS high-water-mark increase over the timed runs (None: not available)
    target_rows: int

    @property
    def scaled_seconds(self) -> float:
        return self.seconds * self.target_rows / self.rows

    @property
    def scaled(self) -> bool:
        return self.rows != self.target_rows


def _timed(fn: Callable[[], object]) -> tuple[float, float | None]:
    gc.collect()
    hwm = _reset_hwm()
    before = _status_kb("VmRSS") if hwm else 0
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    return seconds, ((_status_kb("VmHWM") - before) / 1024 if hwm else None)


def measure(engine: str, fn: Callable[[], object], rows: int, target_rows: int, repeat: int,
            warm: bool = True) -> Measured:
    """Warm-up (unless done already), best of ``repeat`` timed runs, then one tracemalloc run."""
    if warm:
        fn()
    times, rss = [], []
    for _ in range(repeat):
        seconds, added = _timed(fn)
        times.append(seconds)
        rss.append(added)
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Measured(engine, rows, min(times), peak / 2**20,
                    None if rss[0] is None else max(rss), target_rows)


# -- the engines -----------------------------------------------------------------

def ours(frame: pd.DataFrame, fingerprint: bool = False) -> Callable[[], object]:
    return lambda: audit.run(SPEC, data=frame, fingerprint=fingerprint)


def bincount(frame: pd.DataFrame) -> Callable[[], np.ndarray]:
    """One numpy pass: the combined index of the categorical codes (int8, as stored), outcome, decision."""
    def run() -> np.ndarray:
        sex_codes = frame["sex"].cat.codes.to_numpy()
        eth_codes = frame["ethnicity"].cat.codes.to_numpy()
        y, d = frame["y"].to_numpy(), frame["d"].to_numpy()
        return np.bincount(((sex_codes * 6 + eth_codes) * 2 + y) * 2 + d, minlength=48)
    return run


def bincount_int64(frame: pd.DataFrame) -> Callable[[], np.ndarray]:
    """The same pass with the index formed in int64 (what a chunk-safe counter has to do); shown, not judged."""
    def run() -> np.ndarray:
        sex_codes = frame["sex"].cat.codes.to_numpy().astype(np.int64)
        eth_codes = frame["ethnicity"].cat.codes.to_numpy()
        y, d = frame["y"].to_numpy(), frame["d"].to_numpy()
        return np.bincount(((sex_codes * 6 + eth_codes) * 2 + y) * 2 + d, minlength=48)
    return run


FAIRLEARN_METRICS = ("count", "selection_rate", "tpr", "fpr", "fnr", "tnr", "accuracy", "balanced_accuracy",
                     "f1", "ppv")


def fairlearn_metricframe(frame: pd.DataFrame) -> Callable[[], object]:
    from fairlearn.metrics import (MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate,
                                   true_negative_rate, true_positive_rate)
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score

    functions = [count, selection_rate, true_positive_rate, false_positive_rate, false_negative_rate,
                 true_negative_rate, accuracy_score, balanced_accuracy_score, f1_score, precision_score]
    metrics = dict(zip(FAIRLEARN_METRICS, functions))
    y_true, y_pred, sensitive = frame["y"], frame["d"], frame[["sex", "ethnicity"]]
    return lambda: MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)


def aequitas_table(frame: pd.DataFrame) -> pd.DataFrame:
    """aequitas' input: score (= d), label_value (= y), the attributes as object (str) columns. Not timed."""
    return pd.DataFrame({"score": frame["d"].to_numpy(dtype=np.int64),
                         "label_value": frame["y"].to_numpy(dtype=np.int64),
                         "sex": frame["sex"].astype(str).astype(object),
                         "ethnicity": frame["ethnicity"].astype(str).astype(object)})


def aequitas_group_bias(frame: pd.DataFrame) -> Callable[[], object]:
    from aequitas.bias import Bias
    from aequitas.group import Group

    table = aequitas_table(frame)  # converted before timing; get_crosstabs copies it, Bias does not modify it

    def run() -> object:
        crosstab, _ = Group().get_crosstabs(table, attr_cols=["sex", "ethnicity"])
        return Bias().get_disparity_major_group(crosstab, original_df=table)
    return run


def measure_slow(engine: str, factory: Callable[[pd.DataFrame], Callable[[], object]], frame: pd.DataFrame,
                 repeat: int, probe_rows: int, budget: float) -> tuple[Measured, str]:
    """Probe at ``probe_rows``, then measure at the largest size whose estimated cost fits ``budget`` seconds."""
    rows = len(frame)
    probe_rows = min(probe_rows, rows)
    probe_frame = frame.iloc[:probe_rows].copy()
    fn = factory(probe_frame)
    start = time.perf_counter()
    fn()
    probe = time.perf_counter() - start
    runs = repeat + 2  # warm-up, repeats, traced run
    size = probe_rows
    for candidate in sorted({rows, min(1_000_000, rows), probe_rows}, reverse=True):
        if probe * candidate / probe_rows * runs <= budget:
            size = candidate
            break
    note = (f"{engine}: probe {probe_rows:,} rows in {probe:.2f} s; measured at {size:,} rows"
            + (f" (estimated {probe * rows / probe_rows * runs:,.0f} s at {rows:,} rows exceeds the "
               f"{budget:.0f} s budget), time scaled linearly x{rows / size:g}" if size != rows else ""))
    if size == probe_rows:
        measured = measure(engine, fn, size, rows, repeat, warm=False)  # the probe was the warm-up
    else:
        del fn, probe_frame
        data = frame if size == rows else frame.iloc[:size].copy()
        measured = measure(engine, factory(data), size, rows, repeat)
    return measured, note


# -- cross-check -------------------------------------------------------------------

def check_same_numbers(frame: pd.DataFrame, rows: int) -> str:
    """ours, fairlearn and bincount agree on the 12 cells (on the first ``rows`` rows)."""
    sub = frame.iloc[:rows]
    result = audit.run(SPEC, data=sub, fingerprint=False)
    g = result.groups[result.groups["attribute"] == "sex × ethnicity"]
    ours_table = g.pivot(index="group", columns="metric", values="value")
    counts = bincount(sub)().reshape(12, 4)
    mf = fairlearn_metricframe(sub)().by_group
    worst, cells = 0.0, 0
    for (sex, eth), row in mf.iterrows():
        label = f"{sex} × {eth}"
        cells += 1
        k = SEXES.index(sex) * 6 + ETHNICITIES.index(eth)
        if int(counts[k].sum()) != int(ours_table.loc[label, "count"]):
            return f"MISMATCH: bincount and ours differ in cell {label}"
        for metric in FAIRLEARN_METRICS:
            worst = max(worst, abs(float(row[metric]) - float(ours_table.loc[label, metric])))
    status = "ok" if worst < 1e-9 and cells == 12 else "MISMATCH"
    return (f"cross-check on {rows:,} rows: {cells} cells; bincount counts = ours; largest |ours - fairlearn| "
            f"over the {len(FAIRLEARN_METRICS)} metrics = {worst:.1e} ({status})")


# -- main ----------------------------------------------------------------------------

def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="table rows (default 10,000,000; --quick: 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="1M rows and a 60 s budget per slow baseline")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the warm-up (best is kept)")
    parser.add_argument("--probe-rows", type=int, default=100_000, help="rows of the slow baselines' probe run")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds allowed per slow baseline before it is measured on fewer rows and scaled "
                             "(default 300; --quick: 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-check", action="store_true", help="skip the ours/fairlearn/bincount cross-check")
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    budget = args.budget or (60.0 if args.quick else 300.0)
    warnings.filterwarnings("ignore")

    print(f"bench_engine  {dt.datetime.now().isoformat(timespec='seconds')}  {platform.node()}  "
          f"{os.cpu_count()} cores  Python {platform.python_version()}")
    print("versions: " + ", ".join(f"{p} {_version(p)}" for p in
                                   ("audit-toolkit", "numpy", "pandas", "fairlearn", "scikit-learn", "aequitas")))
    start = time.perf_counter()
    frame = make_table(rows, args.seed)
    input_bytes = int(frame.memory_usage(deep=True).sum())
    input_mb = input_bytes / 2**20
    print(f"table: {rows:,} rows x {frame.shape[1]} columns ({', '.join(f'{c}:{t}' for c, t in frame.dtypes.items())}); "
          f"memory_usage(deep=True) = {input_bytes:,} B = {input_mb:,.1f} MiB; 12 cells; "
          f"made in {time.perf_counter() - start:.1f} s")
    if not args.no_check:
        print(check_same_numbers(frame, min(rows, 200_000)))
    sys.stdout.flush()

    results: dict[str, Measured] = {}
    notes: list[str] = []
    results["ours"] = measure("ours", ours(frame), rows, rows, args.repeat)
    fn = ours(frame, fingerprint=True)
    fn()
    start = time.perf_counter()
    fn()
    fingerprinted = time.perf_counter() - start
    results["bincount"] = measure("bincount", bincount(frame), rows, rows, args.repeat)
    results["bincount int64"] = measure("bincount int64", bincount_int64(frame), rows, rows, args.repeat)
    for engine, factory in (("fairlearn", fairlearn_metricframe), ("aequitas", aequitas_group_bias)):
        print(f"measuring {engine} ...", flush=True)
        results[engine], note = measure_slow(engine, factory, frame, args.repeat, args.probe_rows, budget)
        notes.append(note)

    labels = {"ours": "ours: audit.run(fingerprint=False)", "bincount": "numpy bincount (int8 codes)",
              "bincount int64": "numpy bincount (int64 index)*", "fairlearn": "fairlearn MetricFrame",
              "aequitas": "aequitas Group+Bias"}
    head = (f"{'engine':<36}{'rows measured':>14}{'s measured':>12}{'s at ' + format(rows, ','):>24}"
            f"{'traced MB':>11}{'RSS MB':>9}")
    print("\n" + head + "\n" + "-" * len(head))
    for key, m in results.items():
        rss = "-" if m.rss_mb is None else f"{m.rss_mb:.1f}"
        at = f"{m.scaled_seconds:.3f}" + (" (scaled)" if m.scaled else "")
        print(f"{labels[key]:<36}{m.rows:>14,}{m.seconds:>12.3f}{at:>24}{m.traced_mb:>11.1f}{rss:>9}")
    print("* shown for reference only; the target is judged against the int8 bincount (the issue's baseline)")
    print(f"ours with fingerprint=True (provenance SHA-256 of the columns used), one run after a warm-up: "
          f"{fingerprinted:.3f} s, {fingerprinted - results['ours'].seconds:+.3f} s over fingerprint=False")
    for note in notes:
        print("note: " + note)
    print(f"memory: 'traced MB' = tracemalloc peak of one run (judged); 'RSS MB' = VmHWM - VmRSS before, "
          f"max over the timed runs; MB = MiB; input = {input_mb:.1f} MiB")

    t = {k: m.scaled_seconds for k, m in results.items()}
    ours_m = results["ours"]
    checks = [
        ("fairlearn MetricFrame / ours", t["fairlearn"] / t["ours"], ">=", 100.0, results["fairlearn"].scaled),
        ("aequitas Group+Bias / ours", t["aequitas"] / t["ours"], ">=", 10.0, results["aequitas"].scaled),
        ("ours / numpy bincount", t["ours"] / t["bincount"], "<=", 3.0, False),
        ("ours peak added memory / input (traced)", ours_m.traced_mb / input_mb, "<", 0.5, False),
    ]
    print(f"\n{'ratio (at ' + format(rows, ',') + ' rows)':<44}{'value':>10}   target")
    failed = 0
    for label, value, op, target, scaled in checks:
        ok = value >= target if op == ">=" else (value <= target if op == "<=" else value < target)
        failed += not ok
        extra = "   (time extrapolated)" if scaled else ""
        print(f"{label:<44}{value:>10.2f}   {op} {target:<6g}{'PASS' if ok else 'FAIL'}{extra}")
    if ours_m.rss_mb is not None:
        print(f"{'  (for information) ours RSS added / input':<44}{ours_m.rss_mb / input_mb:>10.2f}")
        print(f"{'  (for information) ours / bincount int64':<44}{t['ours'] / t['bincount int64']:>10.2f}")
    if rows != 10_000_000:
        print(f"note: the targets are stated for 10,000,000 rows; this run used {rows:,}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
