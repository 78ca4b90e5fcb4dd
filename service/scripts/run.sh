#!/usr/bin/env bash
# `make run`: kept on this machine, in the foreground.
#
# Without KEPT_DATABASE_URL, a private PostgreSQL cluster lives in .kept/pg
# (created on the first run, kept between runs). keptd migrate brings the
# database up to date; on the first run against a database an admin API key
# is created and saved in .kept/ (mode 0600) so every run can print it.
# Ctrl-C stops keptd, which finishes what is in flight, then the cluster.
# KEPT_STATE_DIR moves .kept elsewhere (the tests use a temporary folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/${BUILD:-build}"
state="${KEPT_STATE_DIR:-$root/.kept}"
cluster="$root/service/scripts/pgcluster.sh"
mkdir -p "$state"
chmod 711 "$state" # postgres must reach .kept/pg; the key files are 0600

embedded=0
if [ -z "${KEPT_DATABASE_URL:-}" ]; then
    embedded=1
    if [ ! -e "$state/pg/data/PG_VERSION" ]; then
        echo "kept: creating a private PostgreSQL cluster in .kept/pg (first run)"
    fi
    "$cluster" init "$state/pg"
    "$cluster" start "$state/pg"
    KEPT_DATABASE_URL=$("$cluster" url "$state/pg")
    export KEPT_DATABASE_URL
fi

stop_cluster() {
    if [ "$embedded" = 1 ]; then
        "$cluster" stop "$state/pg" && echo "kept: database stopped"
    fi
}

if ! "$bin/keptd" migrate; then
    stop_cluster
    exit 1
fi

# One admin key per database this work tree has run against.
keyfile="$state/admin-key-$(printf '%s' "$KEPT_DATABASE_URL" | sha256sum | cut -c1-12)"
if [ ! -s "$keyfile" ]; then
    (umask 077 && "$bin/keptd" keys create --role admin --name "make run admin" | tail -n 1 >"$keyfile")
    first=" (created now; kept in ${keyfile#"$root"/})"
else
    first=" (from ${keyfile#"$root"/})"
fi
key=$(cat "$keyfile")

listen=${KEPT_LISTEN:-127.0.0.1:8080}
url="http://$listen"
cat <<EOF

  kept is starting at $url
  admin API key: $key$first
  try:  curl -H "Authorization: Bearer $key" $url/v1/accounts
  CLI:  KEPT_URL=$url KEPT_API_KEY=$key $bin/kept accounts list
  Ctrl-C stops keptd and the database.

EOF

"$bin/keptd" serve &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
# A signal interrupts `wait` (status > 128) while keptd is still finishing;
# wait again until keptd itself has exited and report its status.
status=0
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" && status=0 || status=$?
done
trap - INT TERM
stop_cluster
exit "$status"
