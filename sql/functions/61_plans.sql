-- Plans: opening one (from a proposal, from the agent's amount, from a
-- settlement), two-associate approval, cancellation, and completing a paid
-- plan. Reviews are in 62_reviews.sql, settlement offers in 63_settlements.sql.
--
-- Open plans: an account has at most one active and one pending_approval
-- plan (unique indexes). A new plan must name the plan it replaces
-- (replaces_plan_id) when the account already has an open one — the newest
-- open plan, pending if there is one — else 409 plan_exists; this is what
-- makes two agents arranging the same account at the same moment end with
-- one plan and one 409, rather than one silently replacing the other.

-- A plan the customer made for themselves (the self-service page, the
-- reminder call's key pad): no associate stands behind it.
CREATE OR REPLACE FUNCTION kept.plan_is_customers(p kept.plans) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN p.created_by IS NULL AND p.channel IN ('self_service', 'ivr');

CREATE OR REPLACE FUNCTION kept.plan_json(p kept.plans) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id, 'account_id', p.account_id, 'origin', p.origin, 'status', p.status,
        'weekly_amount_cents', p.weekly_amount_cents, 'first_due_date', p.first_due_date,
        'installment_count', p.installment_count, 'total_cents', p.total_cents,
        'balance_at_start_cents', p.balance_at_start_cents, 'currency', p.currency,
        'in_policy', p.in_policy, 'reasons', to_json(p.reasons),
        'weekly_disposable_cents', p.weekly_disposable_cents, 'imported', p.imported, 'channel', p.channel,
        'proposal_id', p.proposal_id, 'settlement_offer_id', p.settlement_offer_id,
        'policy', json_build_object('id', p.policy_id, 'grace_days', p.grace_days,
                                    'kept_threshold_percent', p.kept_threshold_percent,
                                    'breaks_after_misses', p.breaks_after_misses),
        'created_by', p.created_by, 'created_by_user', kept.user_ref(p.created_by_user),
        'approved_by', (SELECT approved_by FROM kept.plan_approvals WHERE plan_id = p.id),
        'approved_by_user', (SELECT kept.user_ref(approved_by_user) FROM kept.plan_approvals WHERE plan_id = p.id),
        'first_approved_by', p.first_approved_by, 'first_approved_by_user', kept.key_user_ref(p.first_approved_by),
        'first_approved_at', kept.ts(p.first_approved_at),
        'approvals_needed', CASE WHEN p.status <> 'pending_approval' THEN 0
                                 WHEN kept.plan_is_customers(p) AND p.first_approved_by IS NULL THEN 2 ELSE 1 END,
        'activated_at', kept.ts(p.activated_at), 'ended_at', kept.ts(p.ended_at),
        'superseded_by', p.superseded_by, 'cancel_reason', p.cancel_reason,
        'reminder_consent_at', kept.ts(p.reminder_consent_at),
        'version', p.version, 'created_at', kept.ts(p.created_at), 'updated_at', kept.ts(p.updated_at),
        'installments', coalesce((
            SELECT json_agg(json_build_object('seq', i.seq, 'due_date', i.due_date,
                                              'amount_due_cents', i.amount_due_cents,
                                              'amount_paid_cents', i.amount_paid_cents,
                                              'outcome', i.outcome) ORDER BY i.seq)
            FROM kept.installments i WHERE i.plan_id = p.id), '[]'::json));
$$;

-- What the outbox says of a plan, in every plan_* event.
CREATE OR REPLACE FUNCTION kept.plan_payload(p kept.plans) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'account_id', p.account_id, 'origin', p.origin, 'status', p.status,
        'weekly_amount_cents', p.weekly_amount_cents, 'total_cents', p.total_cents,
        'balance_at_start_cents', p.balance_at_start_cents, 'installment_count', p.installment_count,
        'first_due_date', p.first_due_date, 'in_policy', p.in_policy, 'reasons', to_jsonb(p.reasons),
        'imported', p.imported, 'created_by', p.created_by, 'currency', p.currency);
$$;

CREATE OR REPLACE FUNCTION kept.plan_event(p_type text, p kept.plans) RETURNS void
LANGUAGE sql AS $$
    SELECT kept.outbox_write(p_type, 'plan', p.id, kept.plan_payload(p));
$$;

-- Ends an open plan as superseded by p_by: waives what it still had scheduled.
DROP FUNCTION IF EXISTS kept.plan_supersede(bigint, text, text, kept.plans, bigint);
CREATE OR REPLACE FUNCTION kept.plan_supersede(p_actor kept.actor, p_old kept.plans, p_by bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n kept.plans;
BEGIN
    UPDATE kept.plans SET status = 'superseded', superseded_by = p_by, ended_at = kept.now(),
                          version = version + 1, updated_at = kept.now()
    WHERE id = p_old.id RETURNING * INTO n;
    UPDATE kept.installments SET outcome = 'waived' WHERE plan_id = p_old.id AND outcome = 'scheduled';
    PERFORM kept.audit_write(p_actor, 'plan.superseded', 'plan', n.id,
                             jsonb_build_object('status', p_old.status),
                             jsonb_build_object('status', n.status, 'superseded_by', p_by));
    PERFORM kept.plan_event('plan_superseded', n);
END $$;

-- Makes p the account's active plan, ending the one it replaces.
DROP FUNCTION IF EXISTS kept.plan_activate(bigint, text, text, kept.plans);
CREATE OR REPLACE FUNCTION kept.plan_activate(p_actor kept.actor, p kept.plans)
RETURNS kept.plans LANGUAGE plpgsql AS $$
DECLARE
    old kept.plans;
    n kept.plans;
BEGIN
    SELECT * INTO old FROM kept.plans WHERE account_id = p.account_id AND status = 'active' FOR UPDATE;
    IF FOUND THEN
        PERFORM kept.plan_supersede(p_actor, old, p.id);
    END IF;
    UPDATE kept.plans SET status = 'active', activated_at = kept.now(), version = version + 1, updated_at = kept.now()
    WHERE id = p.id RETURNING * INTO n;
    UPDATE kept.accounts SET status = 'in_plan', version = version + 1, updated_at = kept.now()
    WHERE id = p.account_id AND status = 'open';
    PERFORM kept.plan_event('plan_activated', n);
    RETURN n;
END $$;

-- The newest open plan of an account (pending first), locked, or NULL.
CREATE OR REPLACE FUNCTION kept.plan_newest_open(p_account_id bigint) RETURNS kept.plans
LANGUAGE sql AS $$
    SELECT * FROM kept.plans WHERE account_id = p_account_id AND status IN ('pending_approval', 'active')
    ORDER BY status = 'pending_approval' DESC, id DESC LIMIT 1 FOR UPDATE;
$$;

-- The id of the newest open plan (pending first), unlocked: what a new plan must name to replace.
CREATE OR REPLACE FUNCTION kept.plan_newest_open_id(p_account_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT id FROM kept.plans WHERE account_id = p_account_id AND status IN ('pending_approval', 'active')
    ORDER BY status = 'pending_approval' DESC, id DESC LIMIT 1;
$$;

CREATE OR REPLACE FUNCTION kept.check_replaces(p_account_id bigint, p_replaces bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cur kept.plans := kept.plan_newest_open(p_account_id);
BEGIN
    IF cur.id IS NOT NULL AND p_replaces IS NULL THEN
        PERFORM kept.fail('conflict', 'plan_exists', 'replaces_plan_id',
                          format('account %s already has plan %s (%s); to renegotiate, send replaces_plan_id: %s',
                                 p_account_id, cur.id, cur.status, cur.id));
    END IF;
    IF p_replaces IS NOT NULL AND p_replaces IS DISTINCT FROM cur.id THEN
        PERFORM kept.fail('conflict', 'plan_changed', 'replaces_plan_id',
                          format('plan %s is not the account''s current plan (%s)', p_replaces,
                                 coalesce(cur.id::text, 'none')));
    END IF;
END $$;

-- Opens a plan on a locked, open account. Every way in (proposal, agent's
-- amount, settlement) comes through here.
DROP FUNCTION IF EXISTS kept.plan_open(bigint, text, text, kept.accounts, text, bigint, bigint, date,
                                       boolean, text[], bigint, boolean, bigint, bigint, bigint);
CREATE OR REPLACE FUNCTION kept.plan_open(p_actor kept.actor,
                                          a kept.accounts, p_origin text, p_weekly bigint, p_total bigint,
                                          p_first_due date, p_in_policy boolean, p_reasons text[],
                                          p_disposable bigint, p_imported boolean, p_proposal_id bigint,
                                          p_offer_id bigint, p_replaces bigint)
RETURNS kept.plans LANGUAGE plpgsql AS $$
DECLARE
    pol kept.policies := kept.policy_for(a.creditor);
    v_zone text := kept.account_time_zone(a);
    v_id bigint := nextval(pg_get_serial_sequence('kept.plans', 'id'));
    pending kept.plans;
    n kept.plans;
BEGIN
    PERFORM kept.check_replaces(a.id, p_replaces);
    SELECT * INTO pending FROM kept.plans WHERE account_id = a.id AND status = 'pending_approval' FOR UPDATE;
    IF FOUND THEN
        -- the newer arrangement replaces the one still waiting for a second associate
        PERFORM kept.plan_supersede(p_actor, pending, v_id);
    END IF;
    INSERT INTO kept.plans (id, account_id, origin, status, weekly_amount_cents, first_due_date,
        installment_count, total_cents, balance_at_start_cents, currency, policy_id, grace_days,
        kept_threshold_percent, breaks_after_misses, in_policy, reasons, weekly_disposable_cents, imported,
        channel, proposal_id, settlement_offer_id, created_by, created_by_user)
    OVERRIDING SYSTEM VALUE
    VALUES (v_id, a.id, p_origin, 'pending_approval', p_weekly, p_first_due,
            ((p_total + p_weekly - 1) / p_weekly)::integer, p_total, a.balance_cents, a.currency, pol.id,
            pol.grace_days, pol.kept_threshold_percent, pol.breaks_after_misses, p_in_policy, p_reasons,
            p_disposable, p_imported,
            -- imported: by the plans API (imported: true) or while history is replayed
            -- the customer's own (kept.channel, set by the self-service page and the reminder call)
            CASE WHEN p_imported OR current_setting('kept.history', true) = 'on' THEN 'import'
                 ELSE coalesce(nullif(current_setting('kept.channel', true), ''), 'agent') END,
            p_proposal_id, p_offer_id, (p_actor).key_id, kept.actor_user((p_actor).key_id))
    RETURNING * INTO n;
    INSERT INTO kept.installments (plan_id, seq, due_date, amount_due_cents, due_end_at, grace_end_at, threshold_cents)
    SELECT n.id, s.seq, s.due_date, s.amount_due_cents, kept.local_day_end(s.due_date, v_zone),
           kept.local_day_end(s.due_date + pol.grace_days, v_zone),
           (s.amount_due_cents * pol.kept_threshold_percent + 99) / 100
    FROM kept.schedule(p_total, p_weekly, p_first_due) s;
    PERFORM kept.audit_write(p_actor, 'plan.created', 'plan', n.id, NULL,
                             kept.plan_json(n)::jsonb - 'installments');
    PERFORM kept.plan_event('plan_created', n);
    IF p_in_policy THEN
        n := kept.plan_activate(p_actor, n);
    END IF;
    RETURN n;
END $$;

-- POST /v1/accounts/{id}/plans: from a proposal ({proposal_id}) or the
-- agent's amount ({weekly_amount_cents, first_due_date}); imported history
-- ({..., imported: true}) is for admins, checked by keptd.
DROP FUNCTION IF EXISTS kept.plan_create(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.plan_create(p_actor kept.actor, p_account_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts := kept.account_lock(p_account_id);
    pr kept.proposals;
    v_imported boolean := coalesce((p->>'imported')::boolean, false);
    v_weekly bigint := (p->>'weekly_amount_cents')::bigint;
    v_first date := (p->>'first_due_date')::date;
    v_disposable bigint := kept.weekly_disposable(p_account_id);
    ev jsonb;
    n kept.plans;
BEGIN
    PERFORM kept.account_require_open(a);
    IF p ? 'proposal_id' THEN
        SELECT * INTO pr FROM kept.proposals WHERE id = (p->>'proposal_id')::bigint;
        IF NOT FOUND OR pr.account_id <> a.id THEN
            PERFORM kept.fail('rule_violation', 'unknown_proposal', 'proposal_id', 'no such proposal on this account');
        END IF;
        IF EXISTS (SELECT 1 FROM kept.plans WHERE proposal_id = pr.id) THEN
            PERFORM kept.fail('conflict', 'proposal_used', 'proposal_id', 'a plan was already made from this proposal');
        END IF;
        v_weekly := pr.weekly_amount_cents;
        v_first := pr.first_due_date;
    END IF;
    PERFORM kept.check_amount(v_weekly, 'weekly_amount_cents');
    PERFORM kept.check_first_due_date(v_first, kept.account_time_zone(a), v_imported);
    IF v_first < a.placed_on THEN
        PERFORM kept.fail('rule_violation', 'plan_before_placed', 'first_due_date',
                          format('the account was placed on %s; a plan cannot fall due before that', a.placed_on));
    END IF;
    ev := kept.evaluate_terms(a.balance_cents, v_weekly, kept.policy_for(a.creditor), v_disposable, a.currency);
    n := kept.plan_open(p_actor, a,
        CASE WHEN pr.id IS NULL THEN 'agent_set' ELSE 'customer_proposed' END,
        v_weekly, a.balance_cents, v_first, (ev->>'in_policy')::boolean,
        ARRAY(SELECT jsonb_array_elements_text(ev->'reasons')), v_disposable, v_imported, pr.id, NULL,
        (p->>'replaces_plan_id')::bigint);
    PERFORM kept.negotiation_contact((p_actor).key_id, a, p, 'plan', n.id);
    n := kept.plan_reminder_consent(p_actor, n, p);
    -- a statement of its own: plan_json (STABLE) must see the installments just written
    RETURN kept.plan_json(n);
END $$;

-- The customer's prior consent, given directly to the agent, to a reminder
-- within the next seven days (12 CFR 1006.14(b)(3)(i)): recorded with the
-- plan ({"reminder_consent": true}), audited; such a reminder is an excluded call.
DROP FUNCTION IF EXISTS kept.plan_reminder_consent(bigint, text, text, kept.plans, jsonb);
CREATE OR REPLACE FUNCTION kept.plan_reminder_consent(p_actor kept.actor, n kept.plans, p jsonb)
RETURNS kept.plans LANGUAGE plpgsql AS $$
BEGIN
    IF NOT coalesce((p->>'reminder_consent')::boolean, false) THEN
        RETURN n;
    END IF;
    UPDATE kept.plans SET reminder_consent_at = kept.now() WHERE id = n.id RETURNING * INTO n;
    RETURN kept.write_end(p_actor, 'plan.reminder_consent', 'plan', n.id, NULL,
                          jsonb_build_object('reminder_consent_at', kept.ts(n.reminder_consent_at)), NULL, NULL, n);
END $$;

-- Locks a plan's account, then the plan: every writer takes an account
-- before its plans and installments, so writers never wait on each other in
-- a circle.
CREATE OR REPLACE FUNCTION kept.plan_lock(p_plan_id bigint) RETURNS kept.plans
LANGUAGE plpgsql AS $$
DECLARE
    p kept.plans;
BEGIN
    p := kept.lock_or_404(NULL::kept.plans, p_plan_id, '',
                          'plan_not_found', 'id', format('no plan with id %s', p_plan_id));
    PERFORM kept.account_lock(p.account_id);
    SELECT * INTO p FROM kept.plans WHERE id = p_plan_id FOR UPDATE;
    RETURN p;
END $$;

-- The second associate agrees: the plan activates at once and the decision
-- goes to the review queue. The second associate is another person: not the
-- user who made the plan, with whichever of their keys. A plan the customer
-- made (no user behind it) needs two associates, two different people: the
-- first approval is recorded and the plan still waits.
DROP FUNCTION IF EXISTS kept.plan_approve(bigint, text, text, bigint, text);
CREATE OR REPLACE FUNCTION kept.plan_approve(p_actor kept.actor, p_plan_id bigint, p_note text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    p kept.plans := kept.plan_lock(p_plan_id);
    a kept.accounts;
    r kept.reviews;
BEGIN
    IF p.status <> 'pending_approval' THEN
        PERFORM kept.fail('conflict', 'plan_not_pending', 'id',
                          format('plan %s is %s; only a plan waiting for approval can be approved', p.id, p.status));
    END IF;
    IF p.created_by_user IS NOT DISTINCT FROM kept.actor_user((p_actor).key_id)
       OR p.created_by IS NOT DISTINCT FROM (p_actor).key_id THEN
        PERFORM kept.fail('forbidden', 'self_approval', 'id',
                          'a second associate must approve: the person who made the plan cannot approve it');
    END IF;
    SELECT * INTO a FROM kept.accounts WHERE id = p.account_id; -- locked by plan_lock
    PERFORM kept.account_require_open(a);
    IF kept.plan_is_customers(p) AND p.first_approved_by IS NULL THEN
        UPDATE kept.plans SET first_approved_by = (p_actor).key_id, first_approved_at = kept.now(),
                              first_approval_note = p_note, version = version + 1, updated_at = kept.now()
        WHERE id = p.id RETURNING * INTO p;
        PERFORM kept.audit_write(p_actor, 'plan.first_approval', 'plan', p.id,
                                 jsonb_build_object('status', 'pending_approval', 'approvals_needed', 2),
                                 jsonb_build_object('status', p.status, 'approvals_needed', 1, 'note', p_note));
        RETURN kept.plan_json(p);
    END IF;
    -- two associates are two people: not the first approver with another of their keys
    IF kept.plan_is_customers(p) AND (p.first_approved_by IS NOT DISTINCT FROM (p_actor).key_id
                                      OR kept.actor_user(p.first_approved_by) IS NOT DISTINCT FROM
                                         kept.actor_user((p_actor).key_id)) THEN
        PERFORM kept.fail('forbidden', 'self_approval', 'id',
                          'two different associates must approve a plan the customer made: you gave the first approval');
    END IF;
    INSERT INTO kept.plan_approvals (plan_id, approved_by, approved_by_user, note)
    VALUES (p.id, (p_actor).key_id, kept.actor_user((p_actor).key_id), p_note);
    p := kept.plan_activate(p_actor, p);
    INSERT INTO kept.reviews (plan_id, reasons) VALUES (p.id, p.reasons) RETURNING * INTO r;
    RETURN kept.write_end(p_actor, 'plan.approved', 'plan', p.id,
                          jsonb_build_object('status', 'pending_approval'),
                          jsonb_build_object('status', p.status, 'note', p_note, 'review_id', r.id), 'plan_approved',
                          kept.plan_payload(p), kept.plan_json(p));
END $$;

DROP FUNCTION IF EXISTS kept.plan_cancel(bigint, text, text, bigint, text);
CREATE OR REPLACE FUNCTION kept.plan_cancel(p_actor kept.actor, p_plan_id bigint, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.plans := kept.plan_lock(p_plan_id);
    p kept.plans;
BEGIN
    IF old.status NOT IN ('active', 'pending_approval') THEN
        PERFORM kept.fail('conflict', 'plan_not_open', 'id', format('plan %s is already %s', old.id, old.status));
    END IF;
    UPDATE kept.plans SET status = 'cancelled', ended_at = kept.now(), cancelled_by = (p_actor).key_id,
                          cancel_reason = p_reason, version = version + 1, updated_at = kept.now()
    WHERE id = old.id RETURNING * INTO p;
    UPDATE kept.installments SET outcome = 'waived' WHERE plan_id = p.id AND outcome = 'scheduled';
    IF old.status = 'active' THEN
        UPDATE kept.accounts SET status = 'open', version = version + 1, updated_at = kept.now()
        WHERE id = p.account_id AND status = 'in_plan';
    END IF;
    RETURN kept.write_end(p_actor, 'plan.cancelled', 'plan', p.id,
                          jsonb_build_object('status', old.status),
                          jsonb_build_object('status', p.status, 'reason', p_reason), 'plan_cancelled',
                          kept.plan_payload(p), kept.plan_json(p));
END $$;

CREATE OR REPLACE FUNCTION kept.plans_of_account(p_account_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM kept.account_must_exist(p_account_id, 'id');
    RETURN (SELECT json_build_object('items', coalesce(json_agg(kept.plan_json(p) ORDER BY p.id), '[]'::json))
            FROM kept.plans p WHERE p.account_id = p_account_id);
END $$;

-- ---- completion ---------------------------------------------------------------------------------------
-- A plan is done when its account's balance reaches zero, or, for a
-- settlement, when its installments are all paid: the account is settled and
-- the rest of the balance written off. Payment allocation and the evaluator
-- call it; the caller holds the account.
CREATE OR REPLACE FUNCTION kept.plan_is_done(p kept.plans, a kept.accounts) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p.origin = 'settlement' THEN
        RETURN NOT EXISTS (SELECT 1 FROM kept.installments
                           WHERE plan_id = p.id AND amount_paid_cents < amount_due_cents);
    END IF;
    RETURN a.balance_cents = 0;
END $$;

DROP FUNCTION IF EXISTS kept.plan_complete(bigint, text, text, bigint);
CREATE OR REPLACE FUNCTION kept.plan_complete(p_actor kept.actor, p_plan_id bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    p kept.plans := kept.plan_lock(p_plan_id);
    old kept.accounts;
    a kept.accounts;
    v_written_off bigint;
BEGIN
    SELECT * INTO old FROM kept.accounts WHERE id = p.account_id;
    IF p.status <> 'active' THEN
        PERFORM kept.fail('conflict', 'plan_not_active', 'id', format('plan %s is %s', p.id, p.status));
    END IF;
    IF NOT kept.plan_is_done(p, old) THEN
        PERFORM kept.fail('rule_violation', 'plan_not_paid', 'id', format('plan %s still has money due', p.id));
    END IF;
    v_written_off := CASE WHEN p.origin = 'settlement' THEN old.balance_cents ELSE 0 END;
    UPDATE kept.plans SET status = 'completed', ended_at = kept.now(), written_off_cents = v_written_off,
                          version = version + 1, updated_at = kept.now()
    WHERE id = p.id RETURNING * INTO p;
    UPDATE kept.installments SET outcome = 'waived' WHERE plan_id = p.id AND outcome = 'scheduled'
                                                     AND amount_paid_cents = 0;
    UPDATE kept.accounts SET status = CASE WHEN p.origin = 'settlement' THEN 'settled' ELSE 'paid' END,
                             balance_cents = balance_cents - v_written_off,
                             version = version + 1, updated_at = kept.now()
    WHERE id = p.account_id RETURNING * INTO a;
    PERFORM kept.audit_write(p_actor, 'plan.completed', 'plan', p.id,
                             jsonb_build_object('status', 'active'), jsonb_build_object('status', p.status));
    PERFORM kept.audit_write(p_actor,
                             CASE WHEN p.origin = 'settlement' THEN 'account.settled' ELSE 'account.paid' END,
                             'account', a.id, kept.account_json(old)::jsonb,
                             kept.account_json(a)::jsonb || jsonb_build_object('written_off_cents', v_written_off));
    PERFORM kept.plan_event('plan_completed', p);
    IF v_written_off > 0 THEN
        PERFORM kept.outbox_write('balance_written_off', 'account', a.id,
                                  jsonb_build_object('plan_id', p.id, 'written_off_cents', v_written_off));
    END IF;
    RETURN kept.plan_json(p);
END $$;
