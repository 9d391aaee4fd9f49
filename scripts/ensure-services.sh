#!/usr/bin/env bash
# Makes sure the PostgreSQL server the storage tests use is up on 127.0.0.1:5432, starting the
# local cluster if it is installed but stopped, and drops test databases left by earlier runs.
set -euo pipefail
PG_URL="${YTMAKER_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "ensure-services: PostgreSQL is not reachable at 127.0.0.1:5432 (needed by the storage tests)" >&2; exit 1; }

stale=$(psql "$PG_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'ytmaker_test_%'")
for db in $stale; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done
echo "ensure-services: PostgreSQL ready"
