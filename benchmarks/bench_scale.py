"""Scale: a full audit of a Parquet file of up to 1,000,000,000 rows, time and peak memory (never part of the test suite).

Targets (the issue), on this 2-core machine:

* a Parquet file of 1,000,000,000 rows made by the benchmark: a full audit with two protected attributes
  and one intersection in under 15 s and under 1 GB peak memory;
* growth over 1M, 10M, 100M and 1B rows: time grows linearly and memory stays flat.

Run from the repository root with the project's environment (DuckDB is one of its dependencies):

    .venv/bin/python benchmarks/bench_scale.py            # 1M, 10M, 100M, 1B rows
    .venv/bin/python benchmarks/bench_scale.py --quick    # 1M, 10M, 100M rows (judges flat memory only)
    .venv/bin/python benchmarks/bench_scale.py --sizes 1M,10M --repeat 1 --keep

The first run makes the files (DuckDB ``COPY ... TO ... (FORMAT parquet)`` straight from ``range(N)``, so
no rows are held in memory; 1.1 GB and about 7 minutes for 1B rows on the 2-core VM, tests running beside)
and caches them in ``benchmarks/data/scale/`` (gitignored), named by rows and seed; a spec is written beside
each file. Delete that folder to make them again.

The data: a decision log of a national benefits agency's risk flag. Each row is one application:
``month`` (text, 12 values), ``region`` (text, 6 values with uneven shares), ``sex`` ('F', 'M', and NULL
for about 0.5 % of unknowns), ``decision`` (0/1, 1 = flagged for a fraud investigation: adverse) and
``outcome`` (0/1, 1 = an irregularity was found: the ground truth). The flag rate has a built-in disparity:
it grows by region (x1.0 to x1.5) and is x1.15 for men, at equal outcome. Every value comes from
``hash(row number)`` mixed with the seed and mapped to [0, 1) (DuckDB's ``setseed``/``random()`` is not
deterministic across threads), so a file is the same, byte for byte, for the same rows, seed and DuckDB
version. Layout: Parquet row groups of 1,048,576 rows (pyarrow's default; DuckDB's 122,880 gives 8,138 row
groups at 1B rows, and made the counting query 4 % slower at 100M), zstd compression (13 % smaller than
snappy on these columns, which matters because the audit hashes every byte of the file; the query itself
is 3 % slower than on snappy). Text columns with few distinct values are dictionary-encoded by the writer,
as in real exports.

Measured, each in a fresh child process, side by side for every size (``--repeat`` times; the best time
and the largest peak memory are kept):

* ``audit run SPEC --out DIR``: the whole command (start-up, imports, spec, SHA-256 of the file, checks,
  counting, statistics, verdicts, and writing result.json, summary.md and junit.xml). Judged.
* ``audit.run(SPEC)`` in a child Python: counting and deriving, no files written; the import time of
  ``audit`` is reported apart.
* Two floors, for scale: a bare DuckDB ``GROUP BY region, sex, outcome, decision`` over the file (what any
  file-counting engine must do at least), and a SHA-256 of the file's bytes in 1 MiB blocks (what the
  audit's provenance record costs).

Time is wall time (``time.perf_counter`` around the child, or inside it for the API and the floors); peak
memory is the child's peak resident set size (``ru_maxrss`` of ``os.wait4`` for that child, which covers
its own children too), in MiB. On 2 cores another busy process changes the figures, so the output shows the
1-minute load average before each size and the CPU time other processes used during its runs (from
/proc/stat, as a share of all cores). The file is read from the page cache after the first run (24 GB RAM).

Criteria (PASS/FAIL, on the full command):

* 1B rows under 15 s;
* 1B rows under 1 GB peak (10^9 bytes = 953.7 MiB);
* linear time: the marginal time per row of the last step (e.g. 100M -> 1B) at most 1.5x that of the
  step before (10M -> 100M). Marginal, because the fixed start-up (about 2 s of imports and set-up)
  makes small sizes look slow per row and would hide a super-linear slope; a least-squares fit
  time = a + b * rows and its residuals are printed as well;
* flat memory: the peak at the largest size at most 1.5x the peak at 10M (or the smallest size measured).

Exit status: 0 when every judged target passes, 1 otherwise. ``--quick`` judges flat memory only: linearity
needs two steps from 10M rows up (10M -> 100M -> 1B), since a step from 1M is lost in the start-up's noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "scale"
SIZES = (1_000_000, 10_000_000, 100_000_000, 1_000_000_000)
QUICK_SIZES = SIZES[:3]
ROW_GROUP_ROWS = 1 << 20
COMPRESSION = "zstd"
TIME_LIMIT_S = 15.0
MEMORY_LIMIT_B = 10**9
LINEAR_FACTOR = 1.5
LINEAR_FROM = 10_000_000   # linearity is judged on steps from this size up
FLAT_FACTOR = 1.5
MIB = 2**20

# region: (share, flag-rate factor); shares sum to 1, "Capital" is the largest and the reference
REGIONS = (("Capital", 0.30, 1.00), ("North", 0.22, 1.05), ("East", 0.18, 1.10), ("South", 0.14, 1.20),
           ("West", 0.11, 1.30), ("Islands", 0.05, 1.50))
SEX_UNKNOWN, SEX_FEMALE = 0.005, 0.5025   # P(NULL); P(NULL or F): so F 49.75 %, M 49.75 %
MALE_FACTOR = 1.15
OUTCOME_RATE = 0.06                        # irregularities found
FLAG_RATE = {1: 0.55, 0: 0.08}             # flag rate at the reference (Capital, women) by outcome
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))


# -- the data --------------------------------------------------------------------------------------

def file_name(rows: int, seed: int) -> str:
    return f"decisions-{rows}-seed{seed}.parquet"


def generation_sql(rows: int, seed: int, target: Path) -> str:
    """The COPY statement writing ``rows`` decisions to ``target``; every value from a hash of the row number.

    ``h`` = hash(i) xor hash(seed) is one well-mixed 64-bit word per row (DuckDB's ``hash`` of one value is a
    64-bit mixer); ``a = hash(h)`` gives four independent 16-bit uniforms (region, sex, outcome, decision)
    and ``hash(h + 1)`` the month. (DuckDB's ``hash(i, seed)`` of several values is not used: its parts are
    strongly correlated.)
    """
    unit = 65536
    bounds, total = [], 0.0
    for name, share, _ in REGIONS[:-1]:
        total += share
        bounds.append(f"WHEN ur < {round(total * unit)} THEN {len(bounds)}")
    region_case = f"CASE {' '.join(bounds)} ELSE {len(REGIONS) - 1} END"
    names = "[" + ", ".join(f"'{name}'" for name, _, _ in REGIONS) + "]"
    factors = "[" + ", ".join(repr(f) for _, _, f in REGIONS) + "]"
    months = "[" + ", ".join(f"'{m}'" for m in MONTHS) + "]"
    return f"""
COPY (
  WITH mixed AS (
    SELECT xor(hash(i), hash({seed}::UBIGINT)) AS h FROM range({rows}) AS r(i)
  ), hashed AS (
    SELECT hash(h) AS a, hash(h + 1) AS b FROM mixed
  ), uniform AS (
    SELECT a >> 48 AS ur, (a >> 32) & 65535 AS us, (a >> 16) & 65535 AS uo, a & 65535 AS ud,
           (b % 12)::INTEGER AS m
    FROM hashed
  ), coded AS (
    SELECT m, ud, {region_case} AS r,
           CASE WHEN us < {round(SEX_UNKNOWN * unit)} THEN NULL WHEN us < {round(SEX_FEMALE * unit)} THEN 'F'
                ELSE 'M' END AS sex,
           (uo < {round(OUTCOME_RATE * unit)})::TINYINT AS outcome
    FROM uniform
  )
  SELECT {months}[m + 1] AS month, {names}[r + 1] AS region, sex,
         (ud < {unit} * (CASE WHEN outcome = 1 THEN {FLAG_RATE[1]} ELSE {FLAG_RATE[0]} END) * {factors}[r + 1]
               * (CASE WHEN sex = 'M' THEN {MALE_FACTOR} ELSE 1.0 END))::TINYINT AS decision,
         outcome
  FROM coded
) TO '{target}' (FORMAT parquet, COMPRESSION {COMPRESSION}, ROW_GROUP_SIZE {ROW_GROUP_ROWS})
"""


def ensure_file(rows: int, seed: int) -> Path:
    """The cached Parquet file of ``rows`` rows, made first if missing (written to a temporary name, then renamed)."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / file_name(rows, seed)
    if path.exists():
        return path
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    print(f"generating {path.relative_to(ROOT)} ({rows:,} rows) ...", flush=True)
    start = time.perf_counter()
    try:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute(generation_sql(rows, seed, partial))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    print(f"  made in {time.perf_counter() - start:.1f} s; {describe_file(path)}", flush=True)
    return path


def describe_file(path: Path) -> str:
    import duckdb

    groups, rows = duckdb.connect().execute(
        "SELECT count(DISTINCT row_group_id), sum(row_group_num_rows) FILTER (WHERE column_id = 0) "
        "FROM parquet_metadata(?)", [str(path)]).fetchone()
    size = path.stat().st_size
    return (f"{size / 1e6:,.1f} MB ({size / rows:.2f} B/row), {groups:,} row groups, "
            f"{COMPRESSION}, dictionary-encoded columns")


def write_spec(data: Path) -> Path:
    """The audit's spec, beside the data (``data.path`` relative to it)."""
    spec = data.with_suffix(".yaml")
    spec.write_text(f"""\
# Written by benchmarks/bench_scale.py: the audit timed at scale.
system:
  name: National benefits risk flag (scale benchmark)
  purpose: Flags applications for a fraud investigation; audited by region and sex.
data:
  path: {data.name}
outcome: {{column: outcome, positive: 1}}                  # an irregularity was found
decision: {{column: decision, positive: 1, adverse: true}}  # flagged for an investigation
protected:
  - {{column: region, reference: Capital}}
  - {{column: sex}}                                         # NULL values form the group 'unknown'
intersections: [[region, sex]]
policy:
  - {{metric: selection_rate, ratio: [0.8, 1.25], rule: point}}   # the four-fifths rule
  - {{metric: fpr, ratio: [0.8, 1.25], rule: ci}}
  - {{metric: fnr, ratio: [0.8, 1.25], rule: ci}}
""")
    return spec


# -- measuring -------------------------------------------------------------------------------------

@dataclass
class Child:
    seconds: float          # wall time of the child, start to exit
    peak_mib: float         # ru_maxrss of the child (and its children)
    cpu_seconds: float      # user + system time
    returncode: int
    output: str
    reported: dict = field(default_factory=dict)  # the JSON line a Python child printed
    others_cpu: float = 0.0  # CPU seconds other processes used on the machine while the child ran


def machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot, from the first line of /proc/stat (0 if unavailable)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_child(command: list[str], cwd: Path) -> Child:
    """Run ``command`` in a fresh process; wall time, peak RSS and CPU time from ``os.wait4``."""
    with tempfile.TemporaryFile("w+") as out:
        busy = machine_busy_seconds()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        busy = machine_busy_seconds() - busy
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        text = out.read()
    reported = {}
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            reported = json.loads(line)
            break
    cpu = usage.ru_utime + usage.ru_stime
    return Child(seconds, usage.ru_maxrss / 1024, cpu, process.returncode, text, reported, max(busy - cpu, 0.0))


API_CHILD = """
import json, sys, time
start = time.perf_counter()
import audit
imported = time.perf_counter()
result = audit.run(sys.argv[1])
done = time.perf_counter()
print(json.dumps({"import": imported - start, "run": done - imported, "rows": result.provenance.rows_read,
                  "verdict": result.verdict}))
"""

GROUP_BY_CHILD = """
import json, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
cells = con.execute("SELECT region, sex, outcome, decision, count(*) AS n FROM read_parquet(?) GROUP BY ALL",
                    [sys.argv[1]]).fetchall()
done = time.perf_counter()
print(json.dumps({"run": done - start, "rows": sum(c[-1] for c in cells), "cells": len(cells)}))
"""

SHA_CHILD = """
import hashlib, json, sys, time
start = time.perf_counter()
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as handle:
    while block := handle.read(1 << 20):
        digest.update(block)
print(json.dumps({"run": time.perf_counter() - start, "sha256": digest.hexdigest()}))
"""


@dataclass
class Size:
    rows: int
    load: float
    cli: Child
    api: Child
    group_by: Child
    sha: Child
    others: float  # share of the machine's CPU other processes used during all of this size's measurements
    cli_times: list[float] = field(default_factory=list)  # every run of the full command

    @property
    def cli_s(self) -> float:
        return self.cli.seconds


def _best(children: list[Child], *, key: str | None = None) -> Child:
    """The fastest child, carrying the largest peak memory of all (time: best of; memory: worst of)."""
    best = min(children, key=lambda c: c.reported[key] if key else c.seconds)
    best.peak_mib = max(c.peak_mib for c in children)
    return best


def _check(child: Child, what: str, rows: int, *, exit_codes: tuple[int, ...] = (0,)) -> None:
    if child.returncode not in exit_codes:
        raise SystemExit(f"bench_scale: {what} at {rows:,} rows exited with {child.returncode}; its output:\n"
                         + child.output[-3000:])
    if "rows" in child.reported and child.reported["rows"] != rows:
        raise SystemExit(f"bench_scale: {what} at {rows:,} rows counted {child.reported['rows']:,} rows")


def measure(rows: int, data: Path, spec: Path, repeat: int, keep: bool) -> Size:
    """Each of the four measurements ``repeat`` times, interleaved, each in a fresh child."""
    audit_command = shutil.which("audit", path=str(Path(sys.executable).parent))
    if audit_command is None:
        raise SystemExit(f"bench_scale: no 'audit' command next to {sys.executable}; run with the project's "
                         f"environment (source scripts/setup.sh, then .venv/bin/python benchmarks/bench_scale.py)")
    load = os.getloadavg()[0]
    cli, api, group_by, sha = [], [], [], []
    for attempt in range(repeat):
        out = DATA / "out" / f"{rows}-{attempt}" if keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
        try:
            # exit code 1 = a policy rule fails: the built-in disparity makes this audit fail, as it should
            cli.append(run_child([audit_command, "run", str(spec), "--out", str(out)], ROOT))
            _check(cli[-1], "audit run", rows, exit_codes=(0, 1))
            if not (out / "result.json").exists():
                raise SystemExit(f"bench_scale: audit run wrote no result.json in {out}:\n{cli[-1].output[-3000:]}")
        finally:
            if not keep:
                shutil.rmtree(out, ignore_errors=True)
        api.append(run_child([sys.executable, "-c", API_CHILD, str(spec)], ROOT))
        _check(api[-1], "audit.run()", rows)
        group_by.append(run_child([sys.executable, "-c", GROUP_BY_CHILD, str(data)], ROOT))
        _check(group_by[-1], "the DuckDB GROUP BY", rows)
        sha.append(run_child([sys.executable, "-c", SHA_CHILD, str(data)], ROOT))
        _check(sha[-1], "the SHA-256", rows)
    children = cli + api + group_by + sha
    others = sum(c.others_cpu for c in children) / (sum(c.seconds for c in children) * (os.cpu_count() or 1))
    times = [c.seconds for c in cli]
    return Size(rows, load, _best(cli), _best(api, key="run"), _best(group_by, key="run"), _best(sha, key="run"),
                others, times)


# -- reporting -------------------------------------------------------------------------------------

def parse_rows(text: str) -> int:
    match = re.fullmatch(r"\s*([\d_,.]+)\s*([kKmMbBgG]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"a size must be a number of rows such as 1000000, 10M or 1B; got {text!r}")
    number = float(match.group(1).replace(",", "").replace("_", ""))
    scale = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9}[match.group(2).lower()]
    return int(number * scale)


def short(rows: int) -> str:
    for unit, scale in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if rows >= scale and rows % scale == 0:
            return f"{rows // scale}{unit}"
    return f"{rows:,}"


def code_version() -> str:
    """The commit, and a digest of uncommitted changes under audit/ (the engine may be changing under us)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        diff = subprocess.run(["git", "diff", "HEAD", "--", "audit"], cwd=ROOT, capture_output=True,
                              check=True).stdout
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "audit"], cwd=ROOT,
                                   capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    if not diff and not untracked:
        return f"git {commit}, audit/ unchanged"
    digest = hashlib.sha256(diff)
    for name in sorted(untracked):
        digest.update((ROOT / name).read_bytes())
    return (f"git {commit} + uncommitted changes in audit/ ({len(untracked)} new files; "
            f"digest {digest.hexdigest()[:12]})")


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares a, b of y = a + b * x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def report(sizes: list[Size]) -> tuple[bool, int]:
    """Print the series, the growth and the targets; (every judged target passes, number judged)."""
    print(f"\n{'rows':>14} {'load':>5} {'others':>6} | {'audit run s':>11} {'cpu s':>6} {'peak MiB':>9} | "
          f"{'audit.run() s':>13} {'import s':>8} {'peak MiB':>9} | {'GROUP BY s':>10} {'peak MiB':>9} | "
          f"{'sha256 s':>8}")
    for s in sizes:
        print(f"{s.rows:>14,} {s.load:>5.2f} {s.others:>6.0%} | {s.cli.seconds:>11.2f} {s.cli.cpu_seconds:>6.1f} "
              f"{s.cli.peak_mib:>9.1f} | {s.api.reported['run']:>13.2f} {s.api.reported['import']:>8.2f} "
              f"{s.api.peak_mib:>9.1f} | {s.group_by.reported['run']:>10.2f} {s.group_by.peak_mib:>9.1f} | "
              f"{s.sha.reported['run']:>8.2f}")
    print("load: 1-minute load average before the size (includes this benchmark's previous runs); others: CPU "
          "used by other processes during the size's runs, share of all cores (from /proc/stat)")
    print("audit run: the whole command, wall time of the process (cpu s = user + system, 2 cores); audit.run(): "
          "the call alone, inside a child that imported audit first (import s); GROUP BY: a bare DuckDB query "
          "for the same cells; sha256: hashlib over the file's bytes. Times: best of the repeats; peaks: largest.")

    base = sizes[0]
    print(f"\ngrowth of the full command (audit run), against {short(base.rows)} rows")
    print(f"{'rows':>14} {'s':>8} {'s per 1M rows':>14} {'time ratio':>11} {'rows ratio':>11} {'peak MiB':>9} "
          f"{'memory ratio':>13}   every run (s)")
    for s in sizes:
        print(f"{s.rows:>14,} {s.cli_s:>8.2f} {s.cli_s / (s.rows / 1e6):>14.4f} {s.cli_s / base.cli_s:>11.2f} "
              f"{s.rows / base.rows:>11,.0f} {s.cli.peak_mib:>9.1f} {s.cli.peak_mib / base.cli.peak_mib:>13.2f}   "
              + " ".join(f"{t:.2f}" for t in s.cli_times))
    checks: list[tuple[str, str, str, bool]] = []
    if len(sizes) >= 2:
        xs, ys = [s.rows / 1e6 for s in sizes], [s.cli_s for s in sizes]
        a, b = fit_line(xs, ys) if len(sizes) >= 2 else (0.0, 0.0)
        residuals = ", ".join(f"{short(s.rows)} {y - (a + b * x):+.2f} s" for s, x, y in zip(sizes, xs, ys))
        print(f"fit time = a + b * rows: a = {a:.2f} s, b = {b * 1000:.2f} s per 1B rows; residuals: {residuals}")
        steps = [(p, q, (q.cli_s - p.cli_s) / ((q.rows - p.rows) / 1e6)) for p, q in itertools.pairwise(sizes)]
        print("marginal time per 1M rows: " + ", ".join(f"{short(p.rows)}->{short(q.rows)} {m:.4f} s"
                                                        for p, q, m in steps))
        judged_steps = [step for step in steps if step[0].rows >= LINEAR_FROM]
        if len(judged_steps) < 2:
            print(f"time linear: not judged (needs two steps from {short(LINEAR_FROM)} rows up, e.g. 10M, 100M and "
                  f"1B; steps from smaller sizes are within the start-up's noise)")
        else:
            (p1, q1, m1), (p2, q2, m2) = judged_steps[-2], judged_steps[-1]
            ratio = m2 / m1 if m1 > 0 else float("inf")
            label = (f"time linear: marginal s/row {short(p2.rows)}->{short(q2.rows)} / "
                     f"{short(p1.rows)}->{short(q1.rows)}")
            checks.append((label, f"{ratio:.2f}x", f"<= {LINEAR_FACTOR}x", ratio <= LINEAR_FACTOR))
        reference = next((s for s in sizes if s.rows == 10_000_000), sizes[0])
        last = sizes[-1]
        if last is not reference:
            ratio = last.cli.peak_mib / reference.cli.peak_mib
            checks.append((f"memory flat: peak {short(last.rows)} / peak {short(reference.rows)}", f"{ratio:.2f}x",
                           f"<= {FLAT_FACTOR}x", ratio <= FLAT_FACTOR))
    billion = next((s for s in sizes if s.rows == 1_000_000_000), None)
    if billion is not None:
        checks.insert(0, ("1B rows: audit run wall time", f"{billion.cli_s:.2f} s", f"< {TIME_LIMIT_S:g} s",
                          billion.cli_s < TIME_LIMIT_S))
        checks.insert(1, ("1B rows: audit run peak memory", f"{billion.cli.peak_mib:.1f} MiB",
                          f"< {MEMORY_LIMIT_B / MIB:.1f} MiB (1 GB)", billion.cli.peak_mib * MIB < MEMORY_LIMIT_B))
    print(f"\n{'target':<58}{'value':>12}   {'limit':<26}")
    for label, value, limit, ok in checks:
        print(f"{label:<58}{value:>12}   {limit:<26}{'PASS' if ok else 'FAIL'}")
    if billion is None:
        print("note: 1B rows not measured (--quick or --sizes): the 15 s and 1 GB targets are not judged")
    return all(ok for *_, ok in checks), len(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda t: [parse_rows(p) for p in t.split(",") if p.strip()],
                        help="rows of each file, comma-separated (default 1M,10M,100M,1B)")
    parser.add_argument("--quick", action="store_true", help="1M, 10M and 100M rows only")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data (default 1); files are cached per seed")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement per size (default 3)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each audit's output folder in benchmarks/data/scale/out/ (default: a temporary "
                             "folder, removed)")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes or (QUICK_SIZES if args.quick else SIZES)))
    if not sizes or sizes[0] < 1 or args.repeat < 1:
        parser.error("--sizes needs positive numbers of rows and --repeat at least 1")

    import duckdb

    print(f"bench_scale  {dt.datetime.now().isoformat(timespec='seconds')}  {platform.node()}  "
          f"{os.cpu_count()} cores  {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM  "
          f"Python {platform.python_version()}  duckdb {duckdb.__version__}  load {os.getloadavg()[0]:.2f}")
    print(f"code: {code_version()}")
    files = []
    for rows in sizes:
        path = ensure_file(rows, args.seed)
        files.append((rows, path, write_spec(path)))
    for rows, path, _ in files:
        print(f"data: {path.relative_to(ROOT)}: {describe_file(path)}")
    print(f"measuring {', '.join(short(r) for r in sizes)} rows, {args.repeat} run(s) each ...", flush=True)

    measured = []
    for rows, path, spec in files:
        measured.append(measure(rows, path, spec, args.repeat, args.keep))
        s = measured[-1]
        print(f"  {short(rows)}: audit run {s.cli.seconds:.2f} s, {s.cli.peak_mib:.0f} MiB (load {s.load:.2f}, "
              f"others {s.others:.0%})", flush=True)
    ok, judged = report(measured)
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("no target judged (too few sizes)" if not judged else
          "all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
