#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the browser and cluster tests need when it is
# missing (Debian's chromium and redis-server, and playwright-core from
# tests/browser/package-lock.json) and the `ws` package the JavaScript SDK's end-to-end test uses
# (protocol/js/package-lock.json), then runs `cargo test --workspace` (which also runs the SDK's
# Node tests, tests/sdk.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/run.sh: no Chromium at $chromium; install it (sudo apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "tests/run.sh: no redis-server for tests/cluster.rs; install it (sudo apt-get install redis-server)" >&2
    exit 1
  fi
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
if [ ! -d protocol/js/node_modules/ws ]; then
  npm ci --prefix protocol/js --no-audit --no-fund --loglevel=error
fi

# Tests configure the servers they start: no GAME_* variable of this shell reaches them.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^GAME_' || true)

# Run every test, then close with one total line over all the test binaries.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
totals="$(grep -E '^test result:' "$log" | awk '{p += $4; f += $6; i += $8} END {printf "%d passed, %d failed, %d skipped", p, f, i}')"
echo "tests: $totals"
exit "$status"
