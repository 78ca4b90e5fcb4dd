-- Erasure, retention and the data keys (sql/functions/35_privacy.sql).

-- name: customer_erase
SELECT kept.customer_erase(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: retention_run
-- $1 as_of (NULL: now), $2 customers at most, $3 days the access log is kept
SELECT kept.retention_run(kept.as_of($1), $2::integer, $3::integer)

-- name: retention_list
SELECT kept.retention_list()

-- name: retention_put
SELECT kept.retention_put(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4, $5::jsonb)

-- name: data_keys_rewrap
SELECT rewrapped, remaining FROM kept.data_keys_rewrap($1::integer)
