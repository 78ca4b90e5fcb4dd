-- Reminder calls: scheduling, the contact rules checked right before every
-- dial, claiming work across keptd instances, what the provider reports.
--
-- Every time-dependent function takes as_of, so tests drive weeks of calls
-- without faking clocks. A call's attempt time (dialed_at) and a
-- conversation's time are on the as_of clock too.

CREATE OR REPLACE FUNCTION kept.call_json(c kept.calls) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq, 'purpose', c.purpose,
        'number_last4', right(c.number, 4), 'scheduled_at', kept.ts(c.scheduled_at), 'state', c.state,
        'blocked_rule', c.blocked_rule, 'deferred_rule', c.deferred_rule, 'deferrals', c.deferrals,
        'dialed_at', kept.ts(c.dialed_at), 'dial_attempts', c.dial_attempts, 'reconciled', c.reconciled,
        'provider_sid', c.provider_sid, 'answered_by', c.answered_by, 'digits', c.digits,
        'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
        'duration_s', c.duration_s, 'error', c.error, 'created_at', kept.ts(c.created_at),
        'updated_at', kept.ts(c.updated_at));
$$;

-- How far along a state is; callbacks only ever move a call forward.
CREATE OR REPLACE FUNCTION kept.call_state_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE s WHEN 'queued' THEN 0 WHEN 'dialing' THEN 1 WHEN 'placed' THEN 2 WHEN 'unknown' THEN 2
              WHEN 'initiated' THEN 3 WHEN 'ringing' THEN 4 WHEN 'in-progress' THEN 5
              WHEN 'completed' THEN 6 WHEN 'busy' THEN 6 WHEN 'no-answer' THEN 6 WHEN 'canceled' THEN 6
              WHEN 'failed' THEN 6 WHEN 'blocked' THEN 6 END;

-- ---- scheduling ----------------------------------------------------------------------

-- The number to ring: the first with consent, else the first (which the
-- consent rule will then block, on the record).
CREATE OR REPLACE FUNCTION kept.call_number(p_customer_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT number FROM kept.customer_phones WHERE customer_id = p_customer_id
    ORDER BY consent_automated DESC, position LIMIT 1;
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
        SELECT a.id AS account_id, c.id AS customer_id, i.plan_id, i.seq, kept.call_number(c.id) AS number
        FROM kept.installments i
        JOIN kept.plans p ON p.id = i.plan_id AND p.status = 'active'
        JOIN kept.policies po ON po.id = p.policy_id
        JOIN kept.accounts a ON a.id = p.account_id
        JOIN kept.customers c ON c.id = a.customer_id
        WHERE i.outcome = 'scheduled' AND i.amount_paid_cents < i.amount_due_cents
          AND i.due_end_at > p_as_of
          AND i.due_date - po.reminder_lead_days <= (p_as_of AT TIME ZONE c.time_zone)::date
    ), queued AS (
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'pre_due', number, p_as_of FROM due
        WHERE number IS NOT NULL
        ON CONFLICT ON CONSTRAINT calls_one_per_installment_purpose DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO v_pre_due FROM queued;

    WITH missed AS (
        SELECT a.id AS account_id, c.id AS customer_id, i.plan_id, i.seq, kept.call_number(c.id) AS number,
               i.grace_end_at
        FROM kept.installments i
        JOIN kept.plans p ON p.id = i.plan_id AND p.status = 'active'
        JOIN kept.accounts a ON a.id = p.account_id
        JOIN kept.customers c ON c.id = a.customer_id
        WHERE i.outcome = 'missed' AND i.grace_end_at <= p_as_of AND i.grace_end_at > p_as_of - interval '7 days'
    ), queued AS (
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'missed', number, grace_end_at FROM missed
        WHERE number IS NOT NULL
        ON CONFLICT ON CONSTRAINT calls_one_per_installment_purpose DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO v_missed FROM queued;
    RETURN json_build_object('as_of', kept.ts(p_as_of), 'pre_due_queued', v_pre_due, 'missed_queued', v_missed);
END $$;

-- ---- the contact rules --------------------------------------------------------------

-- The first rule that forbids dialling `c` at as_of, and when it may be
-- tried again (NULL: never). Rules, in order:
--   1 restrictions: cease_communication, attorney, bankruptcy, dispute, moratorium
--     (and reminders that no longer make sense: account_closed, plan_not_active, installment_paid)
--   2 no_consent for automated calls on that number
--   3 calling_window: the customer's local 08:00-21:00, or the jurisdiction's narrower one
--   4 reg_f_7_in_7 (7 attempts in 7 days per debt), reg_f_conversation (7 days after one)
--   5 jurisdiction_cap (e.g. US-MA: 2 in 7 days)
--   6 one per installment and purpose: the calls_one_per_installment_purpose constraint
CREATE OR REPLACE FUNCTION kept.call_check(c kept.calls, p_as_of timestamptz, OUT rule text, OUT retry_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cu kept.customers;
    v_local timestamp;
    v_start time := '08:00';
    v_end time := '21:00';
    v_cap integer := 7;
    v_attempts timestamptz[];
    v_conversation timestamptz;
    v_account_status text;
    v_plan_status text;
    v_unpaid boolean;
    v_consent boolean;
BEGIN
    SELECT * INTO cu FROM kept.customers WHERE id = c.customer_id;
    v_local := p_as_of AT TIME ZONE cu.time_zone;
    rule := CASE WHEN cu.cease_communication THEN 'cease_communication'
                 WHEN cu.attorney_represented THEN 'attorney'
                 WHEN cu.bankruptcy THEN 'bankruptcy'
                 WHEN cu.dispute_open THEN 'dispute'
                 WHEN cu.moratorium_until >= v_local::date THEN 'moratorium' END;
    IF rule IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT a.status, p.status, i.amount_paid_cents < i.amount_due_cents
    INTO v_account_status, v_plan_status, v_unpaid
    FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id JOIN kept.accounts a ON a.id = p.account_id
    WHERE i.plan_id = c.plan_id AND i.seq = c.seq;
    rule := CASE WHEN v_account_status NOT IN ('open', 'in_plan') THEN 'account_closed'
                 WHEN v_plan_status <> 'active' THEN 'plan_not_active'
                 WHEN c.purpose = 'pre_due' AND NOT v_unpaid THEN 'installment_paid' END;
    IF rule IS NOT NULL THEN
        RETURN;
    END IF;

    SELECT consent_automated INTO v_consent FROM kept.customer_phones
    WHERE customer_id = c.customer_id AND number = c.number;
    IF NOT coalesce(v_consent, false) THEN
        rule := 'no_consent';
        RETURN;
    END IF;

    SELECT greatest(window_start, v_start), least(window_end, v_end), least(max_attempts_7d, v_cap)
    INTO v_start, v_end, v_cap
    FROM kept.jurisdiction_call_rules WHERE jurisdiction = cu.jurisdiction;
    v_start := coalesce(v_start, '08:00');
    v_end := coalesce(v_end, '21:00');
    v_cap := coalesce(v_cap, 7);
    IF v_local::time < v_start OR v_local::time >= v_end THEN
        rule := 'calling_window';
        retry_at := ((CASE WHEN v_local::time < v_start THEN v_local::date ELSE v_local::date + 1 END)
                     + v_start) AT TIME ZONE cu.time_zone;
        RETURN;
    END IF;

    -- attempts on this debt in the 7 days before as_of, newest first
    SELECT array_agg(dialed_at ORDER BY dialed_at DESC) INTO v_attempts
    FROM kept.calls
    WHERE account_id = c.account_id AND dialed_at > p_as_of - interval '7 days' AND dialed_at <= p_as_of
      AND id <> c.id;
    IF coalesce(array_length(v_attempts, 1), 0) >= 7 THEN
        rule := 'reg_f_7_in_7';
        retry_at := v_attempts[7] + interval '7 days';
        RETURN;
    END IF;
    SELECT max(conversation_at) INTO v_conversation FROM kept.calls
    WHERE account_id = c.account_id AND conversation_at > p_as_of - interval '7 days' AND conversation_at <= p_as_of;
    IF v_conversation IS NOT NULL THEN
        rule := 'reg_f_conversation';
        retry_at := v_conversation + interval '7 days';
        RETURN;
    END IF;
    IF coalesce(array_length(v_attempts, 1), 0) >= v_cap THEN
        rule := 'jurisdiction_cap';
        retry_at := v_attempts[v_cap] + interval '7 days';
        RETURN;
    END IF;
END $$;

-- ---- claiming work ---------------------------------------------------------------------

-- Claims up to p_limit calls due at as_of for dialling. Each candidate is
-- locked (SKIP LOCKED: another instance's candidates are left to it) and
-- its account too (an advisory lock held to commit, so two instances never
-- both count the same debt's attempts); the rules are checked; a call that a
-- time rule stops moves to its next allowed time (or is blocked when that
-- is past its use), a call that another rule stops is blocked for good,
-- and the rest become 'dialing' with dialed_at = as_of. Calls left in
-- 'dialing' for ten minutes by an instance that died become 'unknown':
-- they may have been placed, so they are never dialled again.
CREATE OR REPLACE FUNCTION kept.calls_claim(p_as_of timestamptz, p_limit integer)
RETURNS TABLE (id bigint, number text, purpose text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c kept.calls;
    chk record;
    v_claimed integer := 0;
    v_deadline timestamptz;
BEGIN
    UPDATE kept.calls SET state = 'unknown', error = 'the dialling instance stopped before it recorded the result',
                          updated_at = now()
    WHERE state = 'dialing' AND claimed_at < now() - interval '10 minutes';

    FOR c IN SELECT * FROM kept.calls k WHERE k.state = 'queued' AND k.scheduled_at <= p_as_of
             ORDER BY k.scheduled_at, k.id LIMIT p_limit * 4 FOR UPDATE SKIP LOCKED LOOP
        EXIT WHEN v_claimed >= p_limit;
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(80, (c.account_id % 2147483647)::integer);
        chk := kept.call_check(c, p_as_of);
        IF chk.rule IS NULL THEN
            UPDATE kept.calls k SET state = 'dialing', dialed_at = p_as_of, claimed_at = now(), updated_at = now()
            WHERE k.id = c.id;
            v_claimed := v_claimed + 1;
            id := c.id;
            number := c.number;
            purpose := c.purpose;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- a pre_due reminder is of no use after its due day, a missed one after a week
        SELECT CASE c.purpose WHEN 'pre_due' THEN i.due_end_at ELSE i.grace_end_at + interval '7 days' END
        INTO v_deadline FROM kept.installments i WHERE i.plan_id = c.plan_id AND i.seq = c.seq;
        IF chk.retry_at IS NOT NULL AND chk.retry_at < v_deadline THEN
            UPDATE kept.calls k SET scheduled_at = chk.retry_at, deferred_rule = chk.rule,
                                    deferrals = k.deferrals + 1, updated_at = now()
            WHERE k.id = c.id;
        ELSE
            UPDATE kept.calls k SET state = 'blocked', blocked_rule = chk.rule, updated_at = now()
            WHERE k.id = c.id RETURNING * INTO c;
            PERFORM kept.outbox_write('call_blocked', 'call', c.id, jsonb_build_object(
                'account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq, 'purpose', c.purpose,
                'rule', c.blocked_rule, 'as_of', kept.ts(p_as_of)));
        END IF;
    END LOOP;
END $$;

-- The dispatcher's record of what the provider said about a dial.
-- p_outcome: placed | failed | unknown.
CREATE OR REPLACE FUNCTION kept.call_dialed(p_id bigint, p_outcome text, p_sid text, p_attempts integer,
                                            p_reconciled boolean, p_error text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c kept.calls;
BEGIN
    UPDATE kept.calls
    SET state = CASE WHEN kept.call_state_rank(state) > 2 THEN state ELSE p_outcome END,
        provider_sid = coalesce(provider_sid, p_sid), dial_attempts = p_attempts, reconciled = p_reconciled,
        error = p_error, updated_at = now()
    WHERE id = p_id  -- callbacks may have moved it on already: its state stays, the facts are added
    RETURNING * INTO c;
    IF c.state = 'failed' THEN
        PERFORM kept.outbox_write('call_completed', 'call', c.id, kept.call_event(c));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION kept.call_event(c kept.calls) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq,
                              'purpose', c.purpose, 'state', c.state, 'answered_by', c.answered_by,
                              'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
                              'digits', c.digits, 'duration_s', c.duration_s, 'dialed_at', kept.ts(c.dialed_at));
$$;

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
        PERFORM kept.fail(400, 'invalid_call_status', 'CallStatus', 'CallStatus is not a call state');
    END IF;
    SELECT * INTO c FROM kept.calls WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail(404, 'call_not_found', '', 'no such call');
    END IF;
    IF c.provider_sid IS NOT NULL AND c.provider_sid <> p_sid THEN
        PERFORM kept.fail(409, 'call_sid_mismatch', 'CallSid', 'this callback names another call');
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
    END IF;
    RETURN json_build_object('applied', c.state <> v_before, 'state', c.state);
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
        PERFORM kept.fail(404, 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    SELECT json_build_object(
        'id', c.id, 'purpose', c.purpose, 'right_party', c.right_party, 'answered_by', c.answered_by,
        'customer_name', cu.name,
        'amount', kept.money_words(i.amount_due_cents - i.amount_paid_cents, a.currency),
        'due_date', trim(to_char(i.due_date, 'FMDay, FMDD FMMonth YYYY')))
    INTO v
    FROM kept.installments i JOIN kept.accounts a ON a.id = c.account_id JOIN kept.customers cu ON cu.id = c.customer_id
    WHERE i.plan_id = c.plan_id AND i.seq = c.seq;
    RETURN v;
END $$;

-- An amount as a voice says it: $25.00, £7.50, 12.00 CHF.
CREATE OR REPLACE FUNCTION kept.money_words(p_cents bigint, p_currency text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE p_currency WHEN 'USD' THEN '$' WHEN 'GBP' THEN '£' WHEN 'EUR' THEN '€' ELSE '' END
       || (p_cents / 100)::text || '.' || lpad((p_cents % 100)::text, 2, '0')
       || CASE WHEN p_currency IN ('USD', 'GBP', 'EUR') THEN '' ELSE ' ' || p_currency END;

-- A key pressed on the call. Before the right party has confirmed, only 1
-- (it is me) counts; after, 1 confirms the payment, 2 asks for an agent
-- (an escalation, once per call), 9 stops automated calls to that number at
-- once. Answers the next step: disclose, limited, confirmed, agent,
-- opted_out or menu.
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
        PERFORM kept.fail(404, 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    IF NOT c.right_party THEN
        v_step := CASE WHEN v_key = '1' THEN 'disclose' ELSE 'limited' END;
        UPDATE kept.calls SET digits = left(digits || v_key, 32), provider_sid = coalesce(provider_sid, p_sid),
                              right_party = (v_key = '1'),
                              conversation_at = CASE WHEN v_key = '1' THEN coalesce(dialed_at, now()) END,
                              updated_at = now()
        WHERE id = p_id;
        RETURN json_build_object('step', v_step);
    END IF;
    v_step := CASE v_key WHEN '1' THEN 'confirmed' WHEN '2' THEN 'agent' WHEN '9' THEN 'opted_out' ELSE 'menu' END;
    UPDATE kept.calls SET digits = left(digits || v_key, 32), updated_at = now() WHERE id = p_id;
    IF v_step = 'agent' THEN
        SELECT * INTO r FROM kept.escalation_reasons WHERE reason = 'customer_requested_agent';
        INSERT INTO kept.escalations (account_id, plan_id, call_id, reason, priority, team, due_by, note)
        VALUES (c.account_id, c.plan_id, c.id, r.reason, r.priority, r.team, now() + r.sla,
                'pressed 2 on a ' || c.purpose || ' reminder call')
        ON CONFLICT DO NOTHING;
    ELSIF v_step = 'opted_out' THEN
        UPDATE kept.customer_phones SET consent_automated = false, consent_updated_at = now()
        WHERE customer_id = c.customer_id AND number = c.number AND consent_automated;
        IF FOUND THEN
            PERFORM kept.audit_write(NULL, 'customer (key 9 on a reminder call)', NULL, 'consent.revoked', 'customer',
                                     c.customer_id, jsonb_build_object('number_last4', right(c.number, 4),
                                                                       'consent_automated', true),
                                     jsonb_build_object('number_last4', right(c.number, 4),
                                                        'consent_automated', false, 'call_id', c.id));
            PERFORM kept.outbox_write('consent_revoked', 'customer', c.customer_id,
                                      jsonb_build_object('call_id', c.id));
        END IF;
    END IF;
    RETURN json_build_object('step', v_step);
END $$;

-- GET /v1/calls?account_id= : oldest first, cursor pages like every list.
CREATE OR REPLACE FUNCTION kept.call_page(p_account_id text, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_account bigint;
    v_after bigint := kept.cursor_decode('call', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
    v_items json;
    v_last bigint;
    v_count integer;
BEGIN
    IF p_account_id IS NULL OR p_account_id !~ '^[1-9][0-9]{0,17}$' THEN
        PERFORM kept.fail(400, 'invalid_account_id', 'account_id', 'account_id is required: an account id');
    END IF;
    v_account := p_account_id::bigint;
    IF NOT EXISTS (SELECT 1 FROM kept.accounts WHERE id = v_account) THEN
        PERFORM kept.fail(404, 'account_not_found', 'account_id', format('no account with id %s', v_account));
    END IF;
    SELECT json_agg(kept.call_json(page.c) ORDER BY (page.c).id) FILTER (WHERE page.n <= v_limit),
           max((page.c).id) FILTER (WHERE page.n <= v_limit), count(*)
    INTO v_items, v_last, v_count
    FROM (SELECT c, row_number() OVER (ORDER BY c.id) AS n FROM kept.calls c
          WHERE c.account_id = v_account AND c.id > v_after ORDER BY c.id LIMIT v_limit + 1) page;
    RETURN kept.page_json(v_items, v_last, v_count, v_limit, 'call');
END $$;
