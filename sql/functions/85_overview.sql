-- The account on one screen (GET /v1/accounts/{id}/overview, kept account):
-- what an agent on a live call needs, in one request.

-- When a queued call may go, in words on the customer's clock: "Wed 2026-12-02 08:00 Europe/London".
CREATE OR REPLACE FUNCTION kept.call_local_words(c kept.calls) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT kept.local_words(c.scheduled_at, cu.time_zone)
    FROM kept.accounts a JOIN kept.customers cu ON cu.id = a.customer_id
    WHERE a.id = c.account_id;
$$;

-- A call in words: what happened, or why it has not (yet).
CREATE OR REPLACE FUNCTION kept.call_in_words(c kept.calls) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN c.state = 'blocked' THEN 'not placed: ' || replace(c.blocked_rule, '_', ' ')
        WHEN c.state = 'queued' AND c.deferred_rule IS NOT NULL
            THEN format('waiting (%s) until %s', replace(c.deferred_rule, '_', ' '), kept.call_local_words(c))
        WHEN c.state = 'queued' THEN 'waiting for ' || kept.call_local_words(c)
        WHEN c.state IN ('dialing', 'placed', 'initiated', 'ringing') THEN 'being placed'
        WHEN c.state = 'in-progress' THEN 'in progress'
        WHEN c.state = 'unknown' THEN 'may have been placed; not dialled again'
        WHEN c.state = 'failed' THEN 'could not be placed'
        WHEN c.state = 'busy' THEN 'busy'
        WHEN c.state = 'no-answer' THEN 'no answer'
        WHEN c.state = 'canceled' THEN 'cancelled'
        WHEN c.answered_by LIKE 'machine%' OR c.answered_by = 'fax' THEN 'a machine answered; a message was left'
        WHEN c.right_party AND c.digits LIKE '1%9%' THEN 'spoke to the customer, who asked for no more automated calls'
        WHEN c.right_party AND c.digits LIKE '1%2%' THEN 'spoke to the customer, who asked for an agent'
        WHEN c.right_party THEN 'spoke to the customer'
        WHEN c.digits LIKE '2%' THEN 'the person who answered is not the customer'
        ELSE 'answered; the customer did not confirm who they are' END;
$$;

CREATE OR REPLACE FUNCTION kept.account_overview(p_account_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a kept.accounts;
    c kept.customers;
    p kept.plans;
    v_today date;
BEGIN
    a := kept.lock_or_404(NULL::kept.accounts, p_account_id, '',
                          'account_not_found', 'id', format('no account with id %s', p_account_id));
    SELECT * INTO c FROM kept.customers WHERE id = a.customer_id;
    SELECT * INTO p FROM kept.plans WHERE account_id = a.id AND status = 'active';
    v_today := kept.local_today(c.time_zone);
    RETURN json_build_object(
        'account', kept.account_json(a),
        'customer', json_build_object(
            'id', c.id, 'external_ref', c.external_ref, 'name', kept.pii_open(c.id, c.name_enc), 'time_zone', c.time_zone,
            'local_today', v_today, 'jurisdiction', c.jurisdiction, 'language', c.language,
            'phones', coalesce((SELECT json_agg(json_build_object('last4', right(kept.pii_open(ph.customer_id, ph.number_enc), 4),
                                                                  'consent_automated', ph.consent_automated)
                                                ORDER BY ph.position)
                                FROM kept.customer_phones ph WHERE ph.customer_id = c.id), '[]'),
            'contact_restrictions', kept.customer_json(c)->'contact_restrictions'),
        'plan', CASE WHEN p.id IS NOT NULL THEN json_build_object(
            'id', p.id, 'origin', p.origin, 'channel', p.channel, 'status', p.status,
            'weekly_amount_cents', p.weekly_amount_cents, 'total_cents', p.total_cents, 'currency', p.currency,
            'installments', p.installment_count,
            'paid_cents', (SELECT sum(i.amount_paid_cents) FROM kept.installments i WHERE i.plan_id = p.id),
            'created_by', p.created_by, 'created_by_user', kept.user_ref(p.created_by_user),
            'next_due', (SELECT json_build_object('seq', i.seq, 'due_date', i.due_date,
                                                  'days_from_today', i.due_date - v_today,
                                                  'amount_due_cents', i.amount_due_cents,
                                                  'amount_paid_cents', i.amount_paid_cents)
                         FROM kept.installments i
                         WHERE i.plan_id = p.id AND i.outcome = 'scheduled' AND i.amount_paid_cents < i.amount_due_cents
                         ORDER BY i.seq LIMIT 1)) END,
        'pending_plan', (SELECT json_build_object('id', x.id, 'weekly_amount_cents', x.weekly_amount_cents,
                                                  'reasons', to_json(x.reasons), 'created_by', x.created_by,
                                                  'created_by_user', kept.user_ref(x.created_by_user))
                         FROM kept.plans x WHERE x.account_id = a.id AND x.status = 'pending_approval'),
        -- judged installments of the active plan that were not paid in full, and what they lack
        'arrears', (SELECT json_build_object('cents', coalesce(sum(i.amount_due_cents - i.amount_paid_cents), 0),
                                             'installments', count(*), 'currency', a.currency)
                    FROM kept.installments i
                    WHERE i.plan_id = p.id AND i.outcome IN ('partial', 'missed')
                      AND i.amount_paid_cents < i.amount_due_cents),
        -- the last five recorded (a late-arriving payment with an old date included)
        'last_payments', coalesce((SELECT json_agg(json_build_object(
                                       'id', x.id, 'amount_cents', x.amount_cents, 'currency', x.currency,
                                       'received_at', kept.ts(x.received_at), 'source', x.source,
                                       'source_ref', x.source_ref, 'status', x.status,
                                       'created_at', kept.ts(x.created_at),
                                       'seconds_since_recorded', floor(extract(epoch FROM kept.now() - x.created_at)))
                                       ORDER BY x.id DESC)
                                   FROM (SELECT * FROM kept.payments WHERE account_id = a.id
                                         ORDER BY id DESC LIMIT 5) x), '[]'),
        'recent_calls', coalesce((SELECT json_agg(json_build_object(
                                      'id', x.id, 'purpose', x.purpose, 'state', x.state,
                                      'at', kept.ts(coalesce(x.dialed_at, x.scheduled_at)),
                                      'what_happened', kept.call_in_words(x))
                                      ORDER BY x.id DESC)
                                  FROM (SELECT * FROM kept.calls WHERE account_id = a.id ORDER BY id DESC LIMIT 5) x),
                                 '[]'),
        'recent_contacts', coalesce((SELECT json_agg(json_build_object(
                                         'id', x.id, 'channel', x.channel, 'direction', x.direction,
                                         'outcome', x.outcome, 'at', kept.ts(x.occurred_at), 'note', x.note)
                                         ORDER BY x.occurred_at DESC, x.id DESC)
                                     FROM (SELECT * FROM kept.contacts WHERE account_id = a.id
                                           ORDER BY occurred_at DESC, id DESC LIMIT 5) x), '[]'),
        'open_escalations', coalesce((SELECT json_agg(json_build_object(
                                          'id', e.id, 'reason', e.reason, 'priority', e.priority, 'team', e.team,
                                          'due_by', kept.ts(e.due_by), 'note', e.note) ORDER BY e.priority, e.due_by)
                                      FROM kept.escalations e WHERE e.account_id = a.id AND e.status = 'open'), '[]'),
        'open_reviews', coalesce((SELECT json_agg(json_build_object('id', r.id, 'plan_id', r.plan_id,
                                                                    'reasons', to_json(r.reasons)) ORDER BY r.id)
                                  FROM kept.reviews r JOIN kept.plans x ON x.id = r.plan_id
                                  WHERE x.account_id = a.id AND r.status = 'open'), '[]'));
END $$;
