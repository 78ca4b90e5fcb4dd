-- Plans in the database: one active plan per account whatever the callers
-- do, the two-associate rule, completion of a paid settlement with its
-- write-off, audit and outbox in the same transaction.
BEGIN;
SELECT plan(16);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PL-C","name":"Plan Person","time_zone":"Europe/London","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'PL-C'), 'external_ref', 'PL-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP')::jsonb);
-- two agents: two people, a key each
CREATE FUNCTION pg_temp.key(p_name text, p_role text) RETURNS void LANGUAGE sql AS $$
    WITH u AS (INSERT INTO kept.users (name, roles) VALUES (p_name, ARRAY[p_role]) RETURNING id)
    INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT p_name, p_role, sha256(p_name::bytea), id FROM u;
$$;
SELECT pg_temp.key('agent-a', 'agent'), pg_temp.key('agent-b', 'agent');
CREATE TEMP TABLE ids AS SELECT
    (SELECT id FROM kept.accounts WHERE external_ref = 'PL-A') AS account,
    (SELECT id FROM kept.api_keys WHERE name = 'agent-a') AS a,
    (SELECT id FROM kept.api_keys WHERE name = 'agent-b') AS b,
    kept.local_today('Europe/London') + 3 AS first_due;

-- an out-of-policy plan waits for a second associate
CREATE TEMP TABLE p1 AS SELECT kept.plan_create(ROW((SELECT a FROM ids), 'agent-a', NULL)::kept.actor, (SELECT account FROM ids),
    jsonb_build_object('weekly_amount_cents', 500, 'first_due_date', (SELECT first_due FROM ids)))::jsonb AS doc;
SELECT is((SELECT doc->>'status' FROM p1), 'pending_approval', 'out of policy: pending approval');
SELECT is((SELECT status FROM kept.accounts WHERE external_ref = 'PL-A'), 'open', 'the account is not in a plan yet');
SELECT throws_ok($$SELECT kept.plan_approve(ROW((SELECT a FROM ids), 'agent-a', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM p1), NULL)$$,
    'KRFBD', NULL, 'the creator cannot be the second associate');
SELECT lives_ok($$SELECT kept.plan_approve(ROW((SELECT b FROM ids), 'agent-b', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM p1), 'ok')$$,
    'another agent can');
SELECT is((SELECT status FROM kept.plans WHERE id = (SELECT (doc->>'id')::bigint FROM p1)), 'active', 'and the plan is active');
SELECT is((SELECT status FROM kept.reviews WHERE plan_id = (SELECT (doc->>'id')::bigint FROM p1)), 'open', 'with a review waiting');
SELECT throws_ok($$SELECT kept.plan_approve(ROW((SELECT b FROM ids), 'agent-b', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM p1), NULL)$$,
    'KRCFL', NULL, 'approving twice is refused');

-- the database itself refuses a second active plan
SELECT throws_ok($$INSERT INTO kept.plans (account_id, origin, status, weekly_amount_cents, first_due_date, installment_count,
    total_cents, balance_at_start_cents, currency, policy_id, grace_days, kept_threshold_percent, breaks_after_misses,
    in_policy, reasons) SELECT account, 'agent_set', 'active', 1000, first_due, 100, 100000, 100000, 'GBP', 1, 3, 100, 2,
    true, '{}' FROM ids$$, '23505', NULL, 'one active plan per account, whatever the caller');
SELECT throws_ok($$SELECT kept.plan_create(ROW((SELECT a FROM ids), 'agent-a', NULL)::kept.actor, (SELECT account FROM ids),
    jsonb_build_object('weekly_amount_cents', 2000, 'first_due_date', (SELECT first_due FROM ids)))$$,
    'KRCFL', NULL, 'a new plan must say which plan it replaces');

-- a settlement, paid, settles the account and writes off the rest
SELECT kept.settlement_offer_create(ROW((SELECT a FROM ids), 'agent-a', NULL)::kept.actor, (SELECT account FROM ids), '{"offer_cents": 70000}');
CREATE TEMP TABLE s AS SELECT kept.settlement_accept(ROW((SELECT a FROM ids), 'agent-a', NULL)::kept.actor,
    (SELECT max(id) FROM kept.settlement_offers), jsonb_build_object('first_due_date', (SELECT first_due FROM ids),
    'installments', 2, 'replaces_plan_id', (SELECT (doc->>'id')::bigint FROM p1)))::jsonb AS doc;
SELECT is((SELECT doc->>'origin' || '/' || (doc->>'status') || '/' || (doc->>'total_cents') FROM s),
    'settlement/active/70000', 'an offer above the floor becomes an active settlement plan');
SELECT is((SELECT status FROM kept.plans WHERE id = (SELECT (doc->>'id')::bigint FROM p1)), 'superseded', 'replacing the old plan');
-- what the payments issue will do: pay the installments and the balance
UPDATE kept.installments SET amount_paid_cents = amount_due_cents, outcome = 'kept' WHERE plan_id = (SELECT (doc->>'id')::bigint FROM s);
UPDATE kept.accounts SET balance_cents = balance_cents - 70000 WHERE external_ref = 'PL-A';
SELECT lives_ok($$SELECT kept.plan_complete(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM s))$$, 'a paid plan completes');
SELECT results_eq($$SELECT status, balance_cents FROM kept.accounts WHERE external_ref = 'PL-A'$$,
    $$VALUES ('settled', 0::bigint)$$, 'the account is settled and the rest written off');
SELECT is((SELECT (after->>'written_off_cents')::bigint FROM kept.audit_events WHERE action = 'account.settled'), 30000::bigint,
    'the write-off is audited');
SELECT ok(EXISTS (SELECT 1 FROM kept.outbox_events WHERE event_type = 'balance_written_off'), 'and sent to the outbox');
SELECT is((SELECT count(DISTINCT tx_id)::int FROM kept.outbox_events), 1,
    'every outbox event carries its transaction id (one transaction here)');

SELECT * FROM finish();
ROLLBACK;
