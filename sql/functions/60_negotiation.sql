-- Negotiation: policy, affordability, proposals, the evaluation of terms and
-- the schedule they imply. Plans and approvals are in 61_plans.sql, reviews
-- in 62_reviews.sql, settlements in 63_settlements.sql. Every write audits
-- and writes its outbox events in the caller's transaction.

-- ---- shared helpers -------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.outbox_write(p_event_type text, p_aggregate_type text,
                                             p_aggregate_id bigint, p_payload jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
    VALUES (p_event_type, p_aggregate_type, p_aggregate_id, p_payload);
END $$;

-- The policy for a creditor: its own row, else the default.
CREATE OR REPLACE FUNCTION kept.policy_for(p_creditor text) RETURNS kept.policies
LANGUAGE sql STABLE AS $$
    SELECT * FROM kept.policies
    WHERE creditor = p_creditor OR creditor IS NULL
    ORDER BY creditor IS NULL
    LIMIT 1;
$$;

-- Today on the customer's calendar.
CREATE OR REPLACE FUNCTION kept.local_today(p_zone text) RETURNS date
LANGUAGE sql STABLE
RETURN (kept.now() AT TIME ZONE p_zone)::date;

-- The next business day (Monday to Friday) after `d`.
CREATE OR REPLACE FUNCTION kept.next_business_day(d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT min(x)::date FROM generate_series(d + 1, d + 7, interval '1 day') x WHERE extract(isodow FROM x) < 6;
$$;

-- The account, locked against concurrent plans and payments, or 404.
CREATE OR REPLACE FUNCTION kept.account_lock(p_account_id bigint) RETURNS kept.accounts
LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, 'FOR NO KEY UPDATE',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    RETURN a;
END $$;

-- Refuses accounts with nothing left to negotiate.
CREATE OR REPLACE FUNCTION kept.account_require_open(a kept.accounts) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF a.status IN ('paid', 'settled', 'closed') OR a.balance_cents = 0 THEN
        PERFORM kept.fail('rule_violation', 'account_not_open', 'account_id',
                          format('account %s is %s; there is nothing to arrange', a.id,
                                 CASE WHEN a.balance_cents = 0 THEN 'paid' ELSE a.status END));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION kept.account_time_zone(a kept.accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT time_zone FROM kept.customers WHERE id = a.customer_id;
$$;

-- A first due date must be on the customer's calendar from today to 60 days
-- out; an imported plan (history from another system) may have started up to
-- five years ago.
CREATE OR REPLACE FUNCTION kept.check_first_due_date(p_date date, p_zone text, p_imported boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_today date := kept.local_today(p_zone);
BEGIN
    IF p_date > v_today + 60 THEN
        PERFORM kept.fail('rule_violation', 'first_due_date_too_far', 'first_due_date',
                          format('the first payment must fall within 60 days (by %s)', v_today + 60));
    END IF;
    IF NOT p_imported AND p_date < v_today THEN
        PERFORM kept.fail('rule_violation', 'first_due_date_in_past', 'first_due_date',
                          format('the first payment cannot be before today (%s, %s)', v_today, p_zone));
    END IF;
    IF p_imported AND p_date < v_today - interval '5 years' THEN
        PERFORM kept.fail('rule_violation', 'first_due_date_too_old', 'first_due_date',
                          'an imported plan may have started at most five years ago');
    END IF;
END $$;

CREATE OR REPLACE FUNCTION kept.check_amount(p_cents bigint, p_field text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_cents IS NULL OR p_cents <= 0 THEN
        PERFORM kept.fail('invalid', 'invalid_amount', p_field, p_field || ' must be a positive number of cents');
    END IF;
END $$;

-- ---- terms and schedule --------------------------------------------------------------------

-- The latest assessment made by kept's clock (a replayed history does not see
-- an assessment recorded after the moment it replays).
CREATE OR REPLACE FUNCTION kept.weekly_disposable(p_account_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT weekly_disposable_cents FROM kept.affordability_assessments
    WHERE account_id = p_account_id AND created_at <= kept.now() ORDER BY id DESC LIMIT 1;
$$;

-- kept's judgement of paying p_total at p_weekly a week under a policy:
-- {policy_id, max_weeks, policy_minimum_weekly_cents, weeks_to_clear,
--  weekly_disposable_cents, in_policy, reasons}. More than 520 weeks is refused.
DROP FUNCTION IF EXISTS kept.evaluate_terms(bigint, bigint, kept.policies, bigint);
CREATE OR REPLACE FUNCTION kept.evaluate_terms(p_total bigint, p_weekly bigint, p_policy kept.policies,
                                               p_disposable bigint, p_currency text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_minimum bigint := (p_total + p_policy.max_weeks - 1) / p_policy.max_weeks;
    v_weeks bigint := (p_total + p_weekly - 1) / p_weekly;
    v_reasons text[] := '{}';
BEGIN
    IF v_weeks > 520 THEN
        PERFORM kept.fail('rule_violation', 'plan_too_long', 'weekly_amount_cents',
                          format('%s a week takes %s weeks; kept arranges at most 520',
                                 kept.money_text(p_weekly, p_currency), v_weeks));
    END IF;
    IF p_weekly < v_minimum THEN
        v_reasons := array_append(v_reasons, 'below_policy_minimum');
    END IF;
    IF v_weeks > p_policy.max_weeks THEN
        v_reasons := array_append(v_reasons, 'longer_than_max_weeks');
    END IF;
    IF p_disposable IS NOT NULL AND p_weekly > p_disposable THEN
        v_reasons := array_append(v_reasons, 'above_affordability');
    END IF;
    RETURN jsonb_build_object(
        'policy_id', p_policy.id, 'max_weeks', p_policy.max_weeks,
        'policy_minimum_weekly_cents', v_minimum, 'weeks_to_clear', v_weeks,
        'weekly_disposable_cents', p_disposable,
        'in_policy', cardinality(v_reasons) = 0, 'reasons', to_jsonb(v_reasons));
END $$;

-- Weekly installments on the local calendar from p_first_due: every one is
-- p_weekly except the last, which carries the remainder, so they sum to
-- p_total exactly.
CREATE OR REPLACE FUNCTION kept.schedule(p_total bigint, p_weekly bigint, p_first_due date)
RETURNS TABLE (seq integer, due_date date, amount_due_cents bigint)
LANGUAGE sql IMMUTABLE AS $$
    WITH n AS (SELECT ((p_total + p_weekly - 1) / p_weekly)::integer AS count)
    SELECT k, p_first_due + 7 * (k - 1),
           CASE WHEN k < n.count THEN p_weekly ELSE p_total - p_weekly * (n.count - 1) END
    FROM n, generate_series(1, n.count) AS k;
$$;

CREATE OR REPLACE FUNCTION kept.schedule_json(p_total bigint, p_weekly bigint, p_first_due date)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_agg(jsonb_build_object('seq', s.seq, 'due_date', s.due_date,
                                        'amount_due_cents', s.amount_due_cents) ORDER BY s.seq)
    FROM kept.schedule(p_total, p_weekly, p_first_due) s;
$$;

-- ---- policies ----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.policy_json(p kept.policies) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id, 'creditor', p.creditor, 'max_weeks', p.max_weeks, 'grace_days', p.grace_days,
        'kept_threshold_percent', p.kept_threshold_percent, 'breaks_after_misses', p.breaks_after_misses,
        'min_settlement_percent', p.min_settlement_percent, 'reminder_lead_days', p.reminder_lead_days,
        'min_call_gap_minutes', p.min_call_gap_minutes, 'failed_calls_before_triage', p.failed_calls_before_triage,
        'version', p.version, 'created_at', kept.ts(p.created_at), 'updated_at', kept.ts(p.updated_at));
$$;

CREATE OR REPLACE FUNCTION kept.policy_list() RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('items', coalesce(json_agg(kept.policy_json(p) ORDER BY p.creditor NULLS FIRST, p.id),
                                               '[]'::json))
    FROM kept.policies p;
$$;

-- A new per-creditor policy; settings left out take the default policy's.
DROP FUNCTION IF EXISTS kept.policy_create(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.policy_create(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    d kept.policies := kept.policy_for(NULL);
    n kept.policies;
BEGIN
    IF EXISTS (SELECT 1 FROM kept.policies WHERE creditor = p->>'creditor') THEN
        PERFORM kept.fail('conflict', 'duplicate_policy', 'creditor', 'that creditor already has a policy');
    END IF;
    INSERT INTO kept.policies (creditor, max_weeks, grace_days, kept_threshold_percent, breaks_after_misses,
                               min_settlement_percent, reminder_lead_days, min_call_gap_minutes,
                               failed_calls_before_triage)
    VALUES (p->>'creditor',
            coalesce((p->>'max_weeks')::integer, d.max_weeks),
            coalesce((p->>'grace_days')::integer, d.grace_days),
            coalesce((p->>'kept_threshold_percent')::integer, d.kept_threshold_percent),
            coalesce((p->>'breaks_after_misses')::integer, d.breaks_after_misses),
            coalesce((p->>'min_settlement_percent')::integer, d.min_settlement_percent),
            coalesce((p->>'reminder_lead_days')::integer, d.reminder_lead_days),
            coalesce((p->>'min_call_gap_minutes')::integer, d.min_call_gap_minutes),
            coalesce((p->>'failed_calls_before_triage')::integer, d.failed_calls_before_triage))
    RETURNING * INTO n;
    RETURN kept.write_end(p_actor, 'policy.created', 'policy', n.id, NULL,
                          kept.policy_json(n)::jsonb, NULL, NULL, kept.policy_json(n));
END $$;

-- Replaces a policy's settings (all of them; the creditor stays). Applies to
-- plans made from now on.
DROP FUNCTION IF EXISTS kept.policy_replace(bigint, text, text, bigint, integer, jsonb);
CREATE OR REPLACE FUNCTION kept.policy_replace(p_actor kept.actor, p_id bigint, p_expected_version integer, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.policies;
    n kept.policies;
BEGIN
    old := kept.lock_or_404(NULL::kept.policies, p_id, 'FOR UPDATE',
                            'policy_not_found', 'id', format('no policy with id %s', p_id));
    PERFORM kept.check_version('policy', old.version, p_expected_version);
    UPDATE kept.policies SET
        max_weeks = (p->>'max_weeks')::integer,
        grace_days = (p->>'grace_days')::integer,
        kept_threshold_percent = (p->>'kept_threshold_percent')::integer,
        breaks_after_misses = (p->>'breaks_after_misses')::integer,
        min_settlement_percent = (p->>'min_settlement_percent')::integer,
        reminder_lead_days = (p->>'reminder_lead_days')::integer,
        min_call_gap_minutes = coalesce((p->>'min_call_gap_minutes')::integer, min_call_gap_minutes),
        failed_calls_before_triage = coalesce((p->>'failed_calls_before_triage')::integer, failed_calls_before_triage),
        version = version + 1, updated_at = kept.now()
    WHERE id = p_id RETURNING * INTO n;
    RETURN kept.write_end(p_actor, 'policy.updated', 'policy', n.id,
                          kept.policy_json(old)::jsonb, kept.policy_json(n)::jsonb, NULL, NULL, kept.policy_json(n));
END $$;

-- ---- affordability ------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.affordability_json(a kept.affordability_assessments) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', a.id, 'account_id', a.account_id, 'income', a.income, 'fixed_costs', a.fixed_costs,
        'flexible_costs', a.flexible_costs, 'monthly_income_cents', a.monthly_income_cents,
        'monthly_expenditure_cents', a.monthly_expenditure_cents,
        'monthly_disposable_cents', a.monthly_disposable_cents,
        'weekly_disposable_cents', a.weekly_disposable_cents, 'assessed_by', a.assessed_by,
        'assessed_by_user', kept.key_user_ref(a.assessed_by),
        'created_at', kept.ts(a.created_at));
$$;

-- The Standard Financial Statement's categories, per section.
CREATE OR REPLACE FUNCTION kept.sfs_categories(p_section text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_section
        WHEN 'income' THEN ARRAY['earnings', 'benefits', 'pensions', 'other_income']
        WHEN 'fixed_costs' THEN ARRAY['home_and_contents', 'utilities', 'care_and_health',
             'transport_and_travel', 'school_costs', 'pensions_and_insurances', 'professional_costs',
             'other_essential_costs']
        WHEN 'flexible_costs' THEN ARRAY['communications_and_leisure', 'food_and_housekeeping',
             'personal_costs', 'savings_contributions']
    END;
$$;

-- Checks one section's lines; returns their monthly total.
CREATE OR REPLACE FUNCTION kept.sfs_section_total(p jsonb, p_section text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_line jsonb;
    v_n integer := 0;
    v_total bigint := 0;
BEGIN
    FOR v_line IN SELECT * FROM jsonb_array_elements(coalesce(p->p_section, '[]')) LOOP
        IF NOT (v_line->>'category') = ANY (kept.sfs_categories(p_section)) THEN
            PERFORM kept.fail('invalid', 'invalid_category', format('%s[%s].category', p_section, v_n),
                              format('%s categories are %s', p_section,
                                     array_to_string(kept.sfs_categories(p_section), ', ')));
        END IF;
        IF (v_line->>'monthly_cents')::bigint < 0 THEN
            PERFORM kept.fail('invalid', 'invalid_amount', format('%s[%s].monthly_cents', p_section, v_n),
                              'monthly_cents must not be negative');
        END IF;
        v_total := v_total + (v_line->>'monthly_cents')::bigint;
        v_n := v_n + 1;
    END LOOP;
    RETURN v_total;
END $$;

DROP FUNCTION IF EXISTS kept.affordability_record(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.affordability_record(p_actor kept.actor, p_account_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
    r kept.affordability_assessments;
    v_income bigint := kept.sfs_section_total(p, 'income');
    v_costs bigint := kept.sfs_section_total(p, 'fixed_costs') + kept.sfs_section_total(p, 'flexible_costs');
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, '',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    INSERT INTO kept.affordability_assessments (account_id, income, fixed_costs, flexible_costs,
        monthly_income_cents, monthly_expenditure_cents, monthly_disposable_cents, weekly_disposable_cents,
        assessed_by)
    VALUES (a.id, coalesce(p->'income', '[]'), coalesce(p->'fixed_costs', '[]'),
            coalesce(p->'flexible_costs', '[]'), v_income, v_costs, v_income - v_costs,
            -- monthly x 12 / 52, rounded down (towards minus infinity) to the cent
            floor((v_income - v_costs) * 12 / 52.0)::bigint, (p_actor).key_id)
    RETURNING * INTO r;
    RETURN kept.write_end(p_actor, 'affordability.assessed', 'account', a.id, NULL,
                          kept.affordability_json(r)::jsonb, 'affordability_assessed',
                          jsonb_build_object('assessment_id', r.id,
                                             'weekly_disposable_cents', r.weekly_disposable_cents),
                          kept.affordability_json(r));
END $$;

CREATE OR REPLACE FUNCTION kept.affordability_latest(p_account_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT kept.affordability_json(a) FROM kept.affordability_assessments a
    WHERE a.account_id = p_account_id ORDER BY a.id DESC LIMIT 1;
$$;

-- ---- proposals -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.proposal_json(p kept.proposals, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id, 'account_id', p.account_id, 'weekly_amount_cents', p.weekly_amount_cents,
        'first_due_date', p.first_due_date, 'asked_by', p.asked_by, 'asked_by_user', kept.key_user_ref(p.asked_by),
        'note', p.note,
        'created_at', kept.ts(p.created_at),
        'evaluation', json_build_object(
            'balance_cents', p.balance_cents, 'currency', p_currency, 'policy_id', p.policy_id,
            'max_weeks', p.max_weeks, 'policy_minimum_weekly_cents', p.policy_minimum_weekly_cents,
            'weeks_to_clear', p.weeks_to_clear, 'weekly_disposable_cents', p.weekly_disposable_cents,
            'in_policy', p.in_policy, 'reasons', to_json(p.reasons)),
        'schedule', kept.schedule_json(p.balance_cents, p.weekly_amount_cents, p.first_due_date));
$$;

-- "How much can you afford each week?" — records the answer with who asked,
-- and answers kept's evaluation and the schedule it implies.
DROP FUNCTION IF EXISTS kept.proposal_create(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.proposal_create(p_actor kept.actor, p_account_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
    pol kept.policies;
    ev jsonb;
    r kept.proposals;
    v_weekly bigint := (p->>'weekly_amount_cents')::bigint;
    v_first date := (p->>'first_due_date')::date;
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, '',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    PERFORM kept.account_require_open(a);
    PERFORM kept.check_amount(v_weekly, 'weekly_amount_cents');
    PERFORM kept.check_first_due_date(v_first, kept.account_time_zone(a), false);
    pol := kept.policy_for(a.creditor);
    ev := kept.evaluate_terms(a.balance_cents, v_weekly, pol, kept.weekly_disposable(a.id), a.currency);
    INSERT INTO kept.proposals (account_id, weekly_amount_cents, first_due_date, asked_by, note,
        balance_cents, policy_id, max_weeks, policy_minimum_weekly_cents, weeks_to_clear,
        weekly_disposable_cents, in_policy, reasons)
    VALUES (a.id, v_weekly, v_first, (p_actor).key_id, p->>'note', a.balance_cents, pol.id, pol.max_weeks,
            (ev->>'policy_minimum_weekly_cents')::bigint, (ev->>'weeks_to_clear')::integer,
            (ev->>'weekly_disposable_cents')::bigint, (ev->>'in_policy')::boolean,
            ARRAY(SELECT jsonb_array_elements_text(ev->'reasons')))
    RETURNING * INTO r;
    PERFORM kept.audit_write(p_actor, 'proposal.recorded', 'proposal', r.id,
                             NULL, to_jsonb(r));
    PERFORM kept.outbox_write('proposal_recorded', 'proposal', r.id,
                              jsonb_build_object('account_id', a.id, 'weekly_amount_cents', v_weekly,
                                                 'in_policy', r.in_policy, 'reasons', to_jsonb(r.reasons)));
    PERFORM kept.negotiation_contact((p_actor).key_id, a, p, 'proposal', r.id);
    RETURN kept.proposal_json(r, a.currency);
END $$;
