-- Analytics equals the operational truth: a fact is its operational rows,
-- every column, dimensions included; a pre-aggregate is the sum of its facts,
-- whatever wrote the facts. (The whole loader, with its cursor and its
-- separate-database path, is tested in tests/integration/test_analytics.py:
-- here everything runs in one transaction, which the loader would wait for.)
BEGIN;
SELECT plan(24);

CREATE TEMP TABLE t (name text PRIMARY KEY, account bigint, plan bigint);

-- an account placed in 2024 with an imported plan of 10 x 100.00 whose first
-- installment fell due six weeks ago
CREATE FUNCTION pg_temp.setup(p_name text, p_zone text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a json;
    p json;
BEGIN
    a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object(
         'customer_id', kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'AN-' || p_name,
                        'name', 'Analytics ' || p_name, 'time_zone', p_zone, 'jurisdiction', 'GB'))->>'id',
         'external_ref', 'AN-A-' || p_name, 'creditor', 'Bank', 'original_balance_cents', 100000, 'currency', 'GBP',
         'placed_on', '2024-01-01'));
    p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
         'first_due_date', kept.local_today(p_zone) - 42, 'imported', true));
    INSERT INTO t VALUES (p_name, (a->>'id')::bigint, (p->>'id')::bigint);
END $$;

CREATE FUNCTION pg_temp.pay(p_name text, p_seq integer, p_ref text) RETURNS void LANGUAGE sql AS $$
    SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', t.account, 'amount_cents', 10000,
           'received_at', i.due_end_at - interval '1 hour', 'source', 'test', 'source_ref', p_ref), NULL)
    FROM t JOIN kept.installments i ON i.plan_id = t.plan AND i.seq = p_seq WHERE t.name = p_name;
$$;

-- what the loader does for the given plans: their facts written again, whole
CREATE FUNCTION pg_temp.load(p_plans bigint[]) RETURNS bigint LANGUAGE sql AS $$
    SELECT analytics.write_fact_plan(ARRAY(SELECT r FROM kept.analytics_plan_rows(p_plans) r))
         + analytics.write_fact_installment(ARRAY(SELECT r FROM kept.analytics_installment_rows(p_plans, '{}', '{}') r))
         + analytics.write_fact_payment(ARRAY(SELECT r FROM kept.analytics_payment_rows(
               ARRAY(SELECT id FROM kept.payments WHERE account_id IN (SELECT account FROM t))) r));
$$;

-- what the loader does for the events after id p_after (all of this
-- transaction's): the entities they touched, written whole
CREATE FUNCTION pg_temp.load_events(p_after bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    x record;
BEGIN
    x := kept.analytics_touched(pg_current_xact_id(), p_after, NULL, false);
    PERFORM analytics.write_fact_plan(ARRAY(SELECT r FROM kept.analytics_plan_rows(x.plans) r)),
            analytics.write_fact_installment(ARRAY(
                SELECT r FROM kept.analytics_installment_rows(x.plans, x.key_plans, x.key_seqs) r)),
            analytics.write_fact_payment(ARRAY(SELECT r FROM kept.analytics_payment_rows(x.payments) r));
END $$;

-- differences between facts and operational rows, and between aggregates and facts
CREATE FUNCTION pg_temp.fact_differences() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM analytics.fact_differences('fact_installment',
                (SELECT coalesce(json_agg(r), '[]') FROM kept.analytics_installment_rows(
                    ARRAY(SELECT plan FROM t), '{}', '{}') r), 'plan_id', 0, 9223372036854775807, '{}', 1000))
         + (SELECT count(*) FROM analytics.fact_differences('fact_plan',
                (SELECT coalesce(json_agg(r), '[]') FROM kept.analytics_plan_rows(ARRAY(SELECT plan FROM t)) r),
                'plan_id', 0, 9223372036854775807, '{}', 1000));
$$;
CREATE FUNCTION pg_temp.aggregate_differences() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM analytics.aggregate_differences(NULL, 1000);
$$;

DELETE FROM analytics.fact_installment;
DELETE FROM analytics.fact_plan;
DELETE FROM analytics.fact_payment;
SELECT pg_temp.setup('a', 'Europe/London');
SELECT pg_temp.setup('b', 'America/New_York');
SELECT pg_temp.pay('a', 1, 'an-a-1');
SELECT pg_temp.pay('a', 2, 'an-a-2');
SELECT pg_temp.pay('b', 1, 'an-b-1');
SELECT kept.evaluate_outcomes(now());
SELECT pg_temp.load(ARRAY(SELECT plan FROM t));

SELECT is(pg_temp.fact_differences(), 0::bigint, 'facts equal the operational rows');
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'aggregates equal their facts');
SELECT is((SELECT sum(judged) FROM analytics.agg_week), 12::numeric, 'twelve installments judged (six weeks, two plans)');

-- The bug of an earlier make demo: a plan moved back in time by SQL after its
-- facts were loaded, then events. The loader writes what the events touched
-- (here a payment: its installment); the facts it did not touch keep their
-- old dates, and the check says so; but whatever it writes, every count
-- moves with its fact, once (the old loader moved one more count on every
-- later event).
SELECT max(id) AS mark FROM kept.outbox_events \gset
UPDATE kept.plans SET first_due_date = first_due_date - 7 WHERE id = (SELECT plan FROM t WHERE name = 'a');
UPDATE kept.installments SET due_date = due_date - 7 WHERE plan_id = (SELECT plan FROM t WHERE name = 'a');
SELECT pg_temp.pay('a', 3, 'an-a-3');
SELECT pg_temp.load_events(:mark);
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'after a move by SQL and a new event: the counts equal the facts');
SELECT isnt(pg_temp.fact_differences(), 0::bigint, '... and the check reports the facts the SQL made stale');
SELECT max(id) AS mark FROM kept.outbox_events \gset
SELECT pg_temp.pay('a', 4, 'an-a-4');
SELECT pg_temp.load_events(:mark);
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'later events move no count again');
SELECT is((SELECT sum(installments) FROM analytics.agg_week), 20::numeric, 'and nothing is counted twice');
SELECT pg_temp.load(ARRAY(SELECT plan FROM t));
SELECT is(pg_temp.fact_differences(), 0::bigint, 'writing the plan again (a repair) mends its facts');
SELECT is(pg_temp.load(ARRAY(SELECT plan FROM t)), 0::bigint, 'writing the same facts again changes nothing');

-- An analyst's SQL on the facts: the aggregates follow whatever changes them.
UPDATE analytics.fact_installment SET due_week = due_week + 7, due_date = due_date + 7, outcome = 'missed'
WHERE plan_id = (SELECT plan FROM t WHERE name = 'b') AND seq = 1;
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'an UPDATE of facts moves the aggregates');
DELETE FROM analytics.fact_installment WHERE plan_id = (SELECT plan FROM t WHERE name = 'b') AND seq > 8;
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'a DELETE of facts takes them out of the aggregates');
SELECT isnt(pg_temp.fact_differences(), 0::bigint, '... and the check sees the facts differ from the operational rows');
SELECT results_eq($$SELECT d.column_name FROM analytics.fact_differences('fact_installment',
                      (SELECT json_agg(r) FROM kept.analytics_installment_rows(ARRAY(SELECT plan FROM t WHERE name = 'b'),
                                                                                '{}', '{}') r),
                      'plan_id', (SELECT plan - 1 FROM t WHERE name = 'b'), (SELECT plan FROM t WHERE name = 'b'),
                      '{}', 100) d
                      WHERE d.key->>'seq' IN ('1', '9') ORDER BY d.key->>'seq', d.column_name$$,
                  $$VALUES ('due_date'), ('due_week'), ('outcome'), ('*')$$,
                  'the check names the columns that differ, and a fact that is missing');
SELECT pg_temp.load(ARRAY(SELECT plan FROM t));
SELECT is(pg_temp.fact_differences(), 0::bigint, 'writing the plan again mends its facts');
SELECT is(pg_temp.aggregate_differences(), 0::bigint, '... and the aggregates');

-- Every column is written: a stored fact that differs in any column is replaced.
UPDATE analytics.fact_installment SET account_id = -1, creditor = 'x', agent_user_id = -1, origin = 'x', channel = 'x', currency = 'XXX',
       plan_start_week = '2000-01-03', weeks_since_start = -1, amount_due_cents = -1, amount_paid_cents = -1,
       paid_by_due_cents = -1, paid_by_grace_cents = -1, days_late = -1, reminded = true, reminder_purposes = '{x}',
       plan_status = 'x'
WHERE plan_id = (SELECT plan FROM t WHERE name = 'a');
SELECT pg_temp.load(ARRAY(SELECT plan FROM t));
SELECT is(pg_temp.fact_differences(), 0::bigint, 'the writer sets every column of a fact');

-- Waived installments are not due.
SELECT kept.plan_cancel(ROW(NULL, 'test', NULL)::kept.actor, (SELECT plan FROM t WHERE name = 'b'), 'test');
SELECT pg_temp.load(ARRAY(SELECT plan FROM t));
SELECT is((SELECT sum(waived) FROM analytics.agg_week), 4::numeric, 'a cancelled plan''s four unjudged installments are waived');
SELECT is((SELECT sum(installments) FROM analytics.agg_week), 16::numeric, '... and not due');
SELECT is(pg_temp.aggregate_differences(), 0::bigint, 'aggregates equal their facts at the end');

-- What the extraction reads, against hand-made cases: days late on the
-- customer's calendar, a reminder that reached the provider, local dates that
-- move with the customer.
SELECT pg_temp.setup('c', 'America/New_York');
SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', t.account, 'amount_cents', 10000,
       'received_at', i.due_end_at + interval '1 day 12 hours', 'source', 'test', 'source_ref', 'an-c-1'), NULL)
FROM t JOIN kept.installments i ON i.plan_id = t.plan AND i.seq = 1 WHERE t.name = 'c';
SELECT kept.evaluate_outcomes(now());
INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, scheduled_at, state,
                        provider_sid)
SELECT a.id, a.customer_id, t.plan, 2, 'pre_due', kept.pii_seal(a.customer_id, '+12125550123'),
       kept.pii_digest(a.customer_id, '+12125550123'), now(), 'completed', 'CA' || md5('an-c')
FROM t JOIN kept.accounts a ON a.id = t.account WHERE t.name = 'c';
SELECT results_eq($$SELECT r.outcome, r.days_late, r.reminded, r.reminder_purposes FROM kept.analytics_installment_rows(
                      ARRAY(SELECT plan FROM t WHERE name = 'c'), '{}', '{}') r WHERE r.seq <= 2 ORDER BY r.seq$$,
                  $$VALUES ('kept_late'::text, 2, false, '{}'::text[]), ('missed', NULL, true, '{pre_due}')$$,
                  'days late counted on the customer''s calendar; a reminder that reached the provider');
SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT customer_id FROM kept.accounts WHERE id = t.account), NULL,
                            '{"time_zone": "Pacific/Kiritimati"}')
FROM t WHERE t.name = 'c';
SELECT is((SELECT r.received_date - (p.received_at AT TIME ZONE 'America/New_York')::date
           FROM kept.payments p, kept.analytics_payment_rows(ARRAY[p.id]) r WHERE p.source_ref = 'an-c-1'), 1,
          'a payment''s local date moves with its customer (New York to Kiritimati: the next day)');

-- The events of a batch name what they touched.
SELECT ok((SELECT ARRAY(SELECT plan FROM t WHERE name = 'b') <@ x.plans
           FROM kept.analytics_touched('0'::xid8, 0, NULL, false) x),
          'a plan event touches the whole plan');

-- Caught up: only forward, and never while a rebuild is pending.
UPDATE analytics.loader_state SET caught_up_at = NULL, rebuild_needed = false;
SELECT analytics.caught_up('2026-12-02 10:00Z'), analytics.caught_up('2026-12-02 09:00Z');
SELECT is((SELECT caught_up_at FROM analytics.loader_state), '2026-12-02 10:00Z'::timestamptz,
          'caught_up_at moves only forward');
UPDATE analytics.loader_state SET rebuild_needed = true;
SELECT analytics.caught_up('2026-12-02 11:00Z');
SELECT is((SELECT caught_up_at FROM analytics.loader_state), '2026-12-02 10:00Z'::timestamptz,
          'no catching up while a rebuild is pending');

SELECT * FROM finish();
ROLLBACK;
