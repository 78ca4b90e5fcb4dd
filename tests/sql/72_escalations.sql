-- Escalations (sql/functions/72_escalations.sql): opening by hand and by kept
-- itself, once per cause; the queue's order, filters, team scope and cursor;
-- assigning, resolving, and what each writes to the audit log and the outbox.
-- Errors are checked by their stable code (the HINT kept.fail sets).
BEGIN;
SELECT plan(30);

CREATE FUNCTION pg_temp.key(p_name text, p_role text, p_team text) RETURNS bigint LANGUAGE sql AS $$
    WITH u AS (INSERT INTO kept.users (name, roles, team) VALUES (p_name, ARRAY[p_role], p_team) RETURNING id)
    INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT p_name, p_role, sha256(p_name::bytea), id FROM u
    RETURNING id;
$$;

SET LOCAL kept.clock = '2026-03-02 09:00:00+00';
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"ESC-C","name":"Esme Escalated","time_zone":"Europe/London",
    "jurisdiction":"GB","phones":[{"number":"+447700900321","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'ESC-C'), 'external_ref', 'ESC-A', 'creditor', 'Esc Bank',
    'original_balance_cents', 50000, 'currency', 'GBP')::jsonb);
UPDATE kept.creditors SET team = 'north' WHERE name = 'Esc Bank';
CREATE TEMP TABLE ids AS SELECT
    (SELECT id FROM kept.accounts WHERE external_ref = 'ESC-A') AS account,
    pg_temp.key('esc-north', 'supervisor', 'north') AS north,
    pg_temp.key('esc-south', 'supervisor', 'south') AS south;

-- ---- opening -----------------------------------------------------------------------------------
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'boredom', 'note', 'x'))$$),
    'invalid_reason', 'an unknown reason is refused');
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    '{"account_id": 999999999, "reason": "dispute", "note": "x"}')$$),
    'unknown_account', 'so is an unknown account');
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW((SELECT south FROM ids), 'esc-south', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'dispute', 'note', 'x'))$$),
    'unknown_account', 'and an account of another team''s creditor, as if it did not exist');
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'dispute', 'priority', 6, 'note', 'x'))$$),
    'invalid_priority', 'priority is 1 to 5');
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'dispute', 'plan_id', 999999999, 'note', 'x'))$$),
    'unknown_plan', 'a plan must be the account''s');

CREATE TEMP TABLE dispute AS SELECT kept.escalation_open(ROW((SELECT north FROM ids), 'esc-north', 'req-1')::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'dispute', 'note', 'says it is not theirs'))::jsonb AS doc;
SELECT is((SELECT doc->>'team' || '/' || (doc->>'priority') || '/' || (doc->>'status') FROM dispute), 'disputes/1/open',
    'a dispute goes to the disputes team at its reason''s priority');
SELECT is((SELECT doc->>'due_by' FROM dispute), '2026-03-03T09:00:00.000000Z', 'due by kept''s clock plus the reason''s SLA');
SELECT is((SELECT (doc->>'overdue')::boolean FROM dispute), false, 'not overdue yet');
SELECT results_eq($$SELECT action, actor, request_id FROM kept.audit_events
                    WHERE entity_type = 'escalation' AND entity_id = (SELECT (doc->>'id')::bigint FROM dispute)$$,
    $$VALUES ('escalation.opened'::text, 'esc-north'::text, 'req-1'::text)$$, 'opening is audited with its actor and request');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE event_type = 'escalation_opened'
           AND aggregate_id = (SELECT (doc->>'id')::bigint FROM dispute)), 1, 'and sent to the outbox');
SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'wrong_party', 'note', 'someone else answered'));
SELECT is(kept_test.error_code($$SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'wrong_party', 'note', 'again'))$$),
    'escalation_exists', 'a wrong party is escalated once per account while open');

-- kept's own: nothing while history is imported, once otherwise
SET LOCAL kept.history = 'on';
SELECT kept.escalation_auto((SELECT account FROM ids), NULL, NULL, 'other', 'from history');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE reason = 'other'), 0, 'imported history opens nothing');
SET LOCAL kept.history = 'off';
SELECT kept.escalation_auto((SELECT account FROM ids), NULL, NULL, 'repeated_call_failures', 'calls keep failing');
SELECT kept.escalation_auto((SELECT account FROM ids), NULL, NULL, 'repeated_call_failures', 'and again');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE reason = 'repeated_call_failures'), 1,
    'kept opens a cause once, quietly');
SELECT is((SELECT created_by_user FROM (SELECT kept.escalation_json(e)::jsonb->>'created_by' AS created_by_user
           FROM kept.escalations e WHERE reason = 'repeated_call_failures') x), NULL, 'opened by no key: by keptd');
SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('account_id', (SELECT account FROM ids), 'reason', 'other', 'priority', 1, 'note', 'urgent other'));

-- ---- the queue ------------------------------------------------------------------------------------
SELECT is((SELECT string_agg(i->>'reason', ',') FROM json_array_elements(
           kept.escalation_page(NULL, NULL, '/v1/escalations', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)->'items') i),
    'dispute,other,wrong_party,repeated_call_failures', 'by priority, then due-by (a day before five days)');
SELECT is((SELECT json_array_length(kept.escalation_page((SELECT south FROM ids), NULL, '/v1/escalations',
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)->'items')), 0, 'another team sees none of them');
SELECT is((SELECT string_agg(i->>'reason', ',') FROM json_array_elements(kept.escalation_page(NULL, NULL, '/v1/escalations',
           NULL, NULL, 'collections', NULL, NULL, NULL, NULL, NULL)->'items') i),
    'other,wrong_party,repeated_call_failures', 'filtered by team');
CREATE TEMP TABLE page1 AS SELECT kept.escalation_page(NULL, NULL, '/v1/escalations', NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, '2')::jsonb AS doc;
SELECT is((SELECT jsonb_array_length(doc->'items') FROM page1), 2, 'a page holds limit items');
SELECT is((SELECT string_agg(i->>'reason', ',') FROM json_array_elements(kept.escalation_page(NULL, NULL, '/v1/escalations',
           NULL, NULL, NULL, NULL, NULL, NULL, (SELECT doc->>'next_cursor' FROM page1), '2')->'items') i),
    'wrong_party,repeated_call_failures', 'and its cursor continues after the last');
SELECT is(kept_test.error_code($$SELECT kept.escalation_page(NULL, NULL, '/v1/escalations', 'closed', NULL, NULL, NULL,
    NULL, NULL, NULL, NULL)$$), 'invalid_status', 'status is open, resolved or all');
SELECT is(kept_test.error_code($$SELECT kept.escalation_page(NULL, NULL, '/v1/escalations', NULL, NULL, NULL, 'me',
    NULL, NULL, NULL, NULL)$$), 'invalid_assignee', 'assigned_to is a key id or none');
SET LOCAL kept.clock = '2026-03-04 09:00:00+00';
SELECT is((SELECT string_agg(i->>'reason', ',') FROM json_array_elements(kept.escalation_page(NULL, NULL, '/v1/escalations',
           NULL, NULL, NULL, NULL, NULL, 'true', NULL, NULL)->'items') i),
    'dispute,wrong_party', 'two days on, those due in a day are overdue');

-- ---- assigning and resolving ------------------------------------------------------------------------
SELECT is(kept_test.error_code($$SELECT kept.escalation_assign(ROW((SELECT north FROM ids), 'esc-north', NULL)::kept.actor,
    (SELECT (doc->>'id')::bigint FROM dispute), jsonb_build_object('assignee_key_id', (SELECT south FROM ids)))$$),
    'unknown_assignee', 'not to someone whose team does not see the account');
SELECT is((kept.escalation_assign(ROW((SELECT north FROM ids), 'esc-north', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM dispute),
           '{}')::jsonb->>'assigned_to')::bigint, (SELECT north FROM ids), 'with no assignee, to the caller');
SELECT is(kept_test.error_code($$SELECT kept.escalation_resolve(ROW((SELECT north FROM ids), 'esc-north', NULL)::kept.actor,
    (SELECT (doc->>'id')::bigint FROM dispute), '{"note": "  "}')$$), 'note_required', 'resolving says what was done');
UPDATE kept.customer_phones SET failed_attempts = 4
WHERE customer_id = (SELECT id FROM kept.customers WHERE external_ref = 'ESC-C');
SELECT is(kept.escalation_resolve(ROW((SELECT north FROM ids), 'esc-north', NULL)::kept.actor,
    (SELECT id FROM kept.escalations WHERE reason = 'repeated_call_failures'), '{"note": "new number on file"}')::jsonb->>'status',
    'resolved', 'resolved with a note');
SELECT is((SELECT sum(failed_attempts)::int FROM kept.customer_phones
           WHERE customer_id = (SELECT id FROM kept.customers WHERE external_ref = 'ESC-C')), 0,
    'resolving repeated call failures lets automated calls try the numbers again');
SELECT is(kept_test.error_code($$SELECT kept.escalation_resolve(ROW(NULL, 'test', NULL)::kept.actor,
    (SELECT id FROM kept.escalations WHERE reason = 'repeated_call_failures'), '{"note": "twice"}')$$),
    'escalation_resolved', 'an escalation is resolved once');
SELECT is(kept_test.error_code($$SELECT kept.escalation_assign(ROW(NULL, 'test', NULL)::kept.actor, 999999999, '{}')$$),
    'escalation_not_found', 'an unknown escalation is not found');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE entity_type = 'escalation'
           AND action IN ('escalation.assigned', 'escalation.resolved')), 2, 'assigning and resolving are audited');

SELECT * FROM finish();
ROLLBACK;
