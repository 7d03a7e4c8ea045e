#!/usr/bin/env bash
# The whole test suite: set up, then run pytest (extra arguments are passed to pytest).
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
export AUDIT_SETUP_BROWSER=1   # the app's browser tests need Debian's chromium
export AUDIT_SETUP_SERVICES=1  # the PostgreSQL and Spark tests need Debian's postgresql and a Java runtime
source "$root/scripts/setup.sh"
cd "$root"
exec python -m pytest "$@"
