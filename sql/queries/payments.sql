-- Payments, their file imports, adherence evaluation.

-- name: payment_post
SELECT kept.payment_post(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb, $5)

-- name: payment_get
SELECT kept.payment_json(p) FROM kept.payments p WHERE p.id = $1::bigint

-- name: payment_reverse
SELECT kept.payment_reverse(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, ($5::jsonb)->>'reason')

-- name: payment_page
-- $1 the route's query parameters as JSON, with the path's account id as "id" (api/routes.c)
SELECT kept.payment_page(($1::jsonb->>'id')::bigint, $1::jsonb->>'cursor', $1::jsonb->>'limit')

-- name: import_payments_stage
SELECT kept.import_payments_stage()

-- name: import_payments_copy
-- The column order is the one keptd writes (service/src/api/imports.c).
COPY pg_temp.import_payments_stage (line, problems, account_external_ref, amount_cents, received_at, source,
    source_ref) FROM STDIN

-- name: import_payments_problems
SELECT line, code, field, message, count(*) OVER () AS total
FROM kept.import_payments_problems()
LIMIT $1::integer

-- name: import_payments_resolve
-- $1 the caller's key: accounts their team may not see are unknown to the file
SELECT kept.import_payments_resolve($1::bigint)

-- name: import_payments_write
SELECT kept.import_payments_write(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4)

-- name: as_of
SELECT kept.ts(kept.as_of($1))

-- name: evaluation_lock
-- Session-level: one evaluation at a time, whatever the number of keptd
-- instances. The key is the ASCII of "keptevan".
SELECT pg_advisory_lock(7738715179926839662)

-- name: evaluation_try_lock
SELECT pg_try_advisory_lock(7738715179926839662)

-- name: evaluation_unlock
SELECT pg_advisory_unlock(7738715179926839662)

-- name: evaluate_outcomes_batch
SELECT kept.evaluate_outcomes_batch($1::timestamptz, $2::jsonb)

-- name: evaluate_plans
SELECT kept.evaluate_plans($1::timestamptz, $2::integer)

-- name: no_statement_timeout
-- For the jobs that legitimately take long (evaluation at scale, big imports).
SET LOCAL statement_timeout = 0

-- name: audit_seal
SELECT kept.audit_seal($1::integer)
