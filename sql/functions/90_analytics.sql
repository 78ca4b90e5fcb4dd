-- The analytics schema: what finance reads. A star with a date dimension and
-- facts at the grain of the installment, the plan, the call and the payment,
-- filled by keptd's loader from the outbox (kept.analytics_extract in the
-- operational database, analytics.apply here). It may live in another
-- database (KEPT_ANALYTICS_DATABASE_URL): this file needs nothing of schema
-- kept, is idempotent, and keptd migrate runs it wherever analytics lives.
-- Facts are snapshots of the operational rows, upserted by key, so applying
-- the same events twice changes nothing.

CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE IF NOT EXISTS analytics.dim_date (
    date        date PRIMARY KEY,
    week_start  date NOT NULL,    -- the Monday of its ISO week
    iso_year    integer NOT NULL,
    iso_week    integer NOT NULL,
    month_start date NOT NULL,
    year        integer NOT NULL,
    day_of_week integer NOT NULL  -- 1 Monday .. 7 Sunday
);
INSERT INTO analytics.dim_date
SELECT d::date, date_trunc('week', d)::date, extract(isoyear FROM d)::int, extract(week FROM d)::int,
       date_trunc('month', d)::date, extract(year FROM d)::int, extract(isodow FROM d)::int
FROM generate_series('2000-01-01'::date, '2060-12-31'::date, interval '1 day') d
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS analytics.fact_plan (
    plan_id                bigint PRIMARY KEY,
    account_id             bigint NOT NULL,
    agent_key_id           bigint,          -- who created it
    agent_name             text,
    origin                 text NOT NULL,   -- customer_proposed, agent_set, settlement
    status                 text NOT NULL,
    currency               text NOT NULL,
    weekly_amount_cents    bigint NOT NULL,
    balance_at_start_cents bigint NOT NULL,
    weekly_share           numeric NOT NULL, -- weekly amount / balance at start
    weeks                  integer NOT NULL,
    start_date             date NOT NULL,
    start_week             date NOT NULL,
    installments_judged    integer NOT NULL,
    kept                   integer NOT NULL,
    kept_late              integer NOT NULL,
    partial                integer NOT NULL,
    missed                 integer NOT NULL,
    due_judged_cents       bigint NOT NULL,  -- due on the installments judged so far
    collected_cents        bigint NOT NULL,  -- paid on its installments
    created_at             timestamptz NOT NULL,
    ended_at               timestamptz
);
-- paid on the installments judged so far: what collection rates divide by due_judged_cents
ALTER TABLE analytics.fact_plan ADD COLUMN IF NOT EXISTS collected_judged_cents bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS fact_plan_origin_idx ON analytics.fact_plan (origin, start_date);
CREATE INDEX IF NOT EXISTS fact_plan_agent_idx ON analytics.fact_plan (agent_key_id, start_date);

CREATE TABLE IF NOT EXISTS analytics.fact_installment (
    plan_id             bigint NOT NULL,
    seq                 integer NOT NULL,
    account_id          bigint NOT NULL,
    agent_key_id        bigint,
    origin              text NOT NULL,
    currency            text NOT NULL,
    due_date            date NOT NULL,
    due_week            date NOT NULL,
    plan_start_week     date NOT NULL,
    weeks_since_start   integer NOT NULL, -- 1 for the plan's first week
    amount_due_cents    bigint NOT NULL,
    amount_paid_cents   bigint NOT NULL,
    paid_by_due_cents   bigint NOT NULL,
    paid_by_grace_cents bigint NOT NULL,
    outcome             text NOT NULL,    -- scheduled, kept, kept_late, partial, missed, waived
    days_late           integer,          -- kept_late: days past the due date when it was made whole
    reminded            boolean NOT NULL, -- a reminder call for it reached the provider
    reminder_purposes   text[] NOT NULL,
    PRIMARY KEY (plan_id, seq)
);
CREATE INDEX IF NOT EXISTS fact_installment_due_idx ON analytics.fact_installment (due_date)
    INCLUDE (outcome, amount_due_cents, amount_paid_cents, paid_by_grace_cents);
CREATE INDEX IF NOT EXISTS fact_installment_cohort_idx ON analytics.fact_installment (plan_start_week, weeks_since_start)
    INCLUDE (outcome);

CREATE TABLE IF NOT EXISTS analytics.fact_call (
    call_id        bigint PRIMARY KEY,
    account_id     bigint NOT NULL,
    plan_id        bigint NOT NULL,
    seq            integer NOT NULL,
    purpose        text NOT NULL,
    state          text NOT NULL,
    blocked_rule   text,
    deferred_rule  text,
    placed         boolean NOT NULL,   -- reached the provider
    scheduled_date date NOT NULL,
    call_date      date NOT NULL,      -- dialled, or when it was stopped
    answered_by    text,
    right_party    boolean NOT NULL,
    conversation   boolean NOT NULL,
    digits         text NOT NULL
);
CREATE INDEX IF NOT EXISTS fact_call_date_idx ON analytics.fact_call (call_date);

CREATE TABLE IF NOT EXISTS analytics.fact_payment (
    payment_id    bigint PRIMARY KEY,
    account_id    bigint NOT NULL,
    plan_id       bigint,
    amount_cents  bigint NOT NULL,
    currency      text NOT NULL,
    received_date date NOT NULL,
    source        text NOT NULL,
    status        text NOT NULL
);
CREATE INDEX IF NOT EXISTS fact_payment_date_idx ON analytics.fact_payment (received_date);

-- Pre-aggregates the reports read, so they stay fast at millions of facts
-- (kept up to date by analytics.add_deltas as facts change).
CREATE TABLE IF NOT EXISTS analytics.agg_week (
    due_week        date NOT NULL,
    origin          text NOT NULL,
    currency        text NOT NULL,
    installments    bigint NOT NULL,
    judged          bigint NOT NULL,
    kept            bigint NOT NULL,
    kept_late       bigint NOT NULL,
    partial         bigint NOT NULL,
    missed          bigint NOT NULL,
    due_cents       bigint NOT NULL,
    collected_cents bigint NOT NULL,
    PRIMARY KEY (due_week, origin, currency)
);

CREATE TABLE IF NOT EXISTS analytics.agg_plan (
    start_week       date NOT NULL,
    origin           text NOT NULL,
    agent_key_id     bigint NOT NULL, -- 0: no key recorded
    agent_name       text,
    currency         text NOT NULL,
    plans            bigint NOT NULL,
    completed        bigint NOT NULL,
    broken           bigint NOT NULL,
    weekly_share_sum numeric NOT NULL,
    judged           bigint NOT NULL,
    kept_any         bigint NOT NULL, -- kept + kept_late
    due_judged_cents bigint NOT NULL,
    collected_cents  bigint NOT NULL, -- on judged installments
    PRIMARY KEY (start_week, origin, agent_key_id, currency)
);

-- The pre-aggregates are kept by deltas: before facts are replaced, what
-- the old rows contributed is taken away and what the new ones bring is
-- added, so a batch costs what its rows cost, however many facts there are.
DROP FUNCTION IF EXISTS analytics.add_deltas(jsonb);
CREATE OR REPLACE FUNCTION analytics.add_deltas(doc json) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH inc AS (
        SELECT * FROM json_populate_recordset(NULL::analytics.fact_installment, doc->'installments')
    ), rows AS (
        SELECT 1 AS sign, i.due_week, i.origin, i.currency, i.outcome, i.amount_due_cents, i.amount_paid_cents FROM inc i
        UNION ALL
        SELECT -1, f.due_week, f.origin, f.currency, f.outcome, f.amount_due_cents, f.amount_paid_cents
        FROM analytics.fact_installment f JOIN inc i ON i.plan_id = f.plan_id AND i.seq = f.seq
    )
    INSERT INTO analytics.agg_week AS a
    SELECT due_week, origin, currency, sum(sign),
           coalesce(sum(sign) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0),
           coalesce(sum(sign) FILTER (WHERE outcome = 'kept'), 0), coalesce(sum(sign) FILTER (WHERE outcome = 'kept_late'), 0),
           coalesce(sum(sign) FILTER (WHERE outcome = 'partial'), 0), coalesce(sum(sign) FILTER (WHERE outcome = 'missed'), 0),
           sum(sign * amount_due_cents), sum(sign * amount_paid_cents)
    FROM rows GROUP BY due_week, origin, currency
    ON CONFLICT (due_week, origin, currency) DO UPDATE SET
        installments = a.installments + EXCLUDED.installments,
        judged = a.judged + EXCLUDED.judged, kept = a.kept + EXCLUDED.kept, kept_late = a.kept_late + EXCLUDED.kept_late,
        partial = a.partial + EXCLUDED.partial, missed = a.missed + EXCLUDED.missed, due_cents = a.due_cents + EXCLUDED.due_cents,
        collected_cents = a.collected_cents + EXCLUDED.collected_cents;

    WITH inc AS (
        SELECT * FROM json_populate_recordset(NULL::analytics.fact_plan, doc->'plans')
    ), rows AS (
        SELECT 1 AS sign, p.start_week, p.origin, coalesce(p.agent_key_id, 0) AS agent, p.agent_name, p.currency,
               p.status, p.weekly_share, p.installments_judged, p.kept + p.kept_late AS kept_any, p.due_judged_cents,
               p.collected_judged_cents
        FROM inc p
        UNION ALL
        SELECT -1, f.start_week, f.origin, coalesce(f.agent_key_id, 0), NULL, f.currency, f.status, f.weekly_share,
               f.installments_judged, f.kept + f.kept_late, f.due_judged_cents, f.collected_judged_cents
        FROM analytics.fact_plan f JOIN inc p ON p.plan_id = f.plan_id
    )
    INSERT INTO analytics.agg_plan AS a
    SELECT start_week, origin, agent, max(agent_name), currency, sum(sign),
           coalesce(sum(sign) FILTER (WHERE status = 'completed'), 0), coalesce(sum(sign) FILTER (WHERE status = 'broken'), 0),
           sum(sign * weekly_share), sum(sign * installments_judged), sum(sign * kept_any), sum(sign * due_judged_cents),
           sum(sign * collected_judged_cents)
    FROM rows GROUP BY start_week, origin, agent, currency
    ON CONFLICT (start_week, origin, agent_key_id, currency) DO UPDATE SET
        agent_name = coalesce(EXCLUDED.agent_name, a.agent_name), plans = a.plans + EXCLUDED.plans,
        completed = a.completed + EXCLUDED.completed, broken = a.broken + EXCLUDED.broken,
        weekly_share_sum = a.weekly_share_sum + EXCLUDED.weekly_share_sum, judged = a.judged + EXCLUDED.judged,
        kept_any = a.kept_any + EXCLUDED.kept_any, due_judged_cents = a.due_judged_cents + EXCLUDED.due_judged_cents,
        collected_cents = a.collected_cents + EXCLUDED.collected_cents;

    -- facts that moved away (a plan's dates changed) leave empty groups behind; both tables are small
    DELETE FROM analytics.agg_week WHERE installments = 0;
    DELETE FROM analytics.agg_plan WHERE plans = 0;
END $$;

DROP FUNCTION IF EXISTS analytics.refresh(date[], date[]);
DROP FUNCTION IF EXISTS analytics.refresh_all();

-- Where the loader is in the outbox: events are taken in (tx_id, id) order,
-- only from transactions that have ended, so none can appear behind it.
CREATE TABLE IF NOT EXISTS analytics.loader_state (
    id             integer PRIMARY KEY CHECK (id = 1),
    last_tx_id     xid8 NOT NULL,
    last_event_id  bigint NOT NULL,
    last_event_at  timestamptz,
    events_loaded  bigint NOT NULL,
    loaded_at      timestamptz
);
INSERT INTO analytics.loader_state VALUES (1, '0'::xid8, 0, NULL, 0, NULL) ON CONFLICT DO NOTHING;

-- Applies one extracted batch (kept.analytics_extract's document) in the
-- caller's transaction: upserts every fact and moves the cursor, but only if
-- the batch starts where the cursor is (a batch applied twice, or by two
-- loaders at once, is refused: answers -1). Answers the events it loaded.
DROP FUNCTION IF EXISTS analytics.apply(jsonb);
DROP FUNCTION IF EXISTS analytics.apply(json);
CREATE OR REPLACE FUNCTION analytics.apply(doc json) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s analytics.loader_state;
BEGIN
    SELECT * INTO s FROM analytics.loader_state WHERE id = 1 FOR UPDATE;
    IF s.last_tx_id <> (doc->>'from_tx')::xid8 OR s.last_event_id <> (doc->>'from_id')::bigint THEN
        RETURN -1;
    END IF;
    PERFORM analytics.add_deltas(doc);
    INSERT INTO analytics.fact_plan
    SELECT * FROM json_populate_recordset(NULL::analytics.fact_plan, doc->'plans')
    ON CONFLICT (plan_id) DO UPDATE SET
        status = EXCLUDED.status, agent_name = EXCLUDED.agent_name, installments_judged = EXCLUDED.installments_judged,
        kept = EXCLUDED.kept, kept_late = EXCLUDED.kept_late, partial = EXCLUDED.partial, missed = EXCLUDED.missed,
        due_judged_cents = EXCLUDED.due_judged_cents, collected_cents = EXCLUDED.collected_cents,
        ended_at = EXCLUDED.ended_at, collected_judged_cents = EXCLUDED.collected_judged_cents;
    INSERT INTO analytics.fact_installment
    SELECT * FROM json_populate_recordset(NULL::analytics.fact_installment, doc->'installments')
    ON CONFLICT (plan_id, seq) DO UPDATE SET
        amount_paid_cents = EXCLUDED.amount_paid_cents, paid_by_due_cents = EXCLUDED.paid_by_due_cents,
        paid_by_grace_cents = EXCLUDED.paid_by_grace_cents, outcome = EXCLUDED.outcome,
        days_late = EXCLUDED.days_late, reminded = EXCLUDED.reminded, reminder_purposes = EXCLUDED.reminder_purposes;
    INSERT INTO analytics.fact_call
    SELECT * FROM json_populate_recordset(NULL::analytics.fact_call, doc->'calls')
    ON CONFLICT (call_id) DO UPDATE SET
        state = EXCLUDED.state, blocked_rule = EXCLUDED.blocked_rule, deferred_rule = EXCLUDED.deferred_rule,
        placed = EXCLUDED.placed, call_date = EXCLUDED.call_date, answered_by = EXCLUDED.answered_by,
        right_party = EXCLUDED.right_party, conversation = EXCLUDED.conversation, digits = EXCLUDED.digits;
    INSERT INTO analytics.fact_payment
    SELECT * FROM json_populate_recordset(NULL::analytics.fact_payment, doc->'payments')
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, plan_id = EXCLUDED.plan_id;
    UPDATE analytics.loader_state
    SET last_tx_id = (doc->>'to_tx')::xid8, last_event_id = (doc->>'to_id')::bigint,
        last_event_at = coalesce((doc->>'last_event_at')::timestamptz, last_event_at),
        events_loaded = events_loaded + (doc->>'events')::bigint, loaded_at = now()
    WHERE id = 1;
    RETURN (doc->>'events')::bigint;
END $$;

-- Empties the facts and rewinds the cursor (keptd analytics --rebuild).
CREATE OR REPLACE FUNCTION analytics.reset() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE analytics.fact_plan, analytics.fact_installment, analytics.fact_call, analytics.fact_payment,
             analytics.agg_week, analytics.agg_plan;
    UPDATE analytics.loader_state SET last_tx_id = '0'::xid8, last_event_id = 0, last_event_at = NULL,
                                      events_loaded = 0, loaded_at = now();
END $$;

-- Puts the cursor at a position (after a rebuild's snapshot).
CREATE OR REPLACE FUNCTION analytics.set_cursor(p_tx xid8, p_id bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE analytics.loader_state SET last_tx_id = p_tx, last_event_id = p_id, loaded_at = now() WHERE id = 1;
$$;
