-- The customer's own page (sql/functions/86_self_service.sql): links made and
-- revoked by agents, nothing about the debt before the visitor proves who
-- they are, five wrong answers lock the link and escalate, a session, a
-- proposal through the agent's own function, rate limits, amounts as typed.
BEGIN;
SELECT plan(24);

CREATE FUNCTION pg_temp.h(p text) RETURNS text LANGUAGE sql RETURN encode(sha256(p::bytea), 'hex');

-- amounts as customers type them
SELECT is(ARRAY[kept.money_parse('25.50', 'GBP'), kept.money_parse('25,5', 'EUR'), kept.money_parse('£1,250.00', 'GBP'),
                kept.money_parse('1.250,00', 'EUR'), kept.money_parse('1,250', 'USD'), kept.money_parse('1500', 'JPY')],
          ARRAY[2550, 2550, 125000, 125000, 125000, 1500]::bigint[], 'either decimal mark, thousands marks of the other');
SELECT is(ARRAY[kept.money_parse('ten', 'GBP'), kept.money_parse('-5', 'GBP'), kept.money_parse('1.2.3', 'GBP')],
          ARRAY[NULL, NULL, 12300]::bigint[], 'words and signs are no amount; a repeated mark groups (1.2.3 is 123.00)');

-- rate limits: a fixed window
SET LOCAL kept.clock = '2026-07-01 10:00:10+00';
SELECT is(ARRAY[kept.rate_hit('t:a', 2, '1 minute'), kept.rate_hit('t:a', 2, '1 minute'), kept.rate_hit('t:a', 2, '1 minute')],
          ARRAY[0, 0, 50], 'the third hit of two a minute waits for the window to end');
SET LOCAL kept.clock = '2026-07-01 10:01:00+00';
SELECT is(kept.rate_hit('t:a', 2, '1 minute'), 0, 'a new window starts again');

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"SS-C","name":"Sally Self","time_zone":"Europe/London",
    "jurisdiction":"GB","date_of_birth":"1984-07-19","postcode":"SW1A 1AA",
    "phones":[{"number":"+447700900881","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'SS-C'), 'external_ref', 'SS-A', 'creditor', 'Bank',
    'original_balance_cents', 100000, 'currency', 'GBP')::jsonb);
CREATE TEMP TABLE a AS SELECT id FROM kept.accounts WHERE external_ref = 'SS-A';

-- links
SELECT is(kept_test.error_code($$SELECT kept.self_service_link_create(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), pg_temp.h('x'),
    '{"expires_in_days": 31}')$$), 'invalid_expiry', 'a link lasts 1 to 30 days');
SELECT is(kept_test.error_code($$SELECT kept.self_service_link_create(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), pg_temp.h('x'),
    '{"send": "pigeon"}')$$), 'invalid_send', 'is sent by text or not at all');
SELECT is(kept_test.error_code($$SELECT kept.self_service_link_create(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), pg_temp.h('x'),
    '{"send": "sms", "number": "+447700900999"}')$$), 'unknown_number', 'only to a number of the customer''s');
CREATE TEMP TABLE l1 AS SELECT kept.self_service_link_create(ROW(NULL, 'agent', 'req-l')::kept.actor, (SELECT id FROM a), pg_temp.h('tok-1'),
    '{}')::jsonb AS doc;
SELECT is((SELECT doc->>'status' FROM l1), 'active', 'a new link is active');
SELECT is((SELECT doc->>'expires_at' FROM l1), '2026-07-08T10:01:00.000000Z', 'for a week by default');

-- nothing about the debt before the visitor proves who they are
SELECT is(kept.page_view(pg_temp.h('no such token'), NULL, 'addr-1', NULL)::jsonb, '{"view": "invalid", "retry_after": null}',
          'an unknown token shows nothing');
CREATE TEMP TABLE v1 AS SELECT kept.page_view(pg_temp.h('tok-1'), NULL, 'addr-1', NULL)::jsonb AS doc;
SELECT is((SELECT doc->>'view' || '/' || (doc->>'date_of_birth_postcode') || '/' || (doc->>'tries_left') FROM v1),
          'identity/true/5', 'a link first asks who you are');
SELECT ok((SELECT NOT (doc ? 'balance_cents') AND doc::text !~ 'Bank|SS-A|Sally' FROM v1), 'and says nothing of the debt');
SELECT is(kept.page_verify(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL, '19840719', 'SW1A 1AA')::jsonb->>'error',
          'incomplete', 'a date that is not one is a slip, not counted');
SELECT is(kept.page_verify(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL, '1984-07-20', 'SW1A 1AA')::jsonb->>'tries_left',
          '4', 'a wrong answer is counted');
SELECT is(kept.page_verify(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL, '1984-07-19', 'sw1a1aa')::jsonb->>'view',
          'verified', 'the right answers, the postcode written any way, begin a session');
CREATE TEMP TABLE v2 AS SELECT kept.page_view(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL)::jsonb AS doc;
SELECT is((SELECT doc->>'view' || '/' || (doc->>'first_name') || '/' || (doc->>'balance_cents') FROM v2), 'account/Sally/100000',
          'in the session, the account');
SELECT is(kept.page_view(pg_temp.h('tok-1'), pg_temp.h('someone else'), 'addr-2', NULL)::jsonb->>'view', 'identity',
          'another cookie is not the session');

-- a proposal through the agent's own function
SELECT is(kept.page_propose(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', 'req-p',
          jsonb_build_object('amount', '25.00', 'first_due_date', (kept.local_today('Europe/London') + 7)::text))::jsonb->>'view',
          'proposal', 'the customer''s own amount is evaluated');
SELECT is((SELECT weekly_amount_cents FROM kept.proposals WHERE account_id = (SELECT id FROM a)), 2500::bigint,
          'and recorded as a proposal');
SELECT is(kept.page_propose(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL,
          '{"amount": "lots", "first_due_date": "2026-07-08"}')::jsonb->>'error', 'invalid_amount', 'an amount that is not one');

-- five wrong answers lock the link and escalate; revoking ends sessions
SELECT kept.self_service_link_create(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT id FROM a), pg_temp.h('tok-2'), '{}');
SELECT kept.page_verify(pg_temp.h('tok-2'), NULL, 'addr-3', NULL, '2000-01-01', 'X1 1XX') FROM generate_series(1, 4);
SELECT is(kept.page_verify(pg_temp.h('tok-2'), NULL, 'addr-3', NULL, '2000-01-01', 'X1 1XX')::jsonb->>'view', 'locked',
          'the fifth wrong answer locks the link');
SELECT is((SELECT count(*)::int FROM kept.escalations WHERE account_id = (SELECT id FROM a) AND reason = 'self_service_locked'), 1,
          'and opens an escalation');
SELECT kept.self_service_link_revoke(ROW(NULL, 'agent', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM l1), 'sent to the wrong person');
SELECT is(kept.page_view(pg_temp.h('tok-1'), pg_temp.h('sess-1'), 'addr-1', NULL)::jsonb->>'view', 'revoked',
          'a revoked link shows only that');
SELECT is((SELECT count(*)::int FROM kept.self_service_sessions WHERE link_id = (SELECT (doc->>'id')::bigint FROM l1)
           AND ended_at IS NULL), 0, 'and its sessions have ended');

SELECT * FROM finish();
ROLLBACK;
