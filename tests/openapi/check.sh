#!/usr/bin/env bash
# Checks the OpenAPI document of a real game-server: openapi-spec-validator on /openapi.json,
# then schemathesis fuzzes every REST operation against the running server (bounded examples,
# fixed seed: about a minute). /ws is left out: the fuzzer speaks HTTP, not WebSocket.
#
# Usage: tests/openapi/check.sh [GAME_SERVER_BINARY]   (default: target/debug/game-server)
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${1:-target/debug/game-server}"
venv=target/openapi-venv
if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  echo "== installing openapi-spec-validator and schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# No REST rate limit, so that the fuzzer reaches the handlers.
"$bin" --bind "127.0.0.1:$port" --api-rate 0 >target/openapi-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== openapi-spec-validator"
curl -fsS "$base/openapi.json" >target/openapi.json
"$venv/bin/openapi-spec-validator" target/openapi.json

echo "== schemathesis"
# Run from target/: schemathesis keeps its cache in ./.schemathesis.
# DELETE on a ticket cancels it, and the ticket stays readable with status `cancelled` for a
# while, as the operation's description says: "deleted resource still available" (use_after_free)
# is the design. Ticket cancel is the API's only DELETE, so that check is left out.
config="$PWD/tests/openapi/schemathesis.toml"
(cd target && "$PWD/openapi-venv/bin/schemathesis" --config-file "$config" run "$base/openapi.json" \
  --checks all --exclude-checks use_after_free --exclude-path /ws --max-examples 10 --seed 1 --workers 2 \
  --request-timeout 2 --no-color)
