#!/usr/bin/env bash
# The main job: set up, then `audit demo --out out`: audit every bundled scenario (examples/*/spec.yaml),
# print each verdict and whether it matches the scenario's documented findings, and write to out/<scenario>/
# result.json, summary.md, junit.xml and manifest.json (internal evidence), and to out/<scenario>/public/ the
# oversight report in HTML and PDF, the public small-cell-suppressed outputs and their manifest (what may be
# published), with out/index.html linking them. Then start the auditors' app on
# http://localhost:8501 (AUDIT_APP_PORT sets another port; --no-app stops after the audits). Ctrl+C stops it.
set -uo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
source "$root/scripts/setup.sh" || exit 2
echo
echo "=== audit demo --out out: every scenario in examples/ (one 'audit run SPEC --out out/NAME --report' each)"
status=0
audit demo --out "$root/out" --examples "$root/examples" || status=$?
if [ "$status" != 0 ]; then
  echo "=== audit demo: exit $status (a scenario could not be audited; its message is above)"
  exit 2
fi
echo "=== reports of every scenario: $root/out/index.html"
if [ "${1:-}" = "--no-app" ]; then
  exit 0
fi
port="${AUDIT_APP_PORT:-8501}"
echo
echo "=== the auditors' app: http://localhost:$port (opens on the audited welfare_scores example; Ctrl+C stops it)"
exec audit app --port "$port"
