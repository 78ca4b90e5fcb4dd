-- The customer's own page: personal links (made by an agent, sent by text),
-- proving who you are, sessions, rate limits, and every step the page takes.
--
-- keptd signs a link's token with KEPT_LINK_SECRET and hands SQL only its
-- SHA-256 (hex); cookies and one-time codes likewise arrive hashed, and the
-- client's address as an HMAC. Nothing about the debt is answered before the
-- visitor has proved who they are (the date of birth and postcode on file, or
-- a code texted to a number on file); five wrong answers lock the link and
-- open an escalation.
--
-- Every step of the page answers a JSON "view" for keptd to draw and never
-- raises for what a visitor can cause (a wrong answer, a limit reached, an
-- amount out of policy): those are views, and what they counted (failures,
-- rate limits) is committed with them. Negotiation goes through exactly the
-- functions an agent's requests use (kept.proposal_create, kept.plan_create,
-- kept.affordability_record, kept.settlement_offer_create,
-- kept.settlement_accept) with no API key, the link named as the actor, and
-- kept.channel = 'self_service' for the plan. Every step is audited with the
-- link's id (entity self_service_link).

-- Five wrong answers lock a link; a session lasts 20 minutes idle, 2 hours at most.
CREATE OR REPLACE FUNCTION kept.self_service_max_failures() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN 5;

-- ---- links (agents) ----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.self_service_link_status(l kept.self_service_links) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN l.revoked_at IS NOT NULL THEN 'revoked' WHEN l.locked_at IS NOT NULL THEN 'locked'
            WHEN l.expires_at <= kept.now() THEN 'expired' ELSE 'active' END;

CREATE OR REPLACE FUNCTION kept.self_service_link_json(l kept.self_service_links) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', l.id, 'account_id', l.account_id, 'customer_id', l.customer_id,
        'status', kept.self_service_link_status(l), 'expires_at', kept.ts(l.expires_at),
        'sent_to_last4', right(kept.pii_open(l.customer_id, l.sent_to_enc), 4), 'language', l.language, 'failures', l.failures,
        'locked_at', kept.ts(l.locked_at), 'verified_at', kept.ts(l.verified_at),
        'revoked_at', kept.ts(l.revoked_at), 'revoked_by', l.revoked_by, 'created_by', l.created_by,
        'created_at', kept.ts(l.created_at),
        'messages', coalesce((SELECT json_agg(json_build_object('id', m.id, 'purpose', m.purpose, 'state', m.state,
                                                                'rule', coalesce(m.blocked_rule, m.deferred_rule),
                                                                'decision', m.decision) ORDER BY m.id)
                              FROM kept.messages m WHERE m.link_id = l.id), '[]'::json));
$$;

-- POST /v1/accounts/{id}/self-service-links {send: "sms"|"none", number?,
-- expires_in_days?, language?}: a link bound to the account and its
-- customer. Answers the link and, for a text, what keptd needs to write it
-- (the number, the language, the expiry on the customer's calendar).
DROP FUNCTION IF EXISTS kept.self_service_link_create(bigint, text, text, bigint, text, jsonb);
CREATE OR REPLACE FUNCTION kept.self_service_link_create(p_actor kept.actor,
                                                         p_account_id bigint, p_token_hash text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
    c kept.customers;
    l kept.self_service_links;
    v_days integer := coalesce((p->>'expires_in_days')::integer, 7);
    v_send text := coalesce(p->>'send', 'none');
    v_number text;
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, '',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    PERFORM kept.account_require_open(a);
    SELECT * INTO c FROM kept.customers WHERE id = a.customer_id;
    IF v_days NOT BETWEEN 1 AND 30 THEN
        PERFORM kept.fail('invalid', 'invalid_expiry', 'expires_in_days', 'expires_in_days is from 1 to 30');
    END IF;
    IF v_send NOT IN ('sms', 'none') THEN
        PERFORM kept.fail('invalid', 'invalid_send', 'send', 'send is sms or none');
    END IF;
    IF p ? 'number' AND NOT EXISTS (SELECT 1 FROM kept.customer_phones
                                    WHERE customer_id = c.id
                                      AND number_digest = kept.pii_digest(c.id, p->>'number')) THEN
        PERFORM kept.fail('rule_violation', 'unknown_number', 'number', 'that number is not one of the customer''s');
    END IF;
    IF v_send = 'sms' THEN
        v_number := kept.text_number(c.id, p->>'number');
        IF v_number IS NULL THEN
            PERFORM kept.fail('rule_violation', 'no_phone', 'send', 'the customer has no phone number to text');
        END IF;
    END IF;
    INSERT INTO kept.self_service_links (account_id, customer_id, token_hash, created_by, expires_at, sent_to_enc,
                                         language)
    VALUES (a.id, c.id, decode(p_token_hash, 'hex'), (p_actor).key_id, kept.now() + v_days * interval '1 day',
            kept.pii_seal(c.id, v_number), coalesce(p->>'language', c.language))
    RETURNING * INTO l;
    RETURN kept.write_end(p_actor, 'self_service_link.created', 'self_service_link',
                          l.id, NULL, kept.self_service_link_json(l)::jsonb, NULL, NULL,
                          kept.self_service_link_json(l)::jsonb || jsonb_build_object(
                              'text', CASE WHEN v_send = 'sms' THEN jsonb_build_object(
                                  'number', v_number, 'language', l.language,
                                  'first_name', split_part(kept.pii_open(c.id, c.name_enc), ' ', 1),
                                  'expires_on', (l.expires_at AT TIME ZONE c.time_zone)::date,
                                  'useful_until', kept.ts(l.expires_at)) END));
END $$;

CREATE OR REPLACE FUNCTION kept.self_service_links_of_account(p_account_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM kept.accounts WHERE id = p_account_id) THEN
        json_build_object('items', coalesce((SELECT json_agg(kept.self_service_link_json(l) ORDER BY l.id)
                                             FROM kept.self_service_links l WHERE l.account_id = p_account_id),
                                            '[]'::json)) END;
$$;

-- Revoked at once: its sessions end, its texts waiting to go are blocked.
-- Revoking twice answers the same.
DROP FUNCTION IF EXISTS kept.self_service_link_revoke(bigint, text, text, bigint, text);
CREATE OR REPLACE FUNCTION kept.self_service_link_revoke(p_actor kept.actor, p_id bigint, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    l kept.self_service_links;
BEGIN
    l := kept.lock_or_404(NULL::kept.self_service_links, p_id, 'FOR UPDATE',
                          'self_service_link_not_found', 'id', format('no self-service link with id %s', p_id));
    IF l.revoked_at IS NOT NULL THEN
        RETURN kept.self_service_link_json(l);
    END IF;
    UPDATE kept.self_service_links SET revoked_at = kept.now(), revoked_by = (p_actor).key_id WHERE id = p_id
    RETURNING * INTO l;
    UPDATE kept.self_service_sessions SET ended_at = kept.now() WHERE link_id = p_id AND ended_at IS NULL;
    UPDATE kept.messages SET state = 'blocked', blocked_rule = 'link_not_usable', sealed = NULL,
                             decision = 'Blocked, never sent: the self-service link was revoked.', updated_at = now()
    WHERE link_id = p_id AND state = 'queued';
    RETURN kept.write_end(p_actor, 'self_service_link.revoked', 'self_service_link',
                          l.id, jsonb_build_object('status', 'active'),
                          jsonb_build_object('status', 'revoked', 'reason', p_reason), NULL, NULL,
                          kept.self_service_link_json(l));
END $$;

-- ---- rate limits -----------------------------------------------------------------------------

-- Counts one hit of `p_bucket` in the current fixed window of `p_window`;
-- answers 0 when it is within `p_limit`, else the seconds until the window
-- ends. Old windows are tidied away as it goes.
CREATE OR REPLACE FUNCTION kept.rate_hit(p_bucket text, p_limit integer, p_window interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_len double precision := extract(epoch FROM p_window);
    v_start timestamptz := to_timestamp(floor(extract(epoch FROM kept.now()) / v_len) * v_len);
    v_hits integer;
BEGIN
    INSERT INTO kept.self_service_rates (bucket, window_start, hits) VALUES (p_bucket, v_start, 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = kept.self_service_rates.hits + 1
    RETURNING hits INTO v_hits;
    DELETE FROM kept.self_service_rates WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM kept.self_service_rates
        WHERE window_start < kept.now() - interval '1 day' OR (bucket = p_bucket AND window_start < v_start)
        LIMIT 20));
    IF v_hits > p_limit THEN
        RETURN greatest(1, ceil(extract(epoch FROM v_start + p_window - kept.now())))::integer;
    END IF;
    RETURN 0;
END $$;

-- The limits of one kind of request, per link and per client address (both
-- counted); answers the seconds to wait, 0 when within them.
CREATE OR REPLACE FUNCTION kept.page_rate(p_link_id bigint, p_address text, p_kind text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_link integer;
    v_addr integer;
BEGIN
    -- view: pages a minute; verify: identity answers an hour; code: one-time codes texted an
    -- hour; act: the negotiation's steps in ten minutes. An address may be many people's (a
    -- carrier's NAT), so its limits are higher than a link's.
    SELECT CASE p_kind WHEN 'view' THEN 60 WHEN 'verify' THEN 10 WHEN 'code' THEN 3 ELSE 60 END,
           CASE p_kind WHEN 'view' THEN 600 WHEN 'verify' THEN 100 WHEN 'code' THEN 30 ELSE 600 END
    INTO v_link, v_addr;
    RETURN greatest(
        CASE WHEN p_link_id IS NULL THEN 0
             ELSE kept.rate_hit(format('link:%s:%s', p_link_id, p_kind), v_link,
                                CASE p_kind WHEN 'view' THEN interval '1 minute' WHEN 'act' THEN interval '10 minutes'
                                            ELSE interval '1 hour' END) END,
        kept.rate_hit(format('addr:%s:%s', p_address, p_kind), v_addr,
                      CASE p_kind WHEN 'view' THEN interval '1 minute' WHEN 'act' THEN interval '10 minutes'
                                  ELSE interval '1 hour' END));
END $$;

-- ---- the visitor ------------------------------------------------------------------------------

-- Who acts on the page: the customer, through link p_link_id (no key), in
-- request p_request_id.
DROP FUNCTION IF EXISTS kept.page_actor(bigint);
CREATE OR REPLACE FUNCTION kept.page_actor(p_link_id bigint, p_request_id text) RETURNS kept.actor
LANGUAGE sql IMMUTABLE RETURN ROW(NULL, format('customer (self-service link %s)', p_link_id), p_request_id)::kept.actor;

CREATE OR REPLACE FUNCTION kept.page_audit(l kept.self_service_links, p_request_id text, p_action text,
                                           p_after jsonb)
RETURNS void LANGUAGE sql AS $$
    SELECT kept.audit_write(kept.page_actor(l.id, p_request_id), p_action, 'self_service_link', l.id, NULL,
                            jsonb_build_object('link_id', l.id, 'account_id', l.account_id) || coalesce(p_after, '{}'));
$$;

-- The link a token hash names, locked for the step, and what it allows:
-- 'ok', or 'invalid' (no such link), 'revoked', 'locked', 'expired', 'ended'
-- (the account has nothing left to arrange). Nothing about the account is in
-- any answer but 'ok'.
CREATE OR REPLACE FUNCTION kept.page_link(p_token_hash text, OUT l kept.self_service_links, OUT state text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO l FROM kept.self_service_links WHERE token_hash = decode(p_token_hash, 'hex') FOR UPDATE;
    state := CASE WHEN l.id IS NULL THEN 'invalid'
                  WHEN l.revoked_at IS NOT NULL THEN 'revoked'
                  WHEN l.locked_at IS NOT NULL THEN 'locked'
                  WHEN l.expires_at <= kept.now() THEN 'expired'
                  WHEN (SELECT status IN ('paid', 'settled', 'closed') FROM kept.accounts WHERE id = l.account_id)
                      THEN 'ended'
                  ELSE 'ok' END;
END $$;

-- The session a cookie hash names, if it belongs to this link and is live
-- (20 minutes since it was last seen, 2 hours since it began); touched.
CREATE OR REPLACE FUNCTION kept.page_session(l kept.self_service_links, p_session_hash text)
RETURNS kept.self_service_sessions LANGUAGE plpgsql AS $$
DECLARE
    s kept.self_service_sessions;
BEGIN
    IF p_session_hash IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE kept.self_service_sessions SET last_seen_at = kept.now()
    WHERE token_hash = decode(p_session_hash, 'hex') AND link_id = l.id AND ended_at IS NULL
      AND expires_at > kept.now() AND last_seen_at > kept.now() - interval '20 minutes'
    RETURNING * INTO s;
    RETURN s;
END $$;

-- A view that says only that the link cannot be used (or must wait).
CREATE OR REPLACE FUNCTION kept.page_closed_view(p_state text, p_retry integer) RETURNS json
LANGUAGE sql IMMUTABLE
RETURN json_build_object('view', CASE WHEN p_retry > 0 THEN 'rate_limited' ELSE p_state END,
                         'retry_after', nullif(p_retry, 0));

-- What the identity step offers: the date of birth and postcode when both
-- are on file, a code when a number on file may be texted.
CREATE OR REPLACE FUNCTION kept.page_identity_view(l kept.self_service_links, p_error text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'view', 'identity', 'error', p_error, 'language', coalesce(l.language, c.language),
        'tries_left', kept.self_service_max_failures() - l.failures,
        'date_of_birth_postcode', c.date_of_birth_enc IS NOT NULL AND c.postcode_enc IS NOT NULL,
        'code', EXISTS (SELECT 1 FROM kept.customer_phones p
                        WHERE p.customer_id = c.id AND p.consent_texts AND p.wrong_party_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM kept.text_opt_outs o
                                          WHERE o.number_gdigest = p.number_gdigest)),
        'code_sent', EXISTS (SELECT 1 FROM kept.self_service_codes k WHERE k.link_id = l.id AND k.used_at IS NULL
                                                                   AND k.expires_at > kept.now()))
    FROM kept.customers c WHERE c.id = l.customer_id;
$$;

-- The account as the verified customer sees it.
CREATE OR REPLACE FUNCTION kept.page_account_view(l kept.self_service_links, p_extra jsonb) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT (jsonb_build_object(
        'view', 'account', 'link_id', l.id, 'language', c.language,
        'first_name', split_part(kept.pii_open(c.id, c.name_enc), ' ', 1),
        'creditor', a.creditor, 'account_ref', a.external_ref, 'balance_cents', a.balance_cents,
        'currency', a.currency, 'minor_units', coalesce(cur.minor_units, 2),
        'today', kept.local_today(c.time_zone), 'time_zone', c.time_zone,
        'latest_first_due', kept.local_today(c.time_zone) + 60,
        'suggested_first_due', kept.local_today(c.time_zone) + 7,
        'max_weeks', pol.max_weeks,
        'minimum_weekly_cents', (a.balance_cents + pol.max_weeks - 1) / pol.max_weeks,
        'minimum_weeks', (a.balance_cents + (a.balance_cents + pol.max_weeks - 1) / pol.max_weeks - 1)
                         / nullif((a.balance_cents + pol.max_weeks - 1) / pol.max_weeks, 0),
        'min_settlement_percent', pol.min_settlement_percent,
        'hear_back_by', kept.next_business_day(kept.local_today(c.time_zone)),
        'weekly_disposable_cents', kept.weekly_disposable(a.id),
        'plan', (SELECT jsonb_build_object(
                     'id', p.id, 'status', p.status, 'origin', p.origin, 'channel', p.channel,
                     'weekly_amount_cents', p.weekly_amount_cents, 'first_due_date', p.first_due_date,
                     'installment_count', p.installment_count, 'total_cents', p.total_cents,
                     'next_due', (SELECT jsonb_build_object('seq', i.seq, 'due_date', i.due_date,
                                                            'amount_cents', i.amount_due_cents - i.amount_paid_cents)
                                  FROM kept.installments i WHERE i.plan_id = p.id AND i.outcome = 'scheduled'
                                    AND i.amount_paid_cents < i.amount_due_cents ORDER BY i.seq LIMIT 1),
                     'remaining', (SELECT count(*) FROM kept.installments i WHERE i.plan_id = p.id
                                                                             AND i.outcome = 'scheduled'))
                 FROM kept.plans p WHERE p.account_id = a.id AND p.status = 'active'),
        'pending', (SELECT jsonb_build_object('id', p.id, 'origin', p.origin,
                                              'weekly_amount_cents', p.weekly_amount_cents,
                                              'first_due_date', p.first_due_date, 'total_cents', p.total_cents,
                                              'installment_count', p.installment_count,
                                              'created_on', (p.created_at AT TIME ZONE c.time_zone)::date)
                    FROM kept.plans p WHERE p.account_id = a.id AND p.status = 'pending_approval'),
        'replaces_plan_id', (kept.plan_newest_open_id(a.id))) || coalesce(p_extra, '{}'))::json
    FROM kept.accounts a JOIN kept.customers c ON c.id = a.customer_id
    LEFT JOIN kept.currencies cur ON cur.code = a.currency
    CROSS JOIN LATERAL kept.policy_for(a.creditor) pol
    WHERE a.id = l.account_id;
$$;

-- Every step begins here: the link, the rate limits for its kind, the
-- session. Answers the view to show instead when the step may not go on
-- (NULL when it may), the link and the session.
CREATE OR REPLACE FUNCTION kept.page_begin(p_token_hash text, p_session_hash text, p_address text, p_kind text,
                                           OUT l kept.self_service_links, OUT s kept.self_service_sessions,
                                           OUT stop json)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_state text;
    v_retry integer;
BEGIN
    SELECT * INTO r FROM kept.page_link(p_token_hash);
    l := r.l;
    v_state := r.state;
    v_retry := kept.page_rate(l.id, p_address, p_kind);
    IF v_state <> 'ok' OR v_retry > 0 THEN
        IF v_state = 'ok' THEN
            PERFORM kept.page_audit(l, NULL, 'self_service.rate_limited', jsonb_build_object('kind', p_kind));
        END IF;
        stop := kept.page_closed_view(v_state, v_retry);
        RETURN;
    END IF;
    s := kept.page_session(l, p_session_hash);
END $$;

-- GET /s/{token}: the identity step, or, in a verified session, the account.
CREATE OR REPLACE FUNCTION kept.page_view(p_token_hash text, p_session_hash text, p_address text,
                                          p_request_id text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM kept.page_begin(p_token_hash, p_session_hash, p_address, 'view');
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    IF (b.s).id IS NULL THEN
        PERFORM kept.page_audit(b.l, p_request_id, 'self_service.opened', NULL);
        RETURN kept.page_identity_view(b.l, NULL);
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.account_viewed', jsonb_build_object('session', (b.s).id));
    RETURN kept.page_account_view(b.l, NULL);
END $$;

-- A wrong answer: counted; the fifth locks the link, ends its sessions and
-- opens an escalation.
CREATE OR REPLACE FUNCTION kept.page_identity_failed(l kept.self_service_links, p_request_id text, p_method text)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kept.self_service_links SET failures = failures + 1 WHERE id = l.id RETURNING * INTO l;
    PERFORM kept.page_audit(l, p_request_id, 'self_service.identity_failed',
                            jsonb_build_object('method', p_method, 'failures', l.failures));
    IF l.failures < kept.self_service_max_failures() THEN
        RETURN kept.page_identity_view(l, 'mismatch');
    END IF;
    UPDATE kept.self_service_links SET locked_at = kept.now() WHERE id = l.id RETURNING * INTO l;
    UPDATE kept.self_service_sessions SET ended_at = kept.now() WHERE link_id = l.id AND ended_at IS NULL;
    PERFORM kept.page_audit(l, p_request_id, 'self_service.locked', jsonb_build_object('failures', l.failures));
    PERFORM kept.escalation_insert(kept.page_actor(l.id, p_request_id), l.account_id, NULL, NULL,
                                   'self_service_locked', NULL,
                                   format('self-service link %s locked after %s wrong answers to the identity '
                                          || 'questions', l.id, l.failures));
    RETURN kept.page_closed_view('locked', 0);
END $$;

-- A right answer: a session bound to the link begins (its cookie's hash
-- from keptd), the count of wrong answers starts again.
CREATE OR REPLACE FUNCTION kept.page_identity_passed(l kept.self_service_links, p_request_id text, p_method text,
                                                     p_session_hash text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    s kept.self_service_sessions;
BEGIN
    UPDATE kept.self_service_links SET failures = 0, verified_at = kept.now() WHERE id = l.id RETURNING * INTO l;
    INSERT INTO kept.self_service_sessions (link_id, token_hash, method, expires_at)
    VALUES (l.id, decode(p_session_hash, 'hex'), p_method, kept.now() + interval '2 hours')
    RETURNING * INTO s;
    PERFORM kept.page_audit(l, p_request_id, 'self_service.verified',
                            jsonb_build_object('method', p_method, 'session', s.id));
    RETURN json_build_object('view', 'verified');
END $$;

-- POST /s/{token}/verify with the date of birth and postcode. A date that is
-- not one is a typing slip, not an answer: it is not counted.
CREATE OR REPLACE FUNCTION kept.page_verify(p_token_hash text, p_session_hash text, p_address text, p_request_id text,
                                            p_date_of_birth text, p_postcode text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    c kept.customers;
    v_dob date := kept.parse_date(p_date_of_birth);
BEGIN
    SELECT * INTO b FROM kept.page_begin(p_token_hash, NULL, p_address, 'verify');
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    SELECT * INTO c FROM kept.customers WHERE id = (b.l).customer_id;
    IF c.date_of_birth_enc IS NULL OR c.postcode_enc IS NULL THEN
        RETURN kept.page_identity_view(b.l, 'method_unavailable');
    END IF;
    IF v_dob IS NULL OR coalesce(btrim(p_postcode), '') = '' THEN
        RETURN kept.page_identity_view(b.l, 'incomplete');
    END IF;
    -- the answers on file are sealed under the customer's data key: opened to compare
    IF v_dob = kept.pii_open(c.id, c.date_of_birth_enc)::date
       AND kept.postcode_key(p_postcode) = kept.postcode_key(kept.pii_open(c.id, c.postcode_enc)) THEN
        RETURN kept.page_identity_passed(b.l, p_request_id, 'date_of_birth_postcode', p_session_hash);
    END IF;
    RETURN kept.page_identity_failed(b.l, p_request_id, 'date_of_birth_postcode');
END $$;

-- POST /s/{token}/code: a one-time code (valid ten minutes) texted to a
-- number on file, in the visitor's language. keptd made the code: it sends
-- its HMAC and the text (sealed: the code is in it). The text obeys the same
-- rules as any: when it may not go now, the visitor is told, and the code
-- can never be used.
CREATE OR REPLACE FUNCTION kept.page_code_send(p_token_hash text, p_address text, p_request_id text,
                                               p_code_hash text, p_language text, p_body text, p_sealed text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    k kept.self_service_codes;
    v_number text;
    m json;
BEGIN
    SELECT * INTO b FROM kept.page_begin(p_token_hash, NULL, p_address, 'code');
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    v_number := kept.text_number((b.l).customer_id, kept.pii_open((b.l).customer_id, (b.l).sent_to_enc));
    IF v_number IS NULL THEN
        RETURN kept.page_identity_view(b.l, 'code_unavailable');
    END IF;
    INSERT INTO kept.self_service_codes (link_id, code_hash, number_enc, expires_at)
    VALUES ((b.l).id, decode(p_code_hash, 'hex'), kept.pii_seal((b.l).customer_id, v_number),
            kept.now() + interval '10 minutes')
    RETURNING * INTO k;
    m := kept.message_queue(kept.page_actor((b.l).id, p_request_id), (b.l).customer_id, (b.l).account_id,
                            (b.l).id, 'code', v_number, p_language, p_body, p_sealed, k.expires_at);
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.code_requested',
                            jsonb_build_object('message_id', m->>'id', 'state', m->>'state'));
    IF m->>'state' = 'blocked' OR m->>'rule' IS NOT NULL THEN
        UPDATE kept.self_service_codes SET expires_at = kept.now() WHERE id = k.id;
        UPDATE kept.messages SET state = 'blocked', blocked_rule = coalesce(blocked_rule, deferred_rule),
                                 sealed = NULL, updated_at = now()
        WHERE id = (m->>'id')::bigint AND state = 'queued';
        RETURN kept.page_identity_view(b.l, 'code_unavailable')::jsonb || jsonb_build_object('rule', m->>'rule');
    END IF;
    RETURN kept.page_identity_view(b.l, NULL)::jsonb
           || jsonb_build_object('code_sent', true, 'number_last2', right(v_number, 2), 'message_id', m->>'id');
END $$;

-- POST /s/{token}/verify with a code: the newest code not used and not
-- expired; used once (a replayed code is a wrong answer).
CREATE OR REPLACE FUNCTION kept.page_verify_code(p_token_hash text, p_session_hash text, p_address text,
                                                 p_request_id text, p_code_hash text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    v_code bigint;
BEGIN
    SELECT * INTO b FROM kept.page_begin(p_token_hash, NULL, p_address, 'verify');
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    SELECT id INTO v_code FROM kept.self_service_codes
    WHERE link_id = (b.l).id AND used_at IS NULL AND expires_at > kept.now()
      AND code_hash = decode(p_code_hash, 'hex')
    ORDER BY id DESC LIMIT 1 FOR UPDATE;
    IF v_code IS NULL THEN
        RETURN kept.page_identity_failed(b.l, p_request_id, 'code');
    END IF;
    UPDATE kept.self_service_codes SET used_at = kept.now() WHERE id = v_code;
    RETURN kept.page_identity_passed(b.l, p_request_id, 'code', p_session_hash);
END $$;

-- POST /s/{token}/signout: the session ends.
CREATE OR REPLACE FUNCTION kept.page_signout(p_token_hash text, p_session_hash text, p_request_id text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM kept.page_link(p_token_hash);
    IF (r.l).id IS NOT NULL THEN
        UPDATE kept.self_service_sessions SET ended_at = kept.now()
        WHERE link_id = (r.l).id AND token_hash = decode(p_session_hash, 'hex') AND ended_at IS NULL;
        IF FOUND THEN
            PERFORM kept.page_audit(r.l, p_request_id, 'self_service.signed_out', NULL);
        END IF;
    END IF;
    RETURN json_build_object('view', 'signed_out');
END $$;

-- ---- the negotiation's steps --------------------------------------------------------------------

-- A step that needs a verified session: the view to show instead (the
-- identity step when the session is missing or over), or NULL.
CREATE OR REPLACE FUNCTION kept.page_need_session(p_stop json, l kept.self_service_links,
                                                  s kept.self_service_sessions)
RETURNS json LANGUAGE sql STABLE
RETURN CASE WHEN p_stop IS NOT NULL THEN p_stop
            WHEN s.id IS NULL THEN kept.page_identity_view(l, 'session_over') END;

-- An amount as a customer types it, in minor units of `p_currency`, or NULL
-- when it is not one: digits with a decimal mark of either kind ("25.50",
-- "25,5") and thousands marks of the other ("1,250.00", "1.250,00"). A mark
-- is the decimal one when it appears once with at most the currency's minor
-- digits after it; otherwise marks group thousands ("1,250" is 1250).
CREATE OR REPLACE FUNCTION kept.money_parse(p_text text, p_currency text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_units integer := coalesce((SELECT minor_units FROM kept.currencies WHERE code = p_currency), 2);
    v text := regexp_replace(coalesce(p_text, ''), '[[:space:]$£€]', '', 'g');
    v_mark text;
    v_whole text;
    v_frac text := '';
BEGIN
    IF v !~ '^[0-9][0-9.,]*$' OR length(v) > 20 THEN
        RETURN NULL;
    END IF;
    v_mark := substring(v FROM '([.,])[0-9]*$');
    IF v_mark IS NOT NULL AND v_units > 0 AND length(v) - length(replace(v, v_mark, '')) = 1
       AND length(substring(v FROM '[.,]([0-9]*)$')) BETWEEN 1 AND v_units THEN
        v_frac := substring(v FROM '[.,]([0-9]*)$');
        v_whole := replace(replace(left(v, length(v) - length(v_frac) - 1), '.', ''), ',', '');
    ELSE
        v_whole := replace(replace(v, '.', ''), ',', '');
    END IF;
    IF v_whole !~ '^[0-9]{1,13}$' THEN
        RETURN NULL;
    END IF;
    RETURN v_whole::bigint * (10 ^ v_units)::bigint + CASE WHEN v_units > 0
                                                             THEN rpad(v_frac, v_units, '0')::bigint ELSE 0 END;
END $$;

-- kept's own refusal raised by a negotiation function, as a view: the
-- account with the error's code, field and message.
CREATE OR REPLACE FUNCTION kept.page_refused(l kept.self_service_links, p_code text, p_message text, p_extra jsonb)
RETURNS json LANGUAGE sql STABLE
RETURN kept.page_account_view(l, jsonb_build_object('error', p_code, 'error_message', p_message)
                                 || coalesce(p_extra, '{}'));

-- Every step of the negotiation begins here: kept.page_begin for an action,
-- in a verified session. Answers the link, and the view to show instead when
-- the step may not go on (NULL when it may).
CREATE OR REPLACE FUNCTION kept.page_act(p_token_hash text, p_session_hash text, p_address text,
                                         OUT l kept.self_service_links, OUT stop json)
LANGUAGE plpgsql AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM kept.page_begin(p_token_hash, p_session_hash, p_address, 'act');
    l := b.l;
    stop := kept.page_need_session(b.stop, b.l, b.s);
END $$;

-- A step's write, the agents' own: kept.<p_write> (proposal_create,
-- plan_create, affordability_record, settlement_offer_create or
-- settlement_accept: each takes (actor, id, body) and answers
-- JSON) in the customer's name, with kept.channel p_channel while it runs
-- when one is given. Answers what it answered, or kept's refusal of it (an
-- invalid, conflict or rule_violation error: its code and message) for the
-- page to show; any other error goes on up.
CREATE OR REPLACE FUNCTION kept.page_attempt(l kept.self_service_links, p_request_id text, p_write text,
                                             p_id bigint, p_body jsonb, p_channel text,
                                             OUT answer json, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_channel IS NOT NULL THEN
        PERFORM set_config('kept.channel', p_channel, true);
    END IF;
    BEGIN
        EXECUTE format('SELECT kept.%I($1, $2, $3)', p_write) INTO answer
            USING kept.page_actor(l.id, p_request_id), p_id, p_body;
    EXCEPTION WHEN SQLSTATE 'KRINV' OR SQLSTATE 'KRCFL' OR SQLSTATE 'KRRUL' THEN
        GET STACKED DIAGNOSTICS code = PG_EXCEPTION_HINT, message = MESSAGE_TEXT;
    END;
    IF p_channel IS NOT NULL THEN
        PERFORM set_config('kept.channel', '', true);
    END IF;
END $$;

-- POST /s/{token}/proposal {amount, first_due_date} as typed: "How much can
-- you afford to pay each week?" — kept.proposal_create, the agent's own;
-- answers its evaluation and schedule.
CREATE OR REPLACE FUNCTION kept.page_propose(p_token_hash text, p_session_hash text, p_address text,
                                             p_request_id text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    t record;
    v_weekly bigint;
BEGIN
    SELECT * INTO b FROM kept.page_act(p_token_hash, p_session_hash, p_address);
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    v_weekly := kept.money_parse(p->>'amount', (SELECT currency FROM kept.accounts WHERE id = (b.l).account_id));
    IF v_weekly IS NULL OR v_weekly <= 0 THEN
        RETURN kept.page_refused(b.l, 'invalid_amount', NULL, jsonb_build_object('asked', p));
    END IF;
    IF kept.parse_date(p->>'first_due_date') IS NULL THEN
        RETURN kept.page_refused(b.l, 'invalid_date', NULL, jsonb_build_object('asked', p));
    END IF;
    SELECT * INTO t FROM kept.page_attempt(b.l, p_request_id, 'proposal_create', (b.l).account_id,
                                           jsonb_build_object('weekly_amount_cents', v_weekly,
                                                              'first_due_date', p->>'first_due_date',
                                                              'contact_channel', 'web'), NULL);
    IF t.code IS NOT NULL THEN
        RETURN kept.page_refused(b.l, t.code, t.message, jsonb_build_object('asked', p));
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.proposed',
                            jsonb_build_object('proposal_id', t.answer->>'id',
                                               'in_policy', t.answer->'evaluation'->'in_policy'));
    RETURN kept.page_account_view(b.l, jsonb_build_object('view', 'proposal', 'proposal', t.answer));
END $$;

-- The plan a step made, as a view (with what the customer is told: active at
-- once, or an associate will confirm by the next business day).
CREATE OR REPLACE FUNCTION kept.page_plan_view(l kept.self_service_links, p_plan json, p_again boolean)
RETURNS json LANGUAGE sql STABLE
RETURN kept.page_account_view(l, jsonb_build_object('view', 'plan_made', 'made', p_plan, 'again', p_again,
                                                    'text', (SELECT jsonb_build_object(
                                                        'number', kept.text_number(
                                                            c.id, kept.pii_open(c.id, l.sent_to_enc)),
                                                        'language', c.language, 'customer_id', c.id)
                                                             FROM kept.customers c WHERE c.id = l.customer_id)));

-- POST /s/{token}/plan {proposal_id, replaces_plan_id}: the plan, by
-- kept.plan_create (origin customer_proposed, channel self_service). The
-- same form sent twice answers the plan it made the first time.
CREATE OR REPLACE FUNCTION kept.page_plan(p_token_hash text, p_session_hash text, p_address text,
                                          p_request_id text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    t record;
    v_used kept.plans;
BEGIN
    SELECT * INTO b FROM kept.page_act(p_token_hash, p_session_hash, p_address);
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    IF coalesce(p->>'proposal_id', '') !~ '^[0-9]{1,18}$'
       OR coalesce(p->>'replaces_plan_id', '0') !~ '^[0-9]{0,18}$' THEN
        RETURN kept.page_refused(b.l, 'unknown_proposal', NULL, NULL);
    END IF;
    SELECT * INTO v_used FROM kept.plans WHERE proposal_id = (p->>'proposal_id')::bigint
                                           AND account_id = (b.l).account_id;
    IF FOUND THEN
        RETURN kept.page_plan_view(b.l, kept.plan_json(v_used), true);
    END IF;
    SELECT * INTO t FROM kept.page_attempt(b.l, p_request_id, 'plan_create', (b.l).account_id,
                                           jsonb_build_object('proposal_id', (p->>'proposal_id')::bigint,
                                                              'replaces_plan_id',
                                                              (nullif(p->>'replaces_plan_id', ''))::bigint,
                                                              'contact_channel', 'web'), 'self_service');
    IF t.code IS NOT NULL THEN
        RETURN kept.page_refused(b.l, t.code, t.message, NULL);
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.plan_made',
                            jsonb_build_object('plan_id', t.answer->>'id', 'status', t.answer->>'status'));
    RETURN kept.page_plan_view(b.l, t.answer, false);
END $$;

-- POST /s/{token}/budget {"income.earnings": "2,100", ...} as typed (each
-- field a section and a category of the Standard Financial Statement, a
-- monthly amount; blank is none): the budget helper, by
-- kept.affordability_record; the account with what it found affordable.
CREATE OR REPLACE FUNCTION kept.page_budget(p_token_hash text, p_session_hash text, p_address text,
                                            p_request_id text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    t record;
    v_currency text;
    v_section text;
    v_category text;
    v_text text;
    v_cents bigint;
    v_lines jsonb;
    v_body jsonb := '{}';
BEGIN
    SELECT * INTO b FROM kept.page_act(p_token_hash, p_session_hash, p_address);
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    v_currency := (SELECT currency FROM kept.accounts WHERE id = (b.l).account_id);
    FOREACH v_section IN ARRAY ARRAY['income', 'fixed_costs', 'flexible_costs'] LOOP
        v_lines := '[]';
        FOREACH v_category IN ARRAY kept.sfs_categories(v_section) LOOP
            v_text := btrim(coalesce(p->>(v_section || '.' || v_category), ''));
            CONTINUE WHEN v_text = '';
            v_cents := kept.money_parse(v_text, v_currency);
            IF v_cents IS NULL THEN
                RETURN kept.page_refused(b.l, 'invalid_amount', NULL,
                                         jsonb_build_object('view', 'budget', 'asked', p,
                                                            'field', v_section || '.' || v_category));
            END IF;
            v_lines := v_lines || jsonb_build_object('category', v_category, 'monthly_cents', v_cents);
        END LOOP;
        v_body := v_body || jsonb_build_object(v_section, v_lines);
    END LOOP;
    SELECT * INTO t FROM kept.page_attempt(b.l, p_request_id, 'affordability_record', (b.l).account_id,
                                           v_body, NULL);
    IF t.code IS NOT NULL THEN
        RETURN kept.page_refused(b.l, t.code, t.message, jsonb_build_object('view', 'budget'));
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.budget',
                            jsonb_build_object('assessment_id', t.answer->>'id'));
    RETURN kept.page_account_view(b.l, jsonb_build_object('budget', t.answer));
END $$;

-- POST /s/{token}/settlement {amount} as typed: "What would be fair?" — by
-- kept.settlement_offer_create: the offer beside the policy's floor, and a
-- counter below it.
CREATE OR REPLACE FUNCTION kept.page_offer(p_token_hash text, p_session_hash text, p_address text,
                                           p_request_id text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    t record;
    v_offer bigint;
BEGIN
    SELECT * INTO b FROM kept.page_act(p_token_hash, p_session_hash, p_address);
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    v_offer := kept.money_parse(p->>'amount', (SELECT currency FROM kept.accounts WHERE id = (b.l).account_id));
    IF v_offer IS NULL OR v_offer <= 0 THEN
        RETURN kept.page_refused(b.l, 'invalid_amount', NULL, jsonb_build_object('view', 'settlement', 'asked', p));
    END IF;
    SELECT * INTO t FROM kept.page_attempt(b.l, p_request_id, 'settlement_offer_create', (b.l).account_id,
                                           jsonb_build_object('offer_cents', v_offer, 'contact_channel', 'web'), NULL);
    IF t.code IS NOT NULL THEN
        RETURN kept.page_refused(b.l, t.code, t.message, NULL);
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.settlement_offered',
                            jsonb_build_object('settlement_offer_id', t.answer->>'id'));
    RETURN kept.page_account_view(b.l, jsonb_build_object('view', 'settlement', 'offer', t.answer));
END $$;

-- POST /s/{token}/settlement/accept {offer_id, take ("offer" or "counter"),
-- installments, first_due_date, replaces_plan_id}: by kept.settlement_accept
-- (origin settlement, channel self_service); the same form sent twice
-- answers the plan it made the first time.
CREATE OR REPLACE FUNCTION kept.page_settle(p_token_hash text, p_session_hash text, p_address text,
                                            p_request_id text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    b record;
    t record;
    o kept.settlement_offers;
    v_plan kept.plans;
BEGIN
    SELECT * INTO b FROM kept.page_act(p_token_hash, p_session_hash, p_address);
    IF b.stop IS NOT NULL THEN
        RETURN b.stop;
    END IF;
    SELECT * INTO o FROM kept.settlement_offers
    WHERE id = CASE WHEN p->>'offer_id' ~ '^[0-9]{1,18}$' THEN (p->>'offer_id')::bigint END
      AND account_id = (b.l).account_id;
    IF NOT FOUND THEN
        RETURN kept.page_refused(b.l, 'settlement_offer_not_found', 'no such offer', NULL);
    END IF;
    SELECT * INTO v_plan FROM kept.plans WHERE settlement_offer_id = o.id;
    IF FOUND THEN
        RETURN kept.page_plan_view(b.l, kept.plan_json(v_plan), true);
    END IF;
    SELECT * INTO t FROM kept.page_attempt(b.l, p_request_id, 'settlement_accept', o.id, jsonb_build_object(
                 'amount_cents', CASE WHEN p->>'take' = 'counter' AND o.counter_cents IS NOT NULL
                                      THEN o.counter_cents ELSE o.offer_cents END,
                 'installments', CASE WHEN p->>'installments' ~ '^[0-9]{1,2}$' THEN (p->>'installments')::integer END,
                 'first_due_date', kept.parse_date(p->>'first_due_date'),
                 'replaces_plan_id', CASE WHEN p->>'replaces_plan_id' ~ '^[0-9]{1,18}$'
                                          THEN (p->>'replaces_plan_id')::bigint END,
                 'contact_channel', 'web'), 'self_service');
    IF t.code IS NOT NULL THEN
        RETURN kept.page_refused(b.l, t.code, t.message,
                                 jsonb_build_object('view', 'settlement', 'offer', kept.settlement_json(o, (
                                     SELECT currency FROM kept.accounts WHERE id = o.account_id))));
    END IF;
    PERFORM kept.page_audit(b.l, p_request_id, 'self_service.settlement_accepted',
                            jsonb_build_object('plan_id', t.answer->>'id', 'status', t.answer->>'status'));
    RETURN kept.page_plan_view(b.l, t.answer, false);
END $$;
