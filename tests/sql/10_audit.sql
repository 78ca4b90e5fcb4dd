-- The audit log: written with every change, append-only, hash-chained so
-- that tampering and truncation are detected.
BEGIN;
SELECT plan(20);

SELECT lives_ok($$SELECT kept.customer_create(ROW(NULL, 'test', 'req-a')::kept.actor,
    '{"external_ref":"AUD-1","name":"Audit One","time_zone":"Europe/London","jurisdiction":"GB"}')$$,
    'a customer is created');
SELECT lives_ok($$SELECT kept.customer_update(ROW(NULL, 'test', 'req-b')::kept.actor,
    (SELECT id FROM kept.customers WHERE external_ref = 'AUD-1'), NULL, '{"name":"Audit Uno"}')$$,
    'and updated');

SELECT results_eq($$SELECT action, actor, request_id FROM kept.audit_events
                    WHERE entity_type = 'customer' AND entity_id = (SELECT id FROM kept.customers WHERE external_ref = 'AUD-1')
                    ORDER BY chain_seq$$,
                  $$VALUES ('customer.created', 'test', 'req-a'), ('customer.updated', 'test', 'req-b')$$,
                  'each change wrote one audit event with its actor and request');
-- personal values sealed under the customer's data key: readable with the key
SELECT is((SELECT kept.pii_open_text(entity_id, before->>'name') || ' -> ' || kept.pii_open_text(entity_id, after->>'name')
           FROM kept.audit_events WHERE action = 'customer.updated' ORDER BY id DESC LIMIT 1),
          'Audit One -> Audit Uno', 'the update records before and after');
SELECT is((SELECT unsealed FROM kept.audit_verify()) >= 2, true, 'new events wait to be sealed');
SELECT ok(kept.audit_seal(100000) >= 2, 'the sealer chains them');
SELECT is((SELECT ok FROM kept.audit_verify()), true, 'the chain verifies');
SELECT is((SELECT unsealed FROM kept.audit_verify()), 0::bigint, 'nothing left unsealed');
SELECT throws_ok($$UPDATE kept.audit_events SET hash = hash WHERE chain_seq IS NOT NULL$$, 'KR409', NULL,
    'a sealed event cannot be sealed again');

SELECT throws_ok($$UPDATE kept.audit_events SET actor = 'mallory'$$, 'KR409', NULL, 'UPDATE is refused');
SELECT throws_ok($$DELETE FROM kept.audit_events$$, 'KR409', NULL, 'DELETE is refused');
SELECT throws_ok($$TRUNCATE kept.audit_events$$, 'KR409', NULL, 'TRUNCATE is refused');

-- A superuser can get past the triggers; the chain still gives it away.
SAVEPOINT tamper;
ALTER TABLE kept.audit_events DISABLE TRIGGER USER;
UPDATE kept.audit_events SET after = jsonb_set(after, '{name}', '"Forged"')
WHERE action = 'customer.updated';
SELECT is((SELECT ok FROM kept.audit_verify()), false, 'an edited event breaks the chain');
SELECT is((SELECT first_bad_seq FROM kept.audit_verify()),
          (SELECT chain_seq FROM kept.audit_events WHERE action = 'customer.updated' ORDER BY chain_seq DESC LIMIT 1),
          'and the first bad event is named');
ROLLBACK TO SAVEPOINT tamper;

SAVEPOINT cut;
ALTER TABLE kept.audit_events DISABLE TRIGGER USER;
DELETE FROM kept.audit_events WHERE chain_seq = (SELECT max(chain_seq) FROM kept.audit_events);
SELECT is((SELECT ok FROM kept.audit_verify()), false, 'removing the newest event is detected');
ROLLBACK TO SAVEPOINT cut;

SELECT is((SELECT ok FROM kept.audit_verify()), true, 'the untouched chain still verifies');

-- The actor is one kept.actor (schema/0032_actor.sql): its three parts are
-- the event's actor_key_id, actor and request_id.
SELECT lives_ok($$SELECT kept.audit_write(ROW(424242, 'ann (agent)', 'req-actor')::kept.actor, 'thing.done', 'thing', 7,
                                          NULL, '{"n": 1}')$$,
                'an event is written by an actor');
SELECT results_eq($$SELECT actor_key_id, actor, request_id FROM kept.audit_events WHERE action = 'thing.done'$$,
                  $$VALUES (424242::bigint, 'ann (agent)', 'req-actor')$$,
                  'the event records the actor''s key, name and request');
SELECT results_eq($$SELECT actor_key_id, actor, request_id FROM kept.audit_events WHERE request_id = 'req-a'$$,
                  $$VALUES (NULL::bigint, 'test', 'req-a')$$,
                  'a write function hands its actor on whole (no key: NULL)');
-- no function takes the three parts as parameters any more; each that takes an actor takes it first
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
           WHERE p.pronamespace = 'kept'::regnamespace
             AND ('p_request_id' = ANY (p.proargnames) AND 'p_actor' = ANY (p.proargnames)
                  OR 'kept.actor'::regtype = ANY (p.proargtypes)
                     AND (p.proargtypes[0] <> 'kept.actor'::regtype OR p.proargnames[1] <> 'p_actor'))),
          NULL, 'every function that takes an actor takes one kept.actor, first, as p_actor');

SELECT * FROM finish();
ROLLBACK;
