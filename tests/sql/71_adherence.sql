-- Adherence: every outcome, judged from the money that reached each
-- installment in time, on the customer's own calendar. The customers live
-- on Kiritimati (UTC+14), as far from UTC as a calendar gets.
BEGIN;
SELECT plan(31);

CREATE TEMP TABLE t (name text PRIMARY KEY, account bigint, plan bigint);

-- a customer with one account of 300.00 and an imported plan of 3 x 100.00
-- whose first installment fell due 28 days ago (local calendar)
CREATE FUNCTION pg_temp.setup(p_name text, p_creditor text DEFAULT 'Bank') RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c json;
    a json;
    p json;
BEGIN
    c := kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'ADH-' || p_name,
         'name', 'Adherence ' || p_name, 'time_zone', 'Pacific/Kiritimati', 'jurisdiction', 'KI'));
    a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', c->>'id',
         'external_ref', 'ADH-A-' || p_name, 'creditor', p_creditor, 'original_balance_cents', 30000, 'currency', 'AUD',
         'placed_on', '2024-01-01'));
    p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
         'first_due_date', kept.local_today('Pacific/Kiritimati') - 28, 'imported', true));
    INSERT INTO t VALUES (p_name, (a->>'id')::bigint, (p->>'id')::bigint);
END $$;

CREATE FUNCTION pg_temp.pay(p_name text, p_cents bigint, p_at timestamptz, p_ref text) RETURNS json
LANGUAGE sql AS $$
    SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', (SELECT account FROM t WHERE name = p_name),
           'amount_cents', p_cents, 'received_at', p_at, 'source', 'test', 'source_ref', p_ref), NULL);
$$;

CREATE FUNCTION pg_temp.due_end(p_name text, p_seq integer) RETURNS timestamptz LANGUAGE sql AS $$
    SELECT due_end_at FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = p_name) AND seq = p_seq;
$$;

CREATE FUNCTION pg_temp.outcome(p_name text, p_seq integer) RETURNS text LANGUAGE sql AS $$
    SELECT outcome FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = p_name) AND seq = p_seq;
$$;

SELECT pg_temp.setup(n) FROM unnest(ARRAY['exact', 'short', 'midnight', 'late', 'missed', 'over', 'reversed',
                                          'broken', 'kept_then_broken', 'early']) n;

-- the instants, on Kiritimati's calendar
SELECT is(pg_temp.due_end('exact', 1),
          ((kept.local_today('Pacific/Kiritimati') - 27)::timestamp AT TIME ZONE 'Pacific/Kiritimati'),
          'the due day ends at local midnight');
SELECT is(extract(hour FROM pg_temp.due_end('exact', 1) AT TIME ZONE 'UTC')::int, 10,
          'which is 10:00 UTC the day before (UTC+14)');

SELECT pg_temp.pay('exact', 10000, pg_temp.due_end('exact', 1) - interval '1 second', 'exact-1');
SELECT pg_temp.pay('short', 9999, pg_temp.due_end('short', 1) - interval '1 second', 'short-1');
SELECT pg_temp.pay('midnight', 10000, pg_temp.due_end('midnight', 1), 'midnight-1');
SELECT pg_temp.pay('late', 10000, pg_temp.due_end('late', 1) + interval '2 days', 'late-1');
SELECT pg_temp.pay('over', 15000, pg_temp.due_end('over', 1) - interval '1 day', 'over-1');
SELECT pg_temp.pay('reversed', 10000, pg_temp.due_end('reversed', 1) - interval '1 hour', 'reversed-1');
SELECT pg_temp.pay('kept_then_broken', 10000, pg_temp.due_end('kept_then_broken', 1) - interval '1 hour', 'ktb-1');

-- before the due day ends nothing is judged
SELECT is(kept.evaluate_outcomes(pg_temp.due_end('exact', 1) - interval '1 second'), 0::bigint,
          'nothing is judged before its day ends');

-- right after the due day: kept money is judged at once, the rest waits for grace
SELECT ok(kept.evaluate_outcomes(pg_temp.due_end('early', 1) + interval '1 second') >= 3,
          'a day later the kept installments are judged');
SELECT is(pg_temp.outcome('exact', 1), 'kept', 'exactly on the threshold, in the last second of the local day: kept');
SELECT is(pg_temp.outcome('short', 1), 'scheduled', 'one cent short waits for the grace period');
SELECT is(pg_temp.outcome('midnight', 1), 'scheduled', 'paid in the first second of the next day waits too');

-- after grace (3 days) every first installment is judged
SELECT ok(kept.evaluate_outcomes(pg_temp.due_end('exact', 1) + interval '3 days 1 second') > 0, 'after grace');
SELECT is(pg_temp.outcome('short', 1), 'partial', 'one cent short: partial');
SELECT is(pg_temp.outcome('midnight', 1), 'kept_late', 'first second after the due day: kept late');
SELECT is(pg_temp.outcome('late', 1), 'kept_late', 'two days late, within grace: kept late');
SELECT is(pg_temp.outcome('missed', 1), 'missed', 'nothing: missed');
SELECT is(pg_temp.outcome('over', 1), 'kept', 'an overpayment keeps the installment...');
SELECT is((SELECT amount_paid_cents FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = 'over') AND seq = 2),
          5000::bigint, '...and rolls forward to the next');

-- running again for the same as_of changes nothing
CREATE TEMP TABLE before_again AS SELECT count(*) AS events FROM kept.outbox_events;
SELECT is(kept.evaluate_outcomes(pg_temp.due_end('exact', 1) + interval '3 days 1 second'), 0::bigint,
          'evaluating again for the same as_of judges nothing');
SELECT is((SELECT count(*) FROM kept.outbox_events), (SELECT events FROM before_again), 'and writes no events');

-- a returned payment turns kept into missed
SELECT kept.payment_reverse(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.payments WHERE source_ref = 'reversed-1'), 'returned by bank');
SELECT is(pg_temp.outcome('reversed', 1), 'missed', 'the reversal turns kept into missed');
SELECT is((SELECT balance_cents FROM kept.accounts WHERE id = (SELECT account FROM t WHERE name = 'reversed')), 30000::bigint,
          'and restores the balance');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE reason = 'payment_reversed'
           AND account_id = (SELECT account FROM t WHERE name = 'reversed')), 1, 'and opens an escalation');
SELECT throws_ok($$SELECT kept.payment_reverse(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.payments WHERE source_ref = 'reversed-1'), 'again')$$,
                 'KRCFL', NULL, 'a reversed payment cannot be reversed again');

-- two consecutive misses break a plan; a plan that had been kept goes to the skilled queue
SELECT kept.evaluate_outcomes(pg_temp.due_end('exact', 2) + interval '3 days 1 second');
SELECT is(pg_temp.outcome('broken', 2), 'missed', 'a second miss');
SELECT is((SELECT evaluation_pending FROM kept.plans WHERE id = (SELECT plan FROM t WHERE name = 'broken')), true,
          'flags the plan for the second phase');
SELECT is((SELECT evaluation_pending FROM kept.plans WHERE id = (SELECT plan FROM t WHERE name = 'short')), false,
          'a partial between misses does not');
-- missed, broken, early (nothing paid) and reversed (its kept week became a miss)
SELECT is(kept.evaluate_plans(now(), 1000)->>'broken', '4', 'phase 2 breaks the plans with two misses in a row');
SELECT is((SELECT status FROM kept.plans WHERE id = (SELECT plan FROM t WHERE name = 'broken')), 'broken', 'broken');
SELECT is((SELECT status FROM kept.accounts WHERE id = (SELECT account FROM t WHERE name = 'broken')), 'open',
          'its account is open again');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE plan_id = (SELECT plan FROM t WHERE name = 'broken')), 0,
          'never kept: no escalation');
SELECT is((SELECT pg_temp.outcome('kept_then_broken', 1) || '/' || status FROM kept.plans
           WHERE id = (SELECT plan FROM t WHERE name = 'kept_then_broken')), 'kept/active',
          'kept once then one miss: still active');
SELECT is((SELECT outcome FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = 'broken') AND seq = 3),
          'waived', 'a broken plan''s remaining installments are waived');
SELECT kept.evaluate_outcomes(pg_temp.due_end('exact', 3) + interval '3 days 1 second');
SELECT kept.evaluate_plans(now(), 1000);
SELECT is((SELECT status FROM kept.plans WHERE id = (SELECT plan FROM t WHERE name = 'kept_then_broken')), 'broken',
          'kept once, then two misses: broken');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE reason = 'plan_broken_after_kept'
           AND plan_id = (SELECT plan FROM t WHERE name = 'kept_then_broken')), 1, 'and escalated');

SELECT * FROM finish();
ROLLBACK;
