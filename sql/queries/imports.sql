-- Bulk import of customers and accounts (see sql/functions/50_import_accounts.sql).

-- name: import_accounts_stage
SELECT kept.import_accounts_stage()

-- name: import_accounts_copy
-- The column order is the one keptd writes (service/src/api/imports.c).
COPY pg_temp.import_accounts_stage (line, parse_error, customer_external_ref, customer_name,
    time_zone, jurisdiction, language, phone, phone_consent, account_external_ref, creditor,
    original_balance_cents, balance_cents, currency, placed_on) FROM STDIN

-- name: import_accounts_problems
-- At most $1 problems, plus the total count in every row.
SELECT line, code, field, message, count(*) OVER () AS total
FROM kept.import_accounts_problems()
LIMIT $1::integer

-- name: import_accounts_write
SELECT kept.import_accounts_write($1::bigint, $2, $3)
