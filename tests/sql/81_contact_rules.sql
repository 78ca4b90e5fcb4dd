-- The contact rules, table-driven: each case is a customer (zone,
-- jurisdiction, numbers, inconvenient times), a history (kept's calls,
-- conversations, agents' contacts, consent to a reminder) and a moment; the
-- rule kept.calls_rules gives, and when the call may go, are checked at
-- every boundary: the window across both DST changes and in every zone kept
-- knows, 7 x 24 hours, the day count after a conversation, spacing,
-- Massachusetts' two windows, inconvenient times, excluded calls.
-- Then the claim: the provider's pace and the window's end.
BEGIN;
SELECT plan(92);

-- every date below is in the past of this clock, so imported plans may start then
SET LOCAL kept.clock = '2026-12-31T00:00:00Z';

CREATE TEMP TABLE cases (
    name        text PRIMARY KEY,
    zone        text NOT NULL DEFAULT 'America/New_York',
    jurisdiction text NOT NULL DEFAULT 'US-NY',
    phones      jsonb NOT NULL DEFAULT '[{"number": "+15550100001", "consent_automated": true}]',
    inconvenient jsonb NOT NULL DEFAULT '[]',
    history     jsonb NOT NULL DEFAULT '[]',
    at          timestamptz NOT NULL,
    rule        text,        -- NULL: it may go
    retry_at    timestamptz, -- when a held call may go
    excluded    boolean NOT NULL DEFAULT false
);

-- New York is UTC-5 (EST) and UTC-4 (EDT, 8 March to 1 November 2026); Los Angeles three hours behind.
INSERT INTO cases (name, at, rule, retry_at) VALUES
    -- the window's edges, with the minute a dial needs before it closes
    ('window: 07:59:59 New York', '2026-02-10T12:59:59Z', 'calling_window', '2026-02-10T13:00:00Z'),
    ('window: 08:00 New York', '2026-02-10T13:00:00Z', NULL, NULL),
    ('window: 20:59:00 New York', '2026-02-11T01:59:00Z', NULL, NULL),
    ('window: 20:59:01 New York', '2026-02-11T01:59:01Z', 'calling_window', '2026-02-11T13:00:00Z'),
    -- DST: the night before each change, the window opens at the new offset
    ('window: spring forward, 07:30 EDT', '2026-03-08T11:30:00Z', 'calling_window', '2026-03-08T12:00:00Z'),
    ('window: spring forward, the evening before', '2026-03-08T02:30:00Z', 'calling_window', '2026-03-08T12:00:00Z'),
    ('window: fall back, 07:30 EST', '2026-11-01T12:30:00Z', 'calling_window', '2026-11-01T13:00:00Z'),
    ('window: fall back, the evening before', '2026-11-01T01:30:00Z', 'calling_window', '2026-11-01T13:00:00Z');

-- every known location: a New York address with a Los Angeles (213) number
INSERT INTO cases (name, phones, at, rule, retry_at) VALUES
    ('zones: 09:00 New York is 06:00 on the 213 number', '[{"number": "+12135550101", "consent_automated": true}]',
     '2026-02-10T14:00:00Z', 'calling_window', '2026-02-10T16:00:00Z'),
    ('zones: 11:00 New York is 08:00 Los Angeles', '[{"number": "+12135550101", "consent_automated": true}]',
     '2026-02-10T16:00:00Z', NULL, NULL),
    ('zones: 21:00 New York closes it whatever Los Angeles says', '[{"number": "+12135550101", "consent_automated": true}]',
     '2026-02-11T02:00:00Z', 'calling_window', '2026-02-11T16:00:00Z'),
    ('zones: a second number counts too', '[{"number": "+15550100001", "consent_automated": true},
                                            {"number": "+18085550102", "consent_automated": false}]',
     '2026-02-10T16:00:00Z', 'calling_window', '2026-02-10T18:00:00Z');

-- times the customer said are inconvenient (their zone)
INSERT INTO cases (name, inconvenient, at, rule, retry_at) VALUES
    ('inconvenient: weekday 10:00', '[{"days": ["mon","tue","wed","thu","fri"], "from": "09:00", "to": "17:00"}]',
     '2026-02-10T15:00:00Z', 'inconvenient_time', '2026-02-10T22:00:00Z'),
    ('inconvenient: the minute before it starts', '[{"days": ["tue"], "from": "09:00", "to": "17:00"}]',
     '2026-02-10T13:59:30Z', 'inconvenient_time', '2026-02-10T22:00:00Z'),
    ('inconvenient: two minutes before it starts', '[{"days": ["tue"], "from": "09:00", "to": "17:00"}]',
     '2026-02-10T13:58:00Z', NULL, NULL),
    ('inconvenient: not on Saturday', '[{"days": ["mon","tue","wed","thu","fri"], "from": "09:00", "to": "17:00"}]',
     '2026-02-14T15:00:00Z', NULL, NULL),
    ('inconvenient: all evening, next morning', '[{"days": ["tue"], "from": "17:00", "to": "24:00"}]',
     '2026-02-10T23:00:00Z', 'inconvenient_time', '2026-02-11T13:00:00Z');

-- Reg F 7-in-7 (per debt): 7 x 24 hours back, and the local calendar days
INSERT INTO cases (name, history, at, rule, retry_at) VALUES
    ('7-in-7: the 8th call at exactly 168 hours', (SELECT jsonb_agg(jsonb_build_object('kind', 'call', 'number', '+15550109999',
        'at', '2026-02-02T15:00:00Z'::timestamptz + d * interval '1 day')) FROM generate_series(0, 6) d),
     '2026-02-09T15:00:00Z', 'reg_f_7_in_7', '2026-02-09T15:00:01Z'),
    ('7-in-7: a second later', (SELECT jsonb_agg(jsonb_build_object('kind', 'call', 'number', '+15550109999',
        'at', '2026-02-02T15:00:00Z'::timestamptz + d * interval '1 day')) FROM generate_series(0, 6) d),
     '2026-02-09T15:00:01Z', NULL, NULL),
    ('7-in-7: 168 hours across the fall back is 09:00 EST', (SELECT jsonb_agg(jsonb_build_object('kind', 'call', 'number', '+15550109999',
        'at', '2026-10-31T14:00:00Z'::timestamptz + d * interval '1 hour')) FROM generate_series(0, 6) d),
     '2026-11-07T14:00:00Z', 'reg_f_7_in_7', '2026-11-07T14:00:01Z'),
    ('7-in-7: failed calls never rang (1006.14(b)(3)(ii))', (SELECT jsonb_agg(jsonb_build_object('kind', 'call', 'number', '+15550109999',
        'state', 'failed', 'at', '2026-02-02T15:00:00Z'::timestamptz + d * interval '1 day')) FROM generate_series(0, 6) d),
     '2026-02-09T14:00:00Z', NULL, NULL),
    ('7-in-7: an agent''s outbound calls count', (SELECT jsonb_agg(jsonb_build_object('kind', CASE WHEN d < 4 THEN 'call' ELSE 'outbound' END,
        'number', '+15550109999', 'outcome', 'no_answer', 'at', '2026-02-02T15:00:00Z'::timestamptz + d * interval '1 day'))
        FROM generate_series(0, 6) d),
     '2026-02-09T14:00:00Z', 'reg_f_7_in_7', '2026-02-09T15:00:01Z'),
    ('7-in-7: a customer''s calls in do not', (SELECT jsonb_agg(jsonb_build_object('kind', CASE WHEN d < 4 THEN 'call' ELSE 'inbound' END,
        'number', '+15550109999', 'outcome', 'no_answer', 'at', '2026-02-02T15:00:00Z'::timestamptz + d * interval '1 day'))
        FROM generate_series(0, 6) d),
     '2026-02-09T14:00:00Z', NULL, NULL);

-- Reg F: no call in the 7 days from a telephone conversation's date (Thursday 13 August: the next from Thursday 20)
INSERT INTO cases (name, history, at, rule, retry_at) VALUES
    ('conversation: day 7, 20:00', '[{"kind": "conversation", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-20T00:00:00Z', 'reg_f_conversation', '2026-08-20T12:00:00Z'),
    ('conversation: day 8, 08:00', '[{"kind": "conversation", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-20T12:00:00Z', NULL, NULL),
    ('conversation: counted in days, not hours', '[{"kind": "conversation", "at": "2026-08-13T23:30:00Z"}]',
     '2026-08-20T12:00:00Z', NULL, NULL),
    ('conversation: an agent''s, logged', '[{"kind": "inbound", "outcome": "conversation", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-18T14:00:00Z', 'reg_f_conversation', '2026-08-20T12:00:00Z'),
    ('conversation: a negotiation by telephone', '[{"kind": "negotiation", "channel": "phone", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-18T14:00:00Z', 'reg_f_conversation', '2026-08-20T12:00:00Z'),
    ('conversation: a negotiation by email is none', '[{"kind": "negotiation", "channel": "email", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-18T14:00:00Z', NULL, NULL);

-- an excluded call: the customer's consent, given directly, to a call within seven days
INSERT INTO cases (name, history, at, rule, retry_at, excluded) VALUES
    ('consent: a reminder two days after the conversation', '[{"kind": "conversation", "at": "2026-08-13T19:00:00Z"},
                                                             {"kind": "consent", "at": "2026-08-13T19:00:00Z"}]',
     '2026-08-15T14:00:00Z', NULL, NULL, true),
    ('consent: ends with the next conversation', '[{"kind": "consent", "at": "2026-08-13T19:00:00Z"},
                                                  {"kind": "conversation", "at": "2026-08-14T15:00:00Z"}]',
     '2026-08-15T14:00:00Z', 'reg_f_conversation', '2026-08-21T12:00:00Z', false),
    ('consent: ends after seven days', (SELECT jsonb_build_array(jsonb_build_object('kind', 'consent', 'at', '2026-08-13T19:00:00Z'))
        || jsonb_agg(jsonb_build_object('kind', 'call', 'number', '+15550109999',
                                        'at', '2026-08-14T15:00:00Z'::timestamptz + d * interval '1 hour')) FROM generate_series(0, 6) d),
     '2026-08-20T14:00:00Z', 'reg_f_7_in_7', '2026-08-21T15:00:01Z', false);

-- spacing: one automated attempt per number per local day, and the gap, across every debt
INSERT INTO cases (name, history, at, rule, retry_at) VALUES
    ('spacing: the same day', '[{"kind": "call", "number": "+15550100001", "at": "2026-02-10T15:00:00Z"}]',
     '2026-02-10T20:00:00Z', 'spacing', '2026-02-11T13:00:00Z'),
    ('spacing: the next morning', '[{"kind": "call", "number": "+15550100001", "at": "2026-02-10T15:00:00Z"}]',
     '2026-02-11T13:00:00Z', NULL, NULL),
    ('spacing: another debt of the customer, same number', '[{"kind": "other_debt", "number": "+15550100001", "at": "2026-02-10T15:00:00Z"}]',
     '2026-02-10T15:00:30Z', 'spacing', '2026-02-11T13:00:00Z'),
    ('spacing: another number is another number', '[{"kind": "call", "number": "+15550100002", "at": "2026-02-10T15:00:00Z"}]',
     '2026-02-10T15:00:30Z', NULL, NULL),
    ('spacing: the gap (13 hours here) past the day''s end', '[{"kind": "call", "number": "+15550100001", "at": "2026-02-11T01:00:00Z"},
                                                              {"kind": "gap", "minutes": 780}]',
     '2026-02-11T13:00:00Z', 'spacing', '2026-02-11T14:00:00Z');

-- Massachusetts, 940 CMR 7.04(1)(f): two in seven days to personal numbers, two in thirty days to others, per debt
INSERT INTO cases (name, jurisdiction, phones, history, at, rule, retry_at) VALUES
    ('MA: a third call to a mobile in 7 days', 'US-MA',
     '[{"number": "+15550100001", "consent_automated": true, "type": "mobile"}]',
     '[{"kind": "call", "number": "+15550100001", "at": "2026-02-05T15:00:00Z"},
       {"kind": "call", "number": "+15550100001", "at": "2026-02-08T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', 'jurisdiction_cap', '2026-02-12T15:00:01Z'),
    ('MA: a home number is personal too', 'US-MA',
     '[{"number": "+15550100001", "consent_automated": true, "type": "home"},
       {"number": "+15550100002", "consent_automated": true, "type": "mobile"}]',
     '[{"kind": "call", "number": "+15550100002", "at": "2026-02-05T15:00:00Z"},
       {"kind": "call", "number": "+15550100002", "at": "2026-02-08T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', 'jurisdiction_cap', '2026-02-12T15:00:01Z'),
    ('MA: a work number after two mobile calls', 'US-MA',
     '[{"number": "+15550100003", "consent_automated": true, "type": "work"},
       {"number": "+15550100002", "consent_automated": true, "type": "mobile"}]',
     '[{"kind": "call", "number": "+15550100002", "at": "2026-02-05T15:00:00Z"},
       {"kind": "call", "number": "+15550100002", "at": "2026-02-08T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', NULL, NULL),
    ('MA: a third call to work in 30 days', 'US-MA',
     '[{"number": "+15550100003", "consent_automated": true, "type": "work"}]',
     '[{"kind": "call", "number": "+15550100003", "at": "2026-01-20T15:00:00Z"},
       {"kind": "call", "number": "+15550100003", "at": "2026-02-01T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', 'jurisdiction_cap', '2026-02-19T15:00:01Z'),
    ('MA: the 31st day', 'US-MA',
     '[{"number": "+15550100003", "consent_automated": true, "type": "work"}]',
     '[{"kind": "call", "number": "+15550100003", "at": "2026-01-10T15:00:00Z"},
       {"kind": "call", "number": "+15550100003", "at": "2026-02-01T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', NULL, NULL),
    ('NY: no such cap', 'US-NY',
     '[{"number": "+15550100001", "consent_automated": true, "type": "mobile"}]',
     '[{"kind": "call", "number": "+15550100001", "at": "2026-02-05T15:00:00Z"},
       {"kind": "call", "number": "+15550100001", "at": "2026-02-08T15:00:00Z"}]',
     '2026-02-10T15:00:00Z', NULL, NULL);

-- what blocks for good
INSERT INTO cases (name, phones, history, at, rule, retry_at) VALUES
    ('blocked: no consent', '[{"number": "+15550100001", "consent_automated": false}]', '[]',
     '2026-02-10T15:00:00Z', 'no_consent', NULL),
    ('blocked: a wrong party', '[{"number": "+15550100001", "consent_automated": true}]', '[{"kind": "wrong_party"}]',
     '2026-02-10T15:00:00Z', 'wrong_party', NULL),
    ('blocked: calls keep reaching nobody', '[{"number": "+15550100001", "consent_automated": true}]', '[{"kind": "failures", "n": 6}]',
     '2026-02-10T15:00:00Z', 'repeated_call_failures', NULL),
    ('blocked: cease communication', '[{"number": "+15550100001", "consent_automated": true}]', '[{"kind": "cease"}]',
     '2026-02-10T15:00:00Z', 'cease_communication', NULL);

-- the fixtures: one customer, account and imported plan per case, due three days after the moment
CREATE TEMP TABLE judged (name text PRIMARY KEY, call_id bigint, rule text, retry_at timestamptz, excluded text,
                          decision text, send_by timestamptz);

-- each case's numbers are its own (spacing is per number, whoever's debt): +1AAA, the case's index, the last four
CREATE FUNCTION pg_temp.own(p jsonb, p_index bigint) RETURNS jsonb LANGUAGE sql AS $$
    SELECT regexp_replace(p::text, '\+1([0-9]{3})[0-9]{3}([0-9]{4})', '+1\1' || lpad(p_index::text, 3, '0') || '\2', 'g')::jsonb;
$$;

CREATE FUNCTION pg_temp.run(k cases, p_index bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c json;
    a json;
    a2 json;
    p json;
    p2 json;
    h jsonb;
    v_call bigint;
    v_number text;
BEGIN
    k.phones := pg_temp.own(k.phones, p_index);
    k.history := pg_temp.own(k.history, p_index);
    v_number := k.phones->0->>'number';
    c := kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'CR-' || md5(k.name),
         'name', 'Rule Case', 'time_zone', k.zone, 'jurisdiction', k.jurisdiction, 'phones', k.phones,
         'inconvenient_times', k.inconvenient));
    a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', c->>'id',
         'external_ref', 'CRA-' || md5(k.name), 'creditor', 'Rule Bank', 'original_balance_cents', 100000,
         'currency', 'USD', 'placed_on', '2020-01-01'));
    p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
         'first_due_date', (k.at AT TIME ZONE k.zone)::date + 3, 'imported', true));
    FOR h IN SELECT * FROM jsonb_array_elements(k.history) LOOP
        IF h->>'kind' = 'call' THEN
            INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                    number_gdigest, scheduled_at, state, dialed_at)
            VALUES ((a->>'id')::bigint, (c->>'id')::bigint, (p->>'id')::bigint, 2 + (SELECT count(*) FROM kept.calls
                    WHERE account_id = (a->>'id')::bigint)::integer / 2,
                    CASE WHEN (SELECT count(*) FROM kept.calls WHERE account_id = (a->>'id')::bigint) % 2 = 0
                         THEN 'pre_due' ELSE 'missed' END,
                    kept.pii_seal((c->>'id')::bigint, h->>'number'), kept.pii_digest((c->>'id')::bigint, h->>'number'), kept.number_gdigest(h->>'number'),
                    (h->>'at')::timestamptz, coalesce(h->>'state', 'completed'), (h->>'at')::timestamptz);
        ELSIF h->>'kind' = 'other_debt' THEN
            a2 := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', c->>'id',
                  'external_ref', 'CRB-' || md5(k.name), 'creditor', 'Rule Bank', 'original_balance_cents', 30000,
                  'currency', 'USD', 'placed_on', '2020-01-01'));
            p2 := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a2->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
                  'first_due_date', (k.at AT TIME ZONE k.zone)::date + 3, 'imported', true));
            INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                    number_gdigest, scheduled_at, state, dialed_at)
            VALUES ((a2->>'id')::bigint, (c->>'id')::bigint, (p2->>'id')::bigint, 1, 'pre_due',
                    kept.pii_seal((c->>'id')::bigint, h->>'number'), kept.pii_digest((c->>'id')::bigint, h->>'number'), kept.number_gdigest(h->>'number'),
                    (h->>'at')::timestamptz, 'completed', (h->>'at')::timestamptz);
        ELSIF h->>'kind' = 'conversation' THEN
            INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                    number_gdigest, scheduled_at, state, dialed_at, right_party, conversation_at)
            VALUES ((a->>'id')::bigint, (c->>'id')::bigint, (p->>'id')::bigint, 9, 'missed',
                    kept.pii_seal((c->>'id')::bigint, '+15550109998'), kept.pii_digest((c->>'id')::bigint, '+15550109998'), kept.number_gdigest('+15550109998'),
                    (h->>'at')::timestamptz, 'completed', (h->>'at')::timestamptz - interval '2 days', true,
                    (h->>'at')::timestamptz);
        ELSIF h->>'kind' IN ('inbound', 'outbound') THEN
            INSERT INTO kept.contacts (account_id, customer_id, channel, direction, number_enc, number_digest,
                                       number_gdigest, occurred_at, outcome)
            VALUES ((a->>'id')::bigint, (c->>'id')::bigint, 'phone', h->>'kind',
                    kept.pii_seal((c->>'id')::bigint, coalesce(h->>'number', '+15550109997')), kept.pii_digest((c->>'id')::bigint, coalesce(h->>'number', '+15550109997')), kept.number_gdigest(coalesce(h->>'number', '+15550109997')),
                    (h->>'at')::timestamptz, h->>'outcome');
        ELSIF h->>'kind' = 'negotiation' THEN
            PERFORM set_config('kept.clock', h->>'at', true);
            PERFORM kept.proposal_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object(
                'weekly_amount_cents', 10000, 'first_due_date', (k.at AT TIME ZONE k.zone)::date + 3,
                'contact_channel', h->>'channel'));
            PERFORM set_config('kept.clock', '2026-12-31T00:00:00Z', true);
        ELSIF h->>'kind' = 'consent' THEN
            UPDATE kept.plans SET reminder_consent_at = (h->>'at')::timestamptz WHERE id = (p->>'id')::bigint;
        ELSIF h->>'kind' = 'gap' THEN
            UPDATE kept.policies SET min_call_gap_minutes = (h->>'minutes')::integer WHERE creditor IS NULL;
        ELSIF h->>'kind' = 'wrong_party' THEN
            UPDATE kept.customer_phones SET wrong_party_at = k.at - interval '1 day' WHERE number_digest = kept.pii_digest((c->>'id')::bigint, v_number)
                AND customer_id = (c->>'id')::bigint;
        ELSIF h->>'kind' = 'failures' THEN
            UPDATE kept.customer_phones SET failed_attempts = (h->>'n')::integer WHERE customer_id = (c->>'id')::bigint;
        ELSIF h->>'kind' = 'cease' THEN
            UPDATE kept.customers SET cease_communication = true WHERE id = (c->>'id')::bigint;
        END IF;
    END LOOP;
    INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, number_gdigest,
                            scheduled_at)
    VALUES ((a->>'id')::bigint, (c->>'id')::bigint, (p->>'id')::bigint, 1, 'pre_due', kept.pii_seal((c->>'id')::bigint, v_number), kept.pii_digest((c->>'id')::bigint, v_number), kept.number_gdigest(v_number), k.at)
    RETURNING id INTO v_call;
    INSERT INTO judged SELECT k.name, v_call, r.rule, r.retry_at, r.excluded, r.decision, r.send_by
    FROM kept.calls_rules(k.at, ARRAY[v_call]) r;
    UPDATE kept.policies SET min_call_gap_minutes = 240 WHERE creditor IS NULL;
END $$;

SELECT pg_temp.run(k, row_number() OVER (ORDER BY k.name)) FROM cases k ORDER BY k.name;

SELECT is(j.rule, k.rule, k.name || ': rule') FROM cases k JOIN judged j USING (name) ORDER BY k.name;
SELECT is(j.retry_at, k.retry_at, k.name || ': may go at') FROM cases k JOIN judged j USING (name)
WHERE k.rule IS NOT NULL ORDER BY k.name;
SELECT is(j.excluded IS NOT NULL, k.excluded, k.name || ': excluded call') FROM cases k JOIN judged j USING (name)
WHERE k.excluded ORDER BY k.name;

-- plain words: every judgment says its rule's citation and when the call may go
SELECT ok(j.decision LIKE '%12 CFR 1006.6(b)(1)(i)%' AND j.decision LIKE '%America/Los_Angeles%'
          AND j.decision LIKE '%it may go at Tue 2026-02-10 11:00 America/New_York%', 'the window, in words')
FROM judged j WHERE j.name = 'zones: 09:00 New York is 06:00 on the 213 number';
SELECT ok(j.decision LIKE '%12 CFR 1006.14(b)(2)(i)(B)%' AND j.decision LIKE '%Thu 2026-08-13 15:00 America/New_York%', 'the conversation, in words')
FROM judged j WHERE j.name = 'conversation: day 7, 20:00';
SELECT ok(j.decision LIKE '%940 CMR 7.04(1)(f)%' AND j.decision LIKE '%other numbers in 30 days%', 'Massachusetts, in words')
FROM judged j WHERE j.name = 'MA: a third call to work in 30 days';
SELECT ok(j.decision LIKE 'Cleared at %' AND j.decision LIKE '%1006.14(b)(3)(i)%', 'an excluded call, in words')
FROM judged j WHERE j.name = 'consent: a reminder two days after the conversation';
SELECT ok(j.decision LIKE 'Blocked, never dialled: no consent%47 CFR 64.1200(a)%', 'no consent, in words')
FROM judged j WHERE j.name = 'blocked: no consent';

-- a call that may go must be sent a minute before the first window in any zone closes
SELECT is(j.send_by, '2026-02-11T01:59:00Z'::timestamptz, 'send by: 21:00 New York less the minute')
FROM judged j WHERE j.name = 'window: 08:00 New York';
SELECT is(j.send_by, '2026-02-10T13:59:00Z'::timestamptz, 'send by: before an inconvenient period starts')
FROM judged j WHERE j.name = 'inconvenient: two minutes before it starts';

-- the jurisdiction table: a citation on every row
SELECT is((SELECT count(*) FROM kept.jurisdiction_call_rules WHERE coalesce(btrim(citation), '') = ''), 0::bigint,
          'every jurisdiction row has a citation');

-- the claim: the provider's pace (2 per second here) and the window's end. Eight calls are due at
-- 20:58:57 New York; a create must go by 20:59:00, so only the slots at +0, +0.5, ... +2.5 s fit
-- (and +3 s only if the claim took no time at all).
CREATE FUNCTION pg_temp.due(p_n integer) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v bigint[] := '{}';
    c json;
    a json;
    p json;
BEGIN
    FOR i IN 1..p_n LOOP
        c := kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('external_ref', 'CLAIM-' || i,
             'name', 'Claim Case', 'time_zone', 'America/New_York', 'jurisdiction', 'US-NY',
             'phones', jsonb_build_array(jsonb_build_object('number', '+1555020000' || i, 'consent_automated', true))));
        a := kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('customer_id', c->>'id',
             'external_ref', 'CLAIMA-' || i, 'creditor', 'Rule Bank', 'original_balance_cents', 30000, 'currency', 'USD', 'placed_on', '2020-01-01'));
        p := kept.plan_create(ROW(NULL, 'test', NULL)::kept.actor, (a->>'id')::bigint, jsonb_build_object('weekly_amount_cents', 10000,
             'first_due_date', '2026-02-13', 'imported', true));
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at)
        VALUES ((a->>'id')::bigint, (c->>'id')::bigint, (p->>'id')::bigint, 1, 'pre_due',
                kept.pii_seal((c->>'id')::bigint, '+1555020000' || i), kept.pii_digest((c->>'id')::bigint, '+1555020000' || i), kept.number_gdigest('+1555020000' || i),
                '2026-02-11T01:58:00Z')
        RETURNING array_append(v, id) INTO v;
    END LOOP;
    RETURN v;
END $$;

CREATE TEMP TABLE claim AS SELECT pg_temp.due(8) AS ids;
UPDATE kept.calls SET state = 'completed' WHERE state = 'queued' AND id <> ALL (SELECT unnest(ids) FROM claim);
UPDATE kept.dial_pacing SET next_slot_at = '-infinity';
SET LOCAL kept.clock = '2026-02-11T01:58:57Z';
CREATE TEMP TABLE claimed AS SELECT * FROM kept.calls_claim(100, 2);
SELECT ok((SELECT count(*) FROM claimed WHERE dial) BETWEEN 6 AND 7,
          'at 2 per second, only the calls whose slot comes before the window''s end are dialled');
SELECT is((SELECT count(*) FROM claimed), 8::bigint, 'every due call was looked at');
SELECT ok((SELECT bool_and(slot_ms <= 3000 AND send_by_ms BETWEEN slot_ms - 1 AND 3000) FROM claimed WHERE dial),
          'each is sent in its slot, before its send-by');
SELECT is((SELECT array_agg(DISTINCT scheduled_at) FROM kept.calls k JOIN claimed c ON c.id = k.id AND NOT c.dial),
          ARRAY['2026-02-11T13:00:00Z'::timestamptz], 'the rest wait for 08:00 New York');
SELECT ok((SELECT bool_and(k.deferred_rule = 'calling_window' AND k.decision LIKE 'The provider''s pace (2 calls per second)%')
           FROM kept.calls k JOIN claimed c ON c.id = k.id AND NOT c.dial), 'held by the pace and the window, in words');
SELECT ok((SELECT next_slot_at > clock_timestamp() FROM kept.dial_pacing), 'the slots are booked for every keptd');

SELECT * FROM finish();
ROLLBACK;
