#!/usr/bin/env bash
# The API contract on a live server (issue 13), run by `make api-contract` (part of `make test`):
#   1. /api/v1/openapi.json validates with openapi-spec-validator: 0 errors;
#   2. /metrics passes `promtool check metrics`: exit 0 and no lint line.
# Starts a real `ytmaker serve` (built by cargo) on a free loopback port with a temporary data
# directory, and stops it at the end. openapi-spec-validator is installed from PyPI, pinned, into
# a venv this script makes (target/venv-tools/, idempotent); promtool comes from Debian's prometheus
# package (scripts/install-system-deps.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO=${CARGO:-cargo}
VENV=${YTMAKER_TOOLS_VENV:-$ROOT/target/venv-tools}
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

say() { echo "check-openapi: $*"; }
fail() { echo "check-openapi: $*" >&2; exit 1; }

# ---- tools ----
command -v promtool >/dev/null || fail "promtool is missing; run scripts/install-system-deps.sh (Debian package prometheus)"
command -v curl >/dev/null || fail "curl is missing; run scripts/install-system-deps.sh"
if ! "$VENV/bin/python" -c "import openapi_spec_validator, importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != '$OPENAPI_SPEC_VALIDATOR_VERSION')" 2>/dev/null; then
  say "installing openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
fi

# ---- a live server ----
$CARGO build --locked -p ytmaker-cli
BIN=${YTMAKER_BIN:-$ROOT/target/debug/ytmaker}
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Port 0: the system picks a free port, and serve prints "listening on http://127.0.0.1:<port>".
# No workers: the contract is the API's. No token, so every route answers without one.
env -u YTMAKER_SERVER_TOKEN "$BIN" serve --port 0 --workers 0 --data-dir "$WORK/data" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/serve.out" 2>/dev/null | head -n1 || true)
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.out" "$WORK/serve.err" >&2; fail "ytmaker serve exited before listening"; }
  sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/serve.out" "$WORK/serve.err" >&2; fail "ytmaker serve did not print its address"; }
say "server at $URL"

# ---- 1. the OpenAPI document ----
curl --fail --silent --show-error "$URL/api/v1/openapi.json" -o "$WORK/openapi.json"
"$VENV/bin/python" - "$WORK/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import OpenAPIV31SpecValidator
spec = json.load(open(sys.argv[1]))
errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
for e in errors:
    where = "/".join(str(p) for p in e.absolute_path)
    print(f"  {where}: {e.message.splitlines()[0][:200]}")
print(f"check-openapi: openapi-spec-validator: {len(errors)} errors in {len(spec.get('paths', {}))} paths")
sys.exit(1 if errors else 0)
PY
# The validator's own command line too (its exit status is the contract).
"$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"

# ---- 2. the metrics ----
# One request first, so the per-request families exist; /metrics refreshes the scrape-time gauges.
curl --fail --silent --show-error "$URL/api/v1/system/health" -o /dev/null || true
curl --fail --silent --show-error "$URL/metrics" -o "$WORK/metrics.txt"
families=$(grep -c '^# TYPE ' "$WORK/metrics.txt" || true)
# promtool prints one line per problem (and exits 3 on lint problems); any line is a failure.
if ! lint=$(promtool check metrics <"$WORK/metrics.txt" 2>&1) || [ -n "$lint" ]; then
  echo "$lint" >&2
  fail "promtool check metrics found problems in /metrics"
fi
say "promtool check metrics: exit 0, no lint line ($families families)"
say "ok"
