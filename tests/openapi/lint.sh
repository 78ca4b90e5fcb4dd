#!/usr/bin/env bash
# Lints clients/openapi.yaml with @redocly/cli, which `make deps` installs from the lockfile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -x node_modules/.bin/redocly ]; then
    echo "tests/openapi: @redocly/cli is not installed; run \`make deps\`" >&2
    exit 1
fi
node_modules/.bin/redocly lint --config redocly.yaml --format=stylish ../../clients/openapi.yaml
