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

# Only databases nobody is connected to: another test run on this machine may be using its own.
stale=$(psql "$PG_URL" -Atc "SELECT d.datname FROM pg_database d WHERE d.datname LIKE 'ytmaker_test_%' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)")
for db in $stale; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done
in_use=$(psql "$PG_URL" -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'ytmaker_test_%'")
[ "$in_use" = "0" ] || echo "ensure-services: kept $in_use test database(s) in use by another run"
echo "ensure-services: PostgreSQL ready"
