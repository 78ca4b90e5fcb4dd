-- Retention and partitions (service/src/retention/).

-- name: outbox_prune
SELECT kept.outbox_prune($1::xid8, $2::bigint, now() - make_interval(days => $3::integer), $4::integer)

-- name: audit_partitions_ensure
SELECT kept.audit_partitions_ensure()

-- name: audit_archive
-- Partitions whose every event is older than the retention ($1 months).
SELECT t FROM kept.audit_archive(now() - make_interval(months => $1::integer)) t
