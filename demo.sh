#!/usr/bin/env bash
# The main job: set up, audit every bundled example with the CLI (printing the verdicts and writing
# result.json, summary.md, junit.xml, the oversight report in HTML and PDF, the public small-cell-suppressed
# outputs and manifest.json to out/<example>/), then start the auditors' app on http://localhost:8501
# (AUDIT_APP_PORT sets another port; --no-app stops after the audits). Ctrl+C stops the app.
set -uo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
source "$root/scripts/setup.sh" || exit 2
status=0
for spec in "$root"/examples/*/spec.yaml; do
  name="$(basename "$(dirname "$spec")")"
  echo
  echo "=== $name: audit run ${spec#$root/} --out out/$name --report"
  code=0
  audit run "$spec" --out "$root/out/$name" --report || code=$?
  case $code in
    0) echo "=== $name: exit 0 (no rule fails)";;
    1) echo "=== $name: exit 1 (a fairness rule fails, as the example documents)";;
    *) echo "=== $name: exit $code (error)"; status=2;;
  esac
done
if [ "$status" != 0 ] || [ "${1:-}" = "--no-app" ]; then
  exit $status
fi
port="${AUDIT_APP_PORT:-8501}"
echo
echo "=== the auditors' app: http://localhost:$port (opens on the audited welfare_scores example; Ctrl+C stops it)"
exec audit app --port "$port"
