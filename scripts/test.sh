#!/usr/bin/env bash
# The README's test command: installs everything the tests need on a fresh machine
# (Debian packages, the package with its test extra), then runs the whole suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k structure`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use (one per line, with the reason).
APT_PACKAGES=(
  chromium              # the HTML graph page is tested in a real headless browser
  fonts-wqy-microhei    # without a CJK font Chromium draws Chinese labels as boxes
  virtuoso-opensource   # a real triple-store server for the remote-store tests
  default-jre-headless  # the JVM that runs the OWL API profile check and HermiT (tests/test_owl_dl.py)
)

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" != 0 ] && SUDO="sudo"
    # apt and dpkg talk a lot (~50 lines even with -qq): their output goes to a log, shown only on failure
    log="$(mktemp "${TMPDIR:-/tmp}/ipgraph-apt.XXXXXX")"
    echo "installing Debian packages: ${missing[*]} (log: $log)"
    if ! { $SUDO apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; \
         } >"$log" 2>&1; then
      echo "scripts/test.sh: installing ${missing[*]} failed; the end of $log:" >&2
      tail -n 25 "$log" >&2
      exit 1
    fi
    rm -f "$log"
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
# Two processes (pytest-xdist): the suite takes half the time on a 2-core machine. A test file stays in one
# process (--dist loadfile), so its module fixtures are built once; IPGRAPH_TEST_WORKERS=0 runs it in this one.
# -p no:benchmark: a pytest-benchmark installed on the machine refuses to run beside xdist.
python3 -m pytest -n "${IPGRAPH_TEST_WORKERS:-2}" --dist loadfile -p no:benchmark "$@"
