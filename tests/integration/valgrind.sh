#!/usr/bin/env bash
# The integration suite with every keptd, kept and kept-telsim process under
# valgrind's memcheck, then a scan of every process's report: any
# "definitely lost" byte or memory error fails the run.
#
#   tests/integration/valgrind.sh [pytest arguments]
#
# KEPT_BIN: the binaries (an optimised build with -g, as `make` gives);
# VALGRIND_LOGS: where the per-process reports go (default: a temp folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
logs=${VALGRIND_LOGS:-$(mktemp -d /tmp/kept-valgrind.XXXXXX)}
mkdir -p "$logs"
rm -f "$logs"/*.log

export KEPT_WRAP="valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
--error-exitcode=97 --num-callers=30 --log-file=$logs/%p.log"
# Under valgrind every process runs some twenty times slower; the tests that
# measure load or wait on tight deadlines are marked `timing` and left out.
status=0
(cd "$here" && /usr/bin/python3 -m pytest -q -p no:cacheprovider -m "not timing" "$@") || status=$?

reports=$(find "$logs" -name '*.log' | wc -l)
finished=$(grep -l "ERROR SUMMARY" "$logs"/*.log 2>/dev/null | wc -l)
bad=$(grep -lE "definitely lost: [1-9]|ERROR SUMMARY: [1-9]" "$logs"/*.log 2>/dev/null || true)
echo "valgrind: $reports processes, $finished ran to exit (the rest were killed on purpose), reports in $logs"
if [ -n "$bad" ]; then
    for f in $bad; do
        echo "== $f"
        cat "$f"
    done
    echo "valgrind: memory errors or definitely lost bytes in $(echo "$bad" | wc -l) processes" >&2
    exit 1
fi
echo "valgrind: no memory errors, no definitely lost bytes"
exit $status
