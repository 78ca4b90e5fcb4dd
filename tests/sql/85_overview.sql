-- The account on one screen (sql/functions/85_overview.sql): the customer
-- without their full numbers, the active plan and its next installment, the
-- arrears, what is open; calls in words.
BEGIN;
SELECT plan(11);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"OV-C","name":"Olive Overview","time_zone":"Europe/London",
    "jurisdiction":"GB","phones":[{"number":"+447700900555","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'OV-C'), 'external_ref', 'OV-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP', 'placed_on', '2024-01-01')::jsonb);
CREATE TEMP TABLE a AS SELECT id FROM kept.accounts WHERE external_ref = 'OV-A';

SELECT is((SELECT kept.account_overview((SELECT id FROM a))::jsonb->'plan'), 'null'::jsonb, 'no plan yet: none shown');
SELECT throws_ok($$SELECT kept.account_overview(999999999)$$, NULL, NULL, 'an unknown account is an error');

-- an imported plan whose first installment was two weeks ago, nothing paid: judged missed
SELECT kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM a), jsonb_build_object('weekly_amount_cents', 10000,
       'first_due_date', kept.local_today('Europe/London') - 14, 'imported', true));
SELECT kept.evaluate_outcomes(now());
CREATE TEMP TABLE o AS SELECT kept.account_overview((SELECT id FROM a))::jsonb AS doc;
SELECT is((SELECT doc->'customer'->'phones' FROM o), '[{"last4": "0555", "consent_automated": true}]'::jsonb,
          'numbers by their last four digits only');
SELECT ok((SELECT doc::text !~ '447700900555' FROM o), 'the full number is nowhere in it');
SELECT is((SELECT doc->'customer'->>'name' FROM o), 'Olive Overview', 'the customer''s name, opened');
SELECT is((SELECT doc->'plan'->>'status' FROM o), 'active', 'the active plan');
SELECT ok((SELECT (doc->'plan'->'next_due'->>'days_from_today')::int >= 0 FROM o),
          'its next installment is the first unpaid one not yet judged');
SELECT is((SELECT (doc->'arrears'->>'installments')::int FROM o), 2,
          'arrears: the two judged installments not paid in full');
SELECT is((SELECT (doc->'arrears'->>'cents')::bigint FROM o), (SELECT (doc->'arrears'->>'installments')::bigint * 10000 FROM o),
          '... and what they lack');

-- calls in words
SELECT is(kept.call_in_words(ROW(c.*)::kept.calls), 'not placed: no consent')
FROM (SELECT (jsonb_populate_record(NULL::kept.calls, '{"state": "blocked", "blocked_rule": "no_consent"}')).*) c;
SELECT is(kept.call_in_words(ROW(c.*)::kept.calls), 'spoke to the customer, who asked for an agent')
FROM (SELECT (jsonb_populate_record(NULL::kept.calls, '{"state": "completed", "right_party": true, "digits": "12"}')).*) c;

SELECT * FROM finish();
ROLLBACK;
