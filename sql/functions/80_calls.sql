-- Reminder calls: scheduling, claiming work across keptd instances with the
-- contact rules (sql/functions/81_contact_rules.sql) checked at the moment of
-- dialling, the provider's pace, what the provider reports, the script's
-- facts and key presses, triage when calls keep reaching nobody.
--
-- One clock: the dispatcher judges and records on kept.now() (keptd's clock,
-- simulated or the wall's); an as_of given to the scheduler only decides
-- what is queued, never when a call may be dialled.

-- earlier shapes of the dispatcher's functions
DROP FUNCTION IF EXISTS kept.calls_claim(timestamptz, integer);
DROP FUNCTION IF EXISTS kept.calls_claim(integer, integer);
DROP FUNCTION IF EXISTS kept.call_check(kept.calls, timestamptz);
DROP FUNCTION IF EXISTS kept.call_dialed(bigint, text, text, integer, boolean, text);
DROP FUNCTION IF EXISTS kept.calls_dialed(bigint[], text[], text[], integer[], boolean[], text[]);
DROP FUNCTION IF EXISTS kept.calls_dialed(bigint[], text[], text[], integer[], boolean[], text[], timestamptz[]);
DROP FUNCTION IF EXISTS kept.calls_rules(timestamptz, bigint[]);

CREATE OR REPLACE FUNCTION kept.call_json(c kept.calls) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq, 'purpose', c.purpose,
        'number_last4', right(kept.pii_open(c.customer_id, c.number_enc), 4),
        'scheduled_at', kept.ts(c.scheduled_at), 'state', c.state,
        'blocked_rule', c.blocked_rule, 'deferred_rule', c.deferred_rule, 'deferrals', c.deferrals,
        'dialed_at', kept.ts(c.dialed_at), 'dial_attempts', c.dial_attempts, 'reconciled', c.reconciled,
        'provider_sid', c.provider_sid, 'answered_by', c.answered_by, 'digits', c.digits,
        'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
        'duration_s', c.duration_s, 'error', c.error, 'created_at', kept.ts(c.created_at),
        'updated_at', kept.ts(c.updated_at),
        'rule', coalesce(c.blocked_rule, CASE WHEN c.state = 'queued' THEN c.deferred_rule END),
        'next_attempt_at', CASE WHEN c.state = 'queued' THEN kept.ts(c.scheduled_at) END,
        'decision', c.decision, 'judged_at', kept.ts(c.judged_at), 'excluded', c.excluded,
        'zones', coalesce(to_json(c.zones), '[]'::json), 'conversation_at', kept.ts(c.conversation_at));
$$;

-- How far along a state is; callbacks only ever move a call forward.
CREATE OR REPLACE FUNCTION kept.call_state_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE s WHEN 'queued' THEN 0 WHEN 'dialing' THEN 1 WHEN 'placed' THEN 2 WHEN 'unknown' THEN 2
              WHEN 'initiated' THEN 3 WHEN 'ringing' THEN 4 WHEN 'in-progress' THEN 5
              WHEN 'completed' THEN 6 WHEN 'busy' THEN 6 WHEN 'no-answer' THEN 6 WHEN 'canceled' THEN 6
              WHEN 'failed' THEN 6 WHEN 'blocked' THEN 6 END;

-- ---- scheduling ----------------------------------------------------------------------

-- The number to ring: of the numbers with consent that did not reach
-- someone else, the one with the fewest consecutive failures, in the
-- customer's order; else the first (which a rule then blocks, on the record).
-- The scheduler picks it and the dispatcher picks again when it dials. The
-- call keeps it as the phone row holds it: sealed under the customer's data
-- key, with its digests.
DROP FUNCTION IF EXISTS kept.call_number(bigint);
CREATE OR REPLACE FUNCTION kept.call_phone(p_customer_id bigint) RETURNS kept.customer_phones
LANGUAGE sql STABLE AS $$
    SELECT * FROM kept.customer_phones WHERE customer_id = p_customer_id
    ORDER BY (consent_automated AND wrong_party_at IS NULL) DESC, failed_attempts, position LIMIT 1;
$$;

-- Queues a pre_due call for each unpaid installment of an active plan due
-- within the policy's lead days (in the customer's calendar), and a missed
-- call for each installment judged missed in the last week (from the day
-- after the miss). One per installment and purpose, ever.
CREATE OR REPLACE FUNCTION kept.reminders_schedule(p_as_of timestamptz) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_pre_due integer;
    v_missed integer;
BEGIN
    WITH due AS (
        SELECT a.id AS account_id, c.id AS customer_id, i.plan_id, i.seq, kept.call_phone(c.id) AS phone
        FROM kept.installments i
        JOIN kept.plans p ON p.id = i.plan_id AND p.status = 'active'
        JOIN kept.policies po ON po.id = p.policy_id
        JOIN kept.accounts a ON a.id = p.account_id
        JOIN kept.customers c ON c.id = a.customer_id
        WHERE i.outcome = 'scheduled' AND i.amount_paid_cents < i.amount_due_cents
          AND i.due_end_at > p_as_of
          AND i.due_date - po.reminder_lead_days <= (p_as_of AT TIME ZONE c.time_zone)::date
    ), queued AS (
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'pre_due', (phone).number_enc, (phone).number_digest,
               (phone).number_gdigest, p_as_of
        FROM due WHERE (phone).number_enc IS NOT NULL
        ON CONFLICT ON CONSTRAINT calls_one_per_installment_purpose DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO v_pre_due FROM queued;

    WITH missed AS (
        SELECT a.id AS account_id, c.id AS customer_id, i.plan_id, i.seq, kept.call_phone(c.id) AS phone,
               i.grace_end_at
        FROM kept.installments i
        JOIN kept.plans p ON p.id = i.plan_id AND p.status = 'active'
        JOIN kept.accounts a ON a.id = p.account_id
        JOIN kept.customers c ON c.id = a.customer_id
        WHERE i.outcome = 'missed' AND i.grace_end_at <= p_as_of AND i.grace_end_at > p_as_of - interval '7 days'
    ), queued AS (
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest,
                                number_gdigest, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'missed', (phone).number_enc, (phone).number_digest,
               (phone).number_gdigest, grace_end_at
        FROM missed WHERE (phone).number_enc IS NOT NULL
        ON CONFLICT ON CONSTRAINT calls_one_per_installment_purpose DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO v_missed FROM queued;
    RETURN json_build_object('as_of', kept.ts(p_as_of), 'pre_due_queued', v_pre_due, 'missed_queued', v_missed);
END $$;

-- ---- claiming, at the moment of dialling ---------------------------------------------------

-- Reserves one create slot of the provider's pace (KEPT_TELEPHONY_CPS), shared
-- by every keptd; answers the milliseconds to wait for it. For retries.
CREATE OR REPLACE FUNCTION kept.dial_slot_ms(p_cps integer) RETURNS integer
LANGUAGE sql AS $$
    UPDATE kept.dial_pacing SET next_slot_at = greatest(next_slot_at, clock_timestamp())
                                               + interval '1 second' / greatest(p_cps, 1)
    RETURNING greatest(0, ceil(extract(epoch FROM next_slot_at - interval '1 second' / greatest(p_cps, 1)
                                                  - clock_timestamp()) * 1000))::integer;
$$;

-- Claims up to p_limit due calls (one per account and one per number per
-- batch; advisory locks on both, held to commit, so two instances never
-- count the same debt's or number's attempts at once), judges them at
-- kept.now() and gives each call that may go a slot of the provider's pace
-- (p_cps creates per second across every keptd), in order of when their
-- windows close. A call whose slot would come after it may still be sent
-- (its window in every zone, less the dial margin) stays queued for its next
-- window: a burst never queues at the provider past a window's end. A call
-- a time rule stops moves to its next allowed time (or is blocked when that
-- is past its use); a call another rule stops is blocked for good; the rest
-- become 'dialing', dialed_at their slot's time on kept's clock. Answers
-- every call it looked at, `dial` saying which to ring, `slot_ms` when (from
-- now) and `send_by_ms` by when at the latest; no row means nothing is due.
-- Calls left 'dialing' for ten minutes by an instance that died become
-- 'unknown': they may have been placed, so they are never dialled again.
-- (jit off: the rules' per-call subqueries estimate far above JIT's threshold
-- and run in milliseconds; compiling them took seconds per batch.)
CREATE OR REPLACE FUNCTION kept.calls_claim(p_limit integer, p_cps integer)
RETURNS TABLE (id bigint, number text, purpose text, dial boolean, slot_ms integer, send_by_ms bigint)
LANGUAGE plpgsql SET jit = off AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := kept.now();
    v_offset interval := kept.now() - clock_timestamp(); -- keptd's clock less the database's, this moment
    v_gap interval := interval '1 second' / greatest(p_cps, 1);
    v_ids bigint[];
    v_encs bytea[];
    v_digests bytea[];
    v_gdigests bytea[];
    v_first timestamptz;
    v_n integer := 0;
    j record;
    l record;
    -- the calls to dial (d_) and the rest (o_), as arrays: appending to them is cheap
    d_ids bigint[] := '{}';
    d_slots integer[] := '{}';
    d_send_by timestamptz[] := '{}';
    d_decisions text[] := '{}';
    d_excluded text[] := '{}';
    d_zones text[] := '{}';
    o_ids bigint[] := '{}';
    o_rules text[] := '{}';
    o_retry timestamptz[] := '{}';
    o_useful timestamptz[] := '{}';
    o_decisions text[] := '{}';
    o_zones text[] := '{}';
BEGIN
    UPDATE kept.calls k SET state = 'unknown', error = 'the dialling instance stopped before it recorded the result',
                            updated_at = now()
    WHERE k.state = 'dialing' AND k.claimed_at < now() - interval '10 minutes';

    WITH candidates AS MATERIALIZED (
        SELECT k.id, k.account_id, k.customer_id, k.scheduled_at FROM kept.calls k
        WHERE k.state = 'queued' AND k.scheduled_at <= v_now
        ORDER BY k.scheduled_at, k.id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), numbered AS MATERIALIZED ( -- kept.call_phone, written out (a function call costs per call)
        SELECT c.*, n.number_gdigest AS chosen, n.number_enc AS chosen_enc, n.number_digest AS chosen_digest
        FROM candidates c
        LEFT JOIN LATERAL (SELECT p.number_gdigest, p.number_enc, p.number_digest FROM kept.customer_phones p
                           WHERE p.customer_id = c.customer_id
                           ORDER BY (p.consent_automated AND p.wrong_party_at IS NULL) DESC, p.failed_attempts,
                                    p.position LIMIT 1) n ON true
    ), one_per_account AS (
        SELECT DISTINCT ON (n.account_id) n.* FROM numbered n ORDER BY n.account_id, n.scheduled_at, n.id
    ), one_per_number AS (
        SELECT DISTINCT ON (o.chosen) o.* FROM one_per_account o ORDER BY o.chosen, o.scheduled_at, o.id
    )
    SELECT array_agg(o.id), array_agg(o.chosen_enc), array_agg(o.chosen_digest), array_agg(o.chosen)
    INTO v_ids, v_encs, v_digests, v_gdigests FROM one_per_number o
    WHERE pg_try_advisory_xact_lock(80, (o.account_id % 2147483647)::integer)
      AND pg_try_advisory_xact_lock(81, hashtext(coalesce(encode(o.chosen, 'hex'), '')));
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    -- the number as it is now (consent, wrong party and failures may have changed since it was queued)
    UPDATE kept.calls k SET number_enc = n.enc, number_digest = n.digest, number_gdigest = n.gdigest
    FROM unnest(v_ids, v_encs, v_digests, v_gdigests) AS n(id, enc, digest, gdigest)
    WHERE k.id = n.id AND n.gdigest IS NOT NULL AND n.gdigest IS DISTINCT FROM k.number_gdigest;

    SELECT next_slot_at INTO v_first FROM kept.dial_pacing FOR UPDATE;
    v_first := greatest(v_first, clock_timestamp());
    FOR j IN SELECT r.* FROM kept.calls_rules(v_now, v_ids) r ORDER BY r.send_by NULLS LAST, r.id LOOP
        IF j.rule IS NULL AND v_first + v_n * v_gap + v_offset <= j.send_by THEN
            d_ids := array_append(d_ids, j.id);
            d_slots := array_append(d_slots, v_n);
            d_send_by := array_append(d_send_by, j.send_by);
            d_decisions := array_append(d_decisions, j.decision);
            d_excluded := array_append(d_excluded, j.excluded);
            d_zones := array_append(d_zones, array_to_string(j.zones, ','));
            v_n := v_n + 1;
            CONTINUE;
        END IF;
        IF j.rule IS NULL THEN
            -- the pace cannot start it before its window closes: judged as at the moment it closes
            SELECT r.rule, r.retry_at, format('The provider''s pace (%s calls per second) could not start it before '
                                              || 'the calling window closes. ', p_cps) || coalesce(r.decision, '')
                       AS decision
            INTO l FROM kept.calls_rules(j.send_by + kept.dial_margin() + interval '1 second', ARRAY[j.id]) r;
            j.rule := coalesce(l.rule, 'calling_window');
            j.retry_at := l.retry_at;
            j.decision := l.decision;
        END IF;
        o_ids := array_append(o_ids, j.id);
        o_rules := array_append(o_rules, j.rule);
        o_retry := array_append(o_retry, j.retry_at);
        o_useful := array_append(o_useful, j.useful_until);
        o_decisions := array_append(o_decisions, j.decision);
        o_zones := array_append(o_zones, array_to_string(j.zones, ','));
    END LOOP;
    IF v_n > 0 THEN
        UPDATE kept.dial_pacing SET next_slot_at = v_first + v_n * v_gap;
    END IF;

    RETURN QUERY
    WITH dial AS MATERIALIZED (
        SELECT * FROM unnest(d_ids, d_slots, d_send_by, d_decisions, d_excluded, d_zones)
            AS x(id, slot, send_by, decision, excluded, zones)
    ), other AS MATERIALIZED (
        SELECT * FROM unnest(o_ids, o_rules, o_retry, o_useful, o_decisions, o_zones)
            AS x(id, rule, retry_at, useful_until, decision, zones)
    ), dialing AS (
        UPDATE kept.calls k SET state = 'dialing', dialed_at = v_first + x.slot * v_gap + v_offset, claimed_at = now(),
                                judged_at = v_now, decision = x.decision, excluded = x.excluded,
                                zones = string_to_array(x.zones, ','), updated_at = now()
        FROM dial x WHERE k.id = x.id
        RETURNING k.id, kept.pii_open(k.customer_id, k.number_enc) AS number, k.purpose, x.slot, x.send_by
    ), deferred AS (
        UPDATE kept.calls k SET scheduled_at = x.retry_at, deferred_rule = x.rule, deferrals = k.deferrals + 1,
                                judged_at = v_now, decision = x.decision, zones = string_to_array(x.zones, ','),
                                updated_at = now()
        FROM other x WHERE k.id = x.id AND x.retry_at < x.useful_until
        RETURNING k.id, NULL::text AS number, k.purpose
    ), blocked AS (
        UPDATE kept.calls k SET state = 'blocked', blocked_rule = x.rule, judged_at = v_now, decision = x.decision,
                                zones = string_to_array(x.zones, ','), updated_at = now()
        FROM other x WHERE k.id = x.id AND NOT coalesce(x.retry_at < x.useful_until, false)
        RETURNING k.id, NULL::text AS number, k.purpose, k.account_id, k.plan_id, k.seq, k.blocked_rule
    ), events AS (
        INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
        SELECT 'call_blocked', 'call', b.id,
               jsonb_build_object('account_id', b.account_id, 'plan_id', b.plan_id, 'seq', b.seq,
                                  'purpose', b.purpose, 'rule', b.blocked_rule, 'as_of', kept.ts(v_now))
        FROM blocked b
    )
    SELECT d.id, d.number, d.purpose, true,
           greatest(0, ceil(extract(epoch FROM v_first + d.slot * v_gap - clock_timestamp()) * 1000))::integer,
           floor(extract(epoch FROM d.send_by - (clock_timestamp() + v_offset)) * 1000)::bigint
    FROM dialing d
    UNION ALL SELECT f.id, f.number, f.purpose, false, NULL, NULL FROM deferred f
    UNION ALL SELECT b.id, b.number, b.purpose, false, NULL, NULL FROM blocked b;

    -- triage: one escalation per account while calls to every number keep reaching nobody
    PERFORM kept.escalation_auto(k.account_id, k.plan_id, NULL, 'repeated_call_failures',
                                 'reminder calls to every number of the customer keep reaching nobody')
    FROM kept.calls k WHERE k.id = ANY (v_ids) AND k.state = 'blocked' AND k.blocked_rule = 'repeated_call_failures';
END $$;

CREATE OR REPLACE FUNCTION kept.call_event(c kept.calls) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq,
                              'purpose', c.purpose, 'state', c.state, 'answered_by', c.answered_by,
                              'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
                              'digits', c.digits, 'duration_s', c.duration_s, 'dialed_at', kept.ts(c.dialed_at));
$$;

-- The dispatcher's record of what the provider said about a batch of dials,
-- per call: placed | failed | unknown, or not_sent (no create went out
-- before the call's window closed: back in the queue for when a create
-- could go again (p_retry_at: after the provider's Retry-After), judged
-- again then; it counts as no attempt). p_sent_at: when the first create
-- was sent, on keptd's clock (dialed_at). Callbacks may have moved a call on
-- already: its state stays, the facts are added.
CREATE OR REPLACE FUNCTION kept.calls_dialed(p_ids bigint[], p_outcomes text[], p_sids text[], p_attempts integer[],
                                             p_reconciled boolean[], p_errors text[], p_sent_at timestamptz[],
                                             p_retry_at timestamptz[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
BEGIN
    UPDATE kept.calls k
    SET state = 'queued', dialed_at = NULL, scheduled_at = greatest(kept.now(), r.retry_at),
        deferred_rule = 'calling_window', deferrals = k.deferrals + 1, dial_attempts = r.attempts, error = r.error,
        decision = format('Not sent: %s; judged again at %s.', coalesce(r.error, 'the window closed first'),
                          kept.ts(greatest(kept.now(), r.retry_at))),
        updated_at = now()
    FROM unnest(p_ids, p_outcomes, p_attempts, p_errors, p_retry_at) AS r(id, outcome, attempts, error, retry_at)
    WHERE k.id = r.id AND r.outcome = 'not_sent' AND k.state = 'dialing';

    FOR c IN
        UPDATE kept.calls k
        SET state = CASE WHEN kept.call_state_rank(k.state) > 2 THEN k.state ELSE r.outcome END,
            provider_sid = coalesce(k.provider_sid, r.sid), dial_attempts = r.attempts, reconciled = r.reconciled,
            dialed_at = coalesce(r.sent_at, k.dialed_at), error = r.error, updated_at = now()
        FROM unnest(p_ids, p_outcomes, p_sids, p_attempts, p_reconciled, p_errors, p_sent_at)
             AS r(id, outcome, sid, attempts, reconciled, error, sent_at)
        WHERE k.id = r.id AND r.outcome <> 'not_sent'
        RETURNING k.*
    LOOP
        IF c.state = 'failed' THEN
            PERFORM kept.outbox_write('call_completed', 'call', c.id, kept.call_event(c));
            PERFORM kept.call_finished(c);
        END IF;
    END LOOP;
END $$;

-- ---- triage ------------------------------------------------------------------------------

-- A call reached its end: its number's run of attempts that reached nobody
-- (failed, busy, no answer; a wrong party is counted when the key is
-- pressed) grows, or an answer ends it. When every usable number of the
-- customer (consent, no wrong party) has run to the policy's
-- failed_calls_before_triage, the account gets one open
-- repeated_call_failures escalation and automated calls stop until it is resolved.
CREATE OR REPLACE FUNCTION kept.call_finished(c kept.calls) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF c.state IN ('failed', 'busy', 'no-answer') THEN
        UPDATE kept.customer_phones SET failed_attempts = failed_attempts + 1
        WHERE customer_id = c.customer_id AND number_digest = c.number_digest;
    ELSIF c.state = 'completed' THEN
        UPDATE kept.customer_phones SET failed_attempts = 0
        WHERE customer_id = c.customer_id AND number_digest = c.number_digest AND wrong_party_at IS NULL;
    END IF;
    PERFORM kept.call_triage(c.customer_id, c.account_id, c.plan_id);
END $$;

CREATE OR REPLACE FUNCTION kept.call_triage(p_customer_id bigint, p_account_id bigint, p_plan_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_after integer := (SELECT po.failed_calls_before_triage FROM kept.accounts a
                        CROSS JOIN LATERAL kept.policy_for(a.creditor) po WHERE a.id = p_account_id);
BEGIN
    IF (SELECT count(*) > 0 AND bool_and(p.failed_attempts >= v_after) FROM kept.customer_phones p
        WHERE p.customer_id = p_customer_id AND p.consent_automated AND p.wrong_party_at IS NULL) THEN
        PERFORM kept.escalation_auto(p_account_id, p_plan_id, NULL, 'repeated_call_failures',
                                     format('the last %s reminder calls to every number of the customer reached nobody',
                                            v_after));
    END IF;
END $$;

-- ---- what a call's answerer says about the number -----------------------------------------

-- Someone else answers this number: no automated call goes to it again, the
-- account gets a wrong_party escalation (the customer needs a new number).
-- Audited. An actor with no key: the person on the call, by key press.
DROP FUNCTION IF EXISTS kept.phone_wrong_party(bigint, text, text, bigint, text, bigint, bigint, text);
CREATE OR REPLACE FUNCTION kept.phone_wrong_party(p_actor kept.actor,
                                                  p_customer_id bigint, p_number text, p_account_id bigint,
                                                  p_plan_id bigint, p_how text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kept.customer_phones SET wrong_party_at = kept.now(), failed_attempts = failed_attempts + 1
    WHERE customer_id = p_customer_id AND number_digest = kept.pii_digest(p_customer_id, p_number)
      AND wrong_party_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM kept.audit_write(p_actor, 'phone.wrong_party', 'customer', p_customer_id,
                             jsonb_build_object('number_last4', right(p_number, 4), 'wrong_party', false),
                             jsonb_build_object('number_last4', right(p_number, 4), 'wrong_party', true, 'how', p_how));
    PERFORM kept.outbox_write('phone_wrong_party', 'customer', p_customer_id,
                              jsonb_build_object('account_id', p_account_id, 'how', p_how));
    PERFORM kept.escalation_insert(p_actor, p_account_id, p_plan_id, NULL, 'wrong_party', NULL,
                                   format('the number ending %s reached someone else (%s): the customer needs a new number',
                                          right(p_number, 4), p_how));
END $$;

-- Automated calls to this number stop at once (the customer pressed 9). Audited.
CREATE OR REPLACE FUNCTION kept.phone_consent_revoke(p_customer_id bigint, p_number text, p_call_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kept.customer_phones SET consent_automated = false, consent_updated_at = kept.now()
    WHERE customer_id = p_customer_id AND number_digest = kept.pii_digest(p_customer_id, p_number)
      AND consent_automated;
    IF FOUND THEN
        PERFORM kept.audit_write(ROW(NULL, 'customer (key 9 on a reminder call)', NULL)::kept.actor, 'consent.revoked',
                                 'customer', p_customer_id, jsonb_build_object('number_last4', right(p_number, 4),
                                                                   'consent_automated', true),
                                 jsonb_build_object('number_last4', right(p_number, 4),
                                                    'consent_automated', false, 'call_id', p_call_id));
        PERFORM kept.outbox_write('consent_revoked', 'customer', p_customer_id, jsonb_build_object('call_id', p_call_id));
    END IF;
END $$;

-- ---- what the provider reports ---------------------------------------------------------

-- A status callback: deduplicated on (sid, sequence), the state moved
-- forward only; a call reaching its end writes call_completed.
-- Answers {"applied": bool}. A callback for another sid than the call's is refused.
CREATE OR REPLACE FUNCTION kept.call_status(p_id bigint, p_sid text, p_sequence integer, p_status text,
                                            p_answered_by text, p_duration integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
    v_state text;
    v_before text;
BEGIN
    v_state := CASE p_status WHEN 'queued' THEN 'placed' ELSE p_status END;
    IF kept.call_state_rank(v_state) IS NULL OR v_state IN ('blocked', 'dialing', 'unknown') THEN
        PERFORM kept.fail('invalid', 'invalid_call_status', 'CallStatus', 'CallStatus is not a call state');
    END IF;
    c := kept.lock_or_404(NULL::kept.calls, p_id, 'FOR UPDATE', 'call_not_found', '', 'no such call');
    IF c.provider_sid IS NOT NULL AND c.provider_sid <> p_sid THEN
        PERFORM kept.fail('conflict', 'call_sid_mismatch', 'CallSid', 'this callback names another call');
    END IF;
    INSERT INTO kept.call_callbacks (provider_sid, sequence_number, call_id, status)
    VALUES (p_sid, p_sequence, p_id, p_status) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN json_build_object('applied', false, 'reason', 'duplicate');
    END IF;
    v_before := c.state;
    UPDATE kept.calls
    SET provider_sid = p_sid,
        state = CASE WHEN kept.call_state_rank(v_state) > kept.call_state_rank(state) THEN v_state ELSE state END,
        answered_by = coalesce(p_answered_by, answered_by),
        duration_s = coalesce(p_duration, duration_s),
        updated_at = now()
    WHERE id = p_id RETURNING * INTO c;
    IF kept.call_state_rank(c.state) = 6 AND kept.call_state_rank(v_before) < 6 THEN
        PERFORM kept.outbox_write('call_completed', 'call', c.id, kept.call_event(c));
        PERFORM kept.call_finished(c);
    END IF;
    RETURN json_build_object('applied', c.state <> v_before, 'state', c.state);
END $$;

-- Calls the provider took whose callbacks have gone quiet for 15 minutes:
-- the dispatcher asks the provider about them (GET Calls/{Sid}.json). Each
-- is touched so that it is asked again only after another quiet spell.
CREATE OR REPLACE FUNCTION kept.calls_to_poll(p_limit integer)
RETURNS TABLE (id bigint, provider_sid text)
LANGUAGE sql AS $$
    WITH quiet AS (
        SELECT k.id FROM kept.calls k
        WHERE k.state IN ('placed', 'initiated', 'ringing', 'in-progress', 'unknown') AND k.provider_sid IS NOT NULL
          AND k.updated_at < now() - interval '15 minutes'
        ORDER BY k.updated_at LIMIT p_limit FOR UPDATE SKIP LOCKED
    )
    UPDATE kept.calls k SET updated_at = now() FROM quiet q WHERE k.id = q.id
    RETURNING k.id, k.provider_sid;
$$;

-- What the provider said when asked: forward only, like a callback;
-- reaching the end writes call_completed.
CREATE OR REPLACE FUNCTION kept.call_polled(p_id bigint, p_status text, p_answered_by text, p_duration integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
    v_state text := CASE p_status WHEN 'queued' THEN 'placed' ELSE p_status END;
    v_before text;
BEGIN
    IF kept.call_state_rank(v_state) IS NULL OR v_state IN ('blocked', 'dialing', 'unknown') THEN
        RETURN;
    END IF;
    SELECT state INTO v_before FROM kept.calls WHERE id = p_id FOR UPDATE;
    UPDATE kept.calls
    SET state = CASE WHEN kept.call_state_rank(v_state) > kept.call_state_rank(state) THEN v_state ELSE state END,
        answered_by = coalesce(nullif(p_answered_by, ''), answered_by),
        duration_s = CASE WHEN p_duration >= 0 THEN p_duration ELSE duration_s END, updated_at = now()
    WHERE id = p_id RETURNING * INTO c;
    IF kept.call_state_rank(c.state) = 6 AND kept.call_state_rank(v_before) < 6 THEN
        PERFORM kept.outbox_write('call_completed', 'call', c.id, kept.call_event(c));
        PERFORM kept.call_finished(c);
    END IF;
END $$;

-- What the call script needs to say (never the number in full).
CREATE OR REPLACE FUNCTION kept.call_script(p_id bigint, p_sid text, p_answered_by text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
    v json;
BEGIN
    UPDATE kept.calls SET answered_by = coalesce(p_answered_by, answered_by),
                          provider_sid = coalesce(provider_sid, p_sid), updated_at = now()
    WHERE id = p_id AND (provider_sid IS NULL OR provider_sid = p_sid)
    RETURNING * INTO c;
    IF NOT FOUND THEN
        PERFORM kept.fail('not_found', 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    SELECT json_build_object(
        'id', c.id, 'purpose', c.purpose, 'right_party', c.right_party, 'answered_by', c.answered_by,
        'customer_name', kept.pii_open(cu.id, cu.name_enc),
        'amount', kept.money_words(i.amount_due_cents - i.amount_paid_cents, a.currency),
        'due_date', kept.date_words(i.due_date),
        'currency_name', coalesce((SELECT name FROM kept.currencies WHERE code = a.currency), a.currency))
    INTO v
    FROM kept.installments i JOIN kept.accounts a ON a.id = c.account_id JOIN kept.customers cu ON cu.id = c.customer_id
    WHERE i.plan_id = c.plan_id AND i.seq = c.seq;
    RETURN v;
END $$;

-- An amount as a voice says it, in its currency's own units: $25.00,
-- £7.50, €3.20, 1,500 JPY, 12.345 KWD.
CREATE OR REPLACE FUNCTION kept.money_words(p_cents bigint, p_currency text) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN p_currency IN ('USD', 'GBP', 'EUR')
            THEN CASE p_currency WHEN 'USD' THEN '$' WHEN 'GBP' THEN '£' ELSE '€' END
                 || regexp_replace(kept.money_text(p_cents, p_currency), ' [A-Z]{3}$', '')
            ELSE kept.money_text(p_cents, p_currency) END;

-- A date as a voice says it: Friday, 4 December 2026.
CREATE OR REPLACE FUNCTION kept.date_words(d date) RETURNS text
LANGUAGE sql STABLE
RETURN trim(to_char(d, 'FMDay, FMDD FMMonth YYYY'));

-- A key pressed on the call, while it is in progress. Before the right party has confirmed: 1 (it is
-- me: a conversation, on kept's clock), 2 (not me: the number is marked
-- wrong party, no automated call goes to it again, an escalation), 9 (no
-- more automated calls to this number); anything else ends the call with
-- the limited-content message. After: 1 confirms the payment, 2 asks for an
-- agent (an escalation, once per call), 3 "I cannot pay this amount" (the
-- customer keys in what they can afford: kept.call_amount), 9 stops
-- automated calls to that number at once. While an amount the customer keyed
-- in is read back (in policy): 1 agrees the new plan, 2 keys in another.
-- Answers the next step: disclose, limited, wrong_party, confirmed, agent,
-- opted_out, menu, ask_amount, offer, plan_agreed or plan_failed, with the
-- words a step says.
CREATE OR REPLACE FUNCTION kept.call_gather(p_id bigint, p_sid text, p_digits text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
    r kept.escalation_reasons;
    v_step text;
    v_key text := left(coalesce(p_digits, ''), 1);
BEGIN
    SELECT * INTO c FROM kept.calls WHERE id = p_id AND (provider_sid IS NULL OR provider_sid = p_sid) FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail('not_found', 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    -- a key press counts only while the call is going on: never on a call
    -- that ended (a replayed or late webhook), nor on one never dialled
    IF c.state NOT IN ('dialing', 'placed', 'unknown', 'initiated', 'ringing', 'in-progress') THEN
        PERFORM kept.fail('conflict', 'call_not_in_progress', '',
                          format('call %s is %s: key presses count only while it is in progress', c.id, c.state));
    END IF;
    IF NOT c.right_party THEN
        v_step := CASE v_key WHEN '1' THEN 'disclose' WHEN '2' THEN 'wrong_party' WHEN '9' THEN 'opted_out'
                             ELSE 'limited' END;
        UPDATE kept.calls SET digits = left(digits || v_key, 32), provider_sid = coalesce(provider_sid, p_sid),
                              right_party = (v_key = '1'),
                              conversation_at = CASE WHEN v_key = '1' THEN kept.now() END,
                              updated_at = now()
        WHERE id = p_id;
        IF v_step = 'wrong_party' THEN
            PERFORM kept.phone_wrong_party(ROW(NULL, 'the person who answered (key 2 on a reminder call)', NULL)::kept.actor,
                                           c.customer_id, kept.pii_open(c.customer_id, c.number_enc), c.account_id, c.plan_id,
                                           format('key 2 on reminder call %s', c.id));
        ELSIF v_step = 'opted_out' THEN
            PERFORM kept.phone_consent_revoke(c.customer_id, kept.pii_open(c.customer_id, c.number_enc), c.id);
        END IF;
        RETURN json_build_object('step', v_step);
    END IF;
    UPDATE kept.calls SET digits = left(digits || v_key, 32), updated_at = now() WHERE id = p_id;
    IF c.offer_proposal_id IS NOT NULL AND c.offer_plan_id IS NULL THEN
        IF v_key = '1' THEN
            RETURN kept.call_offer_agreed(c);
        ELSIF v_key = '2' THEN
            UPDATE kept.calls SET offer_proposal_id = NULL WHERE id = p_id;
            RETURN json_build_object('step', 'ask_amount');
        ELSIF v_key <> '9' THEN
            RETURN kept.call_offer_words(c, 'offer');
        END IF;
    END IF;
    v_step := CASE v_key WHEN '1' THEN 'confirmed' WHEN '2' THEN 'agent' WHEN '3' THEN 'ask_amount'
                         WHEN '9' THEN 'opted_out' ELSE 'menu' END;
    IF v_step = 'agent' THEN
        SELECT * INTO r FROM kept.escalation_reasons WHERE reason = 'customer_requested_agent';
        INSERT INTO kept.escalations (account_id, plan_id, call_id, reason, priority, team, due_by, note)
        VALUES (c.account_id, c.plan_id, c.id, r.reason, r.priority, r.team, kept.now() + r.sla,
                'pressed 2 on a ' || c.purpose || ' reminder call')
        ON CONFLICT DO NOTHING;
    ELSIF v_step = 'opted_out' THEN
        PERFORM kept.phone_consent_revoke(c.customer_id, kept.pii_open(c.customer_id, c.number_enc), c.id);
    END IF;
    RETURN json_build_object('step', v_step);
END $$;

-- The words of an offer the customer keyed in: the weekly amount, the weeks
-- it takes, the first date, when they will hear back (an associate's
-- confirmation by the next business day), for the script to say.
CREATE OR REPLACE FUNCTION kept.call_offer_words(c kept.calls, p_step text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'step', p_step, 'offer_amount', kept.money_words(pr.weekly_amount_cents, a.currency),
        'offer_weeks', pr.weeks_to_clear, 'offer_first_date', kept.date_words(pr.first_due_date),
        'hear_back_by', kept.date_words(kept.next_business_day(kept.local_today(cu.time_zone))),
        'proposal_id', pr.id, 'plan_id', c.offer_plan_id)
    FROM kept.proposals pr JOIN kept.accounts a ON a.id = pr.account_id
    JOIN kept.customers cu ON cu.id = a.customer_id
    WHERE pr.id = c.offer_proposal_id;
$$;

-- The customer's plan from the offer they keyed in, through kept.plan_create
-- (origin customer_proposed, channel ivr), replacing the account's open plan:
-- active at once in policy, else waiting for two associates. NULL when kept
-- refused it (the account changed meanwhile).
CREATE OR REPLACE FUNCTION kept.call_offer_plan(c kept.calls) RETURNS kept.plans
LANGUAGE plpgsql AS $$
DECLARE
    n json;
    p kept.plans;
BEGIN
    PERFORM set_config('kept.channel', 'ivr', true);
    BEGIN
        n := kept.plan_create(ROW(NULL, format('customer (reminder call %s)', c.id), NULL)::kept.actor, c.account_id,
                              jsonb_build_object('proposal_id', c.offer_proposal_id,
                                                 'replaces_plan_id', kept.plan_newest_open_id(c.account_id),
                                                 'contact_channel', 'phone'));
    EXCEPTION WHEN SQLSTATE 'KRINV' OR SQLSTATE 'KRCFL' OR SQLSTATE 'KRRUL' THEN
        n := NULL;
    END;
    PERFORM set_config('kept.channel', '', true);
    IF n IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE kept.calls SET offer_plan_id = (n->>'id')::bigint, updated_at = now() WHERE id = c.id;
    SELECT * INTO p FROM kept.plans WHERE id = (n->>'id')::bigint;
    RETURN p;
END $$;

-- 1 after an in-policy offer was read back: the new plan.
CREATE OR REPLACE FUNCTION kept.call_offer_agreed(c kept.calls) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    p kept.plans := kept.call_offer_plan(c);
BEGIN
    IF p.id IS NULL THEN
        RETURN json_build_object('step', 'plan_failed');
    END IF;
    c.offer_plan_id := p.id;
    RETURN kept.call_offer_words(c, CASE WHEN p.status = 'active' THEN 'plan_agreed' ELSE 'referred' END);
END $$;

-- The weekly amount the customer keyed in (whole units of the account's
-- currency, then #), after 3 on the confirmed menu: recorded as a proposal
-- through kept.proposal_create (the agent's own evaluation), first due on the
-- installment's date (a missed one: a week from today). In policy it is read
-- back for the customer to agree with 1; out of policy the plan is made at
-- once for two associates to approve, and the customer is told when they will
-- hear back. Answers the step: offer, referred, amount_invalid or plan_failed.
CREATE OR REPLACE FUNCTION kept.call_amount(p_id bigint, p_sid text, p_digits text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
    i kept.installments;
    cu kept.customers;
    v_units integer;
    v_currency text;
    v_first date;
    pr json;
    p kept.plans;
BEGIN
    SELECT * INTO c FROM kept.calls WHERE id = p_id AND (provider_sid IS NULL OR provider_sid = p_sid) FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail('not_found', 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    IF NOT c.right_party OR c.offer_plan_id IS NOT NULL THEN
        RETURN json_build_object('step', CASE WHEN c.right_party THEN 'menu' ELSE 'limited' END);
    END IF;
    UPDATE kept.calls SET digits = left(digits || coalesce(p_digits, '') || '#', 32), updated_at = now()
    WHERE id = p_id;
    IF coalesce(p_digits, '') !~ '^[0-9]{1,7}$' OR p_digits::bigint = 0 THEN
        RETURN json_build_object('step', 'amount_invalid');
    END IF;
    SELECT * INTO i FROM kept.installments WHERE plan_id = c.plan_id AND seq = c.seq;
    SELECT * INTO cu FROM kept.customers WHERE id = c.customer_id;
    SELECT a.currency, coalesce(cur.minor_units, 2) INTO v_currency, v_units
    FROM kept.accounts a LEFT JOIN kept.currencies cur ON cur.code = a.currency WHERE a.id = c.account_id;
    v_first := CASE WHEN c.purpose = 'pre_due' THEN greatest(i.due_date, kept.local_today(cu.time_zone))
                    ELSE kept.local_today(cu.time_zone) + 7 END;
    BEGIN
        pr := kept.proposal_create(ROW(NULL, format('customer (reminder call %s)', c.id), NULL)::kept.actor, c.account_id,
                                   jsonb_build_object('weekly_amount_cents', p_digits::bigint * (10 ^ v_units)::bigint,
                                                      'first_due_date', v_first, 'contact_channel', 'phone'));
    EXCEPTION WHEN SQLSTATE 'KRINV' OR SQLSTATE 'KRCFL' OR SQLSTATE 'KRRUL' THEN
        RETURN json_build_object('step', 'amount_invalid');
    END;
    UPDATE kept.calls SET offer_proposal_id = (pr->>'id')::bigint, updated_at = now() WHERE id = p_id
    RETURNING * INTO c;
    IF (pr->'evaluation'->>'in_policy')::boolean THEN
        RETURN kept.call_offer_words(c, 'offer');
    END IF;
    p := kept.call_offer_plan(c);
    IF p.id IS NULL THEN
        RETURN json_build_object('step', 'plan_failed');
    END IF;
    c.offer_plan_id := p.id;
    RETURN kept.call_offer_words(c, 'referred');
END $$;

-- GET /v1/calls?account_id= : oldest first, cursor pages like every list.
CREATE OR REPLACE FUNCTION kept.call_page(p_account_id text, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after bigint := kept.cursor_decode('call', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
    v_account bigint := kept.account_id_required(p_account_id);
BEGIN
    RETURN kept.page_of(ARRAY(SELECT kept.call_json(c) FROM kept.calls c
                              WHERE c.account_id = v_account AND c.id > v_after
                              ORDER BY c.id LIMIT v_limit + 1),
                        v_limit, 'call');
END $$;
