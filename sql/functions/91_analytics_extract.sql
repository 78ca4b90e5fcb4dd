-- The operational side of the analytics loader: which facts a batch of
-- outbox events touched, read from the operational tables as rows shaped
-- like analytics' fact tables (as JSON, so that the loader can carry them to
-- another database). See 90_analytics.sql for the other side.

-- Fact rows of plans `p_ids` and their installments, as JSON arrays whose
-- objects have the fact tables' column names (json_agg over rows: far
-- cheaper than building objects key by key).
DROP FUNCTION IF EXISTS kept.analytics_plan_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_call_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_payment_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_extract(xid8, bigint, integer);
DROP FUNCTION IF EXISTS kept.analytics_snapshot(xid8, bigint, bigint, integer);
CREATE OR REPLACE FUNCTION kept.analytics_plan_facts(p_ids bigint[], OUT plans json, OUT installments json)
LANGUAGE sql STABLE AS $$
    WITH p AS (
        SELECT p.*, k.name AS agent_name, date_trunc('week', p.first_due_date)::date AS start_week
        FROM kept.plans p LEFT JOIN kept.api_keys k ON k.id = p.created_by
        WHERE p.id = ANY (p_ids)
    ), i AS (
        SELECT i.plan_id, i.seq, p.account_id, p.created_by AS agent_key_id, p.origin, p.currency, i.due_date,
               date_trunc('week', i.due_date)::date AS due_week, p.start_week AS plan_start_week,
               (i.due_date - p.first_due_date) / 7 + 1 AS weeks_since_start, i.amount_due_cents,
               i.amount_paid_cents, i.paid_by_due_cents, i.paid_by_grace_cents, i.outcome,
               CASE WHEN i.outcome = 'kept_late' THEN (
                   SELECT min(x.day) - i.due_date FROM (
                       SELECT (pay.received_at AT TIME ZONE cu.time_zone)::date AS day,
                              sum(al.amount_cents) OVER (ORDER BY pay.received_at, pay.id) AS running
                       FROM kept.allocations al JOIN kept.payments pay ON pay.id = al.payment_id
                       JOIN kept.accounts a ON a.id = pay.account_id JOIN kept.customers cu ON cu.id = a.customer_id
                       WHERE al.plan_id = i.plan_id AND al.seq = i.seq AND pay.status = 'posted') x
                   WHERE x.running >= i.threshold_cents) END AS days_late,
               rem.purposes IS NOT NULL AS reminded, coalesce(rem.purposes, '{}') AS reminder_purposes
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
    SELECT
        coalesce((SELECT json_agg(f) FROM (
            SELECT p.id AS plan_id, p.account_id, p.created_by AS agent_key_id, p.agent_name, p.origin, p.status,
                   p.currency, p.weekly_amount_cents, p.balance_at_start_cents,
                   round(p.weekly_amount_cents::numeric / nullif(p.balance_at_start_cents, 0), 6) AS weekly_share,
                   p.installment_count AS weeks, p.first_due_date AS start_date, p.start_week,
                   coalesce(t.judged, 0) AS installments_judged, coalesce(t.kept, 0) AS kept,
                   coalesce(t.kept_late, 0) AS kept_late, coalesce(t.partial, 0) AS partial,
                   coalesce(t.missed, 0) AS missed, coalesce(t.due_judged, 0) AS due_judged_cents,
                   coalesce(t.collected, 0) AS collected_cents, p.created_at, p.ended_at,
                   coalesce(t.collected_judged, 0) AS collected_judged_cents
            FROM p LEFT JOIN totals t ON t.plan_id = p.id) f), '[]'::json),
        coalesce((SELECT json_agg(i) FROM i), '[]'::json);
$$;

CREATE OR REPLACE FUNCTION kept.analytics_call_facts(p_ids bigint[]) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(f), '[]'::json) FROM (
        SELECT c.id AS call_id, c.account_id, c.plan_id, c.seq, c.purpose, c.state, c.blocked_rule, c.deferred_rule,
               c.provider_sid IS NOT NULL AS placed, (c.scheduled_at AT TIME ZONE cu.time_zone)::date AS scheduled_date,
               (coalesce(c.dialed_at, c.updated_at) AT TIME ZONE cu.time_zone)::date AS call_date,
               c.answered_by, c.right_party, c.conversation_at IS NOT NULL AS conversation, c.digits
        FROM kept.calls c JOIN kept.customers cu ON cu.id = c.customer_id
        WHERE c.id = ANY (p_ids)) f;
$$;

CREATE OR REPLACE FUNCTION kept.analytics_payment_facts(p_ids bigint[]) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(f), '[]'::json) FROM (
        SELECT p.id AS payment_id, p.account_id, p.plan_id, p.amount_cents, p.currency,
               (p.received_at AT TIME ZONE cu.time_zone)::date AS received_date, p.source, p.status
        FROM kept.payments p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers cu ON cu.id = a.customer_id
        WHERE p.id = ANY (p_ids)) f;
$$;

-- The next batch after (p_after_tx, p_after_id): up to p_limit events in
-- (tx_id, id) order from transactions that have ended (below the snapshot's
-- xmin nothing can still commit), and the facts they touched. NULL when
-- there is nothing new.
CREATE OR REPLACE FUNCTION kept.analytics_extract(p_after_tx xid8, p_after_id bigint, p_limit integer)
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_events integer;
    v_to_tx xid8;
    v_to_id bigint;
    v_last_at timestamptz;
    v_plans bigint[];
    v_calls bigint[];
    v_payments bigint[];
    f record;
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
    f := kept.analytics_plan_facts(v_plans);
    RETURN json_build_object(
        'from_tx', p_after_tx::text, 'from_id', p_after_id, 'to_tx', v_to_tx::text, 'to_id', v_to_id,
        'events', v_events, 'last_event_at', v_last_at, 'plans', f.plans, 'installments', f.installments,
        'calls', kept.analytics_call_facts(v_calls), 'payments', kept.analytics_payment_facts(v_payments));
END $$;

-- A rebuild's page: every plan after p_after_plan (up to p_limit), the calls
-- and payments of their accounts, as one batch that leaves the cursor where
-- it is (from = to); beside it, the page's last plan and its number of plans
-- (the caller pages on without reading the document). No row after the last plan.
DROP FUNCTION IF EXISTS kept.analytics_snapshot(xid8, bigint, bigint, integer);
CREATE OR REPLACE FUNCTION kept.analytics_snapshot(p_at_tx xid8, p_at_id bigint, p_after_plan bigint,
                                                   p_limit integer, OUT doc json, OUT last_plan bigint,
                                                   OUT plans integer)
RETURNS SETOF record LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_plans bigint[];
    f record;
BEGIN
    v_plans := ARRAY(SELECT id FROM kept.plans WHERE id > p_after_plan ORDER BY id LIMIT p_limit);
    IF cardinality(v_plans) = 0 THEN
        RETURN;
    END IF;
    f := kept.analytics_plan_facts(v_plans);
    last_plan := v_plans[cardinality(v_plans)];
    plans := cardinality(v_plans);
    doc := json_build_object(
        'from_tx', p_at_tx::text, 'from_id', p_at_id, 'to_tx', p_at_tx::text, 'to_id', p_at_id, 'events', 0,
        'plans', f.plans, 'installments', f.installments,
        'calls', kept.analytics_call_facts(ARRAY(SELECT id FROM kept.calls WHERE plan_id = ANY (v_plans))),
        'payments', kept.analytics_payment_facts(ARRAY(
            SELECT p.id FROM kept.payments p WHERE p.account_id IN (
                SELECT account_id FROM kept.plans WHERE id = ANY (v_plans)))));
    RETURN NEXT;
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
