#!/usr/bin/env bash
# `make demo-cloud`: the whole product with its five cloud clients (Gemini, Google TTS, Stability
# AI, D-ID, YouTube) against the fake cloud on loopback. No real key and no network are used: the
# keys below are accepted by the fake cloud only, and YouTube is linked through the fake Google
# sign-in. Faults can be scripted with FAULTS=file.json (format: crates/ytmaker-fake-cloud).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/ytmaker
FAKE=target/release/ytmaker-fake-cloud
DATA=${DEMO_CLOUD_DATA:-$PWD/.data/demo-cloud}
ARTICLE=${ARTICLE:-samples/article-zh-TW.txt}
mkdir -p "$DATA"

fake_out=$(mktemp)
fake_args=(--port 0)
if [[ -n "${FAULTS:-}" ]]; then fake_args+=(--faults "$FAULTS"); fi
"$FAKE" "${fake_args[@]}" >"$fake_out" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true; rm -f "$fake_out"' EXIT
for _ in $(seq 100); do
  [[ -s "$fake_out" ]] && break
  sleep 0.1
done
CLOUD=$(head -n1 "$fake_out")
[[ "$CLOUD" == http://* ]] || { echo "demo-cloud: the fake cloud did not start" >&2; exit 1; }
echo "fake cloud at $CLOUD"

export YTMAKER_DATA_DIR="$DATA" YTMAKER_CLOUD_BASE_URL="$CLOUD"
for provider in gemini google-tts stability did; do
  echo "demo-$provider-key-for-the-fake-cloud" | "$BIN" keys set "$provider"
done

# Link YouTube: the CLI prints the sign-in URL and waits; curl plays the browser.
login_out=$(mktemp)
"$BIN" youtube login --client-id demo-client.apps.googleusercontent.com >"$login_out" 2>&1 &
login_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*/o/oauth2/v2/auth[^ ]*' "$login_out" | head -n1 || true)
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { cat "$login_out" >&2; echo "demo-cloud: no sign-in URL" >&2; exit 1; }
curl -fsSL "$url" >/dev/null
wait "$login_pid"
grep 'linked' "$login_out"
rm -f "$login_out"

"$BIN" keys list
"$BIN" generate "$ARTICLE" --cloud --name "台灣茶文化 (cloud demo)"

echo
echo "Calls the fake cloud answered, by endpoint:"
curl -fsS "$CLOUD/_fake/calls" | grep -o '"endpoint":"[^"]*"' | sort | uniq -c
echo
echo "Demo data directory: $DATA  (YTMAKER_DATA_DIR=$DATA $BIN projects list)"
