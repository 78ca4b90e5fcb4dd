-- Settlement offers: "What do you think would be fair?" The customer names a
-- figure, kept records it beside the policy floor and the counter; an accepted
-- offer becomes a plan with origin settlement (kept.plan_open, 61_plans.sql).

CREATE OR REPLACE FUNCTION kept.settlement_json(o kept.settlement_offers, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', o.id, 'account_id', o.account_id, 'offer_cents', o.offer_cents, 'currency', p_currency,
        'balance_cents', o.balance_cents, 'min_settlement_percent', o.min_settlement_percent,
        'floor_cents', o.floor_cents, 'within_policy', o.offer_cents >= o.floor_cents,
        'counter_cents', o.counter_cents, 'status', o.status, 'offered_by', o.offered_by,
        'offered_by_user', kept.key_user_ref(o.offered_by), 'note', o.note,
        'accepted_cents', o.accepted_cents, 'accepted_at', kept.ts(o.accepted_at),
        'plan_id', (SELECT id FROM kept.plans WHERE settlement_offer_id = o.id),
        'created_at', kept.ts(o.created_at));
$$;

-- "What do you think would be fair?" — the customer's figure beside the
-- policy floor; below the floor, a counter that splits the difference
-- (rounded up to the cent, in the creditor's favour).
DROP FUNCTION IF EXISTS kept.settlement_offer_create(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.settlement_offer_create(p_actor kept.actor, p_account_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts := kept.account_lock(p_account_id);
    pol kept.policies := kept.policy_for(a.creditor);
    v_offer bigint := (p->>'offer_cents')::bigint;
    v_floor bigint;
    o kept.settlement_offers;
BEGIN
    PERFORM kept.account_require_open(a);
    PERFORM kept.check_amount(v_offer, 'offer_cents');
    IF v_offer > a.balance_cents THEN
        PERFORM kept.fail('rule_violation', 'offer_above_balance', 'offer_cents',
                          format('the offer is more than the balance (%s)', kept.money_text(a.balance_cents, a.currency)));
    END IF;
    v_floor := (a.balance_cents * pol.min_settlement_percent + 99) / 100;
    INSERT INTO kept.settlement_offers (account_id, offer_cents, balance_cents, min_settlement_percent,
                                        floor_cents, counter_cents, offered_by, note)
    VALUES (a.id, v_offer, a.balance_cents, pol.min_settlement_percent, v_floor,
            CASE WHEN v_offer < v_floor THEN v_offer + (v_floor - v_offer + 1) / 2 END,
            (p_actor).key_id, p->>'note')
    RETURNING * INTO o;
    PERFORM kept.audit_write(p_actor, 'settlement.offered', 'settlement_offer',
                             o.id, NULL, kept.settlement_json(o, a.currency)::jsonb);
    PERFORM kept.outbox_write('settlement_offered', 'settlement_offer', o.id,
                              jsonb_build_object('account_id', a.id, 'offer_cents', o.offer_cents,
                                                 'floor_cents', o.floor_cents, 'counter_cents', o.counter_cents));
    PERFORM kept.negotiation_contact((p_actor).key_id, a, p, 'settlement_offer', o.id);
    RETURN kept.settlement_json(o, a.currency);
END $$;

-- The agreed figure (default: the counter when there is one, else the
-- customer's offer) becomes a plan with origin settlement: one payment, or up
-- to 12 weekly ones. Below the floor, or weekly installments above the
-- customer's assessed weekly disposable income, it needs a second associate.
DROP FUNCTION IF EXISTS kept.settlement_accept(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.settlement_accept(p_actor kept.actor, p_offer_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    o kept.settlement_offers;
    a kept.accounts;
    v_amount bigint;
    v_count integer := coalesce((p->>'installments')::integer, 1);
    v_first date := (p->>'first_due_date')::date;
    v_weekly bigint;
    v_disposable bigint;
    v_reasons text[] := '{}';
    n kept.plans;
BEGIN
    o := kept.lock_or_404(NULL::kept.settlement_offers, p_offer_id, 'FOR UPDATE',
                          'settlement_offer_not_found', 'id', format('no settlement offer with id %s', p_offer_id));
    IF o.status <> 'open' THEN
        PERFORM kept.fail('conflict', 'offer_closed', 'id', format('settlement offer %s is %s', o.id, o.status));
    END IF;
    a := kept.account_lock(o.account_id);
    PERFORM kept.account_require_open(a);
    v_amount := coalesce((p->>'amount_cents')::bigint, o.counter_cents, o.offer_cents);
    PERFORM kept.check_amount(v_amount, 'amount_cents');
    IF v_amount > a.balance_cents THEN
        PERFORM kept.fail('rule_violation', 'amount_above_balance', 'amount_cents', 'a settlement cannot exceed the balance');
    END IF;
    IF v_count NOT BETWEEN 1 AND 12 THEN
        PERFORM kept.fail('rule_violation', 'too_many_installments', 'installments',
                          'a settlement is one payment or a short plan of at most 12 weeks');
    END IF;
    PERFORM kept.check_first_due_date(v_first, kept.account_time_zone(a), false);
    v_weekly := (v_amount + v_count - 1) / v_count;
    v_disposable := kept.weekly_disposable(a.id);
    IF v_amount < o.floor_cents THEN
        v_reasons := array_append(v_reasons, 'below_settlement_floor');
    END IF;
    IF v_disposable IS NOT NULL AND v_weekly > v_disposable THEN
        v_reasons := array_append(v_reasons, 'above_affordability');
    END IF;
    n := kept.plan_open(p_actor, a, 'settlement', v_weekly, v_amount, v_first,
                        cardinality(v_reasons) = 0, v_reasons, v_disposable, false, NULL, o.id,
                        (p->>'replaces_plan_id')::bigint);
    UPDATE kept.settlement_offers SET status = 'accepted', accepted_cents = v_amount, accepted_at = kept.now()
    WHERE id = o.id RETURNING * INTO o;
    UPDATE kept.settlement_offers SET status = 'withdrawn' WHERE account_id = a.id AND status = 'open';
    PERFORM kept.audit_write(p_actor, 'settlement.accepted', 'settlement_offer',
                             o.id, NULL, kept.settlement_json(o, a.currency)::jsonb);
    PERFORM kept.outbox_write('settlement_accepted', 'settlement_offer', o.id,
                              jsonb_build_object('account_id', a.id, 'accepted_cents', v_amount, 'plan_id', n.id));
    PERFORM kept.negotiation_contact((p_actor).key_id, a, p, 'settlement', o.id);
    n := kept.plan_reminder_consent(p_actor, n, p);
    RETURN kept.plan_json(n);
END $$;

