-- Text messages (sql/functions/83_texts.sql).

-- name: message_queue
-- $1-$3 the actor, $4 customer, $5 account, $6 link, $7 purpose, $8 number, $9 language, $10 body,
-- $11 sealed text (hex) or NULL, $12 useful until
SELECT kept.message_queue(ROW($1::bigint, $2::text, $3::text)::kept.actor,
                          $4::bigint, $5::bigint, $6::bigint, $7, $8, $9, $10, $11,
                          $12::timestamptz)

-- name: messages_claim
SELECT id, number, body, sealed, send_by_ms FROM kept.messages_claim($1::integer)

-- name: messages_sent
SELECT kept.messages_sent($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::boolean[], $6::integer[],
                          $7::text[], $8::timestamptz[])

-- name: message_status
SELECT kept.message_status($1::bigint, $2, $3, $4::integer)

-- name: message_inbound
SELECT kept.message_inbound($1, $2, $3, $4)

-- name: message_page
-- $1 the route's query parameters as JSON (api/routes.c)
SELECT kept.message_page($1::jsonb->>'account_id', $1::jsonb->>'cursor', $1::jsonb->>'limit')
