-- Customers. Writes go through the functions of sql/functions/30_customers.sql,
-- which audit in the same transaction. $1-$3 are always the actor: API key id
-- (NULL for the keptd command line), actor label, request id, which the
-- function takes as one kept.actor (schema/0032_actor.sql).

-- name: customer_create
SELECT kept.customer_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: customer_get
SELECT kept.customer_json(c) FROM kept.customers c WHERE c.id = $1::bigint

-- name: customer_update
SELECT kept.customer_update(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::integer, $6::jsonb)

-- name: customer_find
-- $1-$3 the viewer: key (team scope), request id, path (the access log)
-- $4 the route's query parameters as JSON (api/routes.c)
SELECT kept.customer_find($1::bigint, $2, $3, $4::jsonb->>'q', $4::jsonb->>'cursor', $4::jsonb->>'limit')
