#!/usr/bin/env bash
# Installs the dashboard's charting library (pinned, from the lockfile) for
# service/tools/assetgen to embed into keptd.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -e node_modules/chart.js/dist/chart.umd.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
