#!/usr/bin/env bash
# Prints an IANA time zone where it is now between 09:00 and 19:00, so that a
# call placed now falls inside the customer's calling window (make run's demo
# plan, the benchmarks). One of these is always in daytime.
set -euo pipefail
for z in America/New_York America/Los_Angeles Europe/London Asia/Kolkata Asia/Tokyo Pacific/Auckland \
    America/Sao_Paulo Europe/Berlin Asia/Singapore Pacific/Honolulu; do
    h=$(TZ=$z date +%H)
    if [ "$((10#$h))" -ge 9 ] && [ "$((10#$h))" -lt 19 ]; then
        echo "$z"
        exit 0
    fi
done
echo "daytime-zone: no zone in daytime" >&2
exit 1
