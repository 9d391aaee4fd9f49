#!/usr/bin/env bash
# The API contract on a live server (issue 13), run by `make api-contract` (part of `make test`):
#   1. /api/v1/openapi.json validates with openapi-spec-validator: 0 errors;
#   2. /metrics passes `promtool check metrics`: exit 0 and no lint line;
#   3. Schemathesis (`st run --checks all`, bounded, options in scripts/schemathesis.toml) finds
#      no failure: the server answers what the document says, and the document says what the
#      server enforces.
# Starts a real `ytmaker serve` (built by cargo) on a free loopback port with a temporary data
# directory and an access token, with no workers and every cloud provider pointed at a closed
# local port (nothing leaves the machine), and stops it at the end. openapi-spec-validator and
# schemathesis are installed from PyPI, pinned, into a venv this script makes
# (target/venv-tools/, idempotent); promtool comes from Debian's prometheus package
# (scripts/install-system-deps.sh).
#
# Knobs: YTMAKER_SCHEMATHESIS_MAX_EXAMPLES (test cases per operation and phase, default 30),
# YTMAKER_SCHEMATHESIS_SEED (default fixed, so a failure reproduces), YTMAKER_SCHEMATHESIS=0
# skips step 3.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO=${CARGO:-cargo}
VENV=${YTMAKER_TOOLS_VENV:-$ROOT/target/venv-tools}
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
SCHEMATHESIS_VERSION=4.32.5

say() { echo "check-openapi: $*"; }
fail() { echo "check-openapi: $*" >&2; exit 1; }

# ---- tools ----
command -v promtool >/dev/null || fail "promtool is missing; run scripts/install-system-deps.sh (Debian package prometheus)"
command -v curl >/dev/null || fail "curl is missing; run scripts/install-system-deps.sh"
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != '$OPENAPI_SPEC_VALIDATOR_VERSION' or m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  say "installing openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION and schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" "schemathesis==$SCHEMATHESIS_VERSION"
fi

# ---- a live server ----
$CARGO build --locked -p ytmaker-cli
BIN=${YTMAKER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/ytmaker}
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
# No workers: the contract is the API's (a started project stays queued). A token, so the
# document's security requirement is real (Schemathesis checks that a request without it is
# refused). YTMAKER_CLOUD_BASE_URL points every cloud client at a port nothing listens on: a
# provider call Schemathesis provokes (a key it stored, then tested) fails at once with the
# provider's network error and never reaches a real API.
TOKEN="contract-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
AUTH="Authorization: Bearer $TOKEN"
env -u YTMAKER_SERVER_TOKEN YTMAKER_CLOUD_BASE_URL=http://127.0.0.1:9 \
  "$BIN" serve --port 0 --workers 0 --data-dir "$WORK/data" --token "$TOKEN" \
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
curl --fail --silent --show-error -H "$AUTH" "$URL/api/v1/openapi.json" -o "$WORK/openapi.json"
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
curl --fail --silent --show-error -H "$AUTH" "$URL/api/v1/system/health" -o /dev/null || true
curl --fail --silent --show-error -H "$AUTH" "$URL/metrics" -o "$WORK/metrics.txt"
families=$(grep -c '^# TYPE ' "$WORK/metrics.txt" || true)
# promtool prints one line per problem (and exits 3 on lint problems); any line is a failure.
if ! lint=$(promtool check metrics <"$WORK/metrics.txt" 2>&1) || [ -n "$lint" ]; then
  echo "$lint" >&2
  fail "promtool check metrics found problems in /metrics"
fi
say "promtool check metrics: exit 0, no lint line ($families families)"

# ---- 3. Schemathesis ----
if [ "${YTMAKER_SCHEMATHESIS:-1}" != 0 ]; then
  # --checks all, less the checks named in --exclude-checks (each with its reason):
  # (none so far; per-operation exceptions, each with its reason, are in scripts/schemathesis.toml)
  # The run is bounded by the examples per operation and phase, not by a clock, so it does the
  # same work on a slow machine; a fixed seed makes a failure reproduce.
  set +e
  (cd "$WORK" && \
    "$VENV/bin/st" --config-file "$ROOT/scripts/schemathesis.toml" run "$URL/api/v1/openapi.json" \
      --checks all \
      -H "$AUTH" \
      --max-examples "${YTMAKER_SCHEMATHESIS_MAX_EXAMPLES:-30}" \
      --seed "${YTMAKER_SCHEMATHESIS_SEED:-13}" \
      --generation-database none \
      --request-timeout 30 \
      --workers 1 \
      --no-color \
      --report junit,ndjson --report-dir "$WORK/schemathesis") 2>&1 | tee "$WORK/schemathesis.out"
  st_status=${PIPESTATUS[0]}
  set -e
  # The numbers for the record: test cases, check evaluations by check, failures.
  "$VENV/bin/python" - "$WORK"/schemathesis/*.ndjson <<'PY' || true
import collections, json, sys
cases, outcomes, names = set(), collections.Counter(), set()
for line in open(sys.argv[1]):
    event = json.loads(line).get("ScenarioFinished")
    if not event:
        continue
    for case_id, checks in (event.get("recorder", {}).get("checks") or {}).items():
        cases.add(case_id)
        for check in checks:
            names.add(check["name"])
            outcomes[check["status"]] += 1
print(f"check-openapi: schemathesis: {len(cases)} test cases checked, {sum(outcomes.values())} check "
      f"evaluations of {len(names)} checks ({', '.join(sorted(names))}): "
      + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())))
PY
  if [ "$st_status" -ne 0 ]; then
    mkdir -p "$ROOT/target"
    cp "$WORK/schemathesis.out" "$ROOT/target/schemathesis.out"
    tail -n 40 "$WORK/serve.err" >&2 || true
    fail "schemathesis found failures (exit $st_status); its output is in target/schemathesis.out"
  fi
  say "schemathesis: no failure"
fi
say "ok"
