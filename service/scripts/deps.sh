#!/usr/bin/env bash
# Installs the Debian packages kept needs for one purpose, and nothing when
# everything is already there (so it is cheap to run before every build).
#
#   service/scripts/deps.sh build|run|test|lint|bench|fuzz|valgrind|ha
#
# ha (make ha-test, make soak): Patroni with etcd as its store, on loopback.
#
# As root it calls apt-get directly, otherwise through sudo.
set -euo pipefail

# python3-phonenumbers: libphonenumber's time zone data, read at build time (service/tools/phonezones.py)
build=(gcc make pkg-config libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libcjson-dev libssl-dev python3
       python3-phonenumbers)
run=("${build[@]}" postgresql-15 postgresql-client-15 util-linux procps curl python3)
lint=(clang-format clang-tidy cppcheck)
test=("${run[@]}" "${lint[@]}" libcmocka-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
      python3 python3-pytest python3-yaml python3-jsonschema python3-twilio docker-compose curl chromium clang)
bench=("${run[@]}" curl wrk)
fuzz=("${build[@]}" clang)
valgrind=("${test[@]}" valgrind)
ha=("${test[@]}" patroni etcd-server etcd-client)

case "${1:-}" in
build) want=("${build[@]}") ;;
run) want=("${run[@]}") ;;
lint) want=("${lint[@]}") ;;
test) want=("${test[@]}") ;;
bench) want=("${bench[@]}") ;;
fuzz) want=("${fuzz[@]}") ;;
valgrind) want=("${valgrind[@]}") ;;
ha) want=("${ha[@]}") ;;
*) echo "usage: $0 build|run|test|lint|bench|fuzz|valgrind|ha" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# The dashboard's charting library comes from npm at build time, and the
# OpenAPI linter and the browser test run on Node.js; use the machine's if it has one.
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "kept: installing missing packages: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
