-- The payment file's fair floor (run by run.sh in kept_floor, a copy of the
-- bench database made before the import): the very rows kept wrote for the
-- file — its payments and allocations, the installments and balances they
-- changed — written by plain INSERT and UPDATE statements into kept's own
-- tables, with their indexes, constraints and triggers, and no logic.
-- The rows were loaded into the floor_* tables beforehand (untimed).
-- Prints "floor <seconds>".
\set ON_ERROR_STOP on
\set QUIET on
\pset tuples_only on
\pset format unaligned
SELECT clock_timestamp() AS t0 \gset
BEGIN;
-- parents before the rows that reference them, each updated before it is
-- referenced (as kept does): a foreign-key check on a row this transaction
-- already updated takes no new lock
UPDATE kept.accounts a
SET balance_cents = f.balance_cents, status = f.status, version = f.version, updated_at = f.updated_at
FROM floor_accounts f WHERE a.id = f.id;
INSERT INTO kept.payments OVERRIDING SYSTEM VALUE SELECT * FROM floor_payments ORDER BY id;
UPDATE kept.installments i
SET amount_paid_cents = f.amount_paid_cents, paid_by_due_cents = f.paid_by_due_cents,
    paid_by_grace_cents = f.paid_by_grace_cents
FROM floor_installments f WHERE i.plan_id = f.plan_id AND i.seq = f.seq;
INSERT INTO kept.allocations SELECT * FROM floor_allocations;
COMMIT;
SELECT 'floor', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
