-- Adherence: judging installments as their time comes, breaking plans after
-- consecutive misses, completing paid ones. keptd runs the two phases
-- (service/src/adherence/): the first judges every installment whose time
-- has come in one set-based statement; the second takes the plans that
-- statement flagged, account by account, locking each account before its
-- plan as every other writer does.
--
-- Both phases take an explicit as_of (production passes now), and running
-- either again for the same as_of changes nothing.

-- The as_of a job runs at: now when not given (NULL); an empty text is not a
-- time and is refused like any other; never in the future, where it would
-- judge installments whose time has not come.
CREATE OR REPLACE FUNCTION kept.as_of(p_text text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v timestamptz;
BEGIN
    IF p_text IS NULL THEN
        RETURN kept.now();
    END IF;
    IF NOT kept.is_timestamp(p_text) THEN
        PERFORM kept.fail('invalid', 'invalid_as_of', 'as_of', 'as_of must be a time like 2026-11-20T00:00:00Z');
    END IF;
    v := p_text::timestamptz;
    IF v > kept.now() + interval '1 minute' THEN
        PERFORM kept.fail('rule_violation', 'as_of_in_future', 'as_of', 'as_of cannot be in the future');
    END IF;
    RETURN v;
END $$;

-- Phase 1. An installment's time has come when its local due day has ended
-- and either it was kept by then or its grace period has ended too. Its
-- outcome and an installment_evaluated event are written in one statement.
-- The same statement flags for phase 2 the plans that must break (their last
-- breaks_after_misses judged installments missed, counting outcomes judged in
-- this very statement) and those whose last installment was judged (they may
-- be done), so phase 2 touches only plans that change. Only active and
-- completed plans are judged: a plan waiting for a second associate is not
-- yet the customer's commitment.
--
-- One call judges at most p_limit installments, the next ones after p_after
-- in (due_end_at, plan_id, seq) order, so that a week maturing a million
-- installments never holds their locks (which payments wait for) in one
-- long transaction. A plan's installments come due in seq order, so an
-- installment is never judged before an earlier one of its plan and the
-- streak of misses reads outcomes already judged. Answers
-- {"evaluated": n, "scanned": m, "after": the key to continue from, "done":
-- true once a batch comes back short}. The default limit is keptd's batch.
--
-- Three statements, each with its keys as literals (EXECUTE), so that the
-- planner sees the batch's few thousand rows:
--   1. the batch's last key, read from installments_to_evaluate_idx alone;
--   2. the judging: one UPDATE over that key range of the index, each plan
--      looked up by key, and the events, in one statement. Finding the rows
--      by their range (not again by primary key, once per row) is what
--      brings the evaluation near a bare UPDATE of the same rows
--      (tests/bench: 1.2-1.3x where it was 1.6-2.1x);
--   3. the flags for phase 2, from the few judged rows that may need them,
--      reading the outcomes statement 2 wrote.
-- The function's planner settings keep the plan lookups per row: a batch
-- that shares one due_end_at (one zone's due date) looks as large as all
-- of them to the planner, which would otherwise hash every plan per batch.
CREATE OR REPLACE FUNCTION kept.evaluate_outcomes_batch(p_as_of timestamptz, p_after jsonb,
                                                        p_limit integer DEFAULT 5000)
RETURNS jsonb
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off
AS $fn$
DECLARE
    v_after_at timestamptz := coalesce((p_after->>'at')::timestamptz, '-infinity');
    v_after_plan bigint := coalesce((p_after->>'plan')::bigint, 0);
    v_after_seq integer := coalesce((p_after->>'seq')::integer, 0);
    v_scanned bigint;
    v_first_at timestamptz;
    v_last_at timestamptz;
    v_last_plan bigint;
    v_last_seq integer;
    v_evaluated bigint;
    v_missed_plans bigint[];
    v_missed_seqs integer[];
    v_missed_n integer[];
    v_last_plans bigint[];
BEGIN
    EXECUTE format($q$
        WITH chunk AS MATERIALIZED (
            SELECT i.due_end_at, i.plan_id, i.seq
            FROM kept.installments i
            -- one row comparison (no OR), so that it bounds the index scan
            WHERE i.outcome = 'scheduled' AND i.due_end_at <= %1$L::timestamptz
              AND (i.due_end_at, i.plan_id, i.seq) > (%2$L::timestamptz, %3$s::bigint, %4$s::integer)
            ORDER BY i.due_end_at, i.plan_id, i.seq
            LIMIT %5$s)
        SELECT (SELECT count(*) FROM chunk), (SELECT min(due_end_at) FROM chunk), l.due_end_at, l.plan_id, l.seq
        FROM (SELECT due_end_at, plan_id, seq FROM chunk ORDER BY due_end_at DESC, plan_id DESC, seq DESC LIMIT 1) l
    $q$, p_as_of, v_after_at, v_after_plan, v_after_seq, p_limit)
    INTO v_scanned, v_first_at, v_last_at, v_last_plan, v_last_seq;
    IF v_last_at IS NULL THEN
        RETURN jsonb_build_object('evaluated', 0, 'scanned', 0, 'done', true, 'after', NULL);
    END IF;

    EXECUTE format($q$
        WITH judged AS (
            UPDATE kept.installments i
            SET outcome = kept.outcome_of(i.paid_by_due_cents, i.paid_by_grace_cents, i.threshold_cents),
                evaluated_at = %1$L::timestamptz
            FROM kept.plans p
            WHERE i.outcome = 'scheduled' AND i.due_end_at <= %1$L::timestamptz
              AND (i.due_end_at, i.plan_id, i.seq) > (%2$L::timestamptz, %3$s::bigint, %4$s::integer)
              AND (i.due_end_at, i.plan_id, i.seq) <= (%5$L::timestamptz, %6$s::bigint, %7$s::integer)
              -- the batch's first and last due_end_at, bounds the planner can estimate
              -- (the key after which it starts may be -infinity)
              AND i.due_end_at BETWEEN %8$L::timestamptz AND %5$L::timestamptz
              AND (i.grace_end_at <= %1$L::timestamptz OR i.paid_by_due_cents >= i.threshold_cents)
              AND p.id = i.plan_id AND p.status IN ('active', 'completed')
            RETURNING i.plan_id, i.seq, i.outcome, p.installment_count, p.breaks_after_misses, p.status
        ), events AS (
            INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
            SELECT 'installment_evaluated', 'plan', j.plan_id, kept.installment_event(j.seq, j.outcome)
            FROM judged j
        ), misses AS (
            -- a miss that may end a streak: an active plan's, with enough installments before it
            SELECT plan_id, seq, breaks_after_misses FROM judged
            WHERE outcome = 'missed' AND status = 'active' AND seq >= breaks_after_misses
        )
        SELECT (SELECT count(*) FROM judged),
               (SELECT array_agg(plan_id ORDER BY plan_id, seq) FROM misses),
               (SELECT array_agg(seq ORDER BY plan_id, seq) FROM misses),
               (SELECT array_agg(breaks_after_misses ORDER BY plan_id, seq) FROM misses),
               (SELECT array_agg(plan_id) FROM judged WHERE seq = installment_count AND status = 'active')
    $q$, p_as_of, v_after_at, v_after_plan, v_after_seq, v_last_at, v_last_plan, v_last_seq, v_first_at)
    INTO v_evaluated, v_missed_plans, v_missed_seqs, v_missed_n, v_last_plans;

    -- Flag for phase 2 the plans whose last breaks_after_misses judged
    -- installments are now all missed, and those whose last one was judged.
    IF v_missed_plans IS NOT NULL OR v_last_plans IS NOT NULL THEN
        UPDATE kept.plans p SET evaluation_pending = true
        WHERE p.status = 'active' AND NOT p.evaluation_pending
          AND p.id IN (SELECT m.plan_id
                       FROM unnest(v_missed_plans, v_missed_seqs, v_missed_n) AS m(plan_id, seq, n)
                       WHERE (SELECT count(*) FROM kept.installments k
                              WHERE k.plan_id = m.plan_id AND k.seq BETWEEN m.seq - m.n + 1 AND m.seq
                                AND k.outcome = 'missed') = m.n
                       UNION
                       SELECT unnest(v_last_plans));
    END IF;

    RETURN jsonb_build_object('evaluated', v_evaluated, 'scanned', v_scanned, 'done', v_scanned < p_limit,
                              'after', jsonb_build_object('at', v_last_at, 'plan', v_last_plan, 'seq', v_last_seq));
END $fn$;

-- Phase 1 in one transaction, batch after batch (SQL callers: tests, psql);
-- keptd commits each batch on its own (service/src/adherence/). Answers the
-- number of installments judged.
DROP FUNCTION IF EXISTS kept.evaluate_outcomes(timestamptz);
CREATE OR REPLACE FUNCTION kept.evaluate_outcomes(p_as_of timestamptz, p_limit integer DEFAULT 5000)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_after jsonb;
    v_batch jsonb;
    v_total bigint := 0;
BEGIN
    LOOP
        v_batch := kept.evaluate_outcomes_batch(p_as_of, v_after, p_limit);
        v_total := v_total + (v_batch->>'evaluated')::bigint;
        EXIT WHEN (v_batch->>'done')::boolean;
        v_after := v_batch->'after';
    END LOOP;
    RETURN v_total;
END $$;

-- True when the plan's last breaks_after_misses judged installments were all missed.
CREATE OR REPLACE FUNCTION kept.plan_should_break(p kept.plans) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT count(*) = p.breaks_after_misses AND bool_and(outcome = 'missed')
    FROM (SELECT outcome FROM kept.installments
          WHERE plan_id = p.id AND outcome IN ('kept', 'kept_late', 'partial', 'missed')
          ORDER BY seq DESC LIMIT p.breaks_after_misses) last;
$$;

-- Breaks a plan (the caller holds its account): what it still had scheduled
-- is waived, the account is open again, and if the customer had kept it at
-- least once the break goes to the skilled queue.
CREATE OR REPLACE FUNCTION kept.plan_break(p kept.plans, p_as_of timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n kept.plans;
BEGIN
    UPDATE kept.plans SET status = 'broken', ended_at = p_as_of, version = version + 1, updated_at = kept.now()
    WHERE id = p.id RETURNING * INTO n;
    UPDATE kept.installments SET outcome = 'waived' WHERE plan_id = p.id AND outcome = 'scheduled';
    UPDATE kept.accounts SET status = 'open', version = version + 1, updated_at = kept.now()
    WHERE id = p.account_id AND status = 'in_plan';
    IF EXISTS (SELECT 1 FROM kept.installments WHERE plan_id = p.id AND outcome IN ('kept', 'kept_late')) THEN
        PERFORM kept.escalation_auto(p.account_id, p.id, NULL, 'plan_broken_after_kept',
                                     format('plan %s broke after %s consecutive missed installments',
                                            p.id, p.breaks_after_misses));
    END IF;
    PERFORM kept.audit_write(ROW(NULL, 'keptd-evaluator', NULL)::kept.actor, 'plan.broken', 'plan', p.id,
                             jsonb_build_object('status', p.status),
                             jsonb_build_object('status', n.status, 'as_of', p_as_of));
    PERFORM kept.plan_event('plan_broken', n);
END $$;

-- Phase 2: up to p_accounts accounts with flagged plans, in account order.
-- Answers {"accounts": n, "broken": n, "completed": n}; accounts = 0 means done.
CREATE OR REPLACE FUNCTION kept.evaluate_plans(p_as_of timestamptz, p_accounts integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_accounts bigint[];
    v_broken integer := 0;
    v_completed integer := 0;
    p kept.plans;
    a kept.accounts;
BEGIN
    SELECT array_agg(account_id ORDER BY account_id) INTO v_accounts
    FROM (SELECT DISTINCT account_id FROM kept.plans WHERE evaluation_pending
          ORDER BY account_id LIMIT p_accounts) flagged;
    IF v_accounts IS NULL THEN
        RETURN json_build_object('accounts', 0, 'broken', 0, 'completed', 0);
    END IF;
    PERFORM 1 FROM kept.accounts WHERE id = ANY (v_accounts) ORDER BY id FOR NO KEY UPDATE;
    FOR p IN SELECT * FROM kept.plans WHERE account_id = ANY (v_accounts) AND evaluation_pending
             ORDER BY account_id, id FOR UPDATE LOOP
        SELECT * INTO a FROM kept.accounts WHERE id = p.account_id;
        IF p.status = 'active' AND kept.plan_is_done(p, a) THEN
            PERFORM kept.plan_complete(ROW(NULL, 'keptd-evaluator', NULL)::kept.actor, p.id);
            v_completed := v_completed + 1;
        ELSIF p.status = 'active' AND kept.plan_should_break(p) THEN
            PERFORM kept.plan_break(p, p_as_of);
            v_broken := v_broken + 1;
        END IF;
    END LOOP;
    UPDATE kept.plans SET evaluation_pending = false WHERE account_id = ANY (v_accounts) AND evaluation_pending;
    RETURN json_build_object('accounts', cardinality(v_accounts), 'broken', v_broken, 'completed', v_completed);
END $$;

-- Phase 2 for one account's flagged plans (a payment or a reversal changed a
-- judged installment): a plan that is done completes, one that must break
-- breaks at p_as_of. The caller holds the account.
CREATE OR REPLACE FUNCTION kept.evaluate_account_flags(p_account_id bigint, p_as_of timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p kept.plans;
    a kept.accounts;
BEGIN
    FOR p IN SELECT * FROM kept.plans WHERE account_id = p_account_id AND evaluation_pending ORDER BY id LOOP
        SELECT * INTO a FROM kept.accounts WHERE id = p_account_id;
        IF p.status = 'active' AND kept.plan_is_done(p, a) THEN
            PERFORM kept.plan_complete(ROW(NULL, 'keptd-evaluator', NULL)::kept.actor, p.id);
        ELSIF p.status = 'active' AND kept.plan_should_break(p) THEN
            PERFORM kept.plan_break(p, p_as_of);
        END IF;
        UPDATE kept.plans SET evaluation_pending = false WHERE id = p.id;
    END LOOP;
END $$;

-- One account's installments whose time has come by p_as_of, judged one at
-- a time in the order their time came (an installment kept by its due day at
-- that day's end, any other at the end of its grace period), with what the
-- evaluator would have done at each moment had it run all along: a plan
-- breaks at the miss that breaks it, a plan whose last installment is judged
-- and whose money is in completes, a flagged plan is looked at first. The
-- clock (kept.now()) is each moment in turn, so plans end at the time they
-- would have; it is set back to what it was before. The caller holds the
-- account (the history import replays one account's past with it). Answers
-- the number judged.
CREATE OR REPLACE FUNCTION kept.evaluate_account(p_account_id bigint, p_as_of timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_clock text := current_setting('kept.clock', true);
    v_judged integer := 0;
    d record;
    i kept.installments;
    p kept.plans;
    a kept.accounts;
BEGIN
    PERFORM kept.evaluate_account_flags(p_account_id, p_as_of);
    FOR d IN SELECT k.plan_id, k.seq,
                    CASE WHEN k.paid_by_due_cents >= k.threshold_cents THEN k.due_end_at ELSE k.grace_end_at END AS at
             FROM kept.installments k JOIN kept.plans pl ON pl.id = k.plan_id
             WHERE pl.account_id = p_account_id AND pl.status IN ('active', 'completed') AND k.outcome = 'scheduled'
               AND CASE WHEN k.paid_by_due_cents >= k.threshold_cents THEN k.due_end_at ELSE k.grace_end_at END
                   <= p_as_of
             ORDER BY 3, k.plan_id, k.seq LOOP
        PERFORM set_config('kept.clock', kept.ts(d.at), true);
        -- an earlier miss in this loop may have broken the plan and waived the rest
        UPDATE kept.installments k
        SET outcome = kept.outcome_of(k.paid_by_due_cents, k.paid_by_grace_cents, k.threshold_cents), evaluated_at = d.at
        WHERE k.plan_id = d.plan_id AND k.seq = d.seq AND k.outcome = 'scheduled'
        RETURNING * INTO i;
        CONTINUE WHEN i.plan_id IS NULL;
        v_judged := v_judged + 1;
        PERFORM kept.outbox_write('installment_evaluated', 'plan', i.plan_id,
                                  kept.installment_event(i.seq, i.outcome));
        SELECT * INTO p FROM kept.plans WHERE id = i.plan_id;
        SELECT * INTO a FROM kept.accounts WHERE id = p.account_id;
        IF p.status = 'active' AND i.outcome = 'missed' AND kept.plan_should_break(p) THEN
            PERFORM kept.plan_break(p, d.at);
        ELSIF p.status = 'active' AND i.seq = p.installment_count AND kept.plan_is_done(p, a) THEN
            PERFORM kept.plan_complete(ROW(NULL, 'keptd-evaluator', NULL)::kept.actor, p.id);
        END IF;
        i := NULL;
    END LOOP;
    PERFORM set_config('kept.clock', coalesce(v_clock, ''), true);
    RETURN v_judged;
END $$;
