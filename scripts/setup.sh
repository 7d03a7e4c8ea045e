#!/usr/bin/env bash
# Create .venv and install the toolkit with its test dependencies, once per change of pyproject.toml.
# Sourced by demo.sh and test.sh; needs python3 (3.11+), the package registry and, for PDF reports,
# Pango and poppler-utils (installed with apt-get when missing and running as root). With
# AUDIT_SETUP_BROWSER=1 (test.sh sets it) it also installs Debian's chromium for the app's browser tests, and
# with AUDIT_SETUP_SERVICES=1 (test.sh sets it) Debian's PostgreSQL server and a Java runtime for Spark, which
# the tests start themselves (tests/services.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# System packages: Pango and HarfBuzz-Subset for WeasyPrint (PDF reports) and poppler-utils (pdftotext,
# pdftoppm) for the PDF tests. Only checked (fast) when present; installed when missing and running as root; otherwise a
# message says what to install, and everything but PDF output still works.
_setup_missing_system_packages() {
  local libs missing=""
  # Read ldconfig's list into a variable first: `ldconfig -p | grep -q` can die of SIGPIPE under pipefail.
  libs="$( (command -v ldconfig >/dev/null 2>&1 && ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
  grep -q 'libpango-1\.0\.so' <<<"$libs" || missing="$missing libpango-1.0-0"
  grep -q 'libpangoft2-1\.0\.so' <<<"$libs" || missing="$missing libpangoft2-1.0-0"
  # Optional for WeasyPrint (it falls back to fontTools, slower and with a warning), but in its install list.
  grep -q 'libharfbuzz-subset\.so' <<<"$libs" || missing="$missing libharfbuzz-subset0"
  { command -v pdftotext && command -v pdftoppm; } >/dev/null 2>&1 || missing="$missing poppler-utils"
  if [ "${AUDIT_SETUP_BROWSER:-0}" = 1 ]; then
    # The app's end-to-end tests drive Debian's chromium with Playwright (never a downloaded browser).
    [ -x /usr/bin/chromium ] || missing="$missing chromium"
    [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
  fi
  if [ "${AUDIT_SETUP_SERVICES:-0}" = 1 ]; then
    # The PostgreSQL tests run initdb and pg_ctl from Debian's server package on a throwaway cluster; the
    # package's own cluster and service are not used. PySpark (local mode) needs Java 17 or newer.
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing="$missing postgresql"
    command -v java >/dev/null 2>&1 || missing="$missing openjdk-17-jre-headless"
  fi
  echo "${missing# }"
}
_setup_system_packages() {
  local missing
  missing="$(_setup_missing_system_packages)"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: WARNING: missing system packages: $missing" >&2
    echo "setup: PDF reports and the PDF, browser, PostgreSQL and Spark tests need them; install them with" >&2
    echo "setup:   sudo apt-get install -y --no-install-recommends $missing" >&2
    return 0
  fi
  echo "setup: installing system packages: $missing" >&2
  # shellcheck disable=SC2086  # $missing is a list of package names
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2; then
    echo "setup: apt-get install failed; running apt-get update and trying again" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || true
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2; then
      echo "setup: WARNING: could not install $missing; the features and tests that need them will not work" >&2
      return 0
    fi
  fi
  missing="$(_setup_missing_system_packages)"
  [ -z "$missing" ] || echo "setup: WARNING: still missing after installing: $missing" >&2
}
_setup_system_packages
unset -f _setup_system_packages _setup_missing_system_packages
venv="$root/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing the toolkit and its dependencies (first run only)" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -e "$root[test]" >&2
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
