-- Reminder calls: scheduling, the contact rules checked right before every
-- dial, claiming work across keptd instances, what the provider reports.
--
-- Every time-dependent function takes as_of, so tests drive weeks of calls
-- without faking clocks. A call's attempt time (dialed_at) and a
-- conversation's time are on the as_of clock too.

-- earlier shapes of the dispatcher's functions
DROP FUNCTION IF EXISTS kept.calls_claim(timestamptz, integer);
DROP FUNCTION IF EXISTS kept.call_check(kept.calls, timestamptz);
DROP FUNCTION IF EXISTS kept.call_dialed(bigint, text, text, integer, boolean, text);

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
-- consent rule will then block, on the record). The call keeps it as the
-- phone row holds it: sealed under the customer's data key, with its digest.
DROP FUNCTION IF EXISTS kept.call_number(bigint);
CREATE OR REPLACE FUNCTION kept.call_phone(p_customer_id bigint) RETURNS kept.customer_phones
LANGUAGE sql STABLE AS $$
    SELECT * FROM kept.customer_phones WHERE customer_id = p_customer_id
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
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'pre_due', (phone).number_enc, (phone).number_digest, p_as_of
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
        INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, scheduled_at)
        SELECT account_id, customer_id, plan_id, seq, 'missed', (phone).number_enc, (phone).number_digest, grace_end_at
        FROM missed WHERE (phone).number_enc IS NOT NULL
        ON CONFLICT ON CONSTRAINT calls_one_per_installment_purpose DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO v_missed FROM queued;
    RETURN json_build_object('as_of', kept.ts(p_as_of), 'pre_due_queued', v_pre_due, 'missed_queued', v_missed);
END $$;

-- ---- the contact rules --------------------------------------------------------------

-- The first rule that forbids dialling each of the calls `p_ids` at as_of,
-- when it may be tried again (NULL: never) and until when a retry is of use.
-- Set-based: one statement judges a whole batch. Rules, in order:
--   1 restrictions: cease_communication, attorney, bankruptcy, dispute, moratorium
--     (and reminders that no longer make sense: account_closed, plan_not_active, installment_paid)
--   2 no_consent for automated calls on that number
--   3 calling_window: the customer's local 08:00-21:00, or the jurisdiction's narrower one
--   4 reg_f_7_in_7 (7 attempts in 7 days per debt), reg_f_conversation (none for 7 days after one)
--   5 jurisdiction_cap (e.g. US-MA: 2 in 7 days)
--   6 one per installment and purpose: the calls_one_per_installment_purpose constraint
-- Attempts are the calls of the same account dialled in the 7 days up to as_of.
CREATE OR REPLACE FUNCTION kept.calls_rules(p_as_of timestamptz, p_ids bigint[])
RETURNS TABLE (id bigint, rule text, retry_at timestamptz, useful_until timestamptz)
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT k.id, k.account_id, k.purpose, cu.cease_communication, cu.attorney_represented,
               cu.bankruptcy, cu.dispute_open, cu.moratorium_until, cu.time_zone,
               (p_as_of AT TIME ZONE cu.time_zone) AS local_now,
               greatest(coalesce(jr.window_start, '08:00'), '08:00') AS win_start,
               least(coalesce(jr.window_end, '21:00'), '21:00') AS win_end,
               least(coalesce(jr.max_attempts_7d, 7), 7) AS cap,
               a.status AS account_status, p.status AS plan_status,
               i.amount_paid_cents < i.amount_due_cents AS unpaid,
               coalesce(ph.consent_automated, false) AS consent,
               CASE k.purpose WHEN 'pre_due' THEN i.due_end_at ELSE i.grace_end_at + interval '7 days' END
                   AS useful_until,
               att.times, conv.at AS conversation_at
        FROM kept.calls k
        JOIN kept.customers cu ON cu.id = k.customer_id
        JOIN kept.installments i ON i.plan_id = k.plan_id AND i.seq = k.seq
        JOIN kept.plans p ON p.id = k.plan_id
        JOIN kept.accounts a ON a.id = k.account_id
        LEFT JOIN kept.customer_phones ph ON ph.customer_id = k.customer_id AND ph.number_digest = k.number_digest
        LEFT JOIN kept.jurisdiction_call_rules jr ON jr.jurisdiction = cu.jurisdiction
        LEFT JOIN LATERAL (
            SELECT array_agg(o.dialed_at ORDER BY o.dialed_at DESC) AS times
            FROM kept.calls o
            WHERE o.account_id = k.account_id AND o.dialed_at > p_as_of - interval '7 days'
              AND o.dialed_at <= p_as_of AND o.id <> k.id) att ON true
        LEFT JOIN LATERAL (
            SELECT max(o.conversation_at) AS at FROM kept.calls o
            WHERE o.account_id = k.account_id AND o.conversation_at > p_as_of - interval '7 days'
              AND o.conversation_at <= p_as_of) conv ON true
        WHERE k.id = ANY (p_ids)
    ), judged AS (
        SELECT c.*, coalesce(array_length(c.times, 1), 0) AS attempts,
               CASE WHEN c.cease_communication THEN 'cease_communication'
                    WHEN c.attorney_represented THEN 'attorney'
                    WHEN c.bankruptcy THEN 'bankruptcy'
                    WHEN c.dispute_open THEN 'dispute'
                    WHEN c.moratorium_until >= c.local_now::date THEN 'moratorium'
                    WHEN c.account_status NOT IN ('open', 'in_plan') THEN 'account_closed'
                    WHEN c.plan_status <> 'active' THEN 'plan_not_active'
                    WHEN c.purpose = 'pre_due' AND NOT c.unpaid THEN 'installment_paid'
                    WHEN NOT c.consent THEN 'no_consent'
                    WHEN c.local_now::time < c.win_start OR c.local_now::time >= c.win_end THEN 'calling_window'
                    WHEN coalesce(array_length(c.times, 1), 0) >= 7 THEN 'reg_f_7_in_7'
                    WHEN c.conversation_at IS NOT NULL THEN 'reg_f_conversation'
                    WHEN coalesce(array_length(c.times, 1), 0) >= c.cap THEN 'jurisdiction_cap' END AS rule
        FROM c
    )
    SELECT j.id, j.rule,
           CASE j.rule
               WHEN 'calling_window' THEN
                   ((CASE WHEN j.local_now::time < j.win_start THEN j.local_now::date ELSE j.local_now::date + 1 END)
                    + j.win_start) AT TIME ZONE j.time_zone
               WHEN 'reg_f_7_in_7' THEN j.times[7] + interval '7 days'
               WHEN 'reg_f_conversation' THEN j.conversation_at + interval '7 days'
               WHEN 'jurisdiction_cap' THEN j.times[j.cap] + interval '7 days' END,
           j.useful_until
    FROM judged j;
$$;

-- ---- claiming work ---------------------------------------------------------------------

-- Claims up to p_limit calls due at as_of, in one statement: candidates are
-- locked with SKIP LOCKED (another instance's candidates are left to it),
-- one per account per claim, each account under an advisory lock held to
-- commit (so two instances never both count the same debt's attempts); the
-- rules judge them all; a call a time rule stops moves to its next allowed
-- time (or is blocked when that is past its use), a call another rule
-- stops is blocked for good, the rest become 'dialing' with dialed_at =
-- as_of. Answers every call it looked at, `dial` saying which to ring; no
-- row means nothing is due. Calls left 'dialing' for ten minutes by an
-- instance that died become 'unknown': they may have been placed, so they
-- are never dialled again.
CREATE OR REPLACE FUNCTION kept.calls_claim(p_as_of timestamptz, p_limit integer)
RETURNS TABLE (id bigint, number text, purpose text, dial boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_ids bigint[];
BEGIN
    UPDATE kept.calls k SET state = 'unknown', error = 'the dialling instance stopped before it recorded the result',
                            updated_at = now()
    WHERE k.state = 'dialing' AND k.claimed_at < now() - interval '10 minutes';

    WITH candidates AS MATERIALIZED (
        SELECT k.id, k.account_id, k.scheduled_at FROM kept.calls k
        WHERE k.state = 'queued' AND k.scheduled_at <= p_as_of
        ORDER BY k.scheduled_at, k.id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), one_per_account AS MATERIALIZED (
        SELECT DISTINCT ON (c.account_id) c.id, c.account_id FROM candidates c
        ORDER BY c.account_id, c.scheduled_at, c.id
    )
    SELECT array_agg(o.id) INTO v_ids FROM one_per_account o
    WHERE pg_try_advisory_xact_lock(80, (o.account_id % 2147483647)::integer);
    IF v_ids IS NULL THEN
        RETURN;
    END IF;

    RETURN QUERY
    WITH judged AS MATERIALIZED (
        SELECT r.id, r.rule, r.retry_at, r.useful_until FROM kept.calls_rules(p_as_of, v_ids) r
    ), dialing AS (
        UPDATE kept.calls k SET state = 'dialing', dialed_at = p_as_of, claimed_at = now(), updated_at = now()
        FROM judged j WHERE k.id = j.id AND j.rule IS NULL
        RETURNING k.id, kept.pii_open(k.customer_id, k.number_enc) AS number, k.purpose
    ), deferred AS (
        UPDATE kept.calls k SET scheduled_at = j.retry_at, deferred_rule = j.rule, deferrals = k.deferrals + 1,
                                updated_at = now()
        FROM judged j WHERE k.id = j.id AND j.rule IS NOT NULL AND j.retry_at < j.useful_until
        RETURNING k.id, NULL::text AS number, k.purpose
    ), blocked AS (
        UPDATE kept.calls k SET state = 'blocked', blocked_rule = j.rule, updated_at = now()
        FROM judged j WHERE k.id = j.id AND j.rule IS NOT NULL AND NOT coalesce(j.retry_at < j.useful_until, false)
        RETURNING k.id, NULL::text AS number, k.purpose, k.account_id, k.plan_id, k.seq, k.blocked_rule
    ), events AS (
        INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
        SELECT 'call_blocked', 'call', b.id,
               jsonb_build_object('account_id', b.account_id, 'plan_id', b.plan_id, 'seq', b.seq,
                                  'purpose', b.purpose, 'rule', b.blocked_rule, 'as_of', kept.ts(p_as_of))
        FROM blocked b
    )
    SELECT d.id, d.number, d.purpose, true FROM dialing d
    UNION ALL SELECT f.id, f.number, f.purpose, false FROM deferred f
    UNION ALL SELECT b.id, b.number, b.purpose, false FROM blocked b;
END $$;

CREATE OR REPLACE FUNCTION kept.call_event(c kept.calls) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq,
                              'purpose', c.purpose, 'state', c.state, 'answered_by', c.answered_by,
                              'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
                              'digits', c.digits, 'duration_s', c.duration_s, 'dialed_at', kept.ts(c.dialed_at));
$$;

-- The dispatcher's record of what the provider said about a batch of dials,
-- one statement: outcome placed | failed | unknown per call. Callbacks may
-- have moved a call on already: its state stays, the facts are added.
CREATE OR REPLACE FUNCTION kept.calls_dialed(p_ids bigint[], p_outcomes text[], p_sids text[], p_attempts integer[],
                                             p_reconciled boolean[], p_errors text[])
RETURNS void LANGUAGE sql AS $$
    WITH r AS (
        SELECT * FROM unnest(p_ids, p_outcomes, p_sids, p_attempts, p_reconciled, p_errors)
                      AS r(id, outcome, sid, attempts, reconciled, error)
    ), done AS (
        UPDATE kept.calls k
        SET state = CASE WHEN kept.call_state_rank(k.state) > 2 THEN k.state ELSE r.outcome END,
            provider_sid = coalesce(k.provider_sid, r.sid), dial_attempts = r.attempts, reconciled = r.reconciled,
            error = r.error, updated_at = now()
        FROM r WHERE k.id = r.id
        RETURNING k
    )
    INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
    SELECT 'call_completed', 'call', (d.k).id, kept.call_event(d.k) FROM done d WHERE (d.k).state = 'failed';
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
        PERFORM kept.fail(404, 'call_not_found', '', 'no such call for this CallSid');
    END IF;
    SELECT json_build_object(
        'id', c.id, 'purpose', c.purpose, 'right_party', c.right_party, 'answered_by', c.answered_by,
        'customer_name', kept.pii_open(cu.id, cu.name_enc),
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

-- A key pressed on the call, while it is in progress. Before the right party has confirmed, only 1
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
    -- a key press counts only while the call is going on: never on a call
    -- that ended (a replayed or late webhook), nor on one never dialled
    IF c.state NOT IN ('dialing', 'placed', 'unknown', 'initiated', 'ringing', 'in-progress') THEN
        PERFORM kept.fail(409, 'call_not_in_progress', '',
                          format('call %s is %s: key presses count only while it is in progress', c.id, c.state));
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
        WHERE customer_id = c.customer_id AND number_digest = c.number_digest AND consent_automated;
        IF FOUND THEN
            PERFORM kept.audit_write(NULL, 'customer (key 9 on a reminder call)', NULL, 'consent.revoked', 'customer',
                                     c.customer_id, jsonb_build_object('number_last4',
                                                                       right(kept.pii_open(c.customer_id, c.number_enc), 4),
                                                                       'consent_automated', true),
                                     jsonb_build_object('number_last4', right(kept.pii_open(c.customer_id, c.number_enc), 4),
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
