-- Users and teams, sealed personal data, erasure and retention in the
-- database (schema/0020_users.sql, 0021_personal_data.sql,
-- sql/functions/19_users.sql, 35_privacy.sql). The session has a data key
-- (tests/sql/run.sh).
BEGIN;
SELECT plan(26);

-- ---- sealing ----------------------------------------------------------------------------------
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PRIV-C","name":"Priya Private","time_zone":"Europe/London",
    "jurisdiction":"ZZ","phones":[{"number":"+447700900123","consent_automated":true}]}');
CREATE TEMP TABLE c AS SELECT id FROM kept.customers WHERE external_ref = 'PRIV-C';

SELECT is(kept.customer_name((SELECT id FROM c)), 'Priya Private', 'the name opens with the key');
SELECT ok(position('Priya'::bytea IN (SELECT name_enc FROM kept.customers WHERE id = (SELECT id FROM c))) = 0,
          'and is not stored in clear');
SELECT is((SELECT kept.pii_open(customer_id, number_enc) FROM kept.customer_phones WHERE customer_id = (SELECT id FROM c)),
          '+447700900123', 'so is the number');
SELECT isnt((SELECT kept.pii_seal((SELECT id FROM c), 'x')), (SELECT kept.pii_seal((SELECT id FROM c), 'x')),
            'sealing the same value twice gives two ciphertexts (a random IV)');
SELECT is(kept.pii_digest((SELECT id FROM c), '+447700900123'),
          (SELECT number_digest FROM kept.customer_phones WHERE customer_id = (SELECT id FROM c)),
          'the digest says which phone a number is');
SELECT is(kept.pii_open((SELECT id FROM c), overlay(kept.pii_seal((SELECT id FROM c), 'tamper me') PLACING '\xff'::bytea FROM 20)),
          NULL, 'a changed ciphertext does not open');
SELECT ok(kept.crypto_seal(NULL, 'x'::bytea) IS NULL, 'no key seals nothing');

-- ---- the audit log ---------------------------------------------------------------------------
SELECT ok((SELECT after->>'name' FROM kept.audit_events WHERE entity_type = 'customer'
           AND entity_id = (SELECT id FROM c) AND action = 'customer.created') LIKE 'pii:%',
          'the audit log keeps the name sealed');
SELECT ok((SELECT after #>> '{phones,0,number}' FROM kept.audit_events WHERE entity_type = 'customer'
           AND entity_id = (SELECT id FROM c) AND action = 'customer.created') LIKE 'pii:%',
          'and the numbers');
SELECT is((SELECT after #>> '{phones,0,consent_automated}' FROM kept.audit_events WHERE entity_type = 'customer'
           AND entity_id = (SELECT id FROM c) AND action = 'customer.created'), 'true',
          'what is not personal stays readable');

-- ---- erasure ------------------------------------------------------------------------------------
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id', (SELECT id FROM c),
    'external_ref', 'PRIV-A', 'creditor', 'Privacy Bank', 'original_balance_cents', 500, 'currency', 'GBP')::jsonb);
SELECT throws_ok($$SELECT kept.customer_erase(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM c), '{}')$$, 'KRRUL', NULL,
    'an open account keeps the customer');
SELECT kept.payment_post(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('account_id', (SELECT id FROM kept.accounts WHERE external_ref = 'PRIV-A'),
    'amount_cents', 500, 'source', 'card', 'source_ref', 'priv-1')::jsonb, NULL);
SELECT isnt((SELECT closed_at FROM kept.accounts WHERE external_ref = 'PRIV-A'), NULL, 'paid: closed, with the time');
SELECT is((kept.retention_for('ZZ')).jurisdiction, '*', 'no policy of its own: the default');
SELECT is((kept.retention_for('GB-ENG')).jurisdiction, 'GB', 'a subdivision takes its country''s');
SELECT throws_ok($$SELECT kept.customer_erase(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM c), '{}')$$, 'KRRUL', NULL,
    'six years have not passed');
INSERT INTO kept.retention_policies (jurisdiction, retain_days, citation) VALUES ('ZZ', 0, 'test');
SELECT kept.audit_seal(100000);
SELECT lives_ok($$SELECT kept.customer_erase(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM c), '{"reason":"asked"}')$$,
    'closed and past retention: erased');
SELECT is(kept.customer_name((SELECT id FROM c)), NULL, 'the name is gone');
SELECT is((SELECT count(*)::int FROM kept.customer_phones WHERE customer_id = (SELECT id FROM c)), 0, 'the phones too');
SELECT is((SELECT kept.pii_open_text(entity_id, after->>'name') FROM kept.audit_events WHERE entity_type = 'customer'
           AND entity_id = (SELECT id FROM c) AND action = 'customer.created'), NULL,
          'what the audit log sealed cannot be opened any more');
SELECT is((SELECT external_ref FROM kept.accounts WHERE external_ref LIKE 'erased-%' AND customer_id = (SELECT id FROM c)),
          'erased-' || (SELECT id FROM kept.accounts WHERE customer_id = (SELECT id FROM c)), 'references replaced');
SELECT kept.audit_seal(100000);
SELECT is((SELECT ok FROM kept.audit_verify()), true, 'the chain verifies after the erasure');
SELECT throws_ok($$SELECT kept.customer_erase(ROW(NULL, 'test', NULL)::kept.actor, (SELECT id FROM c), '{}')$$, 'KRCFL', NULL,
    'erasing twice is refused');
SELECT ok(kept.pii_seal((SELECT id FROM c), 'again') IS NULL, 'nothing of theirs is sealed again');

-- ---- teams ---------------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.key(p_name text, p_role text, p_team text) RETURNS bigint LANGUAGE sql AS $$
    WITH u AS (INSERT INTO kept.users (name, roles, team) VALUES (p_name, ARRAY[p_role], p_team) RETURNING id)
    INSERT INTO kept.api_keys (name, role, key_hash, user_id) SELECT p_name, p_role, sha256(p_name::bytea), id FROM u
    RETURNING id;
$$;
INSERT INTO kept.creditors (name, team) VALUES ('North Bank', 'north');
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"TEAM-C","name":"Team Person","time_zone":"UTC","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id', (SELECT id FROM kept.customers
    WHERE external_ref = 'TEAM-C'), 'external_ref', 'TEAM-A', 'creditor', 'North Bank', 'original_balance_cents', 500,
    'currency', 'GBP')::jsonb);
CREATE TEMP TABLE k AS SELECT pg_temp.key('north-agent', 'agent', 'north') AS north,
                              pg_temp.key('south-agent', 'agent', 'south') AS south,
                              pg_temp.key('south-admin', 'admin', 'south') AS admin;
SELECT is(kept.viewer_team(NULL), NULL, 'the command line sees everything');
SELECT results_eq($$SELECT kept.team_sees_account(kept.viewer_team(k.north), a.id),
                           kept.team_sees_account(kept.viewer_team(k.south), a.id),
                           kept.team_sees_account(kept.viewer_team(k.admin), a.id)
                    FROM k, kept.accounts a WHERE a.external_ref = 'TEAM-A'$$,
                  $$VALUES (true, false, true)$$, 'an account is its creditor''s team''s, and admins''');
SELECT throws_ok($$SELECT kept.access_check((SELECT south FROM k), NULL, 'account',
                       (SELECT id FROM kept.accounts WHERE external_ref = 'TEAM-A'), 'GET', '/v1/accounts/{id}', '/x',
                       true, 'id')$$, 'KRNFD', NULL, 'another team''s account is not found');

SELECT * FROM finish();
ROLLBACK;
