#!/usr/bin/env bash
# Installs what kept needs for one purpose — Debian packages, then the npm
# packages some tests run, each from its lockfile (npm ci) — and nothing when
# everything is already there (so it is cheap to run before every run or test).
# This is the only place kept installs anything or reaches a registry: `make`
# itself builds offline and only checks (`check`) that the build's inputs are here.
#
#   service/scripts/deps.sh all|build|run|test|lint|bench|fuzz|valgrind|ha
#   service/scripts/deps.sh check      (no install: exit 1 naming `make deps` if the build lacks something)
#
# all (make deps): every group below. ha (make ha-test, make soak): Patroni with etcd, on loopback.
#
# As root it calls apt-get directly, otherwise through sudo.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

# python3-phonenumbers: libphonenumber's time zone data, read at build time (service/tools/phonezones.py)
# libjs-chart.js: the dashboard's charting library, embedded into keptd at build time
build=(gcc make pkg-config libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libcjson-dev libssl-dev python3
       python3-phonenumbers libjs-chart.js)
run=("${build[@]}" postgresql-15 postgresql-client-15 util-linux procps curl python3)
lint=(clang-format clang-tidy cppcheck)
test=("${run[@]}" "${lint[@]}" libcmocka-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
      python3 python3-pytest python3-pytest-xdist python3-yaml python3-jsonschema python3-twilio docker-compose curl chromium clang)
bench=("${run[@]}" curl wrk)
fuzz=("${build[@]}" clang)
valgrind=("${test[@]}" valgrind)
ha=("${test[@]}" patroni etcd-server etcd-client)

# npm packages, pinned by their lockfiles: the OpenAPI linter, the validating mock of the
# provider, the browser test's driver (tests); the peer service of the soak (bench)
npm_test=(tests/openapi tests/contract tests/dashboard)
npm_bench=(tests/bench/peer)

# The build's inputs, checked by what the build reads rather than by package names, so
# that `make` can say what is missing in a few milliseconds.
check() {
    local missing=() lib
    local cc=${CC:-cc}
    for tool in "${cc%% *}" pkg-config python3; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    for lib in libpq libmicrohttpd libcurl libcjson libcrypto; do
        pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib (pkg-config)")
    done
    [ -d /usr/lib/python3/dist-packages/phonenumbers/tzdata ] || missing+=(python3-phonenumbers)
    [ -r "${CHARTJS:-/usr/share/javascript/chart.js/chart.min.js}" ] || missing+=(libjs-chart.js)
    if [ ${#missing[@]} -ne 0 ]; then
        echo "kept: the build needs ${missing[*]}, which this machine lacks; run \`make deps\` (it installs them)" >&2
        exit 1
    fi
}

npm_install() {
    local dir
    for dir in "$@"; do
        if [ ! -e "$root/$dir/node_modules/.package-lock.json" ] ||
            [ "$root/$dir/package-lock.json" -nt "$root/$dir/node_modules/.package-lock.json" ]; then
            echo "kept: npm ci in $dir" >&2
            (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        fi
    done
}

npm=()
case "${1:-}" in
check) check; exit 0 ;;
all) want=("${ha[@]}" valgrind wrk); npm=("${npm_test[@]}" "${npm_bench[@]}") ;;
build) want=("${build[@]}") ;;
run) want=("${run[@]}") ;;
lint) want=("${lint[@]}") ;;
test) want=("${test[@]}"); npm=("${npm_test[@]}") ;;
bench) want=("${bench[@]}"); npm=("${npm_bench[@]}") ;;
fuzz) want=("${fuzz[@]}") ;;
valgrind) want=("${valgrind[@]}"); npm=("${npm_test[@]}") ;;
ha) want=("${ha[@]}") ;;
*) echo "usage: $0 all|build|run|test|lint|bench|fuzz|valgrind|ha|check" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# The OpenAPI linter, the validating mock and the browser test run on Node.js;
# use the machine's if it has one.
if [ ${#npm[@]} -ne 0 ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -ne 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    echo "kept: installing missing packages: ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [ ${#npm[@]} -ne 0 ]; then
    npm_install "${npm[@]}"
fi
