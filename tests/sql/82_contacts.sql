-- Contacts from every channel (sql/functions/82_contacts.sql): logging one,
-- its refusals, what it counts as for the Reg F call rules, a wrong party
-- stopping automated calls to the number, the conversation a negotiation
-- stands for, and the account's list.
BEGIN;
SELECT plan(17);

SET LOCAL kept.clock = '2026-05-04 15:00:00+00';
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"CT-C","name":"Cora Contact","time_zone":"America/Chicago",
    "jurisdiction":"US-IL","phones":[{"number":"+13125550147","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'CT-C'), 'external_ref', 'CT-A', 'creditor', 'Bank',
    'original_balance_cents', 40000, 'currency', 'USD')::jsonb);
CREATE TEMP TABLE a AS SELECT id FROM kept.accounts WHERE external_ref = 'CT-A';

CREATE TEMP TABLE c1 AS SELECT kept.contact_log(ROW(NULL, 'agent', 'req-c')::kept.actor, (SELECT id FROM a), '{"channel": "phone",
    "direction": "outbound", "outcome": "conversation", "number": "+13125550147", "note": "agreed to call back"}')::jsonb AS doc;
SELECT is((SELECT doc->>'number_last4' || '/' || (doc->>'occurred_at') FROM c1), '0147/2026-05-04T15:00:00.000000Z',
          'a logged contact shows the number''s last four digits, at kept''s clock');
SELECT is((SELECT doc->>'counts_as' FROM c1),
          'a telephone conversation: no call about this debt in the 7 days from its date, and an attempt in 7-in-7',
          'an outbound conversation an agent logged counts for both Reg F rules');
SELECT ok((SELECT position('+13125550147'::bytea IN number_enc) = 0 FROM kept.contacts
           WHERE id = (SELECT (doc->>'id')::bigint FROM c1)), 'the number is sealed');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'contact.logged' AND request_id = 'req-c'), 1, 'audited');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE event_type = 'contact_logged'
           AND aggregate_id = (SELECT (doc->>'id')::bigint FROM c1)), 1, 'and sent to the outbox');
SELECT is(kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), '{"channel": "letter", "direction": "outbound",
    "outcome": "left_message", "occurred_at": "2026-05-01T10:00:00Z"}')::jsonb->>'counts_as',
    'not a telephone contact: no Reg F call rule counts it', 'a letter counts in no call rule');
SELECT is(kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), '{"channel": "phone", "direction": "inbound",
    "outcome": "no_answer"}')::jsonb->>'counts_as', 'an inbound call that reached nobody: counts in no rule',
    'nor an inbound call that reached nobody');

-- refusals
SELECT is(kept_test.error_code($$SELECT kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a),
    '{"channel": "pigeon", "direction": "inbound", "outcome": "conversation"}')$$), 'invalid_contact_channel', 'an unknown channel');
SELECT is(kept_test.error_code($$SELECT kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a),
    '{"channel": "phone", "direction": "outbound", "outcome": "conversation"}')$$), 'missing_value',
    'an outbound call names the number called');
SELECT is(kept_test.error_code($$SELECT kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a),
    '{"channel": "phone", "direction": "inbound", "outcome": "conversation", "occurred_at": "2026-05-04T16:00:00Z"}')$$),
    'contact_in_future', 'a contact is logged after it happened');
SELECT is(kept_test.error_code($$SELECT kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, 999999999,
    '{"channel": "email", "direction": "inbound", "outcome": "conversation"}')$$), 'account_not_found', 'an unknown account');

-- a wrong party: automated calls to that number stop and someone finds a new one
SELECT kept.contact_log(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), '{"channel": "phone", "direction": "outbound",
    "outcome": "wrong_party", "number": "+13125550147"}');
SELECT ok((SELECT wrong_party_at = '2026-05-04 15:00:00+00' FROM kept.customer_phones
           WHERE customer_id = (SELECT customer_id FROM kept.accounts WHERE id = (SELECT id FROM a))),
          'a wrong party marks the number');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE account_id = (SELECT id FROM a) AND reason = 'wrong_party'), 1,
          'and opens an escalation');

-- a negotiation recorded by an agent stands for a telephone conversation; imported history for none
SELECT kept.negotiation_contact(NULL, x, '{}', 'proposal', 42) FROM kept.accounts x WHERE x.id = (SELECT id FROM a);
SELECT kept.negotiation_contact(NULL, x, '{"imported": true}', 'plan', 43) FROM kept.accounts x WHERE x.id = (SELECT id FROM a);
SELECT results_eq($$SELECT channel, outcome, source FROM kept.contacts WHERE account_id = (SELECT id FROM a)
                    AND source_id IN (42, 43)$$, $$VALUES ('phone'::text, 'conversation'::text, 'proposal'::text)$$,
                  'a negotiation is a telephone conversation unless imported');
SELECT is(kept_test.error_code($$SELECT kept.negotiation_contact(NULL, x, '{"contact_channel": "fax"}', 'proposal', 44)
    FROM kept.accounts x WHERE x.id = (SELECT id FROM a)$$), 'invalid_contact_channel', 'its channel is checked');

-- the list: oldest first, in pages
SELECT is((SELECT json_array_length(kept.contact_page((SELECT id FROM a), NULL, '2')->'items')), 2, 'a page of two');
SELECT is((SELECT string_agg(i->>'channel', ',') FROM json_array_elements(kept.contact_page((SELECT id FROM a),
           kept.contact_page((SELECT id FROM a), NULL, '2')->>'next_cursor', '10')->'items') i),
          'phone,phone,phone', 'the next page continues where it ended');

SELECT * FROM finish();
ROLLBACK;
