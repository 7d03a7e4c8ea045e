"""How often each decision rule errs: false fails in null audits and the power to find a planted disparity.

Target (issue 15): with data in which every group is treated exactly alike, the share of audits that report
any fail is at most ``statistics.alpha`` (0.05) for the rules that claim statistical evidence (``significant``,
the default, and ``ci``), however many groups one audit compares; and ``significant`` finds a planted selection
ratio of 1.5 in a group of 300 people in at least 80% of data sets. ``point`` (the literal comparison, for legal
calculations) has no such control; its line is printed for comparison with the old default.

Design (``audit.simulation.Design``, the issue's measurement): 6,000 people in 8 regions (sizes 1:2:…:8) and
3 groups (60/30/10 %), region × group intersection; outcome prevalence 0.3, decision true- and false-positive
rates 0.6 and 0.2 for everyone; rules on ``selection_rate``, ``fpr`` and ``fnr`` with the band [0.8, 1.25]:
96 verdicts per audit. Planted: the same, with 300 people moved to a group ``planted`` whose chance of a
positive decision is 1.5 times everyone's. Every rule judges the same data sets (counted once each).

Run (from the repository root; about 5 minutes for 500 data sets of each kind on 2 cores):

    .venv/bin/python benchmarks/bench_verdicts.py                   # 500 null and 500 planted data sets
    .venv/bin/python benchmarks/bench_verdicts.py --datasets 100    # quicker
    .venv/bin/python benchmarks/bench_verdicts.py --json out/bench_verdicts.json

Exit status: 0 when every target holds (the upper end of the 95% interval of the false-fail share may exceed
alpha by sampling; the target is on the share itself), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from audit.simulation import Design, simulate  # noqa: E402

RULES = ("significant", "ci", "point")
POWER_TARGET = 0.8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=500, help="data sets of each kind (default 500)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the data sets (default 15)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    design = Design(planted_ratio=1.5, planted_size=300)
    started = time.perf_counter()
    results = simulate(RULES, datasets=args.datasets, seed=args.seed, design=design)
    seconds = time.perf_counter() - started
    print(f"{args.datasets} null and {args.datasets} planted data sets; {results[0].verdicts_per_audit} verdicts per "
          f"null audit; alpha {design.alpha}; {seconds:.0f} s")
    print(f"{'rule':<12} {'null audits with a fail':>26} {'95% interval':>18} {'false fails':>14} "
          f"{'planted found':>15} {'95% interval':>18}")
    ok = True
    for r in results:
        low, high = r.interval()
        plow, phigh = r.power_interval()
        print(f"{r.rule:<12} {r.audits_with_false_fail:>6} of {r.audits:<5} = {r.false_fail_share:6.1%} "
              f"{low:>8.1%} to {high:5.1%} {r.false_fails:>7} of {r.audits * r.verdicts_per_audit:<6} "
              f"{r.power:>14.1%} {plow:>8.1%} to {phigh:5.1%}")
        if r.rule in ("significant", "ci") and r.false_fail_share > design.alpha:
            ok = False
    significant = next(r for r in results if r.rule == "significant")
    ok = ok and significant.power >= POWER_TARGET
    print(f"targets: false-fail share <= {design.alpha} for significant and ci; power >= {POWER_TARGET:.0%} for "
          f"significant: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"design": asdict(design), "datasets": args.datasets, "seed": args.seed,
                                         "seconds": seconds,
                                         "rules": [asdict(r) | {"false_fail_share": r.false_fail_share,
                                                                "interval": r.interval(), "power": r.power,
                                                                "power_interval": r.power_interval()}
                                                   for r in results]}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
