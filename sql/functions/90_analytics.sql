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

-- Pre-aggregates the reports read, so they stay fast at millions of facts:
-- recomputed from the facts for every week a batch touched.
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

CREATE OR REPLACE FUNCTION analytics.refresh(p_due_weeks date[], p_start_weeks date[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM analytics.agg_week WHERE due_week = ANY (p_due_weeks);
    INSERT INTO analytics.agg_week
    SELECT due_week, origin, currency, count(*),
           count(*) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')),
           count(*) FILTER (WHERE outcome = 'kept'), count(*) FILTER (WHERE outcome = 'kept_late'),
           count(*) FILTER (WHERE outcome = 'partial'), count(*) FILTER (WHERE outcome = 'missed'),
           sum(amount_due_cents), sum(amount_paid_cents)
    FROM analytics.fact_installment WHERE due_week = ANY (p_due_weeks)
    GROUP BY due_week, origin, currency;

    DELETE FROM analytics.agg_plan WHERE start_week = ANY (p_start_weeks);
    INSERT INTO analytics.agg_plan
    SELECT start_week, origin, coalesce(agent_key_id, 0), max(agent_name), currency, count(*),
           count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'broken'),
           sum(weekly_share), sum(installments_judged), sum(kept + kept_late), sum(due_judged_cents),
           sum(collected_judged_cents)
    FROM analytics.fact_plan WHERE start_week = ANY (p_start_weeks)
    GROUP BY start_week, origin, coalesce(agent_key_id, 0), currency;
END $$;

CREATE OR REPLACE FUNCTION analytics.refresh_all() RETURNS void
LANGUAGE sql AS $$
    SELECT analytics.refresh(ARRAY(SELECT DISTINCT due_week FROM analytics.fact_installment),
                             ARRAY(SELECT DISTINCT start_week FROM analytics.fact_plan));
$$;

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
CREATE OR REPLACE FUNCTION analytics.apply(doc jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s analytics.loader_state;
BEGIN
    SELECT * INTO s FROM analytics.loader_state WHERE id = 1 FOR UPDATE;
    IF s.last_tx_id <> (doc->>'from_tx')::xid8 OR s.last_event_id <> (doc->>'from_id')::bigint THEN
        RETURN -1;
    END IF;
    INSERT INTO analytics.fact_plan
    SELECT * FROM jsonb_populate_recordset(NULL::analytics.fact_plan, doc->'plans')
    ON CONFLICT (plan_id) DO UPDATE SET
        status = EXCLUDED.status, agent_name = EXCLUDED.agent_name, installments_judged = EXCLUDED.installments_judged,
        kept = EXCLUDED.kept, kept_late = EXCLUDED.kept_late, partial = EXCLUDED.partial, missed = EXCLUDED.missed,
        due_judged_cents = EXCLUDED.due_judged_cents, collected_cents = EXCLUDED.collected_cents,
        ended_at = EXCLUDED.ended_at, collected_judged_cents = EXCLUDED.collected_judged_cents;
    INSERT INTO analytics.fact_installment
    SELECT * FROM jsonb_populate_recordset(NULL::analytics.fact_installment, doc->'installments')
    ON CONFLICT (plan_id, seq) DO UPDATE SET
        amount_paid_cents = EXCLUDED.amount_paid_cents, paid_by_due_cents = EXCLUDED.paid_by_due_cents,
        paid_by_grace_cents = EXCLUDED.paid_by_grace_cents, outcome = EXCLUDED.outcome,
        days_late = EXCLUDED.days_late, reminded = EXCLUDED.reminded, reminder_purposes = EXCLUDED.reminder_purposes;
    INSERT INTO analytics.fact_call
    SELECT * FROM jsonb_populate_recordset(NULL::analytics.fact_call, doc->'calls')
    ON CONFLICT (call_id) DO UPDATE SET
        state = EXCLUDED.state, blocked_rule = EXCLUDED.blocked_rule, deferred_rule = EXCLUDED.deferred_rule,
        placed = EXCLUDED.placed, call_date = EXCLUDED.call_date, answered_by = EXCLUDED.answered_by,
        right_party = EXCLUDED.right_party, conversation = EXCLUDED.conversation, digits = EXCLUDED.digits;
    INSERT INTO analytics.fact_payment
    SELECT * FROM jsonb_populate_recordset(NULL::analytics.fact_payment, doc->'payments')
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, plan_id = EXCLUDED.plan_id;
    IF coalesce((doc->>'refresh')::boolean, true) THEN
        PERFORM analytics.refresh(
            ARRAY(SELECT DISTINCT (e->>'due_week')::date FROM jsonb_array_elements(doc->'installments') e),
            ARRAY(SELECT DISTINCT (e->>'start_week')::date FROM jsonb_array_elements(doc->'plans') e));
    END IF;
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
