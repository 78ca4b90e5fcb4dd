-- The analytics loader: extract in the operational database, apply in the
-- analytics one (the same database unless KEPT_ANALYTICS_DATABASE_URL).

-- name: analytics_cursor
SELECT last_tx_id::text, last_event_id FROM analytics.loader_state WHERE id = 1

-- name: analytics_extract
SELECT kept.analytics_extract($1::xid8, $2::bigint, $3::integer)::text

-- name: analytics_apply
SELECT analytics.apply($1::json)

-- name: analytics_lock
-- Session-level, in the analytics database: one loader at a time. "keptload".
SELECT pg_try_advisory_lock(7738715179944648548)

-- name: analytics_unlock
SELECT pg_advisory_unlock(7738715179944648548)

-- name: analytics_lag
SELECT events, seconds FROM kept.analytics_lag($1::xid8, $2::bigint)

-- name: analytics_reset
SELECT analytics.reset()

-- name: analytics_position
SELECT tx_id, event_id FROM kept.analytics_position()

-- name: analytics_set_cursor
SELECT analytics.set_cursor($1::xid8, $2::bigint)

-- name: analytics_snapshot
SELECT doc::text, last_plan, plans FROM kept.analytics_snapshot($1::xid8, $2::bigint, $3::bigint, $4::integer)
