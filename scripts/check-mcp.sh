#!/usr/bin/env bash
# The MCP server driven by a real MCP client (issue 14), run by `make mcp-test` (part of
# `make test`): the official Python SDK (`mcp` from PyPI, pinned, in a venv this script makes,
# target/venv-mcp/, idempotent) starts `ytmaker mcp` over stdio and talks to `ytmaker serve`'s
# /mcp over streamable HTTP, against the fake cloud. What it checks is listed at the top of
# crates/ytmaker-server/tests/mcp/client_check.py.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO=${CARGO:-cargo}
VENV=${YTMAKER_MCP_VENV:-$ROOT/target/venv-mcp}
MCP_VERSION=2.3.0

say() { echo "check-mcp: $*"; }

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_VERSION')" 2>/dev/null; then
  say "installing mcp==$MCP_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "mcp==$MCP_VERSION"
fi

$CARGO build --locked -p ytmaker-cli -p ytmaker-fake-cloud
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/debug
"$VENV/bin/python" crates/ytmaker-server/tests/mcp/client_check.py \
  "$TARGET/ytmaker" "$TARGET/ytmaker-fake-cloud" crates/ytmaker-cli/tests/short-en.txt
