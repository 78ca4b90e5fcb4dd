-- API keys. Keys arrive as the hex SHA-256 keptd computed; the key itself
-- never reaches the database.

-- name: api_key_authenticate
SELECT key_id, user_id, user_name, team, roles, state FROM kept.api_key_authenticate($1)

-- name: api_key_create
SELECT kept.api_key_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb, $5)

-- name: api_key_revoke
SELECT kept.api_key_revoke(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint)

-- name: api_key_list
SELECT json_build_object('items', coalesce(json_agg(kept.api_key_json(k) ORDER BY k.id), '[]'::json))
FROM kept.api_keys k
