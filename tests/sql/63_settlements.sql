-- Settlement offers (sql/functions/63_settlements.sql): the customer's figure
-- beside the policy's floor, a counter that splits the difference, and an
-- accepted offer becoming a settlement plan; each audited and in the outbox.
BEGIN;
SELECT plan(9);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"ST-C","name":"Settle Person","time_zone":"Europe/London","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'ST-C'), 'external_ref', 'ST-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP')::jsonb);
CREATE TEMP TABLE ids AS SELECT (SELECT id FROM kept.accounts WHERE external_ref = 'ST-A') AS account,
    (SELECT min_settlement_percent FROM kept.policy_for('Bank')) AS pct;

SELECT throws_ok($$SELECT kept.settlement_offer_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT account FROM ids), '{"offer_cents": 100001}')$$,
                 'KRRUL', NULL, 'an offer above the balance is refused');
SELECT throws_ok($$SELECT kept.settlement_offer_create(ROW(NULL, 'test', NULL)::kept.actor, -1, '{"offer_cents": 100}')$$,
                 'KRNFD', 'no account with id -1', 'an offer on no account: not found');

-- below the floor: the counter splits the difference, rounded up
CREATE TEMP TABLE low AS SELECT kept.settlement_offer_create(ROW(NULL, 'test', 'req-st')::kept.actor, (SELECT account FROM ids),
                                                             '{"offer_cents": 10000}')::jsonb AS doc;
SELECT is((SELECT (doc->>'floor_cents')::bigint FROM low), (SELECT (100000 * pct + 99) / 100 FROM ids)::bigint,
          'the floor is the policy''s percent of the balance');
SELECT is((SELECT (doc->>'counter_cents')::bigint FROM low),
          (SELECT 10000 + ((100000 * pct + 99) / 100 - 10000 + 1) / 2 FROM ids)::bigint,
          'a counter halfway between the offer and the floor');
SELECT is((SELECT payload->>'offer_cents' FROM kept.outbox_events WHERE event_type = 'settlement_offered'
                                                                  AND aggregate_id = (SELECT (doc->>'id')::bigint FROM low)),
          '10000', 'the offer is audited and in the outbox');

-- accepted at the counter: a settlement plan; the offer is closed
CREATE TEMP TABLE n AS SELECT kept.settlement_accept(ROW(NULL, 'test', 'req-st')::kept.actor, (SELECT (doc->>'id')::bigint FROM low),
    jsonb_build_object('first_due_date', kept.local_today('Europe/London') + 3, 'installments', 2))::jsonb AS doc;
SELECT is((SELECT doc->>'origin' || '/' || (doc->>'total_cents') FROM n),
          (SELECT 'settlement/' || (doc->>'counter_cents') FROM low), 'accepted at the counter: a settlement plan');
SELECT is((SELECT status FROM kept.settlement_offers WHERE id = (SELECT (doc->>'id')::bigint FROM low)), 'accepted',
          'the offer is accepted');
SELECT throws_ok($$SELECT kept.settlement_accept(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM low), '{}')$$,
                 'KRCFL', NULL, 'an offer is accepted once');
SELECT throws_ok($$SELECT kept.settlement_accept(ROW(NULL, 'test', NULL)::kept.actor, -1, '{}')$$,
                 'KRNFD', 'no settlement offer with id -1', 'an offer that does not exist is not found');

SELECT * FROM finish();
ROLLBACK;
