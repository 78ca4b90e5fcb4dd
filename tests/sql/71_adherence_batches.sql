-- Evaluation in batches: judging a week one installment at a time gives
-- exactly what one big batch gives (outcomes, plans flagged for phase 2,
-- events), the walk skips installments still in their grace period without
-- judging them, and a walk that stops half-way is finished by the next run.
BEGIN;
SELECT plan(8);

CREATE TEMP TABLE t (name text PRIMARY KEY, account bigint, plan bigint);

-- a customer with 600.00 owed and an imported plan of 6 x 100.00 whose first
-- installment fell due `p_days` days ago
CREATE FUNCTION pg_temp.setup(p_name text, p_days integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a json;
    p json;
BEGIN
    a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object(
         'customer_id', kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'EB-' || p_name,
                        'name', 'Batch ' || p_name, 'time_zone', 'Europe/London', 'jurisdiction', 'GB'))->>'id',
         'external_ref', 'EB-A-' || p_name, 'creditor', 'Bank', 'original_balance_cents', 60000, 'currency', 'GBP',
         'placed_on', '2024-01-01'));
    p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
         'first_due_date', kept.local_today('Europe/London') - p_days, 'imported', true));
    INSERT INTO t VALUES (p_name, (a->>'id')::bigint, (p->>'id')::bigint);
END $$;

CREATE FUNCTION pg_temp.pay(p_name text, p_seq integer, p_cents bigint, p_late interval) RETURNS void
LANGUAGE sql AS $$
    SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', t.account, 'amount_cents', p_cents,
           'received_at', i.due_end_at - interval '1 hour' + p_late, 'source', 'test',
           'source_ref', 'eb-' || p_name || '-' || p_seq), NULL)
    FROM t JOIN kept.installments i ON i.plan_id = t.plan AND i.seq = p_seq WHERE t.name = p_name;
$$;

-- what evaluation decided, as one text
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT (SELECT string_agg(t.name || '/' || i.seq || '/' || i.outcome, ' ' ORDER BY t.name, i.seq)
            FROM t JOIN kept.installments i ON i.plan_id = t.plan)
        || ' | ' || (SELECT string_agg(t.name || '/' || p.evaluation_pending, ' ' ORDER BY t.name)
                     FROM t JOIN kept.plans p ON p.id = t.plan)
        || ' | ' || (SELECT string_agg(t.name || '/' || (e.payload->>'seq') || '/' || (e.payload->>'outcome'), ' '
                                       ORDER BY t.name, e.payload->>'seq')
                     FROM t JOIN kept.outbox_events e ON e.aggregate_id = t.plan
                     WHERE e.event_type = 'installment_evaluated');
$$;

SELECT pg_temp.setup(n, 20) FROM unnest(ARRAY['nothing', 'everything', 'first_only', 'late', 'partial']) n;
SELECT pg_temp.setup('in_grace', 2);
SELECT pg_temp.pay('everything', s, 10000, interval '0') FROM generate_series(1, 3) s;
SELECT pg_temp.pay('first_only', 1, 10000, interval '0');
SELECT pg_temp.pay('late', 1, 10000, interval '2 days');
SELECT pg_temp.pay('partial', 1, 5000, interval '0');

SAVEPOINT before;
SELECT kept.evaluate_outcomes(now(), 1) AS one_by_one \gset
SELECT pg_temp.state() AS state_one_by_one \gset
ROLLBACK TO SAVEPOINT before;
SELECT is(kept.evaluate_outcomes(now(), 100000), :one_by_one::bigint,
          'one installment per batch judges as many as one big batch');
SELECT is(pg_temp.state(), :'state_one_by_one', 'with the same outcomes, phase 2 flags and events');
SELECT is((SELECT string_agg(outcome, ',' ORDER BY seq) FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = 'first_only')),
          'kept,missed,missed,scheduled,scheduled,scheduled', 'a kept week, then two misses');
SELECT is((SELECT evaluation_pending FROM kept.plans WHERE id = (SELECT plan FROM t WHERE name = 'first_only')), true,
          'the second miss, judged in a later batch than the first, flags the plan');
SELECT is((SELECT outcome FROM kept.installments WHERE plan_id = (SELECT plan FROM t WHERE name = 'in_grace') AND seq = 1),
          'scheduled', 'an unpaid installment in its grace period is walked past, not judged');
ROLLBACK TO SAVEPOINT before;

-- a walk stopped after two batches leaves the rest to the next run
SELECT kept.evaluate_outcomes_batch(now(), NULL, 2) AS b1 \gset
SELECT is((:'b1'::jsonb)->>'scanned', '2', 'a batch takes at most its limit');
SELECT kept.evaluate_outcomes_batch(now(), (:'b1'::jsonb)->'after', 2) AS b2 \gset
SELECT ok((:'b2'::jsonb)->'after' <> (:'b1'::jsonb)->'after', 'and the next one goes on from where it ended');
SELECT kept.evaluate_outcomes(now());
SELECT is(pg_temp.state(), :'state_one_by_one', 'the next run finishes the stopped walk to the same end');

SELECT * FROM finish();
ROLLBACK;
