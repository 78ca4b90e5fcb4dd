-- API keys (sql/functions/20_api_keys.sql): creation for a user or by name
-- and role, its refusals, the record the API shows (never the hash), and who
-- a presented key is, in each of its states. (Revocation: 40_accounts.sql.)
BEGIN;
SELECT plan(16);

CREATE FUNCTION pg_temp.hash(p_key text) RETURNS text LANGUAGE sql RETURN encode(sha256(p_key::bytea), 'hex');

INSERT INTO kept.users (name, roles, team) VALUES ('Kim Keys', '{agent,supervisor}', 'north'), ('Gone User', '{agent}', 'north');
UPDATE kept.users SET active = false WHERE name = 'Gone User';
CREATE TEMP TABLE u AS SELECT (SELECT id FROM kept.users WHERE name = 'Kim Keys') AS kim,
                              (SELECT id FROM kept.users WHERE name = 'Gone User') AS gone;

CREATE TEMP TABLE k1 AS SELECT kept.api_key_create(ROW(NULL, 'test', 'req-k')::kept.actor, jsonb_build_object('user_id', (SELECT kim FROM u)),
    pg_temp.hash('key-one'))::jsonb AS doc;
SELECT is((SELECT doc->>'name' || '/' || coalesce(doc->>'role', 'every role') FROM k1), 'Kim Keys/every role',
          'a key of a user, named after them, acting in every role they hold');
SELECT ok((SELECT NOT (doc ? 'key_hash') AND doc::text !~ pg_temp.hash('key-one') FROM k1), 'the record never shows the hash');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'api_key.created'
           AND entity_id = (SELECT (doc->>'id')::bigint FROM k1) AND request_id = 'req-k'), 1, 'creation is audited');
SELECT results_eq($$SELECT user_name, team, roles, state FROM kept.api_key_authenticate(pg_temp.hash('key-one'))$$,
    $$VALUES ('Kim Keys'::text, 'north'::text, 'agent,supervisor'::text, 'ok'::text)$$, 'the key authenticates as its user');

SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('user_id', (SELECT kim FROM u), 'role', 'agent',
    'name', 'kim-agent', 'expires_at', kept.ts(now() + interval '1 day')), pg_temp.hash('key-two'));
SELECT is((SELECT roles FROM kept.api_key_authenticate(pg_temp.hash('key-two'))), 'agent', 'a key with a role acts in that one');
SELECT is((SELECT count(*)::int FROM kept.api_key_authenticate(pg_temp.hash('no such key'))), 0, 'an unknown key is no one');
UPDATE kept.api_keys SET expires_at = now() - interval '1 second' WHERE name = 'kim-agent';
SELECT is((SELECT state FROM kept.api_key_authenticate(pg_temp.hash('key-two'))), 'expired', 'an expired key says so');
SELECT kept.api_key_revoke(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM k1));
SELECT is((SELECT state FROM kept.api_key_authenticate(pg_temp.hash('key-one'))), 'revoked', 'a revoked key says so');
INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT 'gone-key', 'agent', sha256('key-gone'::bytea), gone FROM u;
SELECT is((SELECT state || '/' || roles FROM kept.api_key_authenticate(pg_temp.hash('key-gone'))), 'inactive/',
          'a key of an inactive user acts in no role');

-- refusals
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('user_id', (SELECT kim FROM u), 'role', 'root'), pg_temp.hash('x1'))$$), 'invalid_role', 'an unknown role');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('user_id', (SELECT kim FROM u), 'role', 'admin'), pg_temp.hash('x2'))$$), 'role_not_held',
    'a role the user does not hold');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    '{"user_id": 999999999}', pg_temp.hash('x3'))$$), 'unknown_user', 'an unknown user');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('user_id', (SELECT gone FROM u)), pg_temp.hash('x4'))$$), 'user_inactive', 'an inactive user');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('user_id', (SELECT kim FROM u), 'expires_at', '2020-01-01T00:00:00Z'), pg_temp.hash('x5'))$$),
    'expiry_in_past', 'an expiry in the past');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor,
    jsonb_build_object('user_id', (SELECT kim FROM u), 'expires_at', 'tomorrow'), pg_temp.hash('x6'))$$),
    'invalid_time', 'an expiry that is not a time');
SELECT is(kept_test.error_code($$SELECT kept.api_key_create(ROW(NULL, 'test', NULL)::kept.actor, '{"name": "no-role"}', pg_temp.hash('x7'))$$),
    'missing_field', 'neither a user nor a name and role');

SELECT * FROM finish();
ROLLBACK;
