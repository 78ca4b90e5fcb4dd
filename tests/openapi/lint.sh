#!/usr/bin/env bash
# Lints clients/openapi.yaml with @redocly/cli, installed from the lockfile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -x node_modules/.bin/redocly ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/redocly lint --config redocly.yaml --format=stylish ../../clients/openapi.yaml
