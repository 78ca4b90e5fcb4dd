-- Payments: posting (idempotent by Idempotency-Key, unique by source and
-- source_ref), allocation to the oldest unpaid installments, reversal.
-- The account is locked first, as every writer does.

-- An installment's outcome from the money that reached it in time: kept by
-- the end of the local due day, kept late by the end of grace, partial if
-- something came by then, missed if nothing did. The one place the rule lives.
CREATE OR REPLACE FUNCTION kept.outcome_of(p_by_due bigint, p_by_grace bigint, p_threshold bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_by_due >= p_threshold THEN 'kept'
            WHEN p_by_grace >= p_threshold THEN 'kept_late'
            WHEN p_by_grace > 0 THEN 'partial'
            ELSE 'missed' END;

-- The payload of an installment_evaluated event (aggregate: its plan): which
-- installment, and the outcome it was given. The installment itself (its
-- money, dates and when it was judged) is the truth the analytics loader
-- reads; copying it into a million events of a big week cost a third of the
-- evaluation's time (tests/bench: a 7-key payload is 3-6 us a row more).
DROP FUNCTION IF EXISTS kept.installment_event(integer, date, text, bigint, bigint, bigint, timestamptz);
CREATE OR REPLACE FUNCTION kept.installment_event(p_seq integer, p_outcome text)
RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN jsonb_build_object('seq', p_seq, 'outcome', p_outcome);

-- Judges again the already judged installments among p_seqs whose money
-- changed (a backdated payment, a reversal); new outcomes go to the outbox
-- and a new miss asks the evaluator to look at the plan.
--
-- The hot functions of the payment path are PL/pgSQL, whose plans are cached
-- for the session, rather than SQL functions, which are planned on each call.
CREATE OR REPLACE FUNCTION kept.installments_rejudge(p_plan_id bigint, p_seqs integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        UPDATE kept.installments i
        SET outcome = kept.outcome_of(i.paid_by_due_cents, i.paid_by_grace_cents, i.threshold_cents),
            evaluated_at = kept.now()
        WHERE i.plan_id = p_plan_id AND i.seq = ANY (p_seqs)
          AND i.outcome IN ('kept', 'kept_late', 'partial', 'missed')
          AND i.outcome <> kept.outcome_of(i.paid_by_due_cents, i.paid_by_grace_cents, i.threshold_cents)
        RETURNING i.*
    ), events AS (
        INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
        SELECT 'installment_evaluated', 'plan', c.plan_id,
               kept.installment_event(c.seq, c.outcome)
        FROM changed c
    )
    UPDATE kept.plans SET evaluation_pending = true
    WHERE id = p_plan_id AND status = 'active' AND EXISTS (SELECT 1 FROM changed WHERE outcome = 'missed');
END $$;

CREATE OR REPLACE FUNCTION kept.payment_json(p kept.payments) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', p.id, 'account_id', p.account_id, 'amount_cents', p.amount_cents, 'currency', p.currency,
        'received_at', kept.ts(p.received_at), 'source', p.source, 'source_ref', p.source_ref,
        'status', p.status, 'plan_id', p.plan_id, 'balance_after_cents', p.balance_after_cents,
        'import_id', p.import_id, 'posted_by', p.posted_by, 'posted_by_user', kept.key_user_ref(p.posted_by),
        'created_at', kept.ts(p.created_at),
        'reversed_at', kept.ts(p.reversed_at), 'reversed_by', p.reversed_by,
        'reversed_by_user', kept.key_user_ref(p.reversed_by), 'reversal_reason', p.reversal_reason,
        'allocations', coalesce((
            SELECT json_agg(json_build_object('plan_id', a.plan_id, 'seq', a.seq, 'amount_cents', a.amount_cents,
                                              'on_time', a.on_time, 'in_grace', a.in_grace) ORDER BY a.plan_id, a.seq)
            FROM kept.allocations a WHERE a.payment_id = p.id), '[]'::json));
END $$;

-- Spreads a payment over the plan's oldest unpaid installments, each filled
-- before the next; what is left over rolls forward. Installments already
-- judged (a backdated payment) are judged again.
CREATE OR REPLACE FUNCTION kept.payment_allocate(p_payment kept.payments, p_plan_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_judged integer[];
BEGIN
    WITH open AS (
        SELECT i.seq, i.amount_due_cents - i.amount_paid_cents AS need, i.due_end_at, i.grace_end_at, i.outcome,
               coalesce(sum(i.amount_due_cents - i.amount_paid_cents)
                        OVER (ORDER BY i.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM kept.installments i
        WHERE i.plan_id = p_plan_id AND i.amount_paid_cents < i.amount_due_cents
    ), share AS (
        SELECT seq, least(need, p_payment.amount_cents - before) AS amount, outcome,
               p_payment.received_at < due_end_at AS on_time, p_payment.received_at < grace_end_at AS in_grace
        FROM open WHERE before < p_payment.amount_cents
    ), paid AS (
        UPDATE kept.installments i
        SET amount_paid_cents = i.amount_paid_cents + s.amount,
            paid_by_due_cents = i.paid_by_due_cents + CASE WHEN s.on_time THEN s.amount ELSE 0 END,
            paid_by_grace_cents = i.paid_by_grace_cents + CASE WHEN s.in_grace THEN s.amount ELSE 0 END
        FROM share s WHERE i.plan_id = p_plan_id AND i.seq = s.seq
    ), allocated AS (
        INSERT INTO kept.allocations (payment_id, plan_id, seq, amount_cents, on_time, in_grace)
        SELECT p_payment.id, p_plan_id, seq, amount, on_time, in_grace FROM share
    )
    SELECT array_agg(seq) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')) INTO v_judged
    FROM share;
    IF v_judged IS NOT NULL THEN
        PERFORM kept.installments_rejudge(p_plan_id, v_judged);
    END IF;
END $$;

-- After money moved: a plan that is done completes; an account with nothing
-- left to pay and no plan is paid.
DROP FUNCTION IF EXISTS kept.account_settle_up(bigint, text, text, kept.accounts, bigint);
CREATE OR REPLACE FUNCTION kept.account_settle_up(p_actor kept.actor, a kept.accounts, p_plan_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    pl kept.plans;
    n kept.accounts;
BEGIN
    SELECT * INTO pl FROM kept.plans WHERE id = p_plan_id;
    IF pl.status = 'active' AND kept.plan_is_done(pl, a) THEN
        PERFORM kept.plan_complete(p_actor, pl.id);
    ELSIF pl.id IS NULL AND a.balance_cents = 0 AND a.status = 'open' THEN
        UPDATE kept.accounts SET status = 'paid', version = version + 1, updated_at = kept.now()
        WHERE id = a.id RETURNING * INTO n;
        PERFORM kept.audit_write(p_actor, 'account.paid', 'account', a.id,
                                 kept.account_json(a)::jsonb, kept.account_json(n)::jsonb);
    END IF;
END $$;

-- The payment an API key posted with an Idempotency-Key (by its unique index).
CREATE OR REPLACE FUNCTION kept.payment_by_key(p_owner bigint, p_key text) RETURNS kept.payments
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pay kept.payments;
BEGIN
    IF p_owner IS NULL THEN -- keptd always has a key; SQL callers (tests) may not
        SELECT * INTO pay FROM kept.payments WHERE idempotency_owner IS NULL AND idempotency_key = p_key;
    ELSE
        SELECT * INTO pay FROM kept.payments WHERE idempotency_owner = p_owner AND idempotency_key = p_key;
    END IF;
    RETURN pay;
END $$;

-- The same key with the same body answers what it answered; with another
-- body it is a mistake the client must hear about.
CREATE OR REPLACE FUNCTION kept.payment_replay(p kept.payments, p_request_hash text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p.request_hash IS DISTINCT FROM p_request_hash THEN
        PERFORM kept.fail('rule_violation', 'idempotency_key_reused', 'Idempotency-Key',
                          'this Idempotency-Key was already used with a different request');
    END IF;
    RETURN kept.payment_answer(p, true);
END $$;

-- What posting or reversing a payment answers: the payment, whether this was
-- a replay of a request already posted (its Idempotency-Key), and where the
-- account stands now — its balance and status, and what a settlement this
-- payment completed wrote off.
CREATE OR REPLACE FUNCTION kept.payment_answer(p kept.payments, p_replayed boolean) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT (kept.payment_json(p)::jsonb || jsonb_build_object(
        'replayed', p_replayed,
        'account_balance_cents', a.balance_cents, 'account_status', a.status,
        'written_off_cents', coalesce((SELECT pl.written_off_cents FROM kept.plans pl
                                       WHERE pl.id = p.plan_id AND pl.status = 'completed'), 0)))::json
    FROM kept.accounts a WHERE a.id = p.account_id;
$$;

-- p_idempotency_key is the client's Idempotency-Key; what it came with is
-- remembered as the SHA-256 of the body as jsonb text, which is canonical
-- (keys sorted, one spacing), so the same request written differently is the
-- same request.
DROP FUNCTION IF EXISTS kept.payment_post(bigint, text, text, jsonb, text);
CREATE OR REPLACE FUNCTION kept.payment_post(p_actor kept.actor, p jsonb, p_idempotency_key text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    p_request_hash text := encode(sha256(convert_to(p::text, 'UTF8')), 'hex');
    v_amount bigint := (p->>'amount_cents')::bigint;
    v_received timestamptz;
    pay kept.payments := kept.payment_by_key((p_actor).key_id, p_idempotency_key);
    a kept.accounts;
    v_plan bigint;
BEGIN
    IF pay.id IS NOT NULL THEN
        RETURN kept.payment_replay(pay, p_request_hash);
    END IF;
    PERFORM kept.check_amount(v_amount, 'amount_cents');
    -- strictly a time: PostgreSQL would also take 'yesterday' or 'epoch'.
    -- Left out, it is now: the moment the request (under its key) is first
    -- posted, so a retry of the same request is the same request.
    IF p->'received_at' IS NULL THEN
        v_received := kept.now();
    ELSIF NOT kept.is_timestamp(p->>'received_at') THEN
        PERFORM kept.fail('invalid', 'invalid_received_at', 'received_at',
                          'received_at must be a time like 2026-11-20T14:05:00Z');
    ELSE
        v_received := (p->>'received_at')::timestamptz;
    END IF;
    IF v_received > kept.now() + interval '5 minutes' THEN
        PERFORM kept.fail('rule_violation', 'received_at_in_future', 'received_at', 'a payment cannot be received in the future');
    END IF;
    SELECT * INTO a FROM kept.accounts WHERE id = (p->>'account_id')::bigint FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail('rule_violation', 'unknown_account', 'account_id', format('no account with id %s', p->>'account_id'));
    END IF;
    PERFORM kept.require_account_visible((p_actor).key_id, a.id, 'rule_violation', 'unknown_account', 'account_id');
    IF v_received < (a.placed_on::timestamp AT TIME ZONE kept.account_time_zone(a)) THEN
        PERFORM kept.fail('rule_violation', 'received_before_placed', 'received_at',
                          format('the account was placed on %s; a payment cannot be received before that day',
                                 a.placed_on));
    END IF;
    IF v_amount > a.balance_cents THEN
        PERFORM kept.fail('rule_violation', 'payment_above_balance', 'amount_cents',
                          format('the balance is %s; more than that is a refund, not a payment',
                                 kept.money_text(a.balance_cents, a.currency)));
    END IF;
    SELECT id INTO v_plan FROM kept.plans WHERE account_id = a.id AND status = 'active';
    INSERT INTO kept.payments (account_id, amount_cents, currency, received_at, source, source_ref,
                               idempotency_owner, idempotency_key, request_hash, posted_by, balance_after_cents,
                               plan_id)
    VALUES (a.id, v_amount, a.currency, v_received, p->>'source', p->>'source_ref',
            CASE WHEN p_idempotency_key IS NOT NULL THEN (p_actor).key_id END, p_idempotency_key, p_request_hash,
            (p_actor).key_id, a.balance_cents - v_amount, v_plan)
    ON CONFLICT DO NOTHING
    RETURNING * INTO pay;
    IF pay.id IS NULL THEN
        -- the same request committed first (we waited for the account), or a duplicate
        pay := kept.payment_by_key((p_actor).key_id, p_idempotency_key);
        IF pay.id IS NOT NULL THEN
            RETURN kept.payment_replay(pay, p_request_hash);
        END IF;
        PERFORM kept.fail('conflict', 'duplicate_source_ref', 'source_ref',
                          'a payment with this source and source_ref was already posted');
    END IF;
    UPDATE kept.accounts SET balance_cents = balance_cents - v_amount, version = version + 1, updated_at = kept.now()
    WHERE id = a.id RETURNING * INTO a;
    IF v_plan IS NOT NULL THEN
        PERFORM kept.payment_allocate(pay, v_plan);
    END IF;
    PERFORM kept.account_settle_up(p_actor, a, v_plan);
    PERFORM kept.audit_write(p_actor, 'payment.posted', 'payment', pay.id, NULL,
                             to_jsonb(pay) - 'request_hash');
    PERFORM kept.outbox_write('payment_posted', 'payment', pay.id,
                              jsonb_build_object('account_id', a.id, 'plan_id', v_plan, 'amount_cents', v_amount,
                                                 'received_at', v_received, 'source', pay.source));
    RETURN kept.payment_answer(pay, false);
END $$;

-- A returned payment: its money comes off the installments it paid, which are
-- judged again; a plan it completed is active again (a settlement's
-- write-off undone); the balance is restored; an escalation opens.
DROP FUNCTION IF EXISTS kept.payment_reverse(bigint, text, text, bigint, text);
CREATE OR REPLACE FUNCTION kept.payment_reverse(p_actor kept.actor, p_payment_id bigint, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    pay kept.payments;
    a kept.accounts;
    pl kept.plans;
    v_restore bigint;
    v_plan bigint;
BEGIN
    pay := kept.lock_or_404(NULL::kept.payments, p_payment_id, '',
                            'payment_not_found', 'id', format('no payment with id %s', p_payment_id));
    a := kept.account_lock(pay.account_id);
    SELECT * INTO pay FROM kept.payments WHERE id = p_payment_id FOR UPDATE;
    IF pay.status = 'reversed' THEN
        PERFORM kept.fail('conflict', 'payment_already_reversed', 'id', format('payment %s was already reversed', pay.id));
    END IF;
    UPDATE kept.installments i
    SET amount_paid_cents = i.amount_paid_cents - al.amount_cents,
        paid_by_due_cents = i.paid_by_due_cents - CASE WHEN al.on_time THEN al.amount_cents ELSE 0 END,
        paid_by_grace_cents = i.paid_by_grace_cents - CASE WHEN al.in_grace THEN al.amount_cents ELSE 0 END
    FROM kept.allocations al
    WHERE al.payment_id = pay.id AND i.plan_id = al.plan_id AND i.seq = al.seq;
    FOR v_plan IN SELECT DISTINCT plan_id FROM kept.allocations WHERE payment_id = pay.id LOOP
        PERFORM kept.installments_rejudge(v_plan, ARRAY(SELECT seq FROM kept.allocations
                                                        WHERE payment_id = pay.id AND plan_id = v_plan));
    END LOOP;
    v_restore := pay.amount_cents;
    SELECT * INTO pl FROM kept.plans WHERE id = pay.plan_id FOR UPDATE;
    IF pl.status = 'completed' THEN
        v_restore := v_restore + pl.written_off_cents;
        UPDATE kept.plans SET status = 'active', ended_at = NULL, written_off_cents = 0,
                              version = version + 1, updated_at = kept.now()
        WHERE id = pl.id RETURNING * INTO pl;
        PERFORM kept.audit_write(p_actor, 'plan.reopened', 'plan', pl.id,
                                 jsonb_build_object('status', 'completed'),
                                 jsonb_build_object('status', pl.status, 'payment_reversed', pay.id));
        PERFORM kept.plan_event('plan_reopened', pl);
    END IF;
    UPDATE kept.accounts
    SET balance_cents = balance_cents + v_restore,
        status = CASE WHEN pl.status = 'active' THEN 'in_plan'
                      WHEN status IN ('paid', 'settled') THEN 'open' ELSE status END,
        version = version + 1, updated_at = kept.now()
    WHERE id = a.id;
    UPDATE kept.payments SET status = 'reversed', reversed_at = kept.now(), reversed_by = (p_actor).key_id,
                             reversal_reason = p_reason
    WHERE id = pay.id RETURNING * INTO pay;
    PERFORM kept.escalation_auto(pay.account_id, pl.id, pay.id, 'payment_reversed',
                                 format('payment %s of %s returned: %s', pay.id,
                                        kept.money_text(pay.amount_cents, pay.currency), p_reason));
    PERFORM kept.audit_write(p_actor, 'payment.reversed', 'payment', pay.id,
                             jsonb_build_object('status', 'posted'),
                             jsonb_build_object('status', pay.status, 'reason', p_reason));
    -- no reason in the event: free text may name the customer, and the outbox is not erased
    PERFORM kept.outbox_write('payment_reversed', 'payment', pay.id,
                              jsonb_build_object('account_id', pay.account_id, 'plan_id', pay.plan_id,
                                                 'amount_cents', pay.amount_cents));
    RETURN kept.payment_answer(pay, false);
END $$;

CREATE OR REPLACE FUNCTION kept.payment_page(p_account_id bigint, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after bigint := kept.cursor_decode('payment', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
BEGIN
    PERFORM kept.account_must_exist(p_account_id, 'id');
    RETURN kept.page_of(ARRAY(SELECT kept.payment_json(p) FROM kept.payments p
                              WHERE p.account_id = p_account_id AND p.id > v_after
                              ORDER BY p.id LIMIT v_limit + 1),
                        v_limit, 'payment');
END $$;
