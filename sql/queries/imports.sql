-- Bulk import of customers and accounts (see sql/functions/50_import_accounts.sql).

-- name: import_accounts_stage
SELECT kept.import_accounts_stage()

-- name: import_accounts_copy
-- The column order is the one keptd writes (service/src/api/imports.c).
COPY pg_temp.import_accounts_stage (line, parse_error, customer_external_ref, customer_name,
    time_zone, jurisdiction, language, phone, phone_consent, account_external_ref, creditor,
    original_balance_cents, balance_cents, currency, placed_on, date_of_birth, postcode,
    phone_texts_consent) FROM STDIN

-- name: import_accounts_problems
-- At most $1 problems, plus the total count in every row.
SELECT line, code, field, message, count(*) OVER () AS total
FROM kept.import_accounts_problems()
LIMIT $1::integer

-- name: import_accounts_write
SELECT kept.import_accounts_write(ROW($1::bigint, $2::text, $3::text)::kept.actor)

-- History from another system (see sql/functions/74_import_history.sql).

-- name: import_history_stage
SELECT kept.import_history_begin()

-- name: import_history_copy
-- The column order is the one keptd writes (service/src/api/imports.c).
COPY pg_temp.import_history_stage (line, problems, record, plan_ref, account_external_ref, origin, agreed_at,
    agreed_by, weekly_amount_cents, first_due_date, settlement_cents, installments, currency, cancelled_at,
    cancel_reason, amount_cents, received_at, source, source_ref, reversed_at, reversal_reason) FROM STDIN

-- name: import_history_stage_json
SELECT kept.import_history_stage_json($1)

-- name: import_history_resolve
SELECT kept.import_history_resolve()

-- name: import_history_problems
-- At most $1 problems, plus the total count in every row, and where in a JSON file.
SELECT line, code, field, message, count(*) OVER () AS total, path
FROM kept.import_history_problems()
LIMIT $1::integer

-- name: import_history_write
SELECT kept.import_history_write(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4)
