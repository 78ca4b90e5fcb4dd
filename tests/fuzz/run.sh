#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS from the seed corpus in tests/fuzz/corpus/
# (new inputs go to build-fuzz/fuzz/corpus/, crashes to build-fuzz/fuzz/artifacts/).
#
#   tests/fuzz/run.sh SECONDS TARGET...
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=$1
shift
out="$root/build-fuzz/fuzz"
mkdir -p "$out/artifacts"
for t in "$@"; do
    mkdir -p "$out/corpus/$t"
    echo "fuzz_$t: ${seconds}s"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/fuzz_$t-" "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" 2>"$out/fuzz_$t.log" ||
        { tail -40 "$out/fuzz_$t.log"; echo "fuzz_$t found a failure; see $out/artifacts/"; exit 1; }
    grep -E '^stat::number_of_executed_units' "$out/fuzz_$t.log" || true
done
