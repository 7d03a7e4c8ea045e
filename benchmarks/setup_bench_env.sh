#!/usr/bin/env bash
# The benchmarks' own environment, .venv-bench (gitignored by '.venv-*/'): the toolkit (editable) with
# aequitas and fairlearn. aequitas 1.1 needs pandas < 3, so pip resolves pandas 2.x here, while .venv
# (tests, demo) has pandas 3; the toolkit supports both (pyproject: pandas>=2.2).
#
# Idempotent: installs once per change of pyproject.toml or of this script (stamp file in the venv),
# then checks that the toolkit imports and runs an audit with this environment's pandas.
# Prints the environment's python on stdout, everything else on stderr:
#     PY=$(bash benchmarks/setup_bench_env.sh) && $PY benchmarks/bench_engine.py --quick
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup_bench_env: creating $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.installed-$(cat "$root/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup_bench_env: installing the toolkit, aequitas and fairlearn (first run only)" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -e "$root" aequitas fairlearn >&2
  "$venv/bin/python" - >&2 <<'EOF'
import numpy as np, pandas as pd
import aequitas, fairlearn, audit
rng = np.random.default_rng(0)
n = 2000
frame = pd.DataFrame({"g": pd.Categorical(rng.choice(["a", "b"], n)), "h": rng.choice(["x", "y", "z"], n),
                      "y": rng.integers(0, 2, n).astype(np.int8), "d": rng.integers(0, 2, n).astype(np.int8)})
spec = {"system": {"name": "smoke test"}, "outcome": {"column": "y", "positive": 1},
        "decision": {"column": "d", "positive": 1, "adverse": True}, "protected": [{"column": "g"}, {"column": "h"}], "intersections": [["g", "h"]],
        "policy": [{"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"}]}
result = audit.run(spec, data=frame, fingerprint=True)
assert len(result.groups) and len(result.comparisons) and len(result.verdicts), "empty result"
print(f"setup_bench_env: ok: audit {audit.__version__} runs with pandas {pd.__version__}, numpy {np.__version__}; "
      f"fairlearn {fairlearn.__version__}, aequitas {getattr(aequitas, '__version__', '?')}")
EOF
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
echo "$venv/bin/python"
