-- Payments: idempotency, duplicates, refusals, allocation, completion of
-- paid and settled accounts, and what a reversal undoes.
BEGIN;
SELECT plan(19);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PAY-C","name":"Payer","time_zone":"Europe/Berlin","jurisdiction":"DE"}');
CREATE TEMP TABLE t AS SELECT (SELECT id FROM kept.customers WHERE external_ref = 'PAY-C') AS customer;
CREATE FUNCTION pg_temp.account(p_ref text, p_cents bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT (kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', (SELECT customer FROM t),
            'external_ref', p_ref, 'creditor', 'Bank', 'original_balance_cents', p_cents, 'currency', 'EUR',
            'placed_on', '2024-01-01'))->>'id')::bigint;
$$;
CREATE FUNCTION pg_temp.pay(p_account bigint, p_cents bigint, p_ref text, p_key text DEFAULT NULL)
RETURNS json LANGUAGE sql AS $$
    SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', p_account, 'amount_cents', p_cents,
           'received_at', '2026-01-05T10:00:00Z', 'source', 'card', 'source_ref', p_ref), p_key);
$$;

-- idempotency
SELECT pg_temp.account('PAY-NOPLAN', 5000);
CREATE TEMP TABLE first AS SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 1000, 'r1', 'key-1')::jsonb AS doc;
SELECT is(pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 1000, 'r1', 'key-1')::jsonb,
          (SELECT doc || '{"replayed": true}' FROM first), 'the same key and body answer the same result, marked replayed');
SELECT is((SELECT count(*)::int FROM kept.payments WHERE idempotency_key = 'key-1'), 1, 'and write nothing new');
SELECT throws_ok($$SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 2000, 'r1', 'key-1')$$,
                 'KRRUL', NULL, 'the same key with another body is refused');
SELECT throws_ok($$SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 1000, 'r1', 'key-2')$$,
                 'KRCFL', NULL, 'source_ref is unique per source');
SELECT is((SELECT balance_cents FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 4000::bigint,
          'a payment without a plan reduces the balance');

-- refusals
SELECT throws_ok($$SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 0, 'r0')$$, 'KRINV', NULL, 'zero');
SELECT throws_ok($$SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), -5, 'rn')$$, 'KRINV', NULL, 'negative');
SELECT throws_ok($$SELECT pg_temp.pay(987654321, 100, 'ru')$$, 'KRRUL', NULL, 'an unknown account');
SELECT throws_ok($$SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 4001, 'rb')$$, 'KRRUL', NULL,
                 'more than the balance');
SELECT throws_ok($$SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id',
                   (SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 'amount_cents', 100,
                   'received_at', now() + interval '1 day', 'source', 'card', 'source_ref', 'rf'), NULL)$$,
                 'KRRUL', NULL, 'received in the future');

-- paying off an account without a plan
SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 4000, 'r2');
SELECT is((SELECT status FROM kept.accounts WHERE external_ref = 'PAY-NOPLAN'), 'paid', 'at zero the account is paid');

-- a plan paid off: completed, account paid
SELECT pg_temp.account('PAY-PLAN', 3000);
SELECT kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.accounts WHERE external_ref = 'PAY-PLAN'),
       jsonb_build_object('weekly_amount_cents', 1000, 'first_due_date', kept.local_today('Europe/Berlin') + 1));
SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-PLAN'), 2500, 'p1');
SELECT results_eq($$SELECT seq, amount_paid_cents FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
                    JOIN kept.accounts a ON a.id = p.account_id WHERE a.external_ref = 'PAY-PLAN' ORDER BY seq$$,
                  $$VALUES (1, 1000::bigint), (2, 1000::bigint), (3, 500::bigint)$$, 'oldest installments first');
CREATE TEMP TABLE last_pay AS SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-PLAN'), 500, 'p2')::jsonb AS doc;
SELECT results_eq($$SELECT p.status, a.status, a.balance_cents FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id
                    WHERE a.external_ref = 'PAY-PLAN'$$, $$VALUES ('completed', 'paid', 0::bigint)$$,
                  'the last payment completes the plan and the account is paid');

-- a settlement paid: settled, the rest written off; its reversal undoes all that
SELECT pg_temp.account('PAY-SETTLE', 10000);
SELECT kept.settlement_offer_create(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.accounts WHERE external_ref = 'PAY-SETTLE'),
       '{"offer_cents": 7000}');
SELECT kept.settlement_accept(ROW(NULL, 'test', NULL)::kept.actor, (SELECT max(id) FROM kept.settlement_offers),
       jsonb_build_object('first_due_date', kept.local_today('Europe/Berlin') + 2));
CREATE TEMP TABLE settling AS SELECT pg_temp.pay((SELECT id FROM kept.accounts WHERE external_ref = 'PAY-SETTLE'), 7000, 's1')::jsonb AS doc;
SELECT results_eq($$SELECT status, balance_cents FROM kept.accounts WHERE external_ref = 'PAY-SETTLE'$$,
                  $$VALUES ('settled', 0::bigint)$$, 'paying the settlement settles the account, writing off the rest');
SELECT is((SELECT written_off_cents FROM kept.plans WHERE origin = 'settlement' AND account_id =
           (SELECT id FROM kept.accounts WHERE external_ref = 'PAY-SETTLE')), 3000::bigint, 'the write-off is recorded');
SELECT kept.payment_reverse(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM settling), 'cheque bounced');
SELECT results_eq($$SELECT a.status, a.balance_cents, p.status FROM kept.accounts a JOIN kept.plans p ON p.account_id = a.id
                    WHERE a.external_ref = 'PAY-SETTLE'$$, $$VALUES ('in_plan', 10000::bigint, 'active')$$,
                  'a returned settlement payment reopens the plan and undoes the write-off');
SELECT is((SELECT sum(amount_paid_cents)::bigint FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
           WHERE p.account_id = (SELECT id FROM kept.accounts WHERE external_ref = 'PAY-SETTLE')), 0::bigint,
          'and takes the money off its installments');
SELECT ok((SELECT count(*) FROM kept.audit_events WHERE action IN ('payment.posted', 'payment.reversed', 'account.settled',
           'plan.reopened')) >= 4, 'all of it audited');
SELECT ok((SELECT count(*) FROM kept.outbox_events WHERE event_type IN ('payment_posted', 'payment_reversed',
           'balance_written_off', 'plan_reopened')) >= 4, 'and in the outbox');

SELECT * FROM finish();
ROLLBACK;
