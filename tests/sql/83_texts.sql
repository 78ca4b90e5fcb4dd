-- Text messages (sql/functions/83_texts.sql): which number is texted,
-- queueing judged at once on kept's clock (cleared, held to the next allowed
-- moment, blocked when that comes too late or a rule forbids it), the words
-- sealed, STOP / START / HELP from any number, recorded once per MessageSid.
BEGIN;
SELECT plan(19);

CREATE FUNCTION pg_temp.queue(p_number text, p_useful_until timestamptz DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
    SELECT kept.message_queue(ROW(NULL, 'test', NULL)::kept.actor, c.id, a.id, NULL, 'confirmation', p_number, 'en', 'Your payment of £10 is due',
                              NULL, p_useful_until)::jsonb
    FROM kept.customers c JOIN kept.accounts a ON a.customer_id = c.id WHERE c.external_ref = 'TX-C';
$$;

SELECT is(ARRAY[kept.text_keyword(' stop. '), kept.text_keyword('Unsubscribe'), kept.text_keyword('START!'),
                kept.text_keyword('info'), kept.text_keyword('stop calling me')],
          ARRAY['stop', 'stop', 'start', 'help', NULL], 'keywords are whole messages, case and punctuation aside');

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"TX-C","name":"Tess Texter","time_zone":"Europe/London",
    "jurisdiction":"GB","phones":[{"number":"+447700900701","consent_automated":true},
                                  {"number":"+447700900702","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'TX-C'), 'external_ref', 'TX-A', 'creditor', 'Bank',
    'original_balance_cents', 10000, 'currency', 'GBP')::jsonb);
CREATE TEMP TABLE cu AS SELECT id FROM kept.customers WHERE external_ref = 'TX-C';
UPDATE kept.customer_phones SET consent_texts = true WHERE customer_id = (SELECT id FROM cu) AND position = 2;

SELECT is(kept.text_number((SELECT id FROM cu), NULL), '+447700900702', 'the number with consent to texts');
SELECT is(kept.text_number((SELECT id FROM cu), '+447700900701'), '+447700900701', 'unless another of theirs is asked for');

-- at noon in London: sent
SET LOCAL kept.clock = '2026-06-10 11:00:00+00';
CREATE TEMP TABLE m1 AS SELECT pg_temp.queue('+447700900702') AS doc;
SELECT is((SELECT doc->>'state' || '/' || coalesce(doc->>'rule', 'none') FROM m1), 'queued/none', 'inside the window it may go');
SELECT ok((SELECT doc->>'decision' LIKE 'Cleared at %' FROM m1), 'and says why');
SELECT ok((SELECT position('Your payment'::bytea IN body_enc) = 0 FROM kept.messages WHERE id = (SELECT (doc->>'id')::bigint FROM m1)),
          'its words are sealed');
SELECT is((SELECT doc->>'body' FROM m1), 'Your payment of £10 is due', 'and open for staff');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE action = 'message.queued'
           AND entity_id = (SELECT (doc->>'id')::bigint FROM m1)), 1, 'audited');
SELECT is((SELECT doc->>'rule' FROM (SELECT pg_temp.queue('+447700900701') AS doc) x), 'no_consent',
          'a number without consent to texts is never texted');

-- at 22:30 in London: held to the morning, or blocked when the morning is too late
SET LOCAL kept.clock = '2026-06-10 21:30:00+00';
CREATE TEMP TABLE m2 AS SELECT pg_temp.queue('+447700900702') AS doc;
SELECT is((SELECT doc->>'state' || '/' || (doc->>'rule') FROM m2), 'queued/calling_window', 'after 21:00 it is held');
SELECT ok((SELECT (doc->>'next_attempt_at')::timestamptz BETWEEN '2026-06-11 07:00+00' AND '2026-06-11 07:15+00' FROM m2),
          'until 08:00 local time (07:00 UTC in summer)');
SELECT is((SELECT doc->>'state' || '/' || (doc->>'rule') FROM (SELECT pg_temp.queue('+447700900702',
           '2026-06-10 21:40:00+00') AS doc) x), 'blocked/calling_window', 'a text of no use by then is blocked');
SELECT is(kept_test.error_code($$SELECT pg_temp.queue(NULL)$$), 'no_phone', 'a customer without a number cannot be texted');

-- STOP from the number: no more texts to it, whoever's it is, until START
SELECT is(kept.message_inbound('SM1', '+447700900702', '+15550000100', 'STOP')::jsonb,
          '{"keyword": "stop", "language": "en", "duplicate": false}', 'STOP is recorded');
SELECT is(kept.message_inbound('SM1', '+447700900702', '+15550000100', 'STOP')::jsonb->>'duplicate', 'true',
          'once per MessageSid');
SELECT is((SELECT consent_texts FROM kept.customer_phones WHERE customer_id = (SELECT id FROM cu) AND position = 2), false,
          'the number''s consent to texts is gone');
SET LOCAL kept.clock = '2026-06-11 11:00:00+00';
SELECT is((SELECT pg_temp.queue('+447700900702')->>'rule'), 'opted_out', 'a text to it is blocked: opted out');
SELECT kept.message_inbound('SM2', '+447700900702', '+15550000100', 'start');
SELECT is((SELECT pg_temp.queue('+447700900702')->>'rule'), NULL, 'START from the number lets texts go again');
SELECT is(kept_test.error_code($$SELECT kept.message_inbound('SM3', 'not a number', NULL, 'hi')$$), 'invalid_phone',
          'From must be a number');

SELECT * FROM finish();
ROLLBACK;
