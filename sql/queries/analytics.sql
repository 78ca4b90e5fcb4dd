-- The analytics loader, its rebuild and its check (service/src/analytics/):
-- the kept.* functions run in the operational database, the analytics.*
-- ones where analytics lives (the same database unless KEPT_ANALYTICS_DATABASE_URL).

-- name: analytics_state
SELECT last_tx_id::text, last_event_id, rebuild_needed, verify_after_plan, verify_after_call,
       verify_after_payment, verify_week::text, sweep_mismatches, last_sweep_mismatches
FROM analytics.loader_state WHERE id = 1

-- name: analytics_load_local
SELECT kept.analytics_load_local($1::integer)

-- name: analytics_extract
SELECT to_tx::text, to_id, events, last_at, plans::text, installments::text, calls::text, payments::text
FROM kept.analytics_extract($1::xid8, $2::bigint, $3::integer)

-- name: analytics_apply
SELECT analytics.apply($1::xid8, $2::bigint, $3::xid8, $4::bigint, $5::bigint, $6::timestamptz, $7::json, $8::json,
                       $9::json, $10::json)

-- name: analytics_lock
-- Session-level, in the analytics database: one loader (or rebuild, or check) at a time. "keptload".
SELECT pg_try_advisory_lock(7738715179944648548)

-- name: analytics_unlock
SELECT pg_advisory_unlock(7738715179944648548)

-- name: analytics_lag
SELECT events, seconds, looked_at FROM kept.analytics_lag($1::xid8, $2::bigint)

-- name: analytics_caught_up
SELECT analytics.caught_up($1::timestamptz)

-- name: analytics_position
SELECT tx_id, event_id FROM kept.analytics_position()

-- name: analytics_rebuild_begin
SELECT analytics.rebuild_begin($1::xid8, $2::bigint)

-- name: analytics_page
-- A page of every plan (with its installments), call or payment after an id.
SELECT last, n, plans::text, installments::text, calls::text, payments::text
FROM kept.analytics_page($1, $2::bigint, $3::integer)

-- name: analytics_page_ids
SELECT last, n, ids::text FROM kept.analytics_page_ids($1, $2::bigint, $3::integer)

-- name: analytics_rebuild_page_local
SELECT last, n, written FROM kept.analytics_rebuild_page_local($1, $2::bigint, $3::integer)

-- name: analytics_local_differences
SELECT entity, key::text, column_name, analytics_value, operational_value, total, id
FROM kept.analytics_local_differences($1, $2::bigint[], $3, $4::bigint, $5::bigint, $6::bigint[], $7::integer)

-- name: analytics_write_json
SELECT analytics.write_json($1::json, $2::json, $3::json, $4::json)

-- name: analytics_snapshot
-- The check reads the operational tables as of one moment.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY

-- name: analytics_pending
SELECT plans::text, calls::text, payments::text FROM kept.analytics_pending($1::xid8, $2::bigint)

-- name: analytics_fact_differences
SELECT entity, key::text, column_name, analytics_value, operational_value, total, id
FROM analytics.fact_differences($1, $2::json, $3, $4::bigint, $5::bigint, $6::bigint[], $7::integer)

-- name: analytics_aggregate_differences
SELECT entity, key::text, column_name, analytics_value, operational_value, total, id
FROM analytics.aggregate_differences($1::date, $2::integer)

-- name: analytics_next_week
-- The next due week with an aggregate after $1 (the continuous check walks them), or the first.
SELECT coalesce((SELECT min(due_week) FROM analytics.agg_week WHERE due_week > $1::date),
                (SELECT min(due_week) FROM analytics.agg_week))::text

-- name: analytics_rows
SELECT plans::text, installments::text, calls::text, payments::text
FROM kept.analytics_rows_json($1::bigint[], '{}', '{}', $2::bigint[], $3::bigint[])

-- name: analytics_replace
SELECT analytics.replace($1::bigint[], $2::bigint[], $3::bigint[], $4::json, $5::json, $6::json, $7::json)

-- name: analytics_recompute_aggregates
SELECT analytics.recompute_aggregates()

-- name: analytics_repaired
SELECT kept.analytics_repaired($1::jsonb)

-- name: analytics_sweep_record
SELECT sweep_mismatches, last_sweep_mismatches
FROM analytics.sweep_record($1::bigint, $2::bigint, $3::bigint, $4::date, $5::bigint, $6::integer)

-- name: analytics_sweep_reset
SELECT analytics.sweep_reset()

-- name: analytics_freshness
-- What a report's figures reflect: the newest event loaded, when, and whether a rebuild is pending.
-- (No kept.* here: analytics may live in another database.)
SELECT json_build_object('loaded_through', to_char(last_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                         'loaded_at', to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                         'caught_up_at', to_char(caught_up_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                         'rebuild_pending', rebuild_needed)::text
FROM analytics.loader_state WHERE id = 1
