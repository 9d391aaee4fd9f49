#!/usr/bin/env bash
# Installs the system packages ytmaker needs at run and test time, only those that are missing.
# Idempotent: a second run installs nothing and exits 0. Needs root (or sudo) for apt-get.
set -euo pipefail

# package -> a file that proves it is installed
declare -A probe=(
  [ffmpeg]=/usr/bin/ffmpeg
  [espeak-ng]=/usr/bin/espeak-ng
  [fonts-noto-cjk]=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
  [fontconfig]=/usr/bin/fc-list
  # make demo-cloud plays the browser of the YouTube sign-in with curl
  [curl]=/usr/bin/curl
  # the web UI's browser tests drive Debian's Chromium through playwright-core (never a downloaded browser)
  [chromium]=/usr/bin/chromium
  # the web UI is built with Node.js and npm (make web)
  [nodejs]=/usr/bin/node
  [npm]=/usr/bin/npm
  # scripts/check-openapi.sh (make test): promtool lints the live /metrics (Debian ships it in
  # prometheus), and openapi-spec-validator is pip-installed into a venv
  [prometheus]=/usr/bin/promtool
  [python3-venv]=/usr/share/doc/python3-venv
)

missing=()
for pkg in "${!probe[@]}"; do
  [ -e "${probe[$pkg]}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all present (${!probe[*]})"
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-system-deps: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
  [ -e "${probe[$pkg]}" ] || { echo "install-system-deps: $pkg installed but ${probe[$pkg]} is missing" >&2; exit 1; }
done
echo "install-system-deps: done"
