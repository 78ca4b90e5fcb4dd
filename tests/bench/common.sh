# Sourced by tests/bench/run.sh and tests/bench/soak.sh: paths, printing, and
# a fresh tuned cluster. The caller sets `work` (its folder) first.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/bench"
bin="$root/${BUILD:-build}"
cluster="$root/service/scripts/pgcluster.sh"

say() { printf '%s\n' "$*" | tee -a "$work/results.txt"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# the median of the numbers on stdin, one a line (of an even count, the mean of the middle two)
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
psql_db() { local db=$1; shift; "$cluster" psql "$work/pg" -d "$db" -v ON_ERROR_STOP=1 -qAtX "$@"; }
psql_kept() { psql_db kept "$@"; }

# The key that wraps customers' data keys: keptd's, and every psql session's
# (the benchmarks write customers straight to the tables, sealed as keptd does).
KEPT_DATA_KEY=${KEPT_DATA_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}
export KEPT_DATA_KEY
# and, as keptd's sessions (service/src/db/db.c), no JIT
export PGOPTIONS="-c kept.data_key=$KEPT_DATA_KEY -c jit=off"
# one key makes every request of a benchmark: no per-key rate limit
export KEPT_RATE_LIMIT=0

# curl with an API key that never appears on a command line: the header comes
# from a file of the work folder (mode 0600). $1: the key; the rest: curl's arguments.
curl_key() {
    local key=$1 header="$work/.auth-header"
    shift
    (umask 077 && printf 'Authorization: Bearer %s\n' "$key" >"$header")
    curl -H "@$header" "$@"
}

# An empty $work with a new cluster in it, migrated; KEPT_DATABASE_URL names it.
# Durable (fsync on) but without waiting for each commit's flush, so that the
# figures measure kept and PostgreSQL rather than this disk's flush latency;
# sized so that the data set stays in memory and no checkpoint lands in the
# middle of a measurement. $1: shared_buffers.
fresh_cluster() {
    if [ -e "$work/pg/data/PG_VERSION" ]; then
        "$cluster" stop "$work/pg" || true
    fi
    rm -rf "$work"
    mkdir -p "$work"
    chmod 711 "$work"
    local opts=("shared_buffers=$1" work_mem=64MB maintenance_work_mem=1GB temp_buffers=512MB max_wal_size=32GB
                checkpoint_timeout=1h synchronous_commit=off max_connections=150)
    PGCLUSTER_OPTS=$(printf -- '-c %s ' "${opts[@]}")
    export PGCLUSTER_OPTS
    "$cluster" init "$work/pg"
    KEPT_DATABASE_URL=$("$cluster" url "$work/pg")
    export KEPT_DATABASE_URL
    "$bin/keptd" migrate >/dev/null
}

# The first line of results.txt: what ran, where and on which commit.
say_header() {
    say "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
}
