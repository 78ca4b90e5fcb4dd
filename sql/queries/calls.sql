-- Reminder calls: scheduling, claiming, dialling results, provider webhooks.

-- name: reminders_schedule
SELECT kept.reminders_schedule(kept.as_of($1))

-- name: calls_claim
SELECT id, number, purpose, dial FROM kept.calls_claim(kept.as_of($1), $2::integer)

-- name: calls_dialed
-- One batch's results as arrays (PostgreSQL array literals), one statement.
SELECT kept.calls_dialed($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::boolean[], $6::text[])

-- name: call_status
SELECT kept.call_status($1::bigint, $2, $3::integer, $4, $5, $6::integer)

-- name: call_script
SELECT kept.call_script($1::bigint, $2, $3)

-- name: call_gather
-- The next step of the script: disclose, limited, confirmed, agent, opted_out or menu.
SELECT kept.call_gather($1::bigint, $2, $3)->>'step'

-- name: call_page
SELECT kept.call_page($1, $2, $3)

-- name: calls_to_poll
SELECT id, provider_sid FROM kept.calls_to_poll($1::integer)

-- name: call_polled
SELECT kept.call_polled($1::bigint, $2, $3, $4::integer)
