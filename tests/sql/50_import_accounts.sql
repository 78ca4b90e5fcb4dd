-- Bulk import, straight through the staging table: validation lists every
-- problem; a clean file creates customers (once each), phones and accounts.
BEGIN;
SELECT plan(9);

SELECT kept.import_accounts_stage();
INSERT INTO pg_temp.import_accounts_stage (line, parse_error, customer_external_ref, customer_name, time_zone,
    jurisdiction, language, phone, phone_consent, account_external_ref, creditor, original_balance_cents,
    balance_cents, currency, placed_on) VALUES
  (2, NULL, 'IMP-C1', 'Ann', 'Europe/London', 'GB', NULL, '+447700900001', 'yes', 'IMP-A1', 'Bank', '1000', NULL, 'GBP', '2026-01-15'),
  (3, NULL, 'IMP-C1', 'Ann', 'Europe/London', 'GB', NULL, '+447700900002', 'no', 'IMP-A2', 'Bank', '2000', '1500', 'GBP', NULL),
  (4, NULL, 'IMP-C2', 'Bo', 'Europe/Paris', 'FR', 'fr', NULL, NULL, 'IMP-A3', 'Banque', '3000', NULL, 'EUR', NULL);
SELECT is((SELECT count(*)::int FROM kept.import_accounts_problems()), 0, 'a clean file has no problems');
SELECT is(kept.import_accounts_write(ROW(NULL, 'test', NULL)::kept.actor)::jsonb,
          '{"lines": 3, "customers_created": 2, "customers_existing": 0, "accounts_created": 3}'::jsonb, 'summary');
SELECT is((SELECT count(*)::int FROM kept.customer_phones p JOIN kept.customers c ON c.id = p.customer_id
           WHERE c.external_ref = 'IMP-C1'), 2, 'phones from both lines');
SELECT is((SELECT balance_cents FROM kept.accounts WHERE external_ref = 'IMP-A2'), 1500::bigint, 'current balance kept');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action IN ('customer.imported', 'account.imported')), 5,
          'every imported record audited');

DROP TABLE pg_temp.import_new_customers;
SELECT kept.import_accounts_stage();
INSERT INTO pg_temp.import_accounts_stage (line, parse_error, customer_external_ref, customer_name, time_zone,
    jurisdiction, account_external_ref, creditor, original_balance_cents, currency) VALUES
  (2, NULL, 'IMP-C3', 'Cy', 'Europe/London', 'GB', 'IMP-A1', 'Bank', '100', 'GBP'),
  (3, NULL, 'IMP-C3', 'Cyril', 'Europe/London', 'GB', 'IMP-A9', 'Bank', '0', 'GBP'),
  (4, 'stray_quote', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5, NULL, 'IMP-C4', 'Di', 'Europe/London', 'GB', 'IMP-A9', 'Bank', '10', NULL);
SELECT results_eq($$SELECT line, code FROM kept.import_accounts_problems()$$,
    $$VALUES (2, 'duplicate_external_ref'), (3, 'inconsistent_customer'), (3, 'invalid_amount'),
             (4, 'stray_quote'), (5, 'duplicate_in_file'), (5, 'missing_value')$$,
    'every problem of every line, by line then field');
SELECT is((SELECT field FROM kept.import_accounts_problems() WHERE code = 'missing_value'), 'currency', 'the field is named');
SELECT is(kept.parse_date('2026-02-30'), NULL, 'impossible dates are not dates');
SELECT is(kept.parse_consent('Yes'), true, 'consent words');

SELECT * FROM finish();
ROLLBACK;
