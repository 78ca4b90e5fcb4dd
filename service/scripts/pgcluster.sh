#!/usr/bin/env bash
# A private PostgreSQL 15 cluster in a folder: for `make run` (kept's data in
# .kept/) and for the tests (a throw-away folder per run).
#
#   pgcluster.sh init DIR       initdb DIR/data; roles postgres (superuser) and kept;
#                               database kept owned by kept
#   pgcluster.sh start DIR      start it (waits until it accepts connections)
#   pgcluster.sh stop DIR       fast shutdown (waits)
#   pgcluster.sh status DIR     exit 0 when it is running
#   pgcluster.sh url DIR [DB] [USER]   print a libpq URL for it
#   pgcluster.sh psql DIR [psql args...]   psql as the superuser
#   pgcluster.sh standby PRIMARY DIR   a streaming hot standby of PRIMARY in DIR, started
#
# The server listens on a Unix socket only (no TCP), in DIR/run, or in a
# short folder under /tmp when DIR is too deep for a socket path. When run as
# root, PostgreSQL (which refuses root) runs as the `postgres` user.
# PGCLUSTER_OPTS adds server options (the tests turn fsync off).
set -euo pipefail

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PORT=5432

die() { echo "pgcluster: $*" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

socket_dir() {
    cat "$1/socket_dir" 2>/dev/null || die "$1 is not a cluster folder (run init first)"
}

cmd_init() {
    local dir=$1
    [ -e "$dir/data/PG_VERSION" ] && return 0
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local sock="$dir/run"
    if [ $(( ${#sock} + 20 )) -gt 100 ]; then
        sock=$(mktemp -d /tmp/kept-pg.XXXXXX)
    fi
    mkdir -p "$sock" "$dir/data"
    echo "$sock" > "$dir/socket_dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir" "$dir/data" "$sock"
    fi
    chmod 700 "$dir/data"
    as_pg "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    cmd_start "$dir"
    as_pg "$PG_BINDIR/psql" -h "$sock" -p $PORT -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE ROLE kept LOGIN;
CREATE DATABASE kept OWNER kept;
SQL
}

cmd_start() {
    local dir
    dir=$(cd "$1" && pwd)
    local sock
    sock=$(socket_dir "$dir")
    if as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        return 0
    fi
    # A new session, so a Ctrl-C meant for the foreground never reaches it.
    as_pg setsid -w "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -k $sock -p $PORT ${PGCLUSTER_OPTS:-}" start >/dev/null ||
        { tail -20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
}

cmd_stop() {
    local dir
    dir=$(cd "$1" && pwd)
    if as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
}

cmd_status() {
    [ -e "$1/data/PG_VERSION" ] || return 1
    local dir
    dir=$(cd "$1" && pwd)
    as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

cmd_url() {
    local sock
    sock=$(socket_dir "$1")
    echo "postgresql:///${2:-kept}?host=$sock&port=$PORT&user=${3:-kept}"
}

cmd_standby() {
    local primary dir
    primary=$(cd "$1" && pwd)
    mkdir -p "$2"
    dir=$(cd "$2" && pwd)
    [ -e "$dir/data/PG_VERSION" ] && { cmd_start "$dir"; return 0; }
    local sock="$dir/run"
    if [ $(( ${#sock} + 20 )) -gt 100 ]; then
        sock=$(mktemp -d /tmp/kept-pg.XXXXXX)
    fi
    mkdir -p "$sock"
    echo "$sock" > "$dir/socket_dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir" "$sock"
    fi
    # -R writes primary_conninfo and standby.signal: it streams from the primary's socket
    as_pg "$PG_BINDIR/pg_basebackup" -h "$(socket_dir "$primary")" -p $PORT -U postgres -D "$dir/data" -R -c fast \
        -X stream >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
    cmd_start "$dir"
}

cmd_psql() {
    local dir=$1
    shift
    local sock
    sock=$(socket_dir "$dir")
    as_pg "$PG_BINDIR/psql" -h "$sock" -p $PORT -U postgres "$@"
}

[ $# -ge 2 ] || die "usage: pgcluster.sh init|start|stop|status|url|psql DIR ..."
cmd=$1
shift
case "$cmd" in
init) cmd_init "$1" ;;
start) cmd_start "$1" ;;
stop) cmd_stop "$1" ;;
status) cmd_status "$1" ;;
url) cmd_url "$@" ;;
psql) cmd_psql "$@" ;;
standby) cmd_standby "$@" ;;
*) die "unknown command $cmd" ;;
esac
