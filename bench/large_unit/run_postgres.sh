#!/usr/bin/env bash
# The PostgreSQL path of the large-unit benchmark (issue 10): start a local PostgreSQL server
# (as the postgres user when run as root), copy the synthetic data into typed tables, and run
# notebooks 00-03 with data.in_database against it, so the aggregations run in the server.
#   CUSTOMERS=300000 bash bench/large_unit/run_postgres.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${CUSTOMERS:-300000}
DATA=${DATA:-/tmp/crm_synth_$N}
UNITS=${UNITS:-retail}
TAG=${TAG:-postgres}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
BASE=$(mktemp -d /tmp/crmpg-XXXXXX)
AS_PG=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$BASE"
  AS_PG=(runuser -u postgres --)
fi
"${AS_PG[@]}" "$BIN/initdb" -D "$BASE/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
"${AS_PG[@]}" "$BIN/pg_ctl" -D "$BASE/data" -l "$BASE/server.log" -w start \
  -o "-c listen_addresses='' -k $BASE -p 5432 -c fsync=off -c shared_buffers=1GB -c work_mem=256MB \
      -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=10000" >/dev/null
trap '"${AS_PG[@]}" "$BIN/pg_ctl" -D "$BASE/data" -m fast stop >/dev/null; rm -rf "$BASE"' EXIT
"${AS_PG[@]}" "$BIN/psql" -h "$BASE" -U postgres -qc "CREATE DATABASE crm_large" postgres
URL="postgresql+psycopg://postgres@/crm_large?host=$BASE"
[ -d "$DATA" ] || .venv/bin/crm synth --customers "$N" --out "$DATA" --format parquet
.venv/bin/python bench/large_unit/load_postgres.py "$DATA" "$URL"
# count what the analyses fetch: every statement's rows returned to the client, from here on
"${AS_PG[@]}" "$BIN/psql" -h "$BASE" -U postgres -qc \
  "CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset();" crm_large >/dev/null
# shellcheck disable=SC2086
.venv/bin/python bench/large_unit/run_large_unit.py --data "$DATA" --source "$URL" \
  --tag "$TAG" --units $UNITS
.venv/bin/python bench/large_unit/fetched_rows.py "$URL" "bench/results/large_unit_${TAG}_rows.json"
