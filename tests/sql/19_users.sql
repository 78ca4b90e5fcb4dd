-- Users, creditors and who may see what (sql/functions/19_users.sql):
-- creating and changing users, never leaving kept without an administrator,
-- renames in the outbox, keys made by name, creditors moved between teams,
-- access checks and the access log, instants. (Team scope of reads: 35_privacy.sql.)
BEGIN;
SELECT plan(22);

-- only the admin made here administers kept in this transaction
UPDATE kept.api_keys SET revoked_at = now() WHERE revoked_at IS NULL;
CREATE TEMP TABLE usr AS SELECT
    (kept.user_create(ROW(NULL, 'test', 'req-u')::kept.actor, '{"name": "Ada Admin", "roles": ["admin"], "team": "north"}')->>'id')::bigint AS ada,
    (kept.user_create(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "Sam South", "roles": ["agent"], "team": "south"}')->>'id')::bigint AS sam;
INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT 'ada-key', 'admin', sha256('ada'::bytea), ada FROM usr;
INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT 'sam-key', 'agent', sha256('sam'::bytea), sam FROM usr;
CREATE TEMP TABLE k AS SELECT (SELECT id FROM kept.api_keys WHERE name = 'ada-key') AS ada,
                              (SELECT id FROM kept.api_keys WHERE name = 'sam-key') AS sam;

SELECT is((SELECT team || '/' || array_to_string(roles, ',') || '/' || active FROM kept.users WHERE id = (SELECT sam FROM usr)),
          'south/agent/true', 'a user is created in their team, active');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'user.created' AND request_id = 'req-u'), 1, 'audited');
SELECT is(kept_test.error_code($$SELECT kept.user_create(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "X", "roles": ["boss"]}')$$),
          'invalid_roles', 'roles are agent, supervisor, finance, admin');
SELECT is(kept_test.error_code($$SELECT kept.user_create(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "X", "roles": "agent"}')$$),
          'invalid_roles', 'as a list');
SELECT is(kept_test.error_code($$SELECT kept.user_create(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "X", "roles": ["agent", "agent"]}')$$),
          'invalid_roles', 'each once');

-- changes
SELECT is(kept.user_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT sam FROM usr), 1, '{"name": "Sam Southgate"}')->>'version', '2',
          'a change moves the version');
SELECT is((SELECT payload->>'name' FROM kept.outbox_events WHERE event_type = 'user_renamed'
           AND aggregate_id = (SELECT sam FROM usr)), 'Sam Southgate', 'a new name goes to the outbox (analytics names agents)');
SELECT is(kept_test.error_code($$SELECT kept.user_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT sam FROM usr), 1, '{"team": "east"}')$$),
          'version_mismatch', 'a stale version is refused');
SELECT is(kept_test.error_code($$SELECT kept.user_update(ROW(NULL, 'test', NULL)::kept.actor, 999999999, NULL, '{}')$$),
          'user_not_found', 'an unknown user is not found');
SELECT is(kept_test.error_code($$SELECT kept.user_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT ada FROM usr), NULL, '{"active": false}')$$),
          'last_admin', 'the last administrator cannot be deactivated');
SELECT is(kept_test.error_code($$SELECT kept.user_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT ada FROM usr), NULL, '{"roles": ["agent"]}')$$),
          'last_admin', 'nor lose the admin role');

-- keys made by name: the oldest user of that name, gaining the role
SELECT is((kept.user_for_key_name(ROW(NULL, 'test', NULL)::kept.actor, 'Sam Southgate', 'finance')).roles, '{agent,finance}',
          'a key by name joins the user of that name, who gains the role');
SELECT is((kept.user_for_key_name(ROW(NULL, 'test', NULL)::kept.actor, 'New Person', 'agent')).team, 'default',
          'or makes a user of that name in the default team');

-- creditors and access
SELECT is(kept.creditor_put(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "North Bank", "team": "north"}')->>'team', 'north', 'a creditor and its team');
SELECT kept.creditor_put(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "North Bank", "team": "south"}');
SELECT is((SELECT string_agg(action, ',' ORDER BY id) FROM kept.audit_events WHERE entity_type = 'creditor'
           AND after->>'name' = 'North Bank'), 'creditor.created,creditor.moved', 'creating and moving it are audited');
SELECT kept.creditor_put(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "North Bank", "team": "north"}');
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"US-C","name":"Una User","time_zone":"UTC","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'US-C'), 'external_ref', 'US-A', 'creditor', 'North Bank',
    'original_balance_cents', 10000, 'currency', 'GBP')::jsonb);
SELECT is(kept.access_check((SELECT ada FROM k), 'req-a', 'account', (SELECT id FROM kept.accounts WHERE external_ref = 'US-A'),
          'GET', '/v1/accounts/{id}', '/v1/accounts/1', true, 'id'),
          (SELECT id FROM kept.customers WHERE external_ref = 'US-C'), 'an admin sees any account: its customer');
SELECT is((SELECT count(*)::int FROM kept.access_log WHERE request_id = 'req-a'
           AND customer_id = (SELECT id FROM kept.customers WHERE external_ref = 'US-C')), 1, 'a read of personal data is logged');
SELECT is(kept_test.error_code($$SELECT kept.access_check((SELECT sam FROM k), NULL, 'account',
    (SELECT id FROM kept.accounts WHERE external_ref = 'US-A'), 'GET', '/v1/accounts/{id}', NULL, false, 'id')$$),
    'account_not_found', 'another team''s account does not exist for them');
SELECT is(kept_test.error_code($$SELECT kept.access_check(NULL, NULL, 'plan', 999999999, 'GET', '/v1/plans/{id}', NULL, false, 'id')$$),
    'plan_not_found', 'nor does a plan that is not there');
SELECT is((SELECT json_array_length(kept.access_page((SELECT id::text FROM kept.customers WHERE external_ref = 'US-C'),
           NULL, NULL, NULL, NULL, NULL)->'items')), 1, 'the access log by customer');
SELECT is(kept_test.error_code($$SELECT kept.access_page(NULL, NULL, 'yesterday', NULL, NULL, NULL)$$), 'invalid_time',
          'its from is a time or a date');
SELECT is(ARRAY[kept.parse_instant('2026-03-01'), kept.parse_instant('2026-03-01T10:00:00+01:00'), kept.parse_instant('2026-02-30'),
                kept.parse_instant('1 March')],
          ARRAY['2026-03-01 00:00Z'::timestamptz, '2026-03-01 09:00Z', NULL, NULL],
          'instants: a date is midnight UTC, an RFC 3339 time its moment; anything else none');

SELECT * FROM finish();
ROLLBACK;
