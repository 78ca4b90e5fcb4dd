-- Contacts from every channel: an agent's call, a customer's call in, a
-- letter, an email, logged by hand (POST /v1/accounts/{id}/contacts), and the
-- telephone conversation a negotiation an agent records stands for. The
-- contact rules (81_contact_rules.sql) read them: telephone attempts an agent
-- placed count in Reg F's 7-in-7 (and a jurisdiction's caps), a telephone
-- conversation either way starts the 7-day rule, a wrong party stops
-- automated calls to the number.

CREATE OR REPLACE FUNCTION kept.contact_json(t kept.contacts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', t.id, 'account_id', t.account_id, 'channel', t.channel, 'direction', t.direction,
        'number_last4', right(kept.pii_open(t.customer_id, t.number_enc), 4), 'occurred_at', kept.ts(t.occurred_at), 'outcome', t.outcome,
        'source', t.source, 'source_id', t.source_id, 'note', t.note, 'recorded_by', t.recorded_by,
        'counts_as', CASE WHEN t.channel <> 'phone' THEN 'not a telephone contact: no Reg F call rule counts it'
                          WHEN t.outcome IN ('conversation', 'refused')
                              THEN 'a telephone conversation: no call about this debt in the 7 days from its date'
                                   || CASE WHEN t.direction = 'outbound' AND t.source = 'logged'
                                           THEN ', and an attempt in 7-in-7' ELSE '' END
                          WHEN t.direction = 'outbound' THEN 'a telephone attempt: counts in 7-in-7'
                          ELSE 'an inbound call that reached nobody: counts in no rule' END,
        'created_at', kept.ts(t.created_at));
$$;

CREATE OR REPLACE FUNCTION kept.check_contact_channel(p_channel text, p_field text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_channel NOT IN ('phone', 'sms', 'email', 'letter', 'in_person', 'web') THEN
        PERFORM kept.fail('invalid', 'invalid_contact_channel', p_field,
                          format('%s is one of phone, sms, email, letter, in_person, web', p_field));
    END IF;
END $$;

-- The conversation a negotiation recorded by an agent stands for: by
-- telephone unless the request names another channel (contact_channel).
-- Imported history records none.
CREATE OR REPLACE FUNCTION kept.negotiation_contact(p_actor_key_id bigint, a kept.accounts, p jsonb, p_source text,
                                                    p_source_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_channel text := coalesce(p->>'contact_channel', 'phone');
BEGIN
    PERFORM kept.check_contact_channel(v_channel, 'contact_channel');
    IF coalesce((p->>'imported')::boolean, false) THEN
        RETURN;
    END IF;
    INSERT INTO kept.contacts (account_id, customer_id, channel, occurred_at, outcome, source, source_id, recorded_by)
    VALUES (a.id, a.customer_id, v_channel, kept.now(), 'conversation', p_source, p_source_id, p_actor_key_id);
END $$;

-- POST /v1/accounts/{id}/contacts {channel, direction, outcome, number?, occurred_at?, note?}
DROP FUNCTION IF EXISTS kept.contact_log(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.contact_log(p_actor kept.actor, p_account_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
    t kept.contacts;
    v_at timestamptz := kept.now();
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, '',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    PERFORM kept.check_contact_channel(p->>'channel', 'channel');
    IF p->>'direction' NOT IN ('inbound', 'outbound') THEN
        PERFORM kept.fail('invalid', 'invalid_direction', 'direction', 'direction is inbound or outbound');
    END IF;
    IF p->>'outcome' NOT IN ('conversation', 'no_answer', 'left_message', 'wrong_party', 'refused') THEN
        PERFORM kept.fail('invalid', 'invalid_outcome', 'outcome',
                          'outcome is one of conversation, no_answer, left_message, wrong_party, refused');
    END IF;
    IF p ? 'number' AND NOT kept.is_e164(p->>'number') THEN
        PERFORM kept.fail('invalid', 'invalid_phone', 'number', 'number must be E.164, such as +14155550123');
    END IF;
    IF p->>'channel' = 'phone' AND p->>'direction' = 'outbound' AND NOT p ? 'number' THEN
        PERFORM kept.fail('invalid', 'missing_value', 'number', 'an outbound telephone contact names the number called');
    END IF;
    IF p ? 'occurred_at' THEN
        IF NOT kept.is_timestamp(p->>'occurred_at') THEN
            PERFORM kept.fail('invalid', 'invalid_occurred_at', 'occurred_at',
                              'occurred_at must be a time like 2026-11-20T14:30:00Z');
        END IF;
        v_at := (p->>'occurred_at')::timestamptz;
        IF v_at > kept.now() + interval '1 minute' THEN
            PERFORM kept.fail('rule_violation', 'contact_in_future', 'occurred_at', 'a contact is logged after it happened');
        END IF;
    END IF;
    INSERT INTO kept.contacts (account_id, customer_id, channel, direction, number_enc, number_digest,
                               number_gdigest, occurred_at, outcome, note, recorded_by)
    VALUES (a.id, a.customer_id, p->>'channel', p->>'direction', kept.pii_seal(a.customer_id, p->>'number'),
            kept.pii_digest(a.customer_id, p->>'number'), kept.number_gdigest(p->>'number'), v_at, p->>'outcome',
            p->>'note', (p_actor).key_id)
    RETURNING * INTO t;
    PERFORM kept.audit_write(p_actor, 'contact.logged', 'contact', t.id, NULL,
                             kept.contact_json(t)::jsonb);
    PERFORM kept.outbox_write('contact_logged', 'contact', t.id,
                              jsonb_build_object('account_id', t.account_id, 'channel', t.channel,
                                                 'direction', t.direction, 'outcome', t.outcome,
                                                 'occurred_at', kept.ts(t.occurred_at)));
    IF t.channel = 'phone' AND t.outcome = 'wrong_party' AND p ? 'number' THEN
        PERFORM kept.phone_wrong_party(p_actor, a.customer_id, p->>'number', a.id, NULL,
                                       format('logged by an agent, contact %s', t.id));
    END IF;
    RETURN kept.contact_json(t);
END $$;

-- GET /v1/accounts/{id}/contacts: oldest first, cursor pages like every list.
CREATE OR REPLACE FUNCTION kept.contact_page(p_account_id bigint, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after bigint := kept.cursor_decode('contact', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
BEGIN
    PERFORM kept.account_must_exist(p_account_id, 'id');
    RETURN kept.page_of(ARRAY(SELECT kept.contact_json(t) FROM kept.contacts t
                              WHERE t.account_id = p_account_id AND t.id > v_after
                              ORDER BY t.id LIMIT v_limit + 1),
                        v_limit, 'contact');
END $$;
