-- Text messages (SMS) through the provider's Messages API: queueing, the
-- contact rules texts obey, claiming work across keptd instances, what the
-- provider says, and the texts customers send (STOP, START, HELP).
--
-- A text is judged like a call, at the moment of sending on kept's clock:
--   1 restrictions: cease_communication, attorney, bankruptcy, dispute,
--     moratorium; account_closed; link_not_usable (a link or a code for a link
--     that was revoked, locked or has expired)                              blocked
--   2 opted_out (STOP, or the provider refused the number as opted out);
--     wrong_party; no_consent to texts on the number (a consent of its own,
--     apart from automated calls)                                          blocked
--   3 calling_window in every time zone kept knows for the customer, and the
--     times the customer said are inconvenient                               held
-- A held text moves to the first moment every rule allows; one that would
-- move past its use (a code after ten minutes, a link after it expires) is
-- blocked with its rule. A text that may go carries, as ValidityPeriod, the
-- seconds until the window closes, so the provider drops it rather than
-- deliver it late. Every text ends with how to opt out (keptd's wording).

-- ---- which number ---------------------------------------------------------------------------

-- The number to text: `p_preferred` when it is the customer's, else the first
-- number with consent to texts that reached no one else and did not opt out,
-- else the first number (which a rule then blocks, on the record). NULL when
-- the customer has no number. (Numbers are sealed: the one chosen is opened.)
CREATE OR REPLACE FUNCTION kept.text_number(p_customer_id bigint, p_preferred text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT kept.pii_open(p.customer_id, p.number_enc) FROM kept.customer_phones p
    WHERE p.customer_id = p_customer_id
    ORDER BY p.number_digest IS NOT DISTINCT FROM kept.pii_digest(p_customer_id, p_preferred) DESC,
             (p.consent_texts AND p.wrong_party_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM kept.text_opt_outs o WHERE o.number_gdigest = p.number_gdigest)) DESC,
             p.position
    LIMIT 1;
$$;

-- ---- the rules ----------------------------------------------------------------------------------

-- The judgment in plain words.
CREATE OR REPLACE FUNCTION kept.text_rule_words(p_rule text, p_next timestamptz, p_useful_until timestamptz,
                                                p_now timestamptz, p_home text, p_zones text[], p_ws time,
                                                p_we time, p_number text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_rule IS NULL THEN
            format('Cleared at %s: inside %s-%s in %s.', kept.local_words(p_now, p_home), left(p_ws::text, 5),
                   left(p_we::text, 5), array_to_string(p_zones, ', '))
        WHEN p_rule NOT IN ('calling_window', 'inconvenient_time') THEN 'Blocked, never sent: ' || CASE p_rule
            WHEN 'cease_communication' THEN 'the customer asked for communication to cease (12 CFR 1006.6(c)).'
            WHEN 'attorney' THEN 'the customer is represented by an attorney (12 CFR 1006.6(b)(2)).'
            WHEN 'bankruptcy' THEN 'the customer is in bankruptcy.'
            WHEN 'dispute' THEN 'the customer disputes the debt.'
            WHEN 'moratorium' THEN 'a moratorium (breathing space) is in force.'
            WHEN 'account_closed' THEN 'the account is no longer open.'
            WHEN 'link_not_usable' THEN 'the self-service link was revoked, locked or has expired.'
            WHEN 'opted_out' THEN format('the number ending %s opted out of texts (STOP); it takes START from '
                                         || 'that number to text it again.', right(p_number, 4))
            WHEN 'wrong_party' THEN format('the number ending %s reached someone else.', right(p_number, 4))
            WHEN 'no_consent' THEN format('no consent to texts on the number ending %s (TCPA, 47 CFR 64.1200(a)).',
                                          right(p_number, 4))
            ELSE p_rule END
        ELSE (CASE WHEN p_next IS NOT NULL AND p_next < p_useful_until THEN 'Held by ' ELSE 'Blocked by ' END)
             || CASE p_rule
                WHEN 'calling_window' THEN format('the calling window, %s-%s local time in every time zone kept '
                                                  || 'knows for the customer (%s; 12 CFR 1006.6(b)(1)(i))',
                                                  left(p_ws::text, 5), left(p_we::text, 5),
                                                  array_to_string(p_zones, ', '))
                ELSE 'a time the customer said is inconvenient (12 CFR 1006.6(b)(1)(i))' END
             || CASE WHEN p_next IS NULL THEN '; no allowed time in the next nine days.'
                     WHEN p_next < p_useful_until THEN '; it may go at ' || kept.local_words(p_next, p_home) || '.'
                     ELSE format('; the next allowed time, %s, comes after the text is of use (%s).',
                                 kept.local_words(p_next, p_home), kept.local_words(p_useful_until, p_home)) END
        END;
$$;

-- The first rule that forbids sending each text of p_ids at p_now (NULL: it
-- may go), when it may be tried again, by when it must be sent (a text that
-- may go), the zones it was judged in, and all of it in plain words.
CREATE OR REPLACE FUNCTION kept.texts_rules(p_now timestamptz, p_ids bigint[])
RETURNS TABLE (id bigint, rule text, retry_at timestamptz, useful_until timestamptz, send_by timestamptz,
               zones text[], decision text)
LANGUAGE sql STABLE AS $$
    WITH f AS MATERIALIZED (
        SELECT m.id, kept.pii_open(m.customer_id, m.number_enc) AS number, m.useful_until, cu.time_zone AS home, kept.customer_zones(cu.id) AS zones,
               greatest(coalesce(jr.window_start, '08:00'), '08:00') AS ws,
               least(coalesce(jr.window_end, '21:00'), '21:00') AS we, cu.inconvenient_times AS periods,
               CASE WHEN cu.cease_communication THEN 'cease_communication'
                    WHEN cu.attorney_represented THEN 'attorney'
                    WHEN cu.bankruptcy THEN 'bankruptcy'
                    WHEN cu.dispute_open THEN 'dispute'
                    WHEN cu.moratorium_until >= (p_now AT TIME ZONE cu.time_zone)::date THEN 'moratorium'
                    WHEN a.status NOT IN ('open', 'in_plan') AND m.purpose <> 'confirmation' THEN 'account_closed'
                    WHEN m.link_id IS NOT NULL AND (l.revoked_at IS NOT NULL OR l.locked_at IS NOT NULL
                                                    OR l.expires_at <= p_now) THEN 'link_not_usable'
                    WHEN EXISTS (SELECT 1 FROM kept.text_opt_outs o WHERE o.number_gdigest = m.number_gdigest)
                        THEN 'opted_out'
                    WHEN ph.wrong_party_at IS NOT NULL THEN 'wrong_party'
                    WHEN NOT coalesce(ph.consent_texts, false) THEN 'no_consent'
               END AS restriction
        FROM kept.messages m
        JOIN kept.customers cu ON cu.id = m.customer_id
        LEFT JOIN kept.accounts a ON a.id = m.account_id
        LEFT JOIN kept.self_service_links l ON l.id = m.link_id
        LEFT JOIN kept.customer_phones ph ON ph.customer_id = m.customer_id AND ph.number_digest = m.number_digest
        LEFT JOIN kept.jurisdiction_call_rules jr ON jr.jurisdiction = cu.jurisdiction
        WHERE m.id = ANY (p_ids)
    ), judged AS (
        SELECT f.*,
               CASE WHEN f.restriction IS NOT NULL THEN f.restriction
                    WHEN NOT kept.in_windows(p_now, f.zones, f.ws, f.we, kept.dial_margin()) THEN 'calling_window'
                    WHEN kept.inconvenient_at(p_now, f.periods, f.home, kept.dial_margin()) IS NOT NULL
                        THEN 'inconvenient_time'
               END AS rule
        FROM f
    ), timed AS (
        SELECT j.*,
               CASE WHEN j.rule IN ('calling_window', 'inconvenient_time')
                    THEN kept.next_call_time(p_now, j.zones, j.ws, j.we, j.periods, j.home) END AS next_at,
               CASE WHEN j.rule IS NULL
                    THEN least(kept.call_send_by(p_now, j.zones, j.we, j.periods, j.home), j.useful_until) END
                   AS send_by
        FROM judged j
    )
    SELECT t.id, t.rule, t.next_at, t.useful_until, t.send_by, t.zones,
           kept.text_rule_words(t.rule, t.next_at, t.useful_until, p_now, t.home, t.zones, t.ws, t.we, t.number)
    FROM timed t;
$$;

-- Records a judgment: a text held moves to when it may go, one blocked (or
-- held past its use) is blocked for good.
CREATE OR REPLACE FUNCTION kept.text_judged(p_id bigint, p_now timestamptz, p_rule text, p_retry_at timestamptz,
                                            p_zones text[], p_decision text)
RETURNS kept.messages LANGUAGE plpgsql AS $$
DECLARE
    m kept.messages;
BEGIN
    IF p_rule IS NOT NULL AND p_retry_at IS NOT NULL
       AND p_retry_at < (SELECT useful_until FROM kept.messages WHERE id = p_id) THEN
        UPDATE kept.messages SET scheduled_at = p_retry_at, deferred_rule = p_rule, judged_at = p_now,
                                 zones = p_zones, decision = p_decision, updated_at = now()
        WHERE id = p_id RETURNING * INTO m;
    ELSIF p_rule IS NOT NULL THEN
        UPDATE kept.messages SET state = 'blocked', blocked_rule = p_rule, sealed = NULL, judged_at = p_now,
                                 zones = p_zones, decision = p_decision, updated_at = now()
        WHERE id = p_id RETURNING * INTO m;
    ELSE
        UPDATE kept.messages SET judged_at = p_now, zones = p_zones, decision = p_decision, updated_at = now()
        WHERE id = p_id RETURNING * INTO m;
    END IF;
    RETURN m;
END $$;

-- ---- queueing ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.message_json(m kept.messages) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', m.id, 'customer_id', m.customer_id, 'account_id', m.account_id, 'link_id', m.link_id,
        'purpose', m.purpose, 'number_last4', right(kept.pii_open(m.customer_id, m.number_enc), 4),
        'language', m.language, 'body', kept.pii_open(m.customer_id, m.body_enc),
        'state', m.state, 'rule', coalesce(m.blocked_rule, CASE WHEN m.state = 'queued' THEN m.deferred_rule END),
        'blocked_rule', m.blocked_rule, 'deferred_rule', m.deferred_rule, 'decision', m.decision,
        'judged_at', kept.ts(m.judged_at),
        'next_attempt_at', CASE WHEN m.state = 'queued' THEN kept.ts(m.scheduled_at) END,
        'useful_until', kept.ts(m.useful_until), 'sent_at', kept.ts(m.sent_at), 'attempts', m.attempts,
        'reconciled', m.reconciled, 'provider_sid', m.provider_sid, 'error_code', m.error_code, 'error', m.error,
        'created_at', kept.ts(m.created_at), 'updated_at', kept.ts(m.updated_at));
$$;

-- Queues one text and judges it at once (what the agent, the page or the call
-- is told); the sender judges it again when it goes. p_body is what staff
-- see; p_sealed (hex), when given, is what is sent. Of use until
-- p_useful_until (NULL: three days). Audited without the body's secret.
DROP FUNCTION IF EXISTS kept.message_queue(bigint, text, text, bigint, bigint, bigint, text, text, text,
                                           text, text, timestamptz);
CREATE OR REPLACE FUNCTION kept.message_queue(p_actor kept.actor,
                                              p_customer_id bigint, p_account_id bigint, p_link_id bigint,
                                              p_purpose text, p_number text, p_language text, p_body text,
                                              p_sealed text, p_useful_until timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    m kept.messages;
    j record;
BEGIN
    IF p_number IS NULL THEN
        PERFORM kept.fail('rule_violation', 'no_phone', 'number', 'the customer has no phone number to text');
    END IF;
    IF length(p_body) > 1600 THEN
        PERFORM kept.fail('invalid', 'invalid_body', 'body', 'a text is at most 1,600 characters');
    END IF;
    -- the number and the words sealed under the customer's data key, with the number's digests
    INSERT INTO kept.messages (customer_id, account_id, link_id, purpose, number_enc, number_digest, number_gdigest,
                               language, body_enc, sealed, scheduled_at, useful_until, created_by)
    VALUES (p_customer_id, p_account_id, p_link_id, p_purpose, kept.pii_seal(p_customer_id, p_number),
            kept.pii_digest(p_customer_id, p_number), kept.number_gdigest(p_number), p_language,
            kept.pii_seal(p_customer_id, p_body),
            decode(p_sealed, 'hex'), kept.now(), coalesce(p_useful_until, kept.now() + interval '3 days'),
            (p_actor).key_id)
    RETURNING * INTO m;
    SELECT * INTO j FROM kept.texts_rules(kept.now(), ARRAY[m.id]);
    m := kept.text_judged(m.id, kept.now(), j.rule, j.retry_at, j.zones, j.decision);
    RETURN kept.write_end(p_actor, 'message.queued', 'message', m.id, NULL,
                          kept.message_json(m)::jsonb, NULL, NULL, kept.message_json(m));
END $$;

-- ---- sending ------------------------------------------------------------------------------------------

-- Claims up to p_limit due texts (FOR UPDATE SKIP LOCKED: one keptd per
-- text), judges them at kept.now(), and marks those that may go 'sending'.
-- Answers those: the number, the text (sealed: hex, for keptd to open), and
-- by when it must go (milliseconds from now; ValidityPeriod). Texts left
-- 'sending' for ten minutes by an instance that died become 'unknown'.
CREATE OR REPLACE FUNCTION kept.messages_claim(p_limit integer)
RETURNS TABLE (id bigint, number text, body text, sealed text, send_by_ms bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := kept.now();
    v_offset interval := kept.now() - clock_timestamp();
    v_ids bigint[];
    j record;
    v_go bigint[] := '{}';
    v_by timestamptz[] := '{}';
BEGIN
    UPDATE kept.messages m SET state = 'unknown', sealed = NULL, updated_at = now(),
                               error = 'the sending instance stopped before it recorded the result'
    WHERE m.state = 'sending' AND m.claimed_at < now() - interval '10 minutes';
    SELECT array_agg(q.id) INTO v_ids FROM (
        SELECT m.id FROM kept.messages m WHERE m.state = 'queued' AND m.scheduled_at <= v_now
        ORDER BY m.scheduled_at, m.id LIMIT p_limit FOR UPDATE SKIP LOCKED) q;
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    FOR j IN SELECT r.* FROM kept.texts_rules(v_now, v_ids) r LOOP
        PERFORM kept.text_judged(j.id, v_now, j.rule, j.retry_at, j.zones, j.decision);
        IF j.rule IS NULL THEN
            v_go := array_append(v_go, j.id);
            v_by := array_append(v_by, j.send_by);
        END IF;
    END LOOP;
    RETURN QUERY
    WITH go AS (SELECT * FROM unnest(v_go, v_by) AS g(id, send_by)),
    claimed AS (
        UPDATE kept.messages m SET state = 'sending', claimed_at = now(), updated_at = now()
        FROM go WHERE m.id = go.id
        RETURNING m.id, kept.pii_open(m.customer_id, m.number_enc) AS number,
                  kept.pii_open(m.customer_id, m.body_enc) AS body, m.sealed, go.send_by
    )
    SELECT c.id, c.number, c.body, encode(c.sealed, 'hex'),
           floor(extract(epoch FROM c.send_by - (clock_timestamp() + v_offset)) * 1000)::bigint
    FROM claimed c;
END $$;

-- What the provider said about a batch of texts: accepted (with its sid),
-- refused (21610: the number opted out at the carrier; recorded as an
-- opt-out, never sent again), failed, unknown (never sent again: it may have
-- gone), or not_sent (its window closed before a create could go: back in the
-- queue, judged again then). The sealed text is cleared once it cannot be
-- needed again.
CREATE OR REPLACE FUNCTION kept.messages_sent(p_ids bigint[], p_outcomes text[], p_sids text[], p_attempts integer[],
                                              p_reconciled boolean[], p_codes integer[], p_errors text[],
                                              p_sent_at timestamptz[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m kept.messages;
BEGIN
    UPDATE kept.messages k
    SET state = 'queued', scheduled_at = kept.now() + interval '1 minute', deferred_rule = 'calling_window',
        attempts = r.attempts, error = r.error, updated_at = now()
    FROM unnest(p_ids, p_outcomes, p_attempts, p_errors) AS r(id, outcome, attempts, error)
    WHERE k.id = r.id AND r.outcome = 'not_sent' AND k.state = 'sending';
    FOR m IN
        UPDATE kept.messages k
        SET state = CASE WHEN k.state NOT IN ('sending', 'queued') THEN k.state
                         WHEN r.outcome = 'placed' THEN 'accepted'
                         WHEN r.outcome = 'failed' AND r.code = 21610 THEN 'refused'
                         ELSE r.outcome END,
            provider_sid = coalesce(k.provider_sid, r.sid), attempts = r.attempts, reconciled = r.reconciled,
            error_code = r.code, error = r.error, sent_at = coalesce(r.sent_at, k.sent_at),
            sealed = NULL, updated_at = now()
        FROM unnest(p_ids, p_outcomes, p_sids, p_attempts, p_reconciled, p_codes, p_errors, p_sent_at)
             AS r(id, outcome, sid, attempts, reconciled, code, error, sent_at)
        WHERE k.id = r.id AND r.outcome <> 'not_sent'
        RETURNING k.*
    LOOP
        IF m.state = 'refused' THEN
            PERFORM kept.text_opt_out(kept.pii_open(m.customer_id, m.number_enc), 'provider_refused', NULL, m.id);
        END IF;
    END LOOP;
END $$;

-- How far along a text is; callbacks only move it forward.
CREATE OR REPLACE FUNCTION kept.message_state_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE s WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'accepted' THEN 2 WHEN 'unknown' THEN 2
              WHEN 'sent' THEN 3 WHEN 'delivered' THEN 4 WHEN 'undelivered' THEN 4 WHEN 'failed' THEN 4
              WHEN 'refused' THEN 4 WHEN 'blocked' THEN 4 END;

-- A status callback (MessageStatus): forward only; a callback naming another
-- sid than the text's is refused. The provider's queued, accepted, sending and
-- scheduled are all 'accepted' here.
CREATE OR REPLACE FUNCTION kept.message_status(p_id bigint, p_sid text, p_status text, p_error_code integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    m kept.messages;
    v_state text := CASE WHEN p_status IN ('queued', 'accepted', 'sending', 'scheduled') THEN 'accepted'
                         WHEN p_status IN ('sent', 'delivered', 'undelivered', 'failed') THEN p_status
                         WHEN p_status IN ('read') THEN 'delivered' END;
    v_before text;
BEGIN
    IF v_state IS NULL THEN
        PERFORM kept.fail('invalid', 'invalid_message_status', 'MessageStatus', 'MessageStatus is not a message status');
    END IF;
    m := kept.lock_or_404(NULL::kept.messages, p_id, 'FOR UPDATE', 'message_not_found', '', 'no such message');
    IF m.provider_sid IS NOT NULL AND m.provider_sid <> p_sid THEN
        PERFORM kept.fail('conflict', 'message_sid_mismatch', 'MessageSid', 'this callback names another message');
    END IF;
    v_before := m.state;
    UPDATE kept.messages
    SET provider_sid = p_sid,
        state = CASE WHEN kept.message_state_rank(v_state) > kept.message_state_rank(state) THEN v_state ELSE state END,
        error_code = coalesce(p_error_code, error_code), updated_at = now()
    WHERE id = p_id RETURNING * INTO m;
    IF m.state = 'undelivered' AND p_error_code = 21610 THEN
        PERFORM kept.text_opt_out(kept.pii_open(m.customer_id, m.number_enc), 'provider_refused', NULL, m.id);
    END IF;
    RETURN json_build_object('applied', m.state <> v_before, 'state', m.state);
END $$;

-- ---- opting out and in ----------------------------------------------------------------------------

-- No more texts to this number, whoever's it is, until it texts START. Audited
-- on every customer with the number.
-- (The number is kept as its global digest only: the opt-out needs to
-- recognise it, never to text it.)
CREATE OR REPLACE FUNCTION kept.text_opt_out(p_number text, p_how text, p_inbound_id bigint, p_message_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_g bytea := kept.number_gdigest(p_number);
BEGIN
    INSERT INTO kept.text_opt_outs (number_gdigest, opted_out_at, how) VALUES (v_g, kept.now(), p_how)
    ON CONFLICT (number_gdigest) DO NOTHING;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE kept.customer_phones SET consent_texts = false, texts_consent_updated_at = kept.now()
    WHERE number_gdigest = v_g AND consent_texts;
    PERFORM kept.audit_write(ROW(NULL, CASE p_how WHEN 'keyword' THEN 'customer (STOP by text)'
                                                  ELSE 'the provider (refused an opted-out number)' END,
                                 NULL)::kept.actor, 'texts.opted_out', 'customer', p.customer_id,
                             jsonb_build_object('number_last4', right(p_number, 4), 'texts_opted_out', false),
                             jsonb_build_object('number_last4', right(p_number, 4), 'texts_opted_out', true,
                                                'how', p_how, 'inbound_message_id', p_inbound_id,
                                                'message_id', p_message_id))
    FROM kept.customer_phones p WHERE p.number_gdigest = v_g ORDER BY p.customer_id;
    PERFORM kept.outbox_write('texts_opted_out', 'customer', p.customer_id,
                              jsonb_build_object('how', p_how))
    FROM kept.customer_phones p WHERE p.number_gdigest = v_g;
END $$;

-- START: the number asks for texts again; its consent to texts is given back
-- (the customer's own request), audited.
CREATE OR REPLACE FUNCTION kept.text_opt_in(p_number text, p_inbound_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_g bytea := kept.number_gdigest(p_number);
BEGIN
    DELETE FROM kept.text_opt_outs WHERE number_gdigest = v_g;
    UPDATE kept.customer_phones SET consent_texts = true, texts_consent_updated_at = kept.now()
    WHERE number_gdigest = v_g AND NOT consent_texts;
    PERFORM kept.audit_write(ROW(NULL, 'customer (START by text)', NULL)::kept.actor, 'texts.opted_in', 'customer',
                             p.customer_id,
                             NULL, jsonb_build_object('number_last4', right(p_number, 4), 'consent_texts', true,
                                                      'inbound_message_id', p_inbound_id))
    FROM kept.customer_phones p WHERE p.number_gdigest = v_g ORDER BY p.customer_id;
END $$;

-- The keyword of a whole message (case and surrounding spaces ignored), as
-- carriers read them: stop, start, help, or NULL.
CREATE OR REPLACE FUNCTION kept.text_keyword(p_body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN upper(btrim(p_body, E' \t\r\n.!')) IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT',
                                                       'REVOKE', 'OPTOUT') THEN 'stop'
            WHEN upper(btrim(p_body, E' \t\r\n.!')) IN ('START', 'YES', 'UNSTOP') THEN 'start'
            WHEN upper(btrim(p_body, E' \t\r\n.!')) IN ('HELP', 'INFO') THEN 'help' END;

-- A text from a number (the messaging webhook): recorded once per
-- MessageSid, by the number's global digest and the keyword (kept keeps
-- neither the number nor the words); STOP opts the number out at once, START
-- back in, HELP is answered. Answers {keyword, language (of a customer with the number),
-- duplicate}; keptd answers the provider with the reply in TwiML.
CREATE OR REPLACE FUNCTION kept.message_inbound(p_sid text, p_from text, p_to text, p_body text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_keyword text := kept.text_keyword(p_body);
    v_id bigint;
    v_language text;
BEGIN
    IF NOT kept.is_e164(p_from) THEN
        PERFORM kept.fail('invalid', 'invalid_phone', 'From', 'From must be an E.164 number');
    END IF;
    SELECT c.language INTO v_language FROM kept.customer_phones p JOIN kept.customers c ON c.id = p.customer_id
    WHERE p.number_gdigest = kept.number_gdigest(p_from) ORDER BY p.customer_id LIMIT 1;
    INSERT INTO kept.inbound_messages (provider_sid, number_gdigest, to_number, keyword)
    VALUES (p_sid, kept.number_gdigest(p_from), coalesce(p_to, ''), v_keyword)
    ON CONFLICT (provider_sid) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN json_build_object('keyword', v_keyword, 'language', coalesce(v_language, 'en'), 'duplicate', true);
    END IF;
    IF v_keyword = 'stop' THEN
        PERFORM kept.text_opt_out(p_from, 'keyword', v_id, NULL);
    ELSIF v_keyword = 'start' THEN
        PERFORM kept.text_opt_in(p_from, v_id);
    ELSIF v_keyword = 'help' THEN
        PERFORM kept.audit_write(ROW(NULL, 'customer (HELP by text)', NULL)::kept.actor, 'texts.help', 'inbound_message',
                                 v_id, NULL,
                                 jsonb_build_object('number_last4', right(p_from, 4)));
    END IF;
    RETURN json_build_object('keyword', v_keyword, 'language', coalesce(v_language, 'en'), 'duplicate', false);
END $$;

-- GET /v1/messages?account_id= : oldest first, cursor pages like every list.
CREATE OR REPLACE FUNCTION kept.message_page(p_account_id text, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after bigint := kept.cursor_decode('message', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
    v_account bigint := kept.account_id_required(p_account_id);
BEGIN
    RETURN kept.page_of(ARRAY(SELECT kept.message_json(m) FROM kept.messages m
                              WHERE m.account_id = v_account AND m.id > v_after
                              ORDER BY m.id LIMIT v_limit + 1),
                        v_limit, 'message');
END $$;
