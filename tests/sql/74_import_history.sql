-- History from another system (sql/functions/74_import_history.sql), staged
-- as JSON the way keptd stages it: the shape's problems and the rules' listed
-- with their paths; a clean history replayed at its own times through the
-- agent's functions (channel import, no escalation), judged as of now, one
-- audit event; a replay that kept's rules refuse writes nothing.
BEGIN;
SELECT plan(14);
SET LOCAL client_min_messages = warning;  -- the staging tables' "already exists, skipping"

CREATE FUNCTION pg_temp.history(p_body jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.import_history_resolved;
    PERFORM kept.import_history_begin();
    PERFORM kept.import_history_stage_json(p_body::text);
    PERFORM kept.import_history_resolve();
END $$;
CREATE FUNCTION pg_temp.problems() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(coalesce(path, '') || ' ' || code || coalesce(':' || field, ''), ', ' ORDER BY line, code), '')
    FROM kept.import_history_problems();
$$;

INSERT INTO kept.users (name, email, roles) VALUES ('Hana Historian', 'hana@example.com', '{agent}');
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"IH-C","name":"Ike History","time_zone":"Europe/London","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'IH-C'), 'external_ref', 'IH-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP', 'placed_on', '2024-01-01')::jsonb);
CREATE TEMP TABLE d AS SELECT date_trunc('day', now() - interval '70 days') + interval '12 hours' AS agreed;
CREATE TEMP TABLE h AS SELECT jsonb_build_object('plans', jsonb_build_array(jsonb_build_object(
    'plan_ref', 'IH-P1', 'account_external_ref', 'IH-A', 'origin', 'customer_proposed', 'agreed_at', kept.ts(agreed),
    'agreed_by', 'hana@example.com', 'weekly_amount_cents', 10000, 'first_due_date', (agreed::date + 3)::text,
    'payments', jsonb_build_array(
        jsonb_build_object('amount_cents', 10000, 'received_at', kept.ts(agreed + interval '3 days'), 'source', 'card',
                           'source_ref', 'ih-1'),
        jsonb_build_object('amount_cents', 10000, 'received_at', kept.ts(agreed + interval '10 days'), 'source', 'card',
                           'source_ref', 'ih-2', 'reversed_at', kept.ts(agreed + interval '15 days'),
                           'reversal_reason', 'returned cheque'))))) AS body FROM d;

-- the shape
SELECT pg_temp.history('[1, 2]');
SELECT is(pg_temp.problems(), '$ invalid_document', 'a history is {"plans": [...]}');
SELECT pg_temp.history('{"plans": [{"plan_ref": "x", "colour": "red", "origin": ["agent_set"]}]}');
SELECT ok(pg_temp.problems() ~ 'plans\[0\] invalid_type:origin' AND pg_temp.problems() ~ 'plans\[0\] unknown_field:colour',
          'unknown fields and values of the wrong type, with their paths');
SELECT pg_temp.history((SELECT jsonb_set(body, '{plans,0,account_external_ref}', '"IH-NOPE"') FROM h));
SELECT ok(pg_temp.problems() ~ 'plans\[0\] unknown_account', 'an account kept does not have');
SELECT pg_temp.history((SELECT jsonb_set(body, '{plans,0,agreed_by}', '"nobody@example.com"') FROM h));
SELECT ok(pg_temp.problems() ~ 'plans\[0\] unknown_agent', 'an agent kept does not know');
SELECT pg_temp.history((SELECT jsonb_set(body, '{plans,0,payments,0,received_at}',
                                         to_jsonb(kept.ts(now() + interval '1 day'))) FROM h));
SELECT ok(pg_temp.problems() ~ 'plans\[0\].payments\[0\] ', 'a payment in the future, at its path');

-- a clean history, replayed
SELECT pg_temp.history((SELECT body FROM h));
SELECT is(pg_temp.problems(), '', 'a clean history has no problems');
CREATE TEMP TABLE w AS SELECT kept.import_history_write(ROW(NULL, 'test', 'req-h')::kept.actor, repeat('cd', 32))::jsonb AS doc;
SELECT is((SELECT doc - 'import_id' - 'plan_ids' - 'installments_judged_now' FROM w),
          '{"records": 3, "accounts": 1, "plans": 1, "payments": 2, "reversals": 1, "cancellations": 0}'::jsonb, 'the summary');
SELECT is((SELECT channel || '/' || origin || '/' || created_at::date FROM kept.plans
           WHERE id = (SELECT (doc->'plan_ids'->>'IH-P1')::bigint FROM w)),
          (SELECT 'import/customer_proposed/' || agreed::date FROM d), 'the plan is agreed at its own time, channel import');
SELECT is((SELECT created_by_user FROM kept.plans WHERE id = (SELECT (doc->'plan_ids'->>'IH-P1')::bigint FROM w)),
          (SELECT id FROM kept.users WHERE email = 'hana@example.com'), 'by the agent the history names');
SELECT is((SELECT string_agg(status, ',' ORDER BY source_ref) FROM kept.payments WHERE source_ref IN ('ih-1', 'ih-2')),
          'posted,reversed', 'its payments posted and the returned one reversed');
SELECT is((SELECT outcome FROM kept.installments WHERE plan_id = (SELECT (doc->'plan_ids'->>'IH-P1')::bigint FROM w) AND seq = 1),
          'kept', 'judged as of each moment and now');
SELECT is((SELECT count(*)::int FROM kept.escalations e JOIN kept.accounts a ON a.id = e.account_id
           WHERE a.external_ref = 'IH-A' AND e.reason = 'payment_reversed'), 0,
          'a reversal in history opens no escalation: it was handled there');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'history.imported' AND request_id = 'req-h'), 1,
          'one audit event for the import');

-- an account with a plan already has no history to import
SELECT pg_temp.history((SELECT jsonb_set(body, '{plans,0,plan_ref}', '"IH-P2"') FROM h));
SELECT ok(pg_temp.problems() ~ 'plans\[0\] ', 'an account already in kept''s hands is refused');

SELECT * FROM finish();
ROLLBACK;
