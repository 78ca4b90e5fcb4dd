-- Reminder calls: scheduling, claiming, dialling results, provider webhooks.

-- name: reminders_schedule
SELECT kept.reminders_schedule(kept.as_of($1))

-- name: calls_claim
-- $1 calls at most, $2 the provider's calls per second
SELECT id, number, purpose, dial, slot_ms, send_by_ms FROM kept.calls_claim($1::integer, $2::integer)

-- name: dial_slot
SELECT kept.dial_slot_ms($1::integer)

-- name: calls_dialed
-- One batch's results as arrays (PostgreSQL array literals), one statement.
SELECT kept.calls_dialed($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::boolean[], $6::text[],
                         $7::timestamptz[], $8::timestamptz[])

-- name: call_status
SELECT kept.call_status($1::bigint, $2, $3::integer, $4, $5, $6::integer)

-- name: call_script
SELECT kept.call_script($1::bigint, $2, $3)

-- name: call_gather
-- The next step of the script and the words it says (sql/functions/80_calls.sql).
SELECT kept.call_gather($1::bigint, $2, $3)

-- name: call_amount
-- The weekly amount keyed in after 3; the next step and its words.
SELECT kept.call_amount($1::bigint, $2, $3)

-- name: call_page
-- $1 the route's query parameters as JSON (api/routes.c)
SELECT kept.call_page($1::jsonb->>'account_id', $1::jsonb->>'cursor', $1::jsonb->>'limit')

-- name: calls_to_poll
SELECT id, provider_sid FROM kept.calls_to_poll($1::integer)

-- name: call_polled
SELECT kept.call_polled($1::bigint, $2, $3, $4::integer)

-- name: contact_log
SELECT kept.contact_log(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: contact_page
-- $1 the route's query parameters as JSON, with the path's account id as "id" (api/routes.c)
SELECT kept.contact_page(($1::jsonb->>'id')::bigint, $1::jsonb->>'cursor', $1::jsonb->>'limit')

-- name: clock_audit
-- $1-$3 the actor, $4 the clock before, $5 after (RFC 3339 text)
SELECT kept.audit_write(ROW($1::bigint, $2::text, $3::text)::kept.actor, 'clock.set', 'clock', NULL,
                        jsonb_build_object('now', $4::text), jsonb_build_object('now', $5::text))
