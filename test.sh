#!/usr/bin/env bash
# The whole test suite: set up, then run pytest (extra arguments are passed to pytest).
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
source "$root/scripts/setup.sh"
cd "$root"
exec python -m pytest "$@"
