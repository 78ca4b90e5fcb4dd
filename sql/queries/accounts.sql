-- Accounts. $1-$3 of writes are the actor, as for customers.

-- name: account_create
SELECT kept.account_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: account_get
SELECT kept.account_json(a) FROM kept.accounts a WHERE a.id = $1::bigint

-- name: account_page
-- $1-$3 the viewer: key, request id, path; $4 the route's query parameters as JSON (api/routes.c)
SELECT kept.account_page($1::bigint, $2, $3, $4::jsonb->>'customer_id', $4::jsonb->>'external_ref', $4::jsonb->>'cursor', $4::jsonb->>'limit')

-- name: account_overview
-- (the dispatcher has checked the viewer's team and logged the read)
SELECT kept.account_overview($1::bigint)
