-- The operational side of the analytics loader: which facts a batch of
-- outbox events touched, read from the operational tables as rows shaped
-- like analytics' fact tables (as JSON, so that the loader can carry them to
-- another database). See 90_analytics.sql for the other side.

-- Fact rows of plans `p_ids` and their installments.
CREATE OR REPLACE FUNCTION kept.analytics_plan_facts(p_ids bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH p AS (
        SELECT p.*, k.name AS agent_name,
               date_trunc('week', p.first_due_date)::date AS start_week
        FROM kept.plans p LEFT JOIN kept.api_keys k ON k.id = p.created_by
        WHERE p.id = ANY (p_ids)
    ), i AS (
        SELECT i.*, p.account_id, p.created_by, p.origin, p.currency, p.start_week,
               (i.due_date - p.first_due_date) / 7 + 1 AS weeks_since_start,
               rem.purposes,
               CASE WHEN i.outcome = 'kept_late' THEN (
                   SELECT min(x.day) - i.due_date FROM (
                       SELECT (pay.received_at AT TIME ZONE cu.time_zone)::date AS day,
                              sum(al.amount_cents) OVER (ORDER BY pay.received_at, pay.id) AS running
                       FROM kept.allocations al JOIN kept.payments pay ON pay.id = al.payment_id
                       JOIN kept.accounts a ON a.id = pay.account_id JOIN kept.customers cu ON cu.id = a.customer_id
                       WHERE al.plan_id = i.plan_id AND al.seq = i.seq AND pay.status = 'posted') x
                   WHERE x.running >= i.threshold_cents) END AS days_late
        FROM kept.installments i JOIN p ON p.id = i.plan_id
        LEFT JOIN LATERAL (
            SELECT array_agg(DISTINCT c.purpose ORDER BY c.purpose) AS purposes FROM kept.calls c
            WHERE c.plan_id = i.plan_id AND c.seq = i.seq AND c.provider_sid IS NOT NULL) rem ON true
    ), totals AS (
        SELECT i.plan_id,
               count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')) AS judged,
               count(*) FILTER (WHERE i.outcome = 'kept') AS kept,
               count(*) FILTER (WHERE i.outcome = 'kept_late') AS kept_late,
               count(*) FILTER (WHERE i.outcome = 'partial') AS partial,
               count(*) FILTER (WHERE i.outcome = 'missed') AS missed,
               coalesce(sum(i.amount_due_cents) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0)
                   AS due_judged,
               sum(i.amount_paid_cents) AS collected,
               coalesce(sum(i.amount_paid_cents) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0)
                   AS collected_judged
        FROM i GROUP BY i.plan_id
    )
    SELECT jsonb_build_object(
        'plans', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'plan_id', p.id, 'account_id', p.account_id, 'agent_key_id', p.created_by, 'agent_name', p.agent_name,
            'origin', p.origin, 'status', p.status, 'currency', p.currency,
            'weekly_amount_cents', p.weekly_amount_cents, 'balance_at_start_cents', p.balance_at_start_cents,
            'weekly_share', round(p.weekly_amount_cents::numeric / nullif(p.balance_at_start_cents, 0), 6),
            'weeks', p.installment_count, 'start_date', p.first_due_date, 'start_week', p.start_week,
            'installments_judged', coalesce(t.judged, 0), 'kept', coalesce(t.kept, 0),
            'kept_late', coalesce(t.kept_late, 0), 'partial', coalesce(t.partial, 0), 'missed', coalesce(t.missed, 0),
            'due_judged_cents', coalesce(t.due_judged, 0), 'collected_cents', coalesce(t.collected, 0),
            'created_at', p.created_at, 'ended_at', p.ended_at,
            'collected_judged_cents', coalesce(t.collected_judged, 0)))
            FROM p LEFT JOIN totals t ON t.plan_id = p.id), '[]'::jsonb),
        'installments', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'plan_id', i.plan_id, 'seq', i.seq, 'account_id', i.account_id, 'agent_key_id', i.created_by,
            'origin', i.origin, 'currency', i.currency, 'due_date', i.due_date,
            'due_week', date_trunc('week', i.due_date)::date, 'plan_start_week', i.start_week,
            'weeks_since_start', i.weeks_since_start, 'amount_due_cents', i.amount_due_cents,
            'amount_paid_cents', i.amount_paid_cents, 'paid_by_due_cents', i.paid_by_due_cents,
            'paid_by_grace_cents', i.paid_by_grace_cents, 'outcome', i.outcome, 'days_late', i.days_late,
            'reminded', i.purposes IS NOT NULL, 'reminder_purposes', coalesce(i.purposes, '{}')))
            FROM i), '[]'::jsonb));
$$;

CREATE OR REPLACE FUNCTION kept.analytics_call_facts(p_ids bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'call_id', c.id, 'account_id', c.account_id, 'plan_id', c.plan_id, 'seq', c.seq, 'purpose', c.purpose,
        'state', c.state, 'blocked_rule', c.blocked_rule, 'deferred_rule', c.deferred_rule,
        'placed', c.provider_sid IS NOT NULL,
        'scheduled_date', (c.scheduled_at AT TIME ZONE cu.time_zone)::date,
        'call_date', (coalesce(c.dialed_at, c.updated_at) AT TIME ZONE cu.time_zone)::date,
        'answered_by', c.answered_by, 'right_party', c.right_party, 'conversation', c.conversation_at IS NOT NULL,
        'digits', c.digits)), '[]'::jsonb)
    FROM kept.calls c JOIN kept.customers cu ON cu.id = c.customer_id
    WHERE c.id = ANY (p_ids);
$$;

CREATE OR REPLACE FUNCTION kept.analytics_payment_facts(p_ids bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'payment_id', p.id, 'account_id', p.account_id, 'plan_id', p.plan_id, 'amount_cents', p.amount_cents,
        'currency', p.currency, 'received_date', (p.received_at AT TIME ZONE cu.time_zone)::date,
        'source', p.source, 'status', p.status)), '[]'::jsonb)
    FROM kept.payments p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers cu ON cu.id = a.customer_id
    WHERE p.id = ANY (p_ids);
$$;

-- The next batch after (p_after_tx, p_after_id): up to p_limit events in
-- (tx_id, id) order from transactions that have ended (below the snapshot's
-- xmin nothing can still commit), and the facts they touched. NULL when
-- there is nothing new.
CREATE OR REPLACE FUNCTION kept.analytics_extract(p_after_tx xid8, p_after_id bigint, p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_events integer;
    v_to_tx xid8;
    v_to_id bigint;
    v_last_at timestamptz;
    v_plans bigint[];
    v_calls bigint[];
    v_payments bigint[];
    v_facts jsonb;
BEGIN
    WITH ev AS (
        SELECT e.* FROM kept.outbox_events e
        WHERE (e.tx_id, e.id) > (p_after_tx, p_after_id) AND e.tx_id < v_horizon
        ORDER BY e.tx_id, e.id LIMIT p_limit
    ), last AS (
        SELECT tx_id, id FROM ev ORDER BY tx_id DESC, id DESC LIMIT 1
    ), imported AS (
        SELECT p.id, p.plan_id FROM kept.payments p
        WHERE p.import_id IN (SELECT aggregate_id FROM ev WHERE aggregate_type = 'payment_import')
    )
    SELECT (SELECT count(*) FROM ev), (SELECT tx_id FROM last), (SELECT id FROM last),
           (SELECT max(occurred_at) FROM ev),
           ARRAY(SELECT DISTINCT x FROM (
               SELECT aggregate_id AS x FROM ev WHERE aggregate_type = 'plan'
               UNION ALL SELECT (payload->>'plan_id')::bigint FROM ev WHERE payload ? 'plan_id'
               UNION ALL SELECT p.plan_id FROM kept.payments p
                         WHERE p.id IN (SELECT aggregate_id FROM ev WHERE aggregate_type = 'payment')
               UNION ALL SELECT plan_id FROM imported
               UNION ALL SELECT c.plan_id FROM kept.calls c
                         WHERE c.id IN (SELECT aggregate_id FROM ev WHERE aggregate_type = 'call')) t
                 WHERE x IS NOT NULL),
           ARRAY(SELECT aggregate_id FROM ev WHERE aggregate_type = 'call'),
           ARRAY(SELECT aggregate_id FROM ev WHERE aggregate_type = 'payment' UNION SELECT id FROM imported)
    INTO v_events, v_to_tx, v_to_id, v_last_at, v_plans, v_calls, v_payments;
    IF v_events = 0 THEN
        RETURN NULL;
    END IF;
    v_facts := kept.analytics_plan_facts(v_plans);
    RETURN v_facts || jsonb_build_object(
        'from_tx', p_after_tx::text, 'from_id', p_after_id, 'to_tx', v_to_tx::text, 'to_id', v_to_id,
        'events', v_events, 'last_event_at', v_last_at,
        'calls', kept.analytics_call_facts(v_calls), 'payments', kept.analytics_payment_facts(v_payments));
END $$;

-- A rebuild's page: every plan after p_after_plan (up to p_limit), the calls
-- and payments of their accounts, as one batch that leaves the cursor where
-- it is (from = to). NULL after the last plan.
CREATE OR REPLACE FUNCTION kept.analytics_snapshot(p_at_tx xid8, p_at_id bigint, p_after_plan bigint,
                                                   p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_plans bigint[];
BEGIN
    v_plans := ARRAY(SELECT id FROM kept.plans WHERE id > p_after_plan ORDER BY id LIMIT p_limit);
    IF cardinality(v_plans) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN kept.analytics_plan_facts(v_plans) || jsonb_build_object(
        'from_tx', p_at_tx::text, 'from_id', p_at_id, 'to_tx', p_at_tx::text, 'to_id', p_at_id, 'events', 0,
        'last_plan', v_plans[cardinality(v_plans)], 'refresh', false,
        'calls', kept.analytics_call_facts(ARRAY(SELECT id FROM kept.calls WHERE plan_id = ANY (v_plans))),
        'payments', kept.analytics_payment_facts(ARRAY(
            SELECT p.id FROM kept.payments p WHERE p.account_id IN (
                SELECT account_id FROM kept.plans WHERE id = ANY (v_plans)))));
END $$;

-- The last event of a transaction that has ended: where a rebuild leaves the
-- loader's cursor (events after it are loaded as usual).
CREATE OR REPLACE FUNCTION kept.analytics_position(OUT tx_id text, OUT event_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(e.tx_id), '0'::xid8)::text,
           coalesce((SELECT max(x.id) FROM kept.outbox_events x WHERE x.tx_id = max(e.tx_id)), 0)
    FROM kept.outbox_events e WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot());
$$;

-- The loader's lag: events not yet loaded and the age of the oldest of them.
CREATE OR REPLACE FUNCTION kept.analytics_lag(p_after_tx xid8, p_after_id bigint, OUT events bigint,
                                              OUT seconds double precision)
LANGUAGE sql STABLE AS $$
    SELECT count(*), coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::double precision
    FROM kept.outbox_events e WHERE (e.tx_id, e.id) > (p_after_tx, p_after_id);
$$;
