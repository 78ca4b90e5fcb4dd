-- Bulk payments (sql/functions/73_import_payments.sql), straight through the
-- staging table as keptd fills it: every problem of every line listed; a
-- clean file posted set-based, balances, allocations to the oldest unpaid
-- installments, one audit event and an outbox event per payment; the same
-- file again posts nothing; timestamps that name real instants.
BEGIN;
SELECT plan(17);
SET LOCAL client_min_messages = warning;  -- the staging tables' "does not exist, skipping"

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"IP-C","name":"Ivy Import","time_zone":"Europe/London","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'IP-C'), 'external_ref', 'IP-A', 'creditor', 'Bank',
    'original_balance_cents', 30000, 'currency', 'GBP', 'placed_on', '2024-01-01')::jsonb);
SELECT kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.accounts WHERE external_ref = 'IP-A'),
    jsonb_build_object('weekly_amount_cents', 10000, 'first_due_date', kept.local_today('Europe/London') + 7));
CREATE TEMP TABLE ids AS SELECT a.id AS account, p.id AS plan FROM kept.accounts a JOIN kept.plans p ON p.account_id = a.id
    WHERE a.external_ref = 'IP-A';

-- the rule keptd mirrors
SELECT ok(kept.is_timestamp('2026-02-28T23:59:59.123456+05:30'), 'an RFC 3339 time with an offset');
SELECT ok(kept.is_timestamp('2024-02-29 10:00Z'), 'a leap day, a space, no seconds');
SELECT ok(NOT kept.is_timestamp('2026-02-29T10:00:00Z'), 'not a day the month does not have');
SELECT ok(NOT kept.is_timestamp('0000-01-01T00:00:00Z'), 'not year zero');
SELECT ok(NOT kept.is_timestamp('2026-01-01T10:00:00+16:00'), 'not an offset PostgreSQL cannot hold');

-- a file with problems: all of them, nothing posted
SELECT kept.import_payments_stage();
INSERT INTO pg_temp.import_payments_stage VALUES
  (2, NULL, 'IP-A', 5000, now() - interval '1 day', 'card', 'ip-1'),
  (3, NULL, 'IP-NOPE', 5000, now() - interval '1 day', 'card', 'ip-2'),
  (4, NULL, 'IP-A', 5000, now() + interval '1 day', 'card', 'ip-3'),
  (5, NULL, 'IP-A', 5000, '2023-06-01', 'card', 'ip-4'),
  (6, NULL, 'IP-A', 5000, now() - interval '1 day', 'card', 'ip-1'),
  (7, 'invalid_amount:amount_cents', 'IP-A', NULL, now() - interval '1 day', 'card', 'ip-5'),
  (8, NULL, 'IP-A', 99999, now() - interval '1 day', 'card', 'ip-6');
SELECT kept.import_payments_resolve(NULL);
SELECT results_eq($$SELECT line, code FROM kept.import_payments_problems()$$,
    $$VALUES (3, 'unknown_account'), (4, 'received_at_in_future'), (5, 'received_before_placed'),
             (6, 'duplicate_in_file'), (7, 'invalid_amount'), (8, 'payment_above_balance')$$,
    'every problem of every line, in line order');
SELECT is((SELECT message FROM kept.import_payments_problems() WHERE code = 'invalid_amount'),
    'amount_cents must be a positive whole number of cents (at most 15 digits)', 'keptd''s findings get their message');

-- a clean file
DROP TABLE pg_temp.import_payments_stage;
SELECT kept.import_payments_stage();
INSERT INTO pg_temp.import_payments_stage VALUES
  (2, NULL, 'IP-A', 15000, now() - interval '2 hours', 'card', 'ip-ok-1'),
  (3, NULL, 'IP-A', 2500, now() - interval '1 hour', 'bacs', 'ip-ok-2');
SELECT kept.import_payments_resolve(NULL);
SELECT is((SELECT count(*)::int FROM kept.import_payments_problems()), 0, 'a clean file has no problems');
SELECT is(kept.import_payments_write(ROW(NULL, 'test', 'req-ip')::kept.actor, repeat('ab', 32))::jsonb - 'import_id',
    '{"lines": 2, "posted": 2, "duplicates": 0, "rejected": 0, "amount_cents": 17500}'::jsonb, 'the summary');
SELECT is((SELECT balance_cents FROM kept.accounts WHERE id = (SELECT account FROM ids)), 12500::bigint, 'the balance falls');
SELECT is(ARRAY(SELECT amount_paid_cents FROM kept.installments WHERE plan_id = (SELECT plan FROM ids) ORDER BY seq),
          ARRAY[10000, 7500, 0]::bigint[], 'the money fills the oldest unpaid installments first');
SELECT is((SELECT sum(amount_cents) FROM kept.allocations WHERE plan_id = (SELECT plan FROM ids)), 17500::numeric,
          'every cent is allocated once');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'payments.imported' AND request_id = 'req-ip'), 1,
          'one audit event for the import');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE event_type = 'payment_posted'
           AND payload->>'account_id' = (SELECT account::text FROM ids)), 2, 'an outbox event per payment');

-- the same file again: duplicates, nothing posted twice
DROP TABLE pg_temp.import_payments_stage, pg_temp.import_payments_fell, pg_temp.import_payments_accounts,
    pg_temp.import_pays, pg_temp.import_need, pg_temp.import_allocations;  -- one import per transaction in keptd
SELECT kept.import_payments_stage();
INSERT INTO pg_temp.import_payments_stage
SELECT 2, NULL, 'IP-A', 15000, received_at, 'card', 'ip-ok-1' FROM kept.payments WHERE source_ref = 'ip-ok-1';
INSERT INTO pg_temp.import_payments_stage
SELECT 3, NULL, 'IP-A', 2500, received_at, 'bacs', 'ip-ok-2' FROM kept.payments WHERE source_ref = 'ip-ok-2';
SELECT kept.import_payments_resolve(NULL);
SELECT is(kept.import_payments_write(ROW(NULL, 'test', NULL)::kept.actor, repeat('ab', 32))::jsonb->>'duplicates', '2',
          'loading the file again counts its lines as duplicates');
SELECT is((SELECT balance_cents FROM kept.accounts WHERE id = (SELECT account FROM ids)), 12500::bigint, 'and posts nothing twice');
-- a source_ref posted before with another amount is a conflict, not a duplicate
DROP TABLE pg_temp.import_payments_stage;
SELECT kept.import_payments_stage();
INSERT INTO pg_temp.import_payments_stage VALUES (2, NULL, 'IP-A', 1, now() - interval '1 hour', 'card', 'ip-ok-1');
SELECT kept.import_payments_resolve(NULL);
SELECT is((SELECT code FROM kept.import_payments_problems()), 'source_ref_conflict', 'the same reference with another amount is refused');

SELECT * FROM finish();
ROLLBACK;
