-- Reminder calls in the database (sql/functions/80_calls.sql): which number
-- is rung, scheduling once per installment and purpose, what the provider
-- reports moving a call forward only (deduplicated, its sid checked), the
-- script's words without the number, key 9. (Which rule blocks a call:
-- 81_contact_rules.sql.)
BEGIN;
SELECT plan(20);

SELECT ok(kept.call_state_rank('queued') < kept.call_state_rank('ringing')
          AND kept.call_state_rank('ringing') < kept.call_state_rank('in-progress')
          AND kept.call_state_rank('in-progress') < kept.call_state_rank('completed'), 'states in the order a call goes');
SELECT is(kept.call_state_rank('busy'), kept.call_state_rank('completed'), 'every end is as far as a call goes');
SELECT is(ARRAY[kept.money_words(2500, 'USD'), kept.money_words(750, 'GBP'), kept.money_words(150000, 'JPY')],
          ARRAY['$25.00', '£7.50', '150,000 JPY'], 'amounts as a voice says them');
SELECT is(kept.date_words('2026-12-04'), 'Friday, 4 December 2026', 'dates as a voice says them');

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"CL-C","name":"Cal Caller","time_zone":"America/New_York",
    "jurisdiction":"US-NY","phones":[{"number":"+12125550101","consent_automated":false},
                                     {"number":"+12125550102","consent_automated":true},
                                     {"number":"+12125550103","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'CL-C'), 'external_ref', 'CL-A', 'creditor', 'Bank',
    'original_balance_cents', 50000, 'currency', 'USD')::jsonb);
CREATE TEMP TABLE ids AS SELECT a.id AS account, a.customer_id AS customer FROM kept.accounts a WHERE a.external_ref = 'CL-A';
UPDATE kept.customer_phones SET failed_attempts = 2 WHERE customer_id = (SELECT customer FROM ids) AND position = 2;

SELECT is(kept.pii_open(p.customer_id, p.number_enc), '+12125550103', 'the number rung: consented, fewest failures')
FROM kept.call_phone((SELECT customer FROM ids)) p;

-- one reminder per installment and purpose, ever
SELECT kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT account FROM ids), jsonb_build_object('weekly_amount_cents', 10000,
       'first_due_date', kept.local_today('America/New_York') + 1));
SELECT is((kept.reminders_schedule(now())->>'pre_due_queued')::int, 1, 'an installment due within the lead days is queued');
SELECT is((kept.reminders_schedule(now())->>'pre_due_queued')::int, 0, 'and only once');
CREATE TEMP TABLE c AS SELECT * FROM kept.calls WHERE account_id = (SELECT account FROM ids);
SELECT is((SELECT state || '/' || purpose || '/' || seq FROM c), 'queued/pre_due/1', 'a queued pre-due call for the first');
SELECT is((SELECT kept.call_json(x)->>'number_last4' FROM kept.calls x WHERE x.id = (SELECT id FROM c)), '0103',
          'a call shows its number''s last four digits');

-- what the provider reports
SELECT is(kept_test.error_code($$SELECT kept.call_status((SELECT id FROM c), 'CA1', 1, 'exploded', NULL, NULL)$$),
          'invalid_call_status', 'a status that is no call state is refused');
SELECT is(kept_test.error_code($$SELECT kept.call_status(999999999, 'CA1', 1, 'ringing', NULL, NULL)$$), 'call_not_found',
          'a callback for no call');
SELECT is(kept.call_status((SELECT id FROM c), 'CA1', 1, 'ringing', NULL, NULL)::jsonb, '{"applied": true, "state": "ringing"}',
          'a callback moves the call forward');
SELECT is(kept.call_status((SELECT id FROM c), 'CA1', 1, 'ringing', NULL, NULL)::jsonb->>'reason', 'duplicate',
          'the same callback again is a duplicate');
SELECT is(kept_test.error_code($$SELECT kept.call_status((SELECT id FROM c), 'CA2', 2, 'completed', NULL, NULL)$$),
          'call_sid_mismatch', 'a callback naming another call is refused');
SELECT is(kept.call_status((SELECT id FROM c), 'CA1', 3, 'completed', 'human', 40)::jsonb->>'state', 'completed', 'to its end');
SELECT is(kept.call_status((SELECT id FROM c), 'CA1', 2, 'in-progress', NULL, NULL)::jsonb,
          '{"applied": false, "state": "completed"}', 'a late callback never moves it back');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE event_type = 'call_completed'
           AND aggregate_id = (SELECT id FROM c)), 1, 'the end is sent to the outbox once');

-- the script's words, and key 9
SELECT ok((SELECT doc->>'customer_name' = 'Cal Caller' AND doc->>'amount' = '$100.00' AND doc::text !~ '2125550'
           FROM (SELECT kept.call_script((SELECT id FROM c), 'CA1', 'human')::jsonb AS doc) x),
          'the script has the name and the amount in words, never the number');
SELECT kept.phone_consent_revoke((SELECT customer FROM ids), '+12125550103', (SELECT id FROM c));
SELECT is((SELECT consent_automated FROM kept.customer_phones WHERE customer_id = (SELECT customer FROM ids) AND position = 3),
          false, 'key 9: no more automated calls to that number');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'consent.revoked'
           AND entity_id = (SELECT customer FROM ids)), 1, 'audited');

SELECT * FROM finish();
ROLLBACK;
