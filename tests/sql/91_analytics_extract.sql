-- The operational side of analytics (sql/functions/91_analytics_extract.sql):
-- what each kind of outbox event touches, the batch's bounds, events of an
-- open transaction left for later, paging for a rebuild, the lag, a repair's
-- audit. (What the fact rows hold is 90_analytics.sql's.)
BEGIN;
SELECT plan(18);

CREATE TEMP TABLE t (name text PRIMARY KEY, account bigint, customer bigint, plan bigint);
CREATE FUNCTION pg_temp.setup(p_name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a json;
    p json;
BEGIN
    a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object(
         'customer_id', kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'AX-' || p_name,
                        'name', 'Extract ' || p_name, 'time_zone', 'Europe/London', 'jurisdiction', 'GB'))->>'id',
         'external_ref', 'AX-A-' || p_name, 'creditor', 'Bank', 'original_balance_cents', 100000, 'currency', 'GBP',
         'placed_on', '2024-01-01'));
    p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
         'first_due_date', kept.local_today('Europe/London') - 21, 'imported', true));
    INSERT INTO t VALUES (p_name, (a->>'id')::bigint, (a->>'customer_id')::bigint, (p->>'id')::bigint);
END $$;
-- where the outbox stands: events after it are this transaction's
CREATE TEMP TABLE mark (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.mark(p_name text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO mark VALUES (p_name, (SELECT coalesce(max(id), 0) FROM kept.outbox_events));
$$;

SELECT pg_temp.mark('start');
SELECT pg_temp.setup('a'), pg_temp.setup('b');

-- a plan event: the whole plan
SELECT is((SELECT plans FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'),
           NULL, false)), ARRAY(SELECT plan FROM t ORDER BY plan), 'plan events touch their whole plans');
SELECT is((SELECT key_plans FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'),
           NULL, false)), '{}'::bigint[], '... and no single installment beside them');
SELECT is((SELECT events FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'),
           NULL, false)), (SELECT count(*)::int FROM kept.outbox_events WHERE id > (SELECT id FROM mark WHERE name = 'start')),
    'every event after the cursor is counted');
SELECT is((SELECT to_id FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'),
           1, false)), (SELECT min(id) FROM kept.outbox_events WHERE id > (SELECT id FROM mark WHERE name = 'start')),
    'a batch of one ends at the first event after the cursor');

-- a payment: the payment and the installment it was allocated to, not the whole plan
SELECT pg_temp.mark('paid');
SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', t.account, 'amount_cents', 10000,
       'received_at', i.due_end_at - interval '1 hour', 'source', 'test', 'source_ref', 'ax-a-1'), NULL)
FROM t JOIN kept.installments i ON i.plan_id = t.plan AND i.seq = 1 WHERE t.name = 'a';
SELECT is((SELECT payments FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'paid'),
           NULL, false)), ARRAY(SELECT id FROM kept.payments WHERE source_ref = 'ax-a-1'), 'a payment touches itself');
SELECT is((SELECT array_to_string(key_plans, ',') || '/' || array_to_string(key_seqs, ',')
           FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'paid'), NULL, false)),
          (SELECT plan || '/1' FROM t WHERE name = 'a'), '... and the installment it paid, by key');

-- a customer who moves: every plan and payment of theirs (local dates move)
SELECT pg_temp.mark('moved');
SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, t.customer, NULL, '{"time_zone": "Pacific/Auckland"}') FROM t WHERE name = 'a';
SELECT is((SELECT plans FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'moved'),
           NULL, false)), ARRAY(SELECT plan FROM t WHERE name = 'a'), 'a move touches every plan of the customer');
SELECT is((SELECT payments FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'moved'),
           NULL, false)), ARRAY(SELECT id FROM kept.payments WHERE source_ref = 'ax-a-1'), '... and every payment');

-- events that change no fact
SELECT pg_temp.mark('other');
SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id', t.account, 'reason', 'other', 'note', 'x'))
FROM t WHERE name = 'b';
SELECT is((SELECT cardinality(plans) + cardinality(key_plans) + cardinality(calls) + cardinality(payments)
           FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'other'), NULL, false)),
          0, 'an escalation touches no fact');
SELECT is((SELECT events FROM kept.analytics_touched(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'other'),
           NULL, false)), 1, '... though the cursor passes it');
SELECT is((SELECT events FROM kept.analytics_touched(pg_current_xact_id(),
           (SELECT max(id) FROM kept.outbox_events), NULL, false)), 0, 'nothing after the last event');

-- what is pending, and what a loader may take: only ended transactions
SELECT ok((SELECT ARRAY(SELECT plan FROM t) <@ p.plans
           FROM kept.analytics_pending(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start')) p),
    'pending: every plan touched after the cursor');
SELECT is((SELECT count(*)::int FROM kept.analytics_extract(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'),
           100)), 0, 'an extract leaves the events of a transaction still open');
SELECT is((SELECT events FROM kept.analytics_lag(pg_current_xact_id(), (SELECT id FROM mark WHERE name = 'start'))),
          (SELECT count(*) FROM kept.outbox_events WHERE id > (SELECT id FROM mark WHERE name = 'start')),
    'but the lag counts them');

-- a rebuild's pages
SELECT is((SELECT ids FROM kept.analytics_page_ids('plan', (SELECT min(plan) FROM t) - 1, 1)),
          ARRAY(SELECT min(plan) FROM t), 'a page of plans starts after the id it is given');
SELECT is((SELECT n FROM kept.analytics_page_ids('payment', (SELECT max(id) FROM kept.payments), 10)), 0,
    'and is empty past the last');
SELECT throws_ok($$SELECT kept.analytics_page_ids('account', 0, 10)$$, 'P0001', NULL, 'a kind it does not know is an error');

SELECT kept.analytics_repaired('{"facts": 3}');
SELECT is((SELECT after->>'facts' FROM kept.audit_events WHERE action = 'analytics.repaired' ORDER BY id DESC LIMIT 1), '3',
    'a repair is audited');

SELECT * FROM finish();
ROLLBACK;
