-- Reviews (sql/functions/62_reviews.sql): a supervisor decides an
-- out-of-policy plan's review after the fact, once; the decision is audited
-- and sent to the outbox in the same transaction.
BEGIN;
SELECT plan(9);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"RV-C","name":"Review Person","time_zone":"Europe/London","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'RV-C'), 'external_ref', 'RV-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP')::jsonb);
CREATE FUNCTION pg_temp.key(p_name text, p_role text) RETURNS void LANGUAGE sql AS $$
    WITH u AS (INSERT INTO kept.users (name, roles) VALUES (p_name, ARRAY[p_role]) RETURNING id)
    INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT p_name, p_role, sha256(p_name::bytea), id FROM u;
$$;
SELECT pg_temp.key('rv-agent-a', 'agent'), pg_temp.key('rv-agent-b', 'agent'), pg_temp.key('rv-super', 'supervisor');
CREATE TEMP TABLE ids AS SELECT
    (SELECT id FROM kept.accounts WHERE external_ref = 'RV-A') AS account,
    (SELECT id FROM kept.api_keys WHERE name = 'rv-agent-a') AS a,
    (SELECT id FROM kept.api_keys WHERE name = 'rv-agent-b') AS b,
    (SELECT id FROM kept.api_keys WHERE name = 'rv-super') AS s;
-- an out-of-policy plan, approved by a second associate, waits for review
CREATE TEMP TABLE p1 AS SELECT kept.plan_create(ROW((SELECT a FROM ids), 'rv-agent-a', NULL)::kept.actor, (SELECT account FROM ids),
    jsonb_build_object('weekly_amount_cents', 500, 'first_due_date', kept.local_today('Europe/London') + 3))::jsonb AS doc;
SELECT kept.plan_approve(ROW((SELECT b FROM ids), 'rv-agent-b', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM p1), 'hardship');
CREATE TEMP TABLE r AS SELECT id FROM kept.reviews WHERE plan_id = (SELECT (doc->>'id')::bigint FROM p1);

SELECT is((kept.review_get((SELECT id FROM r), (SELECT s FROM ids))::jsonb)->>'status', 'open',
          'the approved plan''s review is open');
SELECT throws_ok($$SELECT kept.review_decide(ROW((SELECT s FROM ids), 'rv-super', NULL)::kept.actor, (SELECT id FROM r), 'maybe', NULL)$$,
                 'KRINV', 'decision is upheld or corrected', 'a decision is upheld or corrected');
SELECT throws_ok($$SELECT kept.review_decide(ROW((SELECT s FROM ids), 'rv-super', NULL)::kept.actor, (SELECT id FROM r), 'corrected', ' ')$$,
                 'KRINV', NULL, 'a correction needs a note');
SELECT throws_ok($$SELECT kept.review_decide(ROW((SELECT s FROM ids), 'rv-super', NULL)::kept.actor, -1, 'upheld', NULL)$$,
                 'KRNFD', 'no review with id -1', 'a review that does not exist is not found');

CREATE TEMP TABLE d AS SELECT kept.review_decide(ROW((SELECT s FROM ids), 'rv-super', 'req-rv')::kept.actor, (SELECT id FROM r),
                                                 'corrected', 'ask for payslips next time')::jsonb AS doc;
SELECT is((SELECT doc->>'status' || ' / ' || (doc->>'review_note') FROM d), 'corrected / ask for payslips next time',
          'decided: corrected, with its note');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE request_id = 'req-rv' AND action = 'review.decided'
                                                         AND entity_id = (SELECT id FROM r)), 1, 'audited');
SELECT is((SELECT payload->>'decision' FROM kept.outbox_events WHERE event_type = 'review_decided'
                                                               AND aggregate_id = (SELECT id FROM r)), 'corrected',
          'and sent to the outbox');
SELECT throws_ok($$SELECT kept.review_decide(ROW((SELECT s FROM ids), 'rv-super', NULL)::kept.actor, (SELECT id FROM r), 'upheld', NULL)$$,
                 'KRCFL', NULL, 'a review is decided once');
SELECT is((kept.review_page((SELECT s FROM ids), NULL, NULL, 'open', NULL, NULL)::jsonb)->'items', '[]'::jsonb,
          'and leaves the open queue');

SELECT * FROM finish();
ROLLBACK;
