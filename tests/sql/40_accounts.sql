-- Accounts, their pages and cursors; API key revocation rules.
BEGIN;
SELECT plan(12);

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PAGE-C","name":"Pager","time_zone":"UTC","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id', (SELECT id FROM kept.customers WHERE external_ref = 'PAGE-C'),
    'external_ref', 'PAGE-A' || n, 'creditor', 'Bank', 'original_balance_cents', 1000 * n, 'currency', 'GBP')::jsonb)
FROM generate_series(1, 5) n;

SELECT is(kept.cursor_decode('account', kept.cursor_encode('account', 123456789)), 123456789::bigint, 'cursors round-trip');
SELECT throws_ok($$SELECT kept.cursor_decode('account', kept.cursor_encode('customer', 1))$$, 'KRINV', NULL,
    'a cursor from another list is refused');
SELECT throws_ok($$SELECT kept.cursor_decode('account', 'not a cursor!')$$, 'KRINV', NULL, 'junk is refused');

CREATE TEMP TABLE p1 AS SELECT kept.account_page(NULL, NULL, NULL, (SELECT id::text FROM kept.customers WHERE external_ref = 'PAGE-C'), NULL, NULL, '2')::jsonb AS doc;
SELECT is((SELECT jsonb_array_length(doc->'items') FROM p1), 2, 'a page holds `limit` items');
SELECT isnt((SELECT doc->>'next_cursor' FROM p1), NULL, 'and a cursor when more follow');
CREATE TEMP TABLE p3 AS SELECT kept.account_page(NULL, NULL, NULL, (SELECT id::text FROM kept.customers WHERE external_ref = 'PAGE-C'), NULL,
    (SELECT kept.account_page(NULL, NULL, NULL, (SELECT id::text FROM kept.customers WHERE external_ref = 'PAGE-C'), NULL, (SELECT doc->>'next_cursor' FROM p1), '2')::jsonb->>'next_cursor'), '2')::jsonb AS doc;
SELECT is((SELECT jsonb_array_length(doc->'items') FROM p3), 1, 'the last page holds the rest');
SELECT is((SELECT doc->>'next_cursor' FROM p3), NULL, 'and no cursor');
SELECT is((SELECT kept.account_page(NULL, NULL, NULL, NULL, 'PAGE-A3', NULL, NULL)::jsonb #>> '{items,0,original_balance_cents}'), '3000',
    'filter by external reference');
SELECT throws_ok($$SELECT kept.account_page(NULL, NULL, NULL, NULL, NULL, NULL, '0')$$, 'KRINV', NULL, 'limit 0 is refused');
SELECT throws_ok($$SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, '{"customer_id":999999,"external_ref":"X","creditor":"B","original_balance_cents":1,"currency":"GBP"}')$$,
    'KRRUL', NULL, 'an account needs a customer that exists');

-- API keys: the last admin key stays; revoking twice changes nothing
UPDATE kept.api_keys SET revoked_at = now() WHERE role = 'admin';
-- a key belongs to a user (kept.users): one each here
CREATE FUNCTION pg_temp.key(p_name text, p_role text) RETURNS void LANGUAGE sql AS $$
    WITH u AS (INSERT INTO kept.users (name, roles) VALUES (p_name, ARRAY[p_role]) RETURNING id)
    INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT p_name, p_role, sha256(p_name::bytea), id FROM u;
$$;
SELECT pg_temp.key('only-admin', 'admin');
SELECT throws_ok($$SELECT kept.api_key_revoke(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.api_keys WHERE name = 'only-admin'))$$,
    'KRCFL', NULL, 'the last active admin key cannot be revoked');
SELECT pg_temp.key('agent-1', 'agent');
SELECT kept.api_key_revoke(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.api_keys WHERE name = 'agent-1'));
SELECT kept.api_key_revoke(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM kept.api_keys WHERE name = 'agent-1'));
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'api_key.revoked'
           AND entity_id = (SELECT id FROM kept.api_keys WHERE name = 'agent-1')), 1, 'revoking twice is audited once');

SELECT * FROM finish();
ROLLBACK;
