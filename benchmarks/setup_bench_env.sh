#!/usr/bin/env bash
# A separate environment for the benchmarks: aequitas 1.1 needs pandas < 3, the toolkit works with both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -e "$root" aequitas fairlearn psutil >&2
  rm -f "$venv"/.installed-*; touch "$stamp"
fi
echo "$venv/bin/python"
