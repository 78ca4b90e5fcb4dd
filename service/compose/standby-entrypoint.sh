#!/bin/sh
# A hot standby of the primary: on first start, a base backup with -R (which
# writes primary_conninfo and standby.signal), then PostgreSQL as usual.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h postgres -U kept; do sleep 1; done
    PGPASSWORD="$KEPT_REPLICATION_PASSWORD" pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream -P
    chmod 700 "$PGDATA"
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
