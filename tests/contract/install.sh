#!/usr/bin/env bash
# Installs the pinned validating mock (@stoplight/prism-cli) from the lockfile.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/prism ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
