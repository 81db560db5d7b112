#!/usr/bin/env bash
# run-all.sh — every test suite, then one summary line.
#
# 1. unit tests (cmocka programs, ASan/UBSan build): meson test -C build-test
# 2. integration tests (pytest, black-box over HTTP) against a private stack
#    (tools/stack.py exec --profile test: own ports and var/test/ data)
# 3. browser tests (tests/browser, Playwright + Debian Chromium; the shop on a
#    phone viewport, the admin portal on a desktop one) on their own stack:
#    tests/browser/run-all.js runs storefront, accounts, checkout and admin one
#    after another and ends with their combined summary line
# 4. "N passed, M failed" counted over all, from meson's testlog.json,
#    pytest's JUnit XML and the browser tests' combined summary line. Exit status is non-zero if anything failed.
#
# Expects build-test/ to be built (make test does that first).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
OUT=build-test/test-results
mkdir -p "$OUT"
rm -f build-test/meson-logs/testlog.json "$OUT"/*.xml

export PYTHONDONTWRITEBYTECODE=1

echo "== unit tests (meson test -C build-test)"
meson test -C build-test --print-errorlogs --num-processes 2
unit_rc=$?

echo "== integration tests (tests/integration, stack profile: test)"
# The whole integration run is bounded; stack.py stops the stack on SIGTERM.
timeout --foreground -k 60 2400 "$PYTHON" tools/stack.py exec --profile test --app build-test/shoease -- \
  "$PYTHON" -m pytest tests/integration -q -p no:cacheprovider -rfE \
  --junitxml="$OUT/integration.xml" -o junit_family=xunit2
int_rc=$?
if [ "$int_rc" -eq 5 ]; then   # pytest: no tests collected — a failure, never a pass
  echo "integration tests: FAILED — pytest collected no tests in tests/integration (exit 5)"
fi

echo "== browser tests (tests/browser: Playwright + Debian Chromium, phone and desktop viewports)"
browser_log="$OUT/browser.log"
browser_rc=0
if ( cd tests/browser && npm ci --no-audit --no-fund --loglevel=error ) > "$OUT/npm.log" 2>&1; then
  timeout --foreground -k 30 900 "$PYTHON" tools/stack.py exec --profile test --app build-test/shoease -- \
    bash -c 'BASE_URL="https://localhost:${HTTPS_PORT}" SCREENSHOT_DIR=var/test/screenshots node tests/browser/run-all.js' \
    2>&1 | tee "$browser_log"
  browser_rc=${PIPESTATUS[0]}
else
  cat "$OUT/npm.log"
  echo "npm ci in tests/browser failed" | tee "$browser_log"
  browser_rc=1
fi

"$PYTHON" tools/test-summary.py \
  --meson build-test/meson-logs/testlog.json --meson-rc "$unit_rc" \
  --junit "$OUT/integration.xml" --junit-rc "$int_rc" --junit-name integration \
  --plain browser "$browser_log" "$browser_rc"
sum_rc=$?

if [ "$unit_rc" -ne 0 ] || [ "$int_rc" -ne 0 ] || [ "$browser_rc" -ne 0 ] || [ "$sum_rc" -ne 0 ]; then
  exit 1
fi
exit 0
