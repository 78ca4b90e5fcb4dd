#!/usr/bin/env bash
# make bench: the figures the issues name, each against a baseline measured
# in the same run on the same database, reported as a ratio.
#
#   evaluation    kept.evaluate_outcomes + evaluate_plans over a week that
#                 matures BENCH_PLANS installments, against an UPDATE that
#                 only touches the same rows (goal: at most 1.5x)
#   intake        POST /v1/payments from wrk at 32 keep-alive connections,
#                 against pgbench running keptd's SQL for it at the same
#                 concurrency with sequential references as wrk sends them
#                 (goal: at least 0.95 of pgbench's rate); and against
#                 pgbench's built-in TPC-B-like transaction (reported)
#   payment file  POST /v1/imports/payments of BENCH_FILE_LINES lines,
#                 against the same rows written by plain INSERT/UPDATE into
#                 kept's tables (goal: at most 1.3x; file_floor.sql) and a
#                 bare COPY of the file (reported)
#   dial          the call dispatcher placing BENCH_CALLS reminder calls to
#                 kept-telsim with up to 64 in flight, against kept-telsim's own
#                 ceiling (wrk on its create endpoint, 64 connections); keptd's
#                 resident memory after a warm-up and after the calls
#                 (goal: at least 0.5 of the ceiling, memory flat)
#   analytics     an evaluation day (every plan's first installment judged:
#                 BENCH_PLANS outbox events) brought in by the loader, against
#                 a bare INSERT ... SELECT of the same fact rows (goal: at most
#                 2x); a rebuild and a whole --verify, timed; then
#                 weekly-adherence over 52 weeks and origin over a year through
#                 the API, warm, against the same figures from the operational
#                 tables (goal: under 100 ms and at least 10x faster)
#   find          GET /v1/customers?q= with what agents type, over
#                 BENCH_CUSTOMERS customers, from one connection and from
#                 four; beside a read by id (goal: p99 under 50 ms)
#
# Settings (environment): BENCH_PLANS (1000000), BENCH_FILE_LINES (1000000),
# BENCH_DURATION seconds per load run (30), BENCH_DIR (build/bench),
# BENCH_PORT (18080, and the two ports after it), BENCH_CALLS (100000),
# BENCH_CUSTOMERS (1000000, for find), BENCH_SECTIONS (which of
# "evaluation intake file dial analytics find sizes" to run; sizes: rows and bytes of every
# table at the end; the data is
# always generated). A fresh PostgreSQL cluster is made in BENCH_DIR each run;
# the figures are printed and kept in BENCH_DIR/results.txt.
set -euo pipefail

work=${BENCH_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench}
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
plans=${BENCH_PLANS:-1000000}
lines=${BENCH_FILE_LINES:-1000000}
duration=${BENCH_DURATION:-30}
port=${BENCH_PORT:-18080}
ncalls=${BENCH_CALLS:-100000}
sections=" ${BENCH_SECTIONS:-evaluation intake file dial analytics find sizes} "
customers=${BENCH_CUSTOMERS:-1000000}
conns=32
pgbin=/usr/lib/postgresql/15/bin

want() { [[ "$sections" == *" $1 "* ]]; }

keptd_pid=
dialer_pid=
telsim_pid=
cleanup() {
    for p in "$keptd_pid" "$dialer_pid" "$telsim_pid"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    "$cluster" stop "$work/pg" 2>/dev/null || true
}
trap cleanup EXIT

fresh_cluster 4GB
say_header "kept benchmarks"
say "  plans=$plans file_lines=$lines load_seconds=$duration connections=$conns"

# ---- data ----------------------------------------------------------------------------------
start_date=$(psql_kept -c "SELECT current_date - 30")
t=$(now)
psql_kept -v plans="$plans" -v start="$start_date" -f "$here/generate.sql" >/dev/null
say "  generated $plans plans ($(psql_kept -c "SELECT count(*) FROM kept.installments") installments) in $(elapsed "$t")s"

# ---- evaluation at scale -------------------------------------------------------------------
if want evaluation; then
# An hour after the last local midnight of the week that matures every first
# installment and no second one (see generate.sql).
as_of=$(psql_kept -c "SELECT kept.ts(('$start_date'::date + 10)::timestamp AT TIME ZONE 'America/Los_Angeles' + interval '1 hour')")
# The pair runs BENCH_REPEAT times (each rolled back, then vacuumed): a
# machine's noise moves a single pair's ratio by a third, so the figure is
# the median of the ratios.
say ""
ratios=()
for run in $(seq 1 "${BENCH_REPEAT:-3}"); do
    out=$(psql_kept -v as_of="$as_of" -f "$here/evaluate.sql")
    read -r _ base_s base_rows <<<"$(grep '^baseline' <<<"$out" | tail -1 | tr '|' ' ')"
    read -r _ eval_s eval_rows <<<"$(grep '^evaluate' <<<"$out" | tr '|' ' ')"
    [ "$base_rows" = "$eval_rows" ] || { say "evaluation judged $eval_rows rows, the baseline touched $base_rows"; exit 1; }
    [ "$run" = 1 ] && say "evaluation at $as_of: $eval_rows installments matured"
    ratios+=("$(calc %.3f "$eval_s / $base_s")")
    say "  run $run: baseline UPDATE ... SET outcome = outcome $(calc %.2f "$base_s")s ($(calc %.0f "$eval_rows / $base_s") rows/s)," \
        "evaluate_outcomes + evaluate_plans $(calc %.2f "$eval_s")s ($(calc %.0f "$eval_rows / $eval_s")/s), ratio $(calc %.2f "$eval_s / $base_s")x"
done
say "  ratio evaluate / baseline, median of ${#ratios[@]}      $(calc %.2f "$(printf '%s\n' "${ratios[@]}" | median)")x   (goal: at most 1.5x)"
fi

# ---- payment intake ------------------------------------------------------------------------
key=$("$bin/keptd" keys create --role finance --name bench | tail -n 1) # payments are finance's
key_hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
key_id=$(psql_kept -c "SELECT id FROM kept.api_keys WHERE name = 'bench'")
read -r first last <<<"$(psql_kept -F ' ' -c "SELECT min(id), max(id) FROM kept.accounts WHERE external_ref LIKE 'BA-%'")"
received_at=$(psql_kept -c "SELECT kept.ts(('$start_date'::date + 1)::timestamptz + interval '12 hours')")

start_keptd() {
    KEPT_LISTEN=127.0.0.1:$port KEPT_THREADS=$conns KEPT_WORKERS=none "$bin/keptd" serve 2>>"$work/keptd.log" &
    keptd_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
}
stop_keptd() {
    kill -TERM "$keptd_pid" 2>/dev/null && wait "$keptd_pid" 2>/dev/null || true
    keptd_pid=
}
start_keptd

run_wrk() { # run-name seconds: "requests seconds failures p50_us p99_us"
    BENCH_KEY=$key BENCH_FIRST=$first BENCH_LAST=$last BENCH_RECEIVED_AT=$received_at BENCH_RUN=$1 \
        wrk -t2 -c$conns -d"$2"s -s "$here/intake.lua" "http://127.0.0.1:$port" 2>>"$work/wrk.err" |
        awk '/^bench-result/ { print $2, $3, $4, $5, $6 }'
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$work/pgbench"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/pgbench"; fi
run_pgbench() { # run-name seconds: "transactions seconds failures"
    as_pg "$pgbin/pgbench" -h "$(cat "$work/pg/socket_dir")" -p 5432 -U postgres -n -M prepared -c $conns -j 2 \
        -T "$2" -D first="$first" -D last="$last" -D key_hash="$key_hash" -D key_id="$key_id" \
        -D received_at="$received_at" -D run="$1" -D n=0 -l --log-prefix="$work/pgbench/$1" \
        -f "$here/intake.sql" kept \
        2>>"$work/pgbench.err" |
        awk '/^number of failed transactions/ { failed = $5 }
             /^number of transactions actually processed/ { n = $6 }
             /^tps = .*without initial connection time/ { tps = $3 }
             END { printf "%d %.6f %d\n", n, n / tps, failed }'
}

if want intake; then
# Warm both paths, then A B B A so that the tables' growth weighs on both alike.
run_wrk warm 5 >/dev/null
run_pgbench warm 5 >/dev/null
read -r w1_n w1_s w1_f w1_p50 w1_p99 <<<"$(run_wrk a "$duration")"
read -r g1_n g1_s g1_f <<<"$(run_pgbench a "$duration")"
read -r g2_n g2_s g2_f <<<"$(run_pgbench b "$duration")"
read -r w2_n w2_s w2_f w2_p50 w2_p99 <<<"$(run_wrk b "$duration")"
if [ $((w1_f + w2_f + g1_f + g2_f)) -ne 0 ]; then
    say "intake: failed requests (wrk $((w1_f + w2_f)), pgbench $((g1_f + g2_f))); see $work/*.err"
    exit 1
fi
posted=$(psql_kept -c "SELECT count(*) FROM kept.payments WHERE source_ref LIKE 'wrk-a-%' OR source_ref LIKE 'wrk-b-%'")
if [ "$posted" -lt $((w1_n + w2_n)) ]; then
    say "intake: wrk counted $((w1_n + w2_n)) answers but $posted payments were posted"
    exit 1
fi
read -r g_p50 g_p99 <<<"$(cat "$work"/pgbench/a.* "$work"/pgbench/b.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%d %d", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')"
keptd_tps=$(calc %.0f "($w1_n + $w2_n) / ($w1_s + $w2_s)")
pgbench_tps=$(calc %.0f "($g1_n + $g2_n) / ($g1_s + $g2_s)")
say ""
say "payment intake: $conns connections, 2 x ${duration}s each, A B B A"
say "  keptd POST /v1/payments (wrk)   $keptd_tps req/s  p50 $(calc %.2f "($w1_p50 + $w2_p50) / 2000")ms  p99 $(calc %.2f "($w1_p99 + $w2_p99) / 2000")ms"
say "  pgbench, the same SQL           $pgbench_tps tx/s   p50 $(calc %.2f "$g_p50 / 1000")ms  p99 $(calc %.2f "$g_p99 / 1000")ms"
say "  ratio keptd / pgbench           $(calc %.2f "$keptd_tps / $pgbench_tps")    (goal: at least 0.95)"
# pgbench's own TPC-B-like transaction (three UPDATEs, a SELECT, an INSERT;
# one index entry written) at the same concurrency, on its own tables
psql_db postgres -c "CREATE DATABASE tpcb"
as_pg "$pgbin/pgbench" -h "$(cat "$work/pg/socket_dir")" -p 5432 -U postgres -i -q -s 50 tpcb >/dev/null 2>>"$work/pgbench.err"
tpcb_tps=$(as_pg "$pgbin/pgbench" -h "$(cat "$work/pg/socket_dir")" -p 5432 -U postgres -n -M prepared -c $conns \
    -j 2 -T "$duration" tpcb 2>>"$work/pgbench.err" | awk '/^tps = .*without initial connection time/ { print $3 }')
psql_db postgres -c "DROP DATABASE tpcb"
say "  pgbench TPC-B-like (scale 50)   $(calc %.0f "$tpcb_tps") tx/s"
say "  ratio keptd / TPC-B-like        $(calc %.2f "$keptd_tps / $tpcb_tps")    (reported; kept writes ~15 index entries a payment, TPC-B one)"
fi

# ---- payment file --------------------------------------------------------------------------
if want file; then
# One payment of 1.00 per line, spread over the bench accounts; every line new.
file="$work/payments.csv"
psql_kept -v lines="$lines" -v plans="$plans" -v received_at="$received_at" >"$file" <<'SQL'
COPY (SELECT 'BA-' || (g % :plans) AS account_external_ref, 100 AS amount_cents, :'received_at' AS received_at,
             'bench-file' AS source, 'F-' || g AS source_ref
      FROM generate_series(0, :lines - 1) g ORDER BY g)
TO STDOUT WITH (FORMAT csv, HEADER true);
SQL
psql_kept -c "CREATE TABLE bench_copy (account_external_ref text, amount_cents bigint, received_at timestamptz,
                                       source text, source_ref text)"
psql_kept -c "CHECKPOINT"
t=$(now)
psql_kept -c "\\copy bench_copy FROM '$file' WITH (FORMAT csv, HEADER true)"
copy_s=$(elapsed "$t")
psql_kept -c "CHECKPOINT"
admin=$("$bin/keptd" keys create --role admin --name bench-admin | tail -n 1)
# The import and its floor run BENCH_REPEAT times, each in a fresh copy of the
# database as it is now (kept_file_start), and the figure is the median ratio:
# the same code moved this pair by a third between single runs. No connection
# may be open to a template: keptd steps out while one is copied.
owner=$(psql_db postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'kept'")
copy_db() { psql_db postgres -c "CREATE DATABASE $1 TEMPLATE $2 OWNER $owner STRATEGY FILE_COPY"; }
stop_keptd
copy_db kept_file_start kept
prewarm() { # the tables and indexes the writes touch, in shared buffers
    "$@" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'kept' AND c.relkind IN ('r', 'i')
        AND c.relname ~ '^(payments|allocations|installments|accounts)'" >/dev/null
}
capture() { # floor table, the query of kept's rows, the kept table it has the shape of
    psql_db kept_floor -c "CREATE UNLOGGED TABLE $1 (LIKE $3)"
    psql_kept -c "COPY ($2) TO STDOUT" | psql_db kept_floor -c "COPY $1 FROM STDIN"
}
say ""
say "payment file: $lines lines, $(du -h "$file" | cut -f1)"
say "  bare COPY into a table of the same shape   ${copy_s}s"
ratios=()
for run in $(seq 1 "${BENCH_REPEAT:-3}"); do
    stop_keptd # (still out after the first copy)
    psql_db postgres -c "DROP DATABASE kept" # every run, the first too, in a fresh copy: alike
    copy_db kept kept_file_start
    start_keptd
    prewarm psql_kept
    psql_kept -c "CHECKPOINT"
    t=$(now)
    curl_key "$admin" -fsS -H "Content-Type: text/csv" --data-binary "@$file" \
        "http://127.0.0.1:$port/v1/imports/payments" >"$work/import.json"
    import_s=$(elapsed "$t")
    if ! grep -Eq "\"posted\" *: *${lines}[,}]" "$work/import.json"; then
        say "payment file: expected $lines posted, got $(head -c 500 "$work/import.json")"
        exit 1
    fi
    # the rows kept wrote, into kept_floor's floor_* tables (untimed), then the floor itself
    copy_db kept_floor kept_file_start
    import_id=$(grep -o '"import_id" *: *[0-9]*' "$work/import.json" | grep -o '[0-9]*$')
    capture floor_payments "SELECT * FROM kept.payments WHERE import_id = $import_id" kept.payments
    capture floor_allocations "SELECT al.* FROM kept.allocations al JOIN kept.payments p ON p.id = al.payment_id
        WHERE p.import_id = $import_id" kept.allocations
    capture floor_installments "SELECT i.* FROM kept.installments i WHERE (i.plan_id, i.seq) IN (SELECT al.plan_id, al.seq
        FROM kept.allocations al JOIN kept.payments p ON p.id = al.payment_id WHERE p.import_id = $import_id)" \
        kept.installments
    capture floor_accounts "SELECT a.* FROM kept.accounts a WHERE a.id IN (SELECT account_id FROM kept.payments
        WHERE import_id = $import_id)" kept.accounts
    psql_kept -c "COPY (SELECT * FROM kept.payment_imports WHERE id = $import_id) TO STDOUT" |
        psql_db kept_floor -c "COPY kept.payment_imports FROM STDIN"
    psql_db kept_floor -c "ANALYZE floor_payments, floor_allocations, floor_installments, floor_accounts"
    prewarm psql_db kept_floor
    psql_db kept_floor -c "CHECKPOINT"
    floor_s=$(psql_db kept_floor -f "$here/file_floor.sql" | awk -F'|' '/^floor/ { print $2 }')
    psql_db postgres -c "DROP DATABASE kept_floor"
    ratios+=("$(calc %.3f "$import_s / $floor_s")")
    say "  run $run: the same rows by plain INSERT/UPDATE (payments, allocations, installments, accounts)" \
        "$(calc %.2f "$floor_s")s; POST /v1/imports/payments $(calc %.2f "$import_s")s" \
        "($(calc %.0f "$lines / $import_s") lines/s, $(calc %.1f "$import_s / $copy_s")x the COPY), ratio $(calc %.2f "$import_s / $floor_s")x"
done
psql_db postgres -c "DROP DATABASE kept_file_start"
say "  ratio import / plain INSERT/UPDATE, median of ${#ratios[@]}   $(calc %.2f "$(printf '%s\n' "${ratios[@]}" | median)")x   (goal: at most 1.3x)"
fi

# ---- the call dispatcher ---------------------------------------------------------------------
if want dial; then
sid=AC0123456789abcdef0123456789abcdef
token=bench-telephony-token
tport=$((port + 1))
dport=$((port + 2))
# kept-telsim keeps no request log and plays no call life: its ceiling is its create endpoint
KEPT_TELSIM_LISTEN=127.0.0.1:$tport KEPT_TELEPHONY_ACCOUNT_SID=$sid KEPT_TELEPHONY_AUTH_TOKEN=$token \
    KEPT_TELSIM_LIFE=off KEPT_TELSIM_RECORD=off "$bin/kept-telsim" >"$work/telsim.log" 2>&1 &
telsim_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$tport/healthz" >/dev/null && break
    sleep 0.1
done
read -r c_n c_s c_f <<<"$(BENCH_SID=$sid BENCH_AUTH=$(printf '%s:%s' "$sid" "$token" | base64 -w0) \
    wrk -t2 -c64 -d"$duration"s -s "$here/dial_ceiling.lua" "http://127.0.0.1:$tport" 2>>"$work/wrk.err" |
    awk '/^bench-result/ { print $2, $3, $4 }')"
[ "$c_f" -eq 0 ] || { say "dial: kept-telsim failed $c_f of $c_n creates"; exit 1; }
ceiling=$(calc %.0f "$c_n / $c_s")

# customers where it is daytime now, so the calling window is open
zone=$("$root/service/scripts/daytime-zone.sh")
KEPT_LISTEN=127.0.0.1:$dport KEPT_WORKERS=dispatcher KEPT_REMINDER_INTERVAL=1 KEPT_DIAL_CONCURRENCY=64 \
    KEPT_TELEPHONY_BASE_URL=http://127.0.0.1:$tport KEPT_TELEPHONY_ACCOUNT_SID=$sid \
    KEPT_TELEPHONY_AUTH_TOKEN=$token KEPT_TELEPHONY_FROM=+15550000100 KEPT_PUBLIC_URL=http://127.0.0.1:$dport \
    KEPT_CONTACT_NAME="Robin Smith" KEPT_TELEPHONY_CPS=10000 \
    "$bin/keptd" serve 2>"$work/dialer.log" &
dialer_pid=$!
pending() { psql_kept -c "SELECT count(*) FROM kept.calls WHERE state IN ('queued', 'dialing')"; }
drain() { while [ "$(pending)" -ne 0 ]; do sleep 0.2; done; }
rss() { ps -o rss= -p "$dialer_pid" | tr -d ' '; }
warm=$((ncalls / 5)) # allocator and connection caches reach their working size
psql_kept -v calls="$warm" -v zone="$zone" -f "$here/dial.sql" >/dev/null
drain
rss_before=$(rss)
psql_kept -v calls="$ncalls" -v zone="$zone" -f "$here/dial.sql" >/dev/null
t=$(now)
drain
dial_s=$(elapsed "$t")
rss_after=$(rss)
placed=$(psql_kept -c "SELECT count(*) FROM kept.calls WHERE state = 'placed'")
if [ "$placed" -ne $((warm + ncalls)) ]; then
    say "dial: $placed calls placed of $((warm + ncalls)); see $work/dialer.log"
    exit 1
fi
rate=$(calc %.0f "$ncalls / $dial_s")
say ""
say "call dispatcher: $ncalls calls to kept-telsim, 64 in flight (customers in $zone)"
say "  kept-telsim's ceiling (wrk, 64 connections)   $ceiling creates/s"
say "  the dispatcher                                $rate calls/s in ${dial_s}s"
say "  ratio dispatcher / ceiling                    $(calc %.2f "$rate / $ceiling")    (goal: at least 0.5)"
say "  keptd resident memory                         ${rss_before} KiB after $warm calls, ${rss_after} KiB after $ncalls more ($(calc %+.1f "($rss_after - $rss_before) * 100 / $rss_before")%)"
fi
# ---- analytics ------------------------------------------------------------------------------
if want analytics; then
# Analytics first reflects everything (a rebuild, timed); then an evaluation
# day: every plan's first installment judged, one installment_evaluated
# event each, which the loader brings in with its default batches, against a
# bare INSERT ... SELECT of the same fact rows (the loader's own extraction
# for the same installments) into a table of the same shape and indexes,
# measured in the same run. Then a whole check (keptd analytics --verify),
# and two reports through the API against the same figures from the
# operational tables.
t=$(now)
"$bin/keptd" analytics --rebuild >"$work/rebuild.json"
rebuild_s=$(elapsed "$t")
as_of=$(psql_kept -c "SELECT kept.ts(('$start_date'::date + 10)::timestamp AT TIME ZONE 'America/Los_Angeles' + interval '1 hour')")
psql_kept -c "SELECT kept.evaluate_outcomes('$as_of')" >/dev/null
read -r cur_tx cur_id <<<"$(psql_kept -F ' ' -c "SELECT last_tx_id, last_event_id FROM analytics.loader_state")"
after="(tx_id, id) > ('$cur_tx'::xid8, $cur_id)"
pending=$(psql_kept -c "SELECT count(*) FROM kept.outbox_events WHERE $after")
psql_kept -c "VACUUM ANALYZE kept.outbox_events" \
    -c "CREATE TABLE bench_fact_installment (LIKE analytics.fact_installment INCLUDING ALL)" -c "CHECKPOINT" >/dev/null
t=$(now)
base_rows=$(psql_kept -c "WITH e AS (
        SELECT array_agg(aggregate_id ORDER BY tx_id, id) AS plans,
               array_agg((payload->>'seq')::integer ORDER BY tx_id, id) AS seqs
        FROM kept.outbox_events WHERE $after AND event_type = 'installment_evaluated'),
    w AS (INSERT INTO bench_fact_installment SELECT r.* FROM e, kept.analytics_installment_rows('{}', e.plans, e.seqs) r
          RETURNING 1)
    SELECT count(*) FROM w")
base_s=$(elapsed "$t")
psql_kept -c "CHECKPOINT" >/dev/null
t=$(now)
"$bin/keptd" analytics >"$work/load.json"
load_s=$(elapsed "$t")
loaded=$(grep -o '"events":[0-9]*' "$work/load.json" | cut -d: -f2)
[ "$loaded" = "$pending" ] || { say "analytics: loaded $loaded of $pending events"; exit 1; }
facts=$(psql_kept -c "SELECT count(*) FROM analytics.fact_installment")
psql_kept -c "VACUUM ANALYZE analytics.fact_installment" -c "VACUUM ANALYZE analytics.agg_week" \
    -c "VACUUM ANALYZE analytics.agg_plan" >/dev/null
t=$(now)
"$bin/keptd" analytics --verify >"$work/verify.json" || { say "analytics: --verify found differences"; exit 1; }
verify_s=$(elapsed "$t")
finance=$("$bin/keptd" keys create --role finance --name bench-finance | tail -n 1)
to=$(psql_kept -c "SELECT date_trunc('week', current_date + 7)::date")
from=$(psql_kept -c "SELECT ('$to'::date - 364)")
api_ms() { # report: the median of 5 warm requests, in ms
    curl_key "$finance" -fs -o /dev/null "http://127.0.0.1:$port/v1/reports/$1?from=$from&to=$to"
    for _ in 1 2 3 4 5; do
        curl_key "$finance" -fs -o /dev/null -w '%{time_total}\n' \
            "http://127.0.0.1:$port/v1/reports/$1?from=$from&to=$to"
    done | awk '{ print $1 * 1000 }' | median
}
op_ms() { # n-th query of analytics_operational.sql: the median of 5 warm runs, in ms
    local sql
    sql=$(awk -v n="$1" 'BEGIN { RS = ";" } NR == n' "$here/analytics_operational.sql")
    for _ in 1 2 3 4 5 6; do # psql interpolates :'from' in its input, not in -c
        printf '\\timing on\n%s;\n' "$sql" | psql_kept -v from="$from" -v to="$to" | awk '/^Time:/ { print $2 }'
    done | tail -n 5 | median
}
weekly_ms=$(api_ms weekly-adherence)
origin_ms=$(api_ms origin)
weekly_op=$(op_ms 1)
origin_op=$(op_ms 2)
api_due=$(curl_key "$finance" -fs "http://127.0.0.1:$port/v1/reports/weekly-adherence?from=$from&to=$to" |
    grep -o '"installments_due" *: *[0-9]*' | awk -F: '{ s += $2 } END { print s }')
op_due=$(awk -v n=1 'BEGIN { RS = ";" } NR == n' "$here/analytics_operational.sql" |
    psql_kept -v from="$from" -v to="$to" -F ' ' | awk '{ s += $3 } END { print s }')
[ "$api_due" = "$op_due" ] || { say "analytics: the report counts $api_due installments due, the tables $op_due"; exit 1; }

say ""
say "analytics: a rebuild of every fact (${facts} installment facts) in ${rebuild_s}s; a whole --verify in ${verify_s}s"
say "  an evaluation day: $pending installment_evaluated events"
say "  bare INSERT ... SELECT of the same $base_rows fact rows   ${base_s}s  $(calc %.0f "$base_rows / $base_s") rows/s"
say "  the loader (keptd analytics, batches of ${KEPT_ANALYTICS_BATCH:-1000})      ${load_s}s  $(calc %.0f "$loaded / $load_s") events/s"
say "  ratio loader / bare INSERT ... SELECT                $(calc %.2f "$load_s / $base_s")x   (goal: at most 2x)"
say "  weekly-adherence, 52 weeks: API ${weekly_ms} ms, operational tables ${weekly_op} ms  ($(calc %.0f "$weekly_op / $weekly_ms")x faster; goal: under 100 ms and 10x)"
say "  origin, a year:             API ${origin_ms} ms, operational tables ${origin_op} ms  ($(calc %.0f "$origin_op / $origin_ms")x faster; goal: under 100 ms and 10x)"
fi

# ---- finding a customer ------------------------------------------------------------------------
if want find; then
# The book grows to BENCH_CUSTOMERS customers with names people have (shared
# by many), numbers and accounts (find.sql); then wrk sends what agents type
# (find_queries.sql: names whole and in parts, numbers, references, nobody)
# from one connection (an agent's wait) and from four, against the same
# requests' cheapest neighbour, a customer read by id.
t=$(now)
psql_kept -v customers="$customers" -f "$here/find.sql" >/dev/null
say ""
say "finding a customer: $(psql_kept -c "SELECT count(*) FROM kept.customers") customers (made in $(elapsed "$t")s)"
psql_kept -v n=1200 -f "$here/find_queries.sql" >"$work/find_queries.txt"
psql_kept -c "SELECT '/v1/customers/' || id FROM kept.customers WHERE id % 997 = 0 LIMIT 1000" >"$work/by_id.txt"
# an agent finds customers (of the bench's team: the creditor's accounts)
agent=$("$bin/keptd" keys create --role agent --name bench-agent | tail -n 1)
find_wrk() { # connections file: "requests seconds failures p50_us p99_us"
    BENCH_KEY=$agent BENCH_QUERIES=$2 wrk -t1 -c"$1" -d"$duration"s -s "$here/find.lua" "http://127.0.0.1:$port" \
        2>>"$work/wrk.err" | awk '/^bench-result/ { print $2, $3, $4, $5, $6 }'
}
find_wrk 1 "$work/find_queries.txt" >/dev/null # warm
for c in 1 4; do
    read -r f_n f_s f_f f_p50 f_p99 <<<"$(find_wrk "$c" "$work/find_queries.txt")"
    read -r i_n i_s i_f i_p50 i_p99 <<<"$(find_wrk "$c" "$work/by_id.txt")"
    [ $((f_f + i_f)) -eq 0 ] || { say "find: $f_f searches and $i_f reads failed; see $work/wrk.err"; exit 1; }
    say "  $c connection(s): GET /v1/customers?q= $(calc %.0f "$f_n / $f_s") req/s p50 $(calc %.1f "$f_p50 / 1000")ms p99 $(calc %.1f "$f_p99 / 1000")ms;" \
        "GET /v1/customers/{id} p50 $(calc %.1f "$i_p50 / 1000")ms p99 $(calc %.1f "$i_p99 / 1000")ms" \
        "(p99 find / by id $(calc %.1f "$f_p99 / $i_p99")x)"
done
say "  goal: p99 under 50 ms at 1,000,000 customers"
fi

# ---- table sizes (for README's capacity model) ----------------------------------------------
if want sizes; then
psql_kept -c "VACUUM ANALYZE" >/dev/null
say ""
say "table sizes after the runs (rows, heap + TOAST, indexes, bytes per row with its indexes)"
psql_kept -F ' ' -c "SELECT c.relname, sum(greatest(l.reltuples, 0))::bigint AS n, sum(pg_table_size(l.oid)),
        sum(pg_indexes_size(l.oid)), round(sum(pg_total_relation_size(l.oid)) / greatest(sum(l.reltuples), 1))
    FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
    CROSS JOIN LATERAL (SELECT c.oid AS relid UNION SELECT relid FROM pg_partition_tree(c.oid)) t
    JOIN pg_class l ON l.oid = t.relid
    WHERE s.nspname IN ('kept', 'analytics') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    GROUP BY c.relname HAVING sum(l.reltuples) >= 1000
    ORDER BY sum(pg_total_relation_size(l.oid)) DESC" |
    while read -r name rows heap idx per_row; do
        say "  $(printf '%-28s %12s rows  %8s MB heap  %8s MB indexes  %6s B/row' "$name" "$rows" \
            "$((heap / 1048576))" "$((idx / 1048576))" "$per_row")"
    done
fi

say ""
say "results kept in ${work#"$root"/}/results.txt"
