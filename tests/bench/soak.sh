#!/usr/bin/env bash
# make soak: the long runs of issue 7, on a fresh tuned cluster.
#
#   peer    POST /v1/payments against an equivalent endpoint written the way
#           many teams would (tests/bench/peer: Node.js, Fastify, pg), same SQL,
#           same database, A B B A with wrk at 32 connections: keptd's
#           throughput and p99 as ratios to the peer's (goal: at least 3x)
#   soak    SOAK_MINUTES (10) at 70% of keptd's measured maximum payment rate,
#           offered at a fixed arrival rate (soak.lua), with every worker on:
#           reminders being dialled to kept-telsim and the analytics loader
#           running (it first catches up with the comparison's events); errors,
#           keptd's resident memory after the first minute and at the end
#           (goal: under 5% growth), database connections (goal: constant),
#           the analytics loader's lag, sampled every 10 s (goal: under 30 s)
#   random  the seeded random history of tests/integration/test_random_history.py
#           at size: SOAK_RANDOM_ACCOUNTS (400) accounts, SOAK_RANDOM_STEPS (4000)
#           steps; analytics --verify clean and every report equal to the truth
#
# Settings: SOAK_PLANS (100000), SOAK_MINUTES (10), SOAK_COMPARE_SECONDS (30),
# SOAK_CATCHUP_SECONDS (900), SOAK_DIR (build/soak). Figures in SOAK_DIR/results.txt.
set -euo pipefail

work=${SOAK_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/soak}
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
plans=${SOAK_PLANS:-100000}
minutes=${SOAK_MINUTES:-10}
duration=${SOAK_COMPARE_SECONDS:-30}
port=18180
peer_port=18190
tel_port=18191
conns=32

pids=()
cleanup() {
    for p in "${pids[@]}"; do { kill -TERM "$p" && wait "$p"; } 2>/dev/null || true; done
    "$cluster" stop "$work/pg" 2>/dev/null || true
}
trap cleanup EXIT

fresh_cluster 2GB
url=$KEPT_DATABASE_URL
start_date=$(psql_kept -c "SELECT current_date - 30")
psql_kept -v plans="$plans" -v start="$start_date" -f "$here/generate.sql" >/dev/null
say_header "kept soak"
say "  plans=$plans minutes=$minutes compare_seconds=$duration connections=$conns"

key=$("$bin/keptd" keys create --role finance --name soak | tail -n 1) # payments are finance's
read -r first last <<<"$(psql_kept -F ' ' -c "SELECT min(id), max(id) FROM kept.accounts WHERE external_ref LIKE 'BA-%'")"
received_at=$(psql_kept -c "SELECT kept.ts(('$start_date'::date + 1)::timestamptz + interval '12 hours')")
sid=AC0123456789abcdef0123456789abcdef
token=soak-telephony-token

KEPT_TELSIM_LISTEN=127.0.0.1:$tel_port KEPT_TELEPHONY_ACCOUNT_SID=$sid KEPT_TELEPHONY_AUTH_TOKEN=$token \
    KEPT_TELSIM_RECORD=off "$bin/kept-telsim" >"$work/telsim.log" 2>&1 &
pids+=($!)
start_keptd() { # workers: as the payments benchmark (none) for the comparison, all for the soak
    KEPT_LISTEN=127.0.0.1:$port KEPT_THREADS=$conns KEPT_WORKERS=$1 KEPT_REMINDER_INTERVAL=5 \
        KEPT_ANALYTICS_INTERVAL=5 KEPT_EVALUATE_INTERVAL=60 KEPT_LOG_LEVEL=warn \
        KEPT_TELEPHONY_BASE_URL=http://127.0.0.1:$tel_port KEPT_TELEPHONY_ACCOUNT_SID=$sid \
        KEPT_TELEPHONY_AUTH_TOKEN=$token KEPT_TELEPHONY_FROM=+15550000100 KEPT_PUBLIC_URL=http://127.0.0.1:$port \
        KEPT_CONTACT_NAME="Robin Smith" KEPT_TELEPHONY_CPS=10000 \
        "$bin/keptd" serve 2>>"$work/keptd.log" &
    keptd_pid=$!
    pids+=($keptd_pid)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
}
start_keptd none
[ -d "$here/peer/node_modules" ] || { echo "soak: the peer service is not installed; run \`make deps\`" >&2; exit 1; }
PEER_LISTEN=127.0.0.1:$peer_port DATABASE_URL=$url PEER_POOL=$conns node "$here/peer/server.js" >"$work/peer.log" 2>&1 &
pids+=($!)
for p in $port $peer_port; do
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$p/" && break
        sleep 0.1
    done
done

run_wrk() { # target run seconds [lua]: "requests seconds failures p50_us p99_us"
    BENCH_HERE=$here BENCH_KEY=$key BENCH_FIRST=$first BENCH_LAST=$last BENCH_RECEIVED_AT=$received_at BENCH_RUN=$2 \
        wrk -t2 -c"${5:-$conns}" -d"$3"s --timeout 10s -s "$here/${4:-intake.lua}" "http://127.0.0.1:$1" 2>>"$work/wrk.err" |
        awk '/^bench-result/ { print $2, $3, $4, $5, $6 }'
}

# ---- peer comparison ---------------------------------------------------------------------------
run_wrk $port warm-k 5 >/dev/null
run_wrk $peer_port warm-p 5 >/dev/null
read -r k1_n k1_s k1_f _ k1_p99 <<<"$(run_wrk $port ka "$duration")"
read -r p1_n p1_s p1_f _ p1_p99 <<<"$(run_wrk $peer_port pa "$duration")"
read -r p2_n p2_s p2_f _ p2_p99 <<<"$(run_wrk $peer_port pb "$duration")"
read -r k2_n k2_s k2_f _ k2_p99 <<<"$(run_wrk $port kb "$duration")"
[ $((k1_f + k2_f + p1_f + p2_f)) -eq 0 ] ||
    { say "peer: failed requests (keptd $((k1_f + k2_f)), peer $((p1_f + p2_f))); see $work/wrk.err"; exit 1; }
k_tps=$(calc %.0f "($k1_n + $k2_n) / ($k1_s + $k2_s)")
p_tps=$(calc %.0f "($p1_n + $p2_n) / ($p1_s + $p2_s)")
k_p99=$(calc %.1f "($k1_p99 + $k2_p99) / 2000")
p_p99=$(calc %.1f "($p1_p99 + $p2_p99) / 2000")
say ""
say "peer comparison: POST /v1/payments, $conns connections, 2 x ${duration}s each, A B B A"
say "  keptd                       $k_tps req/s  p99 ${k_p99} ms"
say "  peer (Node.js, Fastify, pg) $p_tps req/s  p99 ${p_p99} ms"
say "  throughput keptd / peer     $(calc %.2f "$k_tps / $p_tps")x   (goal: at least 3x)"
say "  p99 keptd / peer            $(calc %.2f "$k_p99 / $p_p99")"

# ---- soak --------------------------------------------------------------------------------------
kill -TERM "$keptd_pid" && wait "$keptd_pid" || true
target=$(calc %.0f "$k_tps * 0.7")
soak_conns=32
# reminders to dial all along: calls due at moments spread over the soak, customers in a daytime zone
zone=$("$root/service/scripts/daytime-zone.sh")
# a trickle like a real day's reminders: 2% of the customers keep a number (the rest lose it),
# and 2,000 calls are due at moments spread over the soak (set before the workers start, so
# that the scheduler does not first queue a reminder for every customer)
psql_kept -c "DELETE FROM kept.customer_phones WHERE customer_id % 50 <> 0" >/dev/null
psql_kept -v calls=2000 -v zone="$zone" -f "$here/dial.sql" >/dev/null
psql_kept -c "UPDATE kept.calls SET scheduled_at = now() + interval '1 day' WHERE state = 'queued'" >/dev/null
start_keptd all
# The comparison's payments left the loader a backlog: the soak starts once it has caught
# up (at most SOAK_CATCHUP_SECONDS), so that it measures the steady state, not a catch-up.
lag() { # outbox events not loaded yet
    psql_kept -c "SELECT (SELECT count(*) FROM kept.outbox_events) - coalesce((SELECT events_loaded FROM analytics.loader_state), 0)"
}
t=$(now)
for _ in $(seq "${SOAK_CATCHUP_SECONDS:-900}"); do
    [ "$(lag)" -lt 5000 ] && break
    sleep 1
done
say ""
say "before the soak: the loader caught up with the comparison's events in $(elapsed "$t")s (lag $(lag) events)"
psql_kept -c "UPDATE kept.calls SET scheduled_at = now() + random() * interval '$minutes minutes' WHERE state = 'queued'" >/dev/null
lag_seconds() { # the age of the oldest outbox event the loader has not loaded
    psql_kept -c "SELECT round(coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::numeric, 1)
                  FROM kept.outbox_events e, analytics.loader_state s
                  WHERE (e.tx_id, e.id) > (s.last_tx_id, s.last_event_id)"
}
sample() { # seconds rss connections lag_seconds
    printf '%s %s %s %s\n' "$(date +%s)" "$(ps -o rss= -p "$keptd_pid" | tr -d ' ')" \
        "$(psql_kept -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'keptd%'")" \
        "$(lag_seconds)"
}
( while kill -0 "$keptd_pid" 2>/dev/null; do sample; sleep 10; done ) >"$work/samples.txt" &
sampler=$!
read -r s_n s_s s_f _ s_p99 <<<"$(BENCH_RATE=$target BENCH_THREADS=2 run_wrk $port soak $((minutes * 60)) soak.lua $soak_conns)"
kill "$sampler" 2>/dev/null || true
t0=$(head -1 "$work/samples.txt" | cut -d' ' -f1)
rss_warm=$(awk -v t0="$t0" '$1 >= t0 + 60 { print $2; exit }' "$work/samples.txt")
rss_warm=${rss_warm:-$(head -1 "$work/samples.txt" | cut -d' ' -f2)} # a run of a minute or less
rss_end=$(tail -1 "$work/samples.txt" | cut -d' ' -f2)
read -r c_min c_max <<<"$(awk '{ print $3 }' "$work/samples.txt" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }')"
placed=$(psql_kept -c "SELECT count(*) FROM kept.calls WHERE provider_sid IS NOT NULL")
lag=$(lag)
lag_max=$(awk '{ print $4 }' "$work/samples.txt" | sort -n | tail -1)
say ""
say "soak: ${minutes} min at $(calc %.0f "$s_n / $s_s") req/s (offered at a fixed rate: 70% of $k_tps = $target), $soak_conns connections"
say "  errors                      $s_f of $s_n requests   (goal: 0)"
say "  p99                         $(calc %.1f "$s_p99 / 1000") ms"
say "  keptd resident memory       ${rss_warm} KiB after the first minute, ${rss_end} KiB at the end ($(calc %+.1f "($rss_end - $rss_warm) * 100 / $rss_warm")%; goal: under 5%)"
say "  database connections        $c_min to $c_max   (goal: constant)"
say "  analytics loader lag         at most ${lag_max}s in the soak's samples (goal: under 30 s); $lag events at the end"
say "  alongside: $placed reminder calls placed"

# ---- a random history at size ---------------------------------------------------------------------
t=$(now)
random_seed=${SOAK_RANDOM_SEED:-$RANDOM}
if (cd "$root/tests/integration" && KEPT_BIN=$bin KEPT_RANDOM_SEED=$random_seed \
        KEPT_RANDOM_ACCOUNTS=${SOAK_RANDOM_ACCOUNTS:-400} KEPT_RANDOM_STEPS=${SOAK_RANDOM_STEPS:-4000} \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider test_random_history.py >"$work/random.log" 2>&1); then
    random_result="verify clean, every report equal to the operational truth"
else
    random_result="FAILED (see ${work#"$root"/}/random.log)"
fi
say ""
say "random history: seed $random_seed, ${SOAK_RANDOM_ACCOUNTS:-400} accounts, ${SOAK_RANDOM_STEPS:-4000} steps in $(elapsed "$t")s: $random_result"
say ""
say "results kept in ${work#"$root"/}/results.txt"
