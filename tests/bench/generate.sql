-- Bench data: :plans active plans of 10 weekly installments of 10.00 each,
-- one per account, ten accounts per customer, customers in six time zones.
-- First due dates are spread over the week starting :'start'. The first
-- installment of every plan has its money already in: 70% paid on time, 10%
-- late within grace, 10% partly, 10% nothing. Written straight to the tables
-- (the API would take hours for ten million installments).
\set ON_ERROR_STOP on
BEGIN;
-- The rows are consistent by construction; skipping the foreign-key
-- triggers (superuser only) saves minutes on ten million installments.
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE zones (n int, zone text);
INSERT INTO zones VALUES (0, 'Europe/London'), (1, 'America/New_York'), (2, 'America/Los_Angeles'),
                         (3, 'Pacific/Auckland'), (4, 'Asia/Kolkata'), (5, 'Australia/Sydney');

-- every customer with a data key of their own and the name sealed under it,
-- as keptd stores them (the session has the data key: PGOPTIONS, common.sh)
INSERT INTO kept.customers (id, external_ref, name_enc, time_zone, jurisdiction)
OVERRIDING SYSTEM VALUE
SELECT c.id, 'BC-' || c.g, kept.pii_seal(c.id, 'Bench Customer ' || c.g), z.zone, 'GB'
FROM (SELECT g, nextval(pg_get_serial_sequence('kept.customers', 'id')) AS id
      FROM generate_series(0, :plans / 10 - 1) g) c JOIN zones z ON z.n = c.g % 6;
INSERT INTO kept.creditors (name, team) VALUES ('Bench Bank', 'default') ON CONFLICT DO NOTHING;

INSERT INTO kept.accounts (customer_id, external_ref, creditor, original_balance_cents, balance_cents, currency,
                           placed_on, status)
SELECT c.id, 'BA-' || (c.n * 10 + k), 'Bench Bank', 10000,
       10000 - CASE (c.n * 10 + k) % 10 WHEN 7 THEN 1000 WHEN 8 THEN 400 WHEN 9 THEN 0 ELSE 1000 END,
       'GBP', :'start'::date, 'in_plan'
FROM (SELECT id, substr(external_ref, 4)::int AS n FROM kept.customers WHERE external_ref LIKE 'BC-%') c
CROSS JOIN generate_series(0, 9) k;

INSERT INTO kept.plans (account_id, origin, status, weekly_amount_cents, first_due_date, installment_count,
                        total_cents, balance_at_start_cents, currency, policy_id, grace_days,
                        kept_threshold_percent, breaks_after_misses, in_policy, reasons, activated_at)
SELECT a.id, 'agent_set', 'active', 1000, :'start'::date + (a.id % 7)::integer, 10, 10000, 10000, 'GBP',
       (SELECT id FROM kept.policies WHERE creditor IS NULL), 3, 100, 2, true, '{}', now()
FROM kept.accounts a WHERE a.external_ref LIKE 'BA-%';

INSERT INTO kept.installments (plan_id, seq, due_date, amount_due_cents, amount_paid_cents, paid_by_due_cents,
                               paid_by_grace_cents, due_end_at, grace_end_at, threshold_cents)
SELECT p.id, k, d.due, 1000, paid.total, paid.by_due, paid.by_grace,
       kept.local_day_end(d.due, c.time_zone), kept.local_day_end(d.due + 3, c.time_zone), 1000
FROM kept.plans p
JOIN kept.accounts a ON a.id = p.account_id
JOIN kept.customers c ON c.id = a.customer_id
CROSS JOIN generate_series(1, 10) k
CROSS JOIN LATERAL (SELECT p.first_due_date + 7 * (k - 1) AS due) d
CROSS JOIN LATERAL (SELECT CASE WHEN k > 1 THEN 0 WHEN substr(a.external_ref, 4)::int % 10 = 7 THEN 1000
                                WHEN substr(a.external_ref, 4)::int % 10 = 8 THEN 400
                                WHEN substr(a.external_ref, 4)::int % 10 = 9 THEN 0 ELSE 1000 END AS total,
                           CASE WHEN k = 1 AND substr(a.external_ref, 4)::int % 10 < 7 THEN 1000 ELSE 0 END AS by_due) t
CROSS JOIN LATERAL (SELECT t.total, t.by_due, t.total AS by_grace) paid
WHERE a.external_ref LIKE 'BA-%';
COMMIT;
VACUUM (ANALYZE) kept.customers, kept.accounts, kept.plans, kept.installments;
CHECKPOINT;
