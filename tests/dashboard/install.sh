#!/usr/bin/env bash
# Installs playwright-core (pinned, from the lockfile) to drive Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -e node_modules/playwright-core/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
