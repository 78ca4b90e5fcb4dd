#!/usr/bin/env bash
# Tests beside the logic (make layout-check, part of make test): fails when the
# tests stop mirroring the code, naming what drifted.
#   - every sql/functions/X.sql has its pgTAP file tests/sql/X.sql; every file in
#     tests/sql is X.sql or X_<topic>.sql for such an X, or schema_<topic>.sql
#     (what schema/ itself defines);
#   - every service/src/<module>/ has tests/unit/test_<module>.c unless README's
#     Layout lists it after "unit-exceptions:"; every tests/unit/test_<name>.c is
#     a module's, test_cli_<file>.c for clients/kept/<file>.c, or a build tool's
#     (test_<tool>.c for service/tools/<tool>.c);
#   - no pytest module imports another (shared helpers live in conftest.py and helpers.py).
set -euo pipefail
cd "$(dirname "$0")/.."
problems=()

for f in sql/functions/*.sql; do
    [ -e "tests/sql/$(basename "$f")" ] || problems+=("$f has no pgTAP file tests/sql/$(basename "$f")")
done
for t in tests/sql/*.sql; do
    name=$(basename "$t" .sql)
    case "$name" in schema_*) continue ;; esac
    ok=
    for f in sql/functions/*.sql; do
        base=$(basename "$f" .sql)
        if [ "$name" = "$base" ] || [[ "$name" == "${base}_"* ]]; then
            ok=1
            break
        fi
    done
    [ -n "$ok" ] || problems+=("$t names no sql/functions file (X.sql, X_topic.sql or schema_topic.sql)")
done

exceptions=" $(sed -n 's/.*unit-exceptions: *//p' README.md | tr -d '`' | tr '\n' ' ') "
for d in service/src/*/; do
    m=$(basename "$d")
    if [ ! -e "tests/unit/test_$m.c" ] && [[ "$exceptions" != *" $m "* ]]; then
        problems+=("service/src/$m/ has no tests/unit/test_$m.c and is not in README's unit-exceptions")
    fi
done
for e in $exceptions; do
    [ -d "service/src/$e" ] || problems+=("README's unit-exceptions name $e, which is not a module of service/src")
done
for t in tests/unit/test_*.c; do
    name=$(basename "$t" .c)
    name=${name#test_}
    case "$name" in
    cli_*) [ -e "clients/kept/${name#cli_}.c" ] || problems+=("$t: no clients/kept/${name#cli_}.c") ;;
    *) [ -d "service/src/$name" ] || [ -e "service/tools/$name.c" ] ||
        problems+=("$t: no module service/src/$name/ (nor service/tools/$name.c)") ;;
    esac
done

if grep -nE '^\s*(from|import)\s+test_' tests/integration/*.py; then
    problems+=("a test module imports another (above): move what they share into helpers.py or conftest.py")
fi

if [ ${#problems[@]} -ne 0 ]; then
    printf 'layout: %s\n' "${problems[@]}" >&2
    exit 1
fi
echo "layout: tests mirror sql/functions and service/src; no test module imports another"
