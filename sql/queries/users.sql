-- Users, creditors and their teams, who may see what, and the access log
-- (sql/functions/19_users.sql). $1-$3 of writes are the actor.

-- name: user_create
SELECT kept.user_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: user_get
SELECT kept.user_json(u) FROM kept.users u WHERE u.id = $1::bigint

-- name: user_update
SELECT kept.user_update(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::integer, $6::jsonb)

-- name: user_page
-- $1 the route's query parameters as JSON (api/routes.c)
SELECT kept.user_page($1::jsonb->>'team', $1::jsonb->>'cursor', $1::jsonb->>'limit')

-- name: creditor_put
SELECT kept.creditor_put(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: creditor_list
SELECT kept.creditor_list()

-- name: access_check
-- $1 actor key, $2 request id, $3 kind, $4 id, $5 method, $6 route, $7 path, $8 log the read,
-- $9 the field that named the id
SELECT kept.access_check($1::bigint, $2, $3, $4::bigint, $5, $6, $7, $8::boolean, $9)

-- name: access_page
-- $1 the route's query parameters as JSON (api/routes.c)
SELECT kept.access_page($1::jsonb->>'customer_id', $1::jsonb->>'user_id', $1::jsonb->>'from', $1::jsonb->>'to',
                        $1::jsonb->>'cursor', $1::jsonb->>'limit')

-- name: viewer_creditors
SELECT kept.viewer_creditors($1::bigint)
