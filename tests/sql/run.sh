#!/usr/bin/env bash
# pgTAP tests: a throw-away cluster, `keptd migrate`, then pg_prove over
# tests/sql/*.sql (or the files named) as the superuser (each file runs in a transaction it rolls back).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KEPT_BIN:-$root/build}
cluster="$root/service/scripts/pgcluster.sh"
dir=$(mktemp -d /tmp/kept-sql.XXXXXX)
cleanup() {
    "$cluster" stop "$dir" >/dev/null 2>&1 || true
    sock=$(cat "$dir/socket_dir" 2>/dev/null || true)
    case "$sock" in /tmp/kept-pg.*) rm -rf "$sock" ;; esac
    rm -rf "$dir"
}
trap cleanup EXIT
export PGCLUSTER_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
"$cluster" init "$dir"
# the key that wraps customers' data keys: keptd's and every pgTAP session's
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export PGOPTIONS="-c kept.data_key=$key"
KEPT_DATABASE_URL=$("$cluster" url "$dir") KEPT_DATA_KEY=$key "$bin/keptd" migrate >/dev/null
"$cluster" psql "$dir" -d kept -qc 'CREATE EXTENSION IF NOT EXISTS pgtap'
# what the files share (schema kept_test)
"$cluster" psql "$dir" -d kept -v ON_ERROR_STOP=1 -qf "$root/tests/sql/lib/helpers.sql"
files=("$@")
[ ${#files[@]} -ne 0 ] || files=("$root"/tests/sql/*.sql)
pg_prove -h "$(cat "$dir/socket_dir")" -p 5432 -U postgres -d kept --failures "${files[@]}"
