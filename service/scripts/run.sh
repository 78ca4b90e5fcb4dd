#!/usr/bin/env bash
# `make run`: kept on this machine, in the foreground.
#
# Without KEPT_DATABASE_URL, a private PostgreSQL cluster lives in .kept/pg
# (created on the first run, kept between runs; only this user can reach it).
# keptd migrate brings the database up to date; on the first run against a
# database an admin API key is created and saved in .kept/ (mode 0600) so
# every run can print it. Without KEPT_DATA_KEY, the key that protects
# customers' names and numbers is made on the first run and kept in
# .kept/data-key (mode 0600): lose it and they cannot be read. No key ever
# goes on a command line: curl reads its header from a file.
# Ctrl-C stops keptd, which finishes what is in flight, then the cluster.
# KEPT_STATE_DIR moves .kept elsewhere (the tests use a temporary folder).
#
# Unless KEPT_TELEPHONY_BASE_URL names a real provider, kept-telsim stands in
# for it (KEPT_TELSIM_LISTEN, default 127.0.0.1:8090). On the first run
# against the private cluster a demo customer, account and plan are made, and one
# reminder pass places a call to kept-telsim (GET /v1/calls?account_id=...).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/${BUILD:-build}"
state="${KEPT_STATE_DIR:-$root/.kept}"
cluster="$root/service/scripts/pgcluster.sh"
mkdir -p "$state"
chmod 711 "$state" # postgres must reach .kept/pg; the key files are 0600

if [ -z "${KEPT_DATA_KEY:-}" ]; then
    if [ ! -s "$state/data-key" ]; then
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$state/data-key")
        echo "kept: made the key that protects customers' personal data: ${state#"$root"/}/data-key (keep it safe)"
    fi
    KEPT_DATA_KEY=$(cat "$state/data-key")
    export KEPT_DATA_KEY
fi

embedded=0
own_cluster=0 # stopped at the end only when this run started it
if [ -z "${KEPT_DATABASE_URL:-}" ]; then
    embedded=1
    if [ ! -e "$state/pg/data/PG_VERSION" ]; then
        echo "kept: creating a private PostgreSQL cluster in .kept/pg (first run)"
    fi
    if "$cluster" status "$state/pg"; then
        echo "kept: the database in ${state#"$root"/}/pg is already running (another make run?); it is left running"
    else
        own_cluster=1
        "$cluster" init "$state/pg"
        "$cluster" start "$state/pg"
    fi
    KEPT_DATABASE_URL=$("$cluster" url "$state/pg")
    export KEPT_DATABASE_URL
fi

stop_cluster() {
    if [ "$own_cluster" = 1 ]; then
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
# the admin key as a curl header file (curl -H @file), so it is on no command line
header="$keyfile.header"
(umask 077 && printf 'Authorization: Bearer %s\n' "$key" >"$header")

listen=${KEPT_LISTEN:-127.0.0.1:8080}
url="http://$listen"
export KEPT_LISTEN="$listen"

telsim_pid=
if [ -z "${KEPT_TELEPHONY_BASE_URL:-}" ]; then
    export KEPT_TELSIM_LISTEN=${KEPT_TELSIM_LISTEN:-127.0.0.1:8090}
    export KEPT_TELEPHONY_BASE_URL="http://$KEPT_TELSIM_LISTEN"
    export KEPT_TELEPHONY_ACCOUNT_SID=${KEPT_TELEPHONY_ACCOUNT_SID:-AC00000000000000000000000000000001}
    export KEPT_TELEPHONY_AUTH_TOKEN=${KEPT_TELEPHONY_AUTH_TOKEN:-telsim-demo-token}
    export KEPT_TELEPHONY_FROM=${KEPT_TELEPHONY_FROM:-+15550000100}
    export KEPT_CONTACT_NAME=${KEPT_CONTACT_NAME:-Robin Smith}
    export KEPT_PUBLIC_URL=${KEPT_PUBLIC_URL:-$url}
    # the simulator takes calls faster than a real account's 1 per second; simulated time lets
    # `make demo` replay its weeks of reminder calls on keptd's clock (it starts on the wall's)
    export KEPT_TELEPHONY_CPS=${KEPT_TELEPHONY_CPS:-20}
    export KEPT_CLOCK=${KEPT_CLOCK:-simulated}
    "$bin/kept-telsim" &
    telsim_pid=$!
    # kept-telsim exits at once when its address is taken; keptd must not be wired to
    # whatever else answers there (another person's kept-telsim, for one)
    for _ in $(seq 1 50); do
        kill -0 "$telsim_pid" 2>/dev/null || break
        curl -sf --max-time 1 "$KEPT_TELEPHONY_BASE_URL/_telsim/hello" >/dev/null && break
        sleep 0.1
    done
    sleep 0.2
    if ! kill -0 "$telsim_pid" 2>/dev/null; then
        echo "kept: kept-telsim could not start on $KEPT_TELSIM_LISTEN; choose another with KEPT_TELSIM_LISTEN" >&2
        stop_cluster
        exit 1
    fi
fi
# The customer's self-service page: on, with a link secret made on the first run and kept in
# .kept/ (mode 0600) like the key; it is never printed.
secretfile="$state/link-secret"
if [ -z "${KEPT_LINK_SECRET:-}" ]; then
    if [ ! -s "$secretfile" ]; then
        (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$secretfile")
    fi
    KEPT_LINK_SECRET=$(cat "$secretfile")
    export KEPT_LINK_SECRET
fi
export KEPT_SELF_SERVICE=${KEPT_SELF_SERVICE:-on}
export KEPT_PUBLIC_URL=${KEPT_PUBLIC_URL:-$url}
cat <<EOF

  kept is starting at $url
  admin API key: $key$first
  try:  curl -H @${header#"$root"/} $url/v1/accounts
  CLI:  export KEPT_URL=$url KEPT_API_KEY=\$(cat ${keyfile#"$root"/}); $bin/kept accounts list
  telephony: ${KEPT_TELEPHONY_BASE_URL}${telsim_pid:+ (kept-telsim)}
  self-service page: $KEPT_PUBLIC_URL/s/... (KEPT_SELF_SERVICE=$KEPT_SELF_SERVICE); a customer's link:
        KEPT_URL=$url KEPT_API_KEY=$key $bin/kept link ACCOUNT [--sms]
  Ctrl-C stops keptd and the database.

EOF

# The first "id" of a JSON answer.
first_id() { grep -o '"id" *: *[0-9]*' | head -n 1 | grep -o '[0-9]*$'; }

# A demo plan whose first installment is due tomorrow for a customer whose
# local time is now inside the calling window, then one reminder pass.
demo() {
    local marker="$state/demo-${keyfile##*admin-key-}" zone
    [ -e "$marker" ] && return 0
    zone=$("$root/service/scripts/daytime-zone.sh") || return 0
    local api=(curl -sf -H "@$header" -H "Content-Type: application/json")
    local tomorrow ref customer account
    tomorrow=$(TZ=$zone date -d tomorrow +%F)
    ref="DEMO-$(date +%s)"
    for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
    customer=$("${api[@]}" "$url/v1/customers" -d "{\"external_ref\":\"$ref\",\"name\":\"Dana Demo\",
        \"time_zone\":\"$zone\",\"jurisdiction\":\"US-NY\",\"date_of_birth\":\"1984-07-19\",\"postcode\":\"10001\",
        \"phones\":[{\"number\":\"+15557770105\",\"consent_automated\":true}]}" | first_id) || return 0
    account=$("${api[@]}" "$url/v1/accounts" -d "{\"customer_id\":$customer,\"external_ref\":\"$ref-A\",
        \"creditor\":\"Demo Bank\",\"original_balance_cents\":120000,\"currency\":\"USD\"}" | first_id) || return 0
    # agreed by telephone, with the customer's consent to a reminder before the first payment
    # (12 CFR 1006.14(b)(3)(i)); without it the conversation would hold the reminder for 7 days
    "${api[@]}" "$url/v1/accounts/$account/plans" \
        -d "{\"weekly_amount_cents\":10000,\"first_due_date\":\"$tomorrow\",\"reminder_consent\":true}" \
        >/dev/null || return 0
    "${api[@]}" "$url/v1/admin/reminders" -d '{}' >/dev/null || return 0
    touch "$marker"
    echo "kept: demo plan on account $account ($zone); a reminder call went to kept-telsim:"
    echo "      curl -H @${header#"$root"/} \"$url/v1/calls?account_id=$account\""
    if [ "$KEPT_SELF_SERVICE" = on ]; then
        local link
        link=$("${api[@]}" "$url/v1/accounts/$account/self-service-links" -d '{}' |
            grep -o '"url" *: *"[^"]*"' | sed 's/.*"\(http[^"]*\)"/\1/') || return 0
        echo "kept: Dana Demo's self-service page (date of birth 1984-07-19, postcode 10001): $link"
    fi
}

"$bin/keptd" serve &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
if [ -n "$telsim_pid" ] && [ "$embedded" = 1 ]; then
    demo || true
fi
# A signal interrupts `wait` (status > 128) while keptd is still finishing;
# wait again until keptd itself has exited and report its status.
status=0
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" && status=0 || status=$?
done
trap - INT TERM
if [ -n "$telsim_pid" ]; then
    kill -TERM "$telsim_pid" 2>/dev/null || true
    wait "$telsim_pid" 2>/dev/null || true
fi
stop_cluster
exit "$status"
