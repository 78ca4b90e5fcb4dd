-- The operational side of analytics: which facts a batch of outbox events
-- touched, and those facts read from the operational tables as rows of
-- analytics' fact types (schema analytics exists in this database too, so
-- its row types do). See 90_analytics.sql for the other side and for what
-- always holds.
--
-- What an event touches (every change to a column a fact reads writes one
-- of these events in its own transaction):
--   plan_* events (aggregate plan)     the plan and all its installments
--   installment_evaluated              that installment (payload seq)
--   payment_posted, payment_reversed   the payment and the installments it was allocated to
--                                      (a payment file writes one payment_posted per payment)
--   call events (aggregate call)       the call and its installment (reminded)
--   customer_moved (a new time zone)   every plan, call and payment of the customer
--                                      (local dates and days late move with the zone)
--   user_renamed (a user's new name)   every plan that user agreed (fact_plan.agent_name)
-- Other events (reviews, offers, escalations, ...) change no fact.

DROP FUNCTION IF EXISTS kept.analytics_plan_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_call_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_payment_facts(bigint[]);
DROP FUNCTION IF EXISTS kept.analytics_extract(xid8, bigint, integer);
DROP FUNCTION IF EXISTS kept.analytics_snapshot(xid8, bigint, bigint, integer);

-- ---- fact rows ------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.analytics_plan_rows(p_plans bigint[]) RETURNS SETOF analytics.fact_plan
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.account_id, a.creditor, p.created_by_user, u.name, p.origin, p.channel, p.status, p.in_policy,
           p.currency, p.weekly_amount_cents, p.total_cents, p.balance_at_start_cents,
           round(p.weekly_amount_cents::numeric / nullif(p.balance_at_start_cents, 0), 6), p.installment_count,
           p.first_due_date, date_trunc('week', p.first_due_date)::date, p.created_at, p.activated_at, p.ended_at
    FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id LEFT JOIN kept.users u ON u.id = p.created_by_user
    WHERE p.id = ANY (p_plans);
$$;

-- A kept_late installment: the days past its due date, on the customer's
-- calendar, until the payments allocated to it reached its threshold.
CREATE OR REPLACE FUNCTION kept.analytics_days_late(i kept.installments) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT min(x.day) - i.due_date FROM (
        SELECT (pay.received_at AT TIME ZONE cu.time_zone)::date AS day,
               sum(al.amount_cents) OVER (ORDER BY pay.received_at, pay.id) AS running
        FROM kept.allocations al JOIN kept.payments pay ON pay.id = al.payment_id
        JOIN kept.accounts a ON a.id = pay.account_id JOIN kept.customers cu ON cu.id = a.customer_id
        WHERE al.plan_id = i.plan_id AND al.seq = i.seq AND pay.status = 'posted') x
    WHERE x.running >= i.threshold_cents;
$$;

-- The installments of whole plans p_plans and the single installments
-- (p_key_plans[i], p_key_seqs[i]).
CREATE OR REPLACE FUNCTION kept.analytics_installment_rows(p_plans bigint[], p_key_plans bigint[],
                                                           p_key_seqs integer[])
RETURNS SETOF analytics.fact_installment LANGUAGE sql STABLE AS $$
    WITH keys AS (
        SELECT i.plan_id, i.seq FROM kept.installments i WHERE i.plan_id = ANY (p_plans)
        UNION
        SELECT k.plan_id, k.seq FROM unnest(p_key_plans, p_key_seqs) AS k(plan_id, seq)
    )
    SELECT i.plan_id, i.seq, p.account_id, a.creditor, p.created_by_user, p.origin, p.channel, p.currency, i.due_date,
           date_trunc('week', i.due_date)::date, date_trunc('week', p.first_due_date)::date,
           (i.due_date - p.first_due_date) / 7 + 1, i.amount_due_cents, i.amount_paid_cents, i.paid_by_due_cents,
           i.paid_by_grace_cents, i.outcome, p.status,
           CASE WHEN i.outcome = 'kept_late' THEN kept.analytics_days_late(i) END,
           rem.purposes IS NOT NULL, coalesce(rem.purposes, '{}')
    FROM keys JOIN kept.installments i ON (i.plan_id, i.seq) = (keys.plan_id, keys.seq)
    JOIN kept.plans p ON p.id = i.plan_id JOIN kept.accounts a ON a.id = p.account_id
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT c.purpose ORDER BY c.purpose) AS purposes FROM kept.calls c
        WHERE c.plan_id = i.plan_id AND c.seq = i.seq AND c.provider_sid IS NOT NULL) rem ON true;
$$;

CREATE OR REPLACE FUNCTION kept.analytics_call_rows(p_calls bigint[]) RETURNS SETOF analytics.fact_call
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.account_id, a.creditor, c.plan_id, c.seq, c.purpose, c.state, c.blocked_rule, c.deferred_rule,
           c.provider_sid IS NOT NULL, (c.scheduled_at AT TIME ZONE cu.time_zone)::date,
           (coalesce(c.dialed_at, c.updated_at) AT TIME ZONE cu.time_zone)::date,
           c.answered_by, c.right_party, c.conversation_at IS NOT NULL, c.digits
    FROM kept.calls c JOIN kept.customers cu ON cu.id = c.customer_id JOIN kept.accounts a ON a.id = c.account_id
    WHERE c.id = ANY (p_calls);
$$;

CREATE OR REPLACE FUNCTION kept.analytics_payment_rows(p_payments bigint[]) RETURNS SETOF analytics.fact_payment
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.account_id, a.creditor, p.plan_id, p.amount_cents, p.currency,
           (p.received_at AT TIME ZONE cu.time_zone)::date, p.source, p.status
    FROM kept.payments p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers cu ON cu.id = a.customer_id
    WHERE p.id = ANY (p_payments);
$$;

-- The fact rows of the given entities as JSON arrays, for a loader writing
-- to another database, a rebuild, a check or a repair.
CREATE OR REPLACE FUNCTION kept.analytics_rows_json(p_plans bigint[], p_key_plans bigint[], p_key_seqs integer[],
                                                    p_calls bigint[], p_payments bigint[],
                                                    OUT plans json, OUT installments json, OUT calls json,
                                                    OUT payments json)
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT json_agg(r) FROM kept.analytics_plan_rows(p_plans) r), '[]'),
           coalesce((SELECT json_agg(r) FROM kept.analytics_installment_rows(p_plans, p_key_plans, p_key_seqs) r), '[]'),
           coalesce((SELECT json_agg(r) FROM kept.analytics_call_rows(p_calls) r), '[]'),
           coalesce((SELECT json_agg(r) FROM kept.analytics_payment_rows(p_payments) r), '[]');
$$;

-- ---- what a batch touched ---------------------------------------------------------------------

-- The events after (p_after_tx, p_after_id) in (tx_id, id) order — at most
-- p_limit (NULL: all), and with p_ended_only only from transactions that
-- have ended (below the snapshot's xmin nothing can still commit) — and the
-- entities they touched: whole plans, single installments, calls, payments.
CREATE OR REPLACE FUNCTION kept.analytics_touched(p_after_tx xid8, p_after_id bigint, p_limit integer,
                                                  p_ended_only boolean,
                                                  OUT events integer, OUT to_tx xid8, OUT to_id bigint,
                                                  OUT last_at timestamptz, OUT plans bigint[],
                                                  OUT key_plans bigint[], OUT key_seqs integer[],
                                                  OUT calls bigint[], OUT payments bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_horizon xid8 := CASE WHEN p_ended_only THEN pg_snapshot_xmin(pg_current_snapshot()) END;
    v_moved bigint[];
    v_renamed bigint[];
    v_accounts bigint[];
BEGIN
    -- the events, read once; each kind of entity as an array, looked up by key below
    SELECT count(*), (array_agg(ev.tx_id ORDER BY ev.tx_id DESC, ev.id DESC))[1],
           (array_agg(ev.id ORDER BY ev.tx_id DESC, ev.id DESC))[1], max(ev.occurred_at),
           coalesce(array_agg(DISTINCT ev.aggregate_id) FILTER (
               WHERE ev.aggregate_type = 'plan' AND ev.event_type <> 'installment_evaluated'), '{}'),
           coalesce(array_agg(ev.aggregate_id ORDER BY ev.tx_id, ev.id)
                    FILTER (WHERE ev.event_type = 'installment_evaluated'), '{}'),
           coalesce(array_agg((ev.payload->>'seq')::integer ORDER BY ev.tx_id, ev.id)
                    FILTER (WHERE ev.event_type = 'installment_evaluated'), '{}'),
           coalesce(array_agg(DISTINCT ev.aggregate_id) FILTER (WHERE ev.aggregate_type = 'call'), '{}'),
           coalesce(array_agg(DISTINCT ev.aggregate_id) FILTER (WHERE ev.aggregate_type = 'payment'), '{}'),
           coalesce(array_agg(DISTINCT ev.aggregate_id) FILTER (WHERE ev.event_type = 'customer_moved'), '{}'),
           coalesce(array_agg(DISTINCT ev.aggregate_id) FILTER (WHERE ev.event_type = 'user_renamed'), '{}')
    INTO events, to_tx, to_id, last_at, plans, key_plans, key_seqs, calls, payments, v_moved, v_renamed
    FROM (SELECT e.tx_id, e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.payload, e.occurred_at
          FROM kept.outbox_events e
          WHERE (e.tx_id, e.id) > (p_after_tx, p_after_id) AND (v_horizon IS NULL OR e.tx_id < v_horizon)
          ORDER BY e.tx_id, e.id LIMIT p_limit) ev;
    IF events = 0 THEN
        RETURN;
    END IF;
    IF cardinality(v_moved) > 0 THEN
        v_accounts := ARRAY(SELECT id FROM kept.accounts WHERE customer_id = ANY (v_moved));
        plans := plans || ARRAY(SELECT id FROM kept.plans WHERE account_id = ANY (v_accounts));
        payments := payments || ARRAY(SELECT id FROM kept.payments WHERE account_id = ANY (v_accounts));
        calls := calls || ARRAY(SELECT id FROM kept.calls WHERE account_id = ANY (v_accounts));
    END IF;
    IF cardinality(v_renamed) > 0 THEN
        plans := plans || ARRAY(SELECT id FROM kept.plans WHERE created_by_user = ANY (v_renamed));
    END IF;
    -- the single installments: judged, paid or reversed, reminded — unless their whole plan is written
    SELECT coalesce(array_agg(k.plan_id ORDER BY k.plan_id, k.seq), '{}'),
           coalesce(array_agg(k.seq ORDER BY k.plan_id, k.seq), '{}')
    INTO key_plans, key_seqs
    FROM (SELECT x.plan_id, x.seq FROM unnest(key_plans, key_seqs) AS x(plan_id, seq)
          UNION SELECT al.plan_id, al.seq FROM kept.allocations al
                WHERE cardinality(payments) > 0 AND al.payment_id = ANY (payments)
          UNION SELECT c.plan_id, c.seq FROM kept.calls c WHERE cardinality(calls) > 0 AND c.id = ANY (calls)) k
    WHERE k.plan_id <> ALL (plans);
    plans := ARRAY(SELECT DISTINCT unnest(plans));
    calls := ARRAY(SELECT DISTINCT unnest(calls));
    payments := ARRAY(SELECT DISTINCT unnest(payments));
END $$;

-- The entities the loader has not reached: touched by any event after the
-- cursor, committed or visible in this snapshot. A check leaves them out.
CREATE OR REPLACE FUNCTION kept.analytics_pending(p_after_tx xid8, p_after_id bigint, OUT plans bigint[],
                                                  OUT calls bigint[], OUT payments bigint[])
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT unnest(t.plans) UNION SELECT unnest(t.key_plans)), t.calls, t.payments
    FROM kept.analytics_touched(p_after_tx, p_after_id, NULL, false) t;
$$;

-- ---- loading ----------------------------------------------------------------------------------

-- One batch when analytics lives in this database: the events after the
-- cursor (at most p_limit, from ended transactions), their facts written
-- straight from the operational tables, the cursor moved — all in the
-- caller's transaction. The cursor row is locked first, so two loaders take
-- turns and the second starts where the first ended. Answers the events loaded.
CREATE OR REPLACE FUNCTION kept.analytics_load_local(p_limit integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s analytics.loader_state;
    t record;
BEGIN
    SELECT * INTO s FROM analytics.loader_state WHERE id = 1 FOR UPDATE;
    t := kept.analytics_touched(s.last_tx_id, s.last_event_id, p_limit, true);
    IF coalesce(t.events, 0) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM analytics.write_fact_plan(ARRAY(SELECT r FROM kept.analytics_plan_rows(t.plans) r)),
            analytics.write_fact_installment(ARRAY(
                SELECT r FROM kept.analytics_installment_rows(t.plans, t.key_plans, t.key_seqs) r)),
            analytics.write_fact_call(ARRAY(SELECT r FROM kept.analytics_call_rows(t.calls) r)),
            analytics.write_fact_payment(ARRAY(SELECT r FROM kept.analytics_payment_rows(t.payments) r));
    PERFORM analytics.advance(t.to_tx, t.to_id, t.events, t.last_at);
    RETURN t.events;
END $$;

-- One batch for analytics in another database: where it starts and ends
-- and its facts as JSON (analytics.apply there). No row when there is
-- nothing new.
CREATE OR REPLACE FUNCTION kept.analytics_extract(p_after_tx xid8, p_after_id bigint, p_limit integer)
RETURNS TABLE (to_tx xid8, to_id bigint, events integer, last_at timestamptz, plans json, installments json,
               calls json, payments json)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t record;
    f record;
BEGIN
    t := kept.analytics_touched(p_after_tx, p_after_id, p_limit, true);
    IF coalesce(t.events, 0) = 0 THEN
        RETURN;
    END IF;
    f := kept.analytics_rows_json(t.plans, t.key_plans, t.key_seqs, t.calls, t.payments);
    RETURN QUERY SELECT t.to_tx, t.to_id, t.events, t.last_at, f.plans, f.installments, f.calls, f.payments;
END $$;

-- A page of one kind of entity: the next p_limit plans, calls or payments
-- after id p_after: `n` of them, the last `last` (NULL: nothing after p_after).
CREATE OR REPLACE FUNCTION kept.analytics_page_ids(p_kind text, p_after bigint, p_limit integer, OUT last bigint,
                                                   OUT n integer, OUT ids bigint[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
    ids := CASE p_kind
        WHEN 'plan' THEN ARRAY(SELECT id FROM kept.plans WHERE id > p_after ORDER BY id LIMIT p_limit)
        WHEN 'call' THEN ARRAY(SELECT id FROM kept.calls WHERE id > p_after ORDER BY id LIMIT p_limit)
        WHEN 'payment' THEN ARRAY(SELECT id FROM kept.payments WHERE id > p_after ORDER BY id LIMIT p_limit) END;
    IF ids IS NULL THEN
        RAISE EXCEPTION 'kept.analytics_page_ids: no kind %', p_kind;
    END IF;
    last := ids[cardinality(ids)];
    n := cardinality(ids);
END $$;

-- A page of every fact of one kind as JSON (plans come with their
-- installments), for a rebuild or a check of analytics in another database.
DROP FUNCTION IF EXISTS kept.analytics_page(text, bigint, integer);
CREATE OR REPLACE FUNCTION kept.analytics_page(p_kind text, p_after bigint, p_limit integer, OUT last bigint,
                                               OUT n integer, OUT plans json, OUT installments json,
                                               OUT calls json, OUT payments json)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p record;
    f record;
BEGIN
    p := kept.analytics_page_ids(p_kind, p_after, p_limit);
    last := p.last;
    n := p.n;
    f := kept.analytics_rows_json(CASE WHEN p_kind = 'plan' THEN p.ids ELSE '{}' END, '{}', '{}',
                                  CASE WHEN p_kind = 'call' THEN p.ids ELSE '{}' END,
                                  CASE WHEN p_kind = 'payment' THEN p.ids ELSE '{}' END);
    plans := f.plans;
    installments := f.installments;
    calls := f.calls;
    payments := f.payments;
END $$;

-- The same page written straight into analytics (in the operational
-- database): a rebuild's page without JSON. `written`: fact rows written.
CREATE OR REPLACE FUNCTION kept.analytics_rebuild_page_local(p_kind text, p_after bigint, p_limit integer,
                                                             OUT last bigint, OUT n integer, OUT written bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
BEGIN
    p := kept.analytics_page_ids(p_kind, p_after, p_limit);
    last := p.last;
    n := p.n;
    written := CASE p_kind
        WHEN 'plan' THEN analytics.write_fact_plan(ARRAY(SELECT r FROM kept.analytics_plan_rows(p.ids) r))
                         + analytics.write_fact_installment(ARRAY(
                               SELECT r FROM kept.analytics_installment_rows(p.ids, '{}', '{}') r))
        WHEN 'call' THEN analytics.write_fact_call(ARRAY(SELECT r FROM kept.analytics_call_rows(p.ids) r))
        ELSE analytics.write_fact_payment(ARRAY(SELECT r FROM kept.analytics_payment_rows(p.ids) r)) END;
END $$;

-- A check's page in the operational database: the stored facts of `p_fact`
-- against kept's own extraction for the ids `p_ids`, no JSON in between (see
-- analytics.differences_of).
CREATE OR REPLACE FUNCTION kept.analytics_local_differences(p_fact text, p_ids bigint[], p_range text, p_from bigint,
                                                            p_to bigint, p_skip bigint[], p_limit integer)
RETURNS TABLE (entity text, key jsonb, column_name text, analytics_value text, operational_value text,
               total bigint, id bigint)
LANGUAGE sql STABLE AS $$
    SELECT * FROM analytics.differences_of(p_fact, 'local', p_ids, p_range, p_from, p_to, p_skip, p_limit);
$$;

-- The last event of a transaction that has ended: where a rebuild leaves the
-- loader's cursor (events after it are loaded as usual).
CREATE OR REPLACE FUNCTION kept.analytics_position(OUT tx_id text, OUT event_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(e.tx_id), '0'::xid8)::text,
           coalesce((SELECT max(x.id) FROM kept.outbox_events x WHERE x.tx_id = max(e.tx_id)), 0)
    FROM kept.outbox_events e WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot());
$$;

-- The loader's lag: events not yet loaded and the age of the oldest of them.
-- `looked_at`: when the statement began; its snapshot holds every event
-- committed before then.
DROP FUNCTION IF EXISTS kept.analytics_lag(xid8, bigint);
CREATE OR REPLACE FUNCTION kept.analytics_lag(p_after_tx xid8, p_after_id bigint, OUT events bigint,
                                              OUT seconds double precision, OUT looked_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT count(*), coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::double precision,
           statement_timestamp()
    FROM kept.outbox_events e WHERE (e.tx_id, e.id) > (p_after_tx, p_after_id);
$$;

-- A repair, written to the audit log of the operational database.
CREATE OR REPLACE FUNCTION kept.analytics_repaired(p_summary jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT kept.audit_write(ROW(NULL, 'keptd analytics --repair', NULL)::kept.actor, 'analytics.repaired', 'analytics',
                            NULL, NULL, p_summary);
$$;
