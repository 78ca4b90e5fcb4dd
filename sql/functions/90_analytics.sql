-- The analytics schema: what finance reads. A star with a date dimension and
-- facts at the grain of the plan, the installment, the call and the payment,
-- filled by keptd's loader from the outbox (sql/functions/91_analytics_extract.sql
-- reads the operational tables; this file writes here). It may live in
-- another database (KEPT_ANALYTICS_DATABASE_URL): this file needs nothing of
-- schema kept, is idempotent, and keptd migrate runs it wherever analytics
-- lives (and in the operational database too, where the row types below are
-- what the extraction returns).
--
-- What always holds, and `keptd analytics --verify` checks:
--   1. a fact equals the operational rows it comes from, every column,
--      dimensions included, for everything the loader has reached (its
--      cursor): facts are whole rows, written only by analytics.write_*,
--      whose upsert sets every column (generated from the catalog below, so a
--      column added later is written too);
--   2. a pre-aggregate equals the facts it sums: agg_week and agg_plan are
--      changed only by statement-level triggers on the fact tables, which add
--      what the new rows bring and take away what the old rows brought,
--      whatever wrote the facts (the loader, a rebuild, a repair, an
--      analyst's SQL). A fact that moves to another week moves its counts.
--
-- Version: when the shape of a table below changes, bump analytics_version.
-- keptd migrate then drops the facts and aggregates and marks analytics for
-- a rebuild, which the loader does before loading anything else.

CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE IF NOT EXISTS analytics.meta (
    id      integer PRIMARY KEY CHECK (id = 1),
    version integer NOT NULL
);

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
-- rebuild_needed: the facts were dropped (a new version); the loader rebuilds first.
-- The continuous check walks plans, calls and payments a slice per run (verify_after_*);
-- sweep_mismatches counts what the current sweep found so far, last_sweep_* the last whole one.
ALTER TABLE analytics.loader_state
    ADD COLUMN IF NOT EXISTS rebuild_needed boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS rebuilt_at timestamptz,
    ADD COLUMN IF NOT EXISTS verify_after_plan bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS verify_after_call bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS verify_after_payment bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS verify_week date,
    ADD COLUMN IF NOT EXISTS sweep_mismatches bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS sweep_wrapped integer NOT NULL DEFAULT 0, -- kinds (1 plans, 2 calls, 4 payments) gone round
    ADD COLUMN IF NOT EXISTS sweep_started_at timestamptz,
    ADD COLUMN IF NOT EXISTS last_sweep_mismatches bigint,
    ADD COLUMN IF NOT EXISTS last_sweep_at timestamptz,
    -- caught_up_at: every event committed before it is loaded (the time of a
    -- look at the outbox that found nothing left; wall clock, not kept.now()).
    ADD COLUMN IF NOT EXISTS caught_up_at timestamptz;

-- A new version: drop what changed shape (and, with CASCADE, the functions
-- whose arguments are its row types), rewind, and ask for a rebuild when
-- there were facts of an older shape or when analytics lives in a database
-- of its own (its first load may meet an operational database that has run
-- for years). A new analytics beside a new operational database loads the
-- outbox from its start instead: everything that ever happened is there.
DO $$
DECLARE
    analytics_version CONSTANT integer := 3;
    v_rebuild boolean := (SELECT version FROM analytics.meta) IS NOT NULL
                         OR to_regclass('analytics.fact_plan') IS NOT NULL OR to_regnamespace('kept') IS NULL;
BEGIN
    IF (SELECT version FROM analytics.meta) IS NOT DISTINCT FROM analytics_version THEN
        RETURN;
    END IF;
    DROP VIEW IF EXISTS analytics.plan_summary;
    DROP TABLE IF EXISTS analytics.fact_plan, analytics.fact_installment, analytics.fact_call,
                         analytics.fact_payment, analytics.agg_week, analytics.agg_plan CASCADE;
    UPDATE analytics.loader_state
    SET last_tx_id = '0'::xid8, last_event_id = 0, last_event_at = NULL, events_loaded = 0, caught_up_at = NULL,
        rebuild_needed = v_rebuild, verify_after_plan = 0, verify_after_call = 0, verify_after_payment = 0,
        sweep_mismatches = 0,
        last_sweep_mismatches = NULL;
    INSERT INTO analytics.meta VALUES (1, analytics_version)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
END $$;

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

-- ---- facts ----------------------------------------------------------------------------
-- Updates mostly change measures (outcome, amounts), which no index covers,
-- so with room left on each page they stay in place (HOT).

-- One row per plan: its terms and where it stands. Its adherence (judged,
-- kept, ...) is the sum of its installments: analytics.plan_summary.
CREATE TABLE IF NOT EXISTS analytics.fact_plan (
    plan_id                bigint PRIMARY KEY,
    account_id             bigint NOT NULL,
    creditor               text NOT NULL,   -- its account's (finance sees the reports of its team's creditors)
    agent_user_id          bigint,          -- the user who agreed it (NULL: kept's command line)
    agent_name             text,            -- their name (a new name is a user_renamed event)
    origin                 text NOT NULL,   -- customer_proposed, agent_set, settlement
    channel                text NOT NULL,   -- agent, self_service, ivr, import
    status                 text NOT NULL,
    in_policy              boolean NOT NULL,
    currency               text NOT NULL,
    weekly_amount_cents    bigint NOT NULL,
    total_cents            bigint NOT NULL,
    balance_at_start_cents bigint NOT NULL,
    weekly_share           numeric NOT NULL, -- weekly amount / balance at start, 6 places
    weeks                  integer NOT NULL,
    start_date             date NOT NULL,    -- its first due date
    start_week             date NOT NULL,
    created_at             timestamptz NOT NULL,
    activated_at           timestamptz,      -- NULL: never became the customer's commitment
    ended_at               timestamptz
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS fact_plan_agent_idx ON analytics.fact_plan (agent_user_id);
CREATE INDEX IF NOT EXISTS fact_plan_start_idx ON analytics.fact_plan (start_week);
CREATE INDEX IF NOT EXISTS fact_plan_ended_idx ON analytics.fact_plan (ended_at) WHERE status IN ('broken', 'completed');

CREATE TABLE IF NOT EXISTS analytics.fact_installment (
    plan_id             bigint NOT NULL,
    seq                 integer NOT NULL,
    account_id          bigint NOT NULL,
    creditor            text NOT NULL,
    agent_user_id       bigint,
    origin              text NOT NULL,
    channel             text NOT NULL,
    currency            text NOT NULL,
    due_date            date NOT NULL,
    due_week            date NOT NULL,
    plan_start_week     date NOT NULL,
    weeks_since_start   integer NOT NULL, -- 1 for the plan's first week
    amount_due_cents    bigint NOT NULL,
    amount_paid_cents   bigint NOT NULL,
    paid_by_due_cents   bigint NOT NULL,
    paid_by_grace_cents bigint NOT NULL,
    outcome             text NOT NULL,    -- scheduled, kept, kept_late, partial, missed, waived (not due)
    plan_status         text NOT NULL,    -- its plan's status (arrears are owed on active plans)
    days_late           integer,          -- kept_late: days past the due date when it was made whole
    reminded            boolean NOT NULL, -- a reminder call for it reached the provider
    reminder_purposes   text[] NOT NULL,
    PRIMARY KEY (plan_id, seq)
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS fact_installment_due_idx ON analytics.fact_installment (due_date);
CREATE INDEX IF NOT EXISTS fact_installment_cohort_idx ON analytics.fact_installment (plan_start_week, weeks_since_start);

CREATE TABLE IF NOT EXISTS analytics.fact_call (
    call_id        bigint PRIMARY KEY,
    account_id     bigint NOT NULL,
    creditor       text NOT NULL,
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
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS fact_call_date_idx ON analytics.fact_call (call_date);

CREATE TABLE IF NOT EXISTS analytics.fact_payment (
    payment_id    bigint PRIMARY KEY,
    account_id    bigint NOT NULL,
    creditor      text NOT NULL,
    plan_id       bigint,
    amount_cents  bigint NOT NULL,
    currency      text NOT NULL,
    received_date date NOT NULL,       -- in the customer's time zone
    source        text NOT NULL,
    status        text NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS fact_payment_date_idx ON analytics.fact_payment (received_date);

-- Which creditors a report covers: keptd sets kept.report_creditors (SET
-- LOCAL, a PostgreSQL array literal) to the creditors of a finance user's
-- team before it runs a report; unset (an analyst with psql, an admin),
-- every creditor. Every report filters its rows with it.
-- (Once set in a session, the setting reads '' after its transaction: the
-- CASE keeps '' from ever being read as an array.)
CREATE OR REPLACE FUNCTION analytics.in_scope(p_creditor text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(current_setting('kept.report_creditors', true), '') = ''
    OR p_creditor = ANY (CASE WHEN coalesce(current_setting('kept.report_creditors', true), '') <> ''
                              THEN current_setting('kept.report_creditors', true)::text[] END);

-- ---- pre-aggregates -----------------------------------------------------------------------
-- What the reports read, so they stay fast at millions of facts. Waived
-- installments (of plans that ended early) are not due: they are counted
-- apart and in no sum of money due or collected.
CREATE TABLE IF NOT EXISTS analytics.agg_week (
    due_week               date NOT NULL,
    origin                 text NOT NULL,
    currency               text NOT NULL,
    creditor               text NOT NULL,
    installments           bigint NOT NULL, -- due (not waived)
    waived                 bigint NOT NULL,
    scheduled              bigint NOT NULL, -- due, not judged yet
    judged                 bigint NOT NULL,
    kept                   bigint NOT NULL,
    kept_late              bigint NOT NULL,
    partial                bigint NOT NULL,
    missed                 bigint NOT NULL,
    due_cents              bigint NOT NULL, -- on the installments due
    collected_cents        bigint NOT NULL, -- paid on them, late or not
    due_judged_cents       bigint NOT NULL, -- on the judged ones
    collected_judged_cents bigint NOT NULL,
    PRIMARY KEY (due_week, origin, currency, creditor)
);

CREATE TABLE IF NOT EXISTS analytics.agg_plan (
    start_week             date NOT NULL,
    origin                 text NOT NULL,
    channel                text NOT NULL,
    agent_user_id          bigint NOT NULL, -- 0: none recorded
    currency               text NOT NULL,
    creditor               text NOT NULL,
    plans                  bigint NOT NULL, -- every plan made, activated or not
    activated              bigint NOT NULL, -- became the customer's commitment
    active                 bigint NOT NULL,
    completed              bigint NOT NULL,
    broken                 bigint NOT NULL,
    weekly_share_sum       numeric NOT NULL, -- over the activated plans
    judged                 bigint NOT NULL, -- installments judged
    kept_any               bigint NOT NULL, -- kept + kept_late
    due_judged_cents       bigint NOT NULL,
    collected_judged_cents bigint NOT NULL,
    in_arrears             bigint NOT NULL, -- judged installments of active plans not paid in full
    arrears_cents          bigint NOT NULL, -- what they still lack
    PRIMARY KEY (start_week, origin, channel, agent_user_id, currency, creditor)
);

-- A plan with its adherence so far, for analysts.
CREATE OR REPLACE VIEW analytics.plan_summary AS
SELECT p.*, coalesce(i.judged, 0) AS judged, coalesce(i.kept, 0) AS kept, coalesce(i.kept_late, 0) AS kept_late,
       coalesce(i.partial, 0) AS partial, coalesce(i.missed, 0) AS missed, coalesce(i.waived, 0) AS waived,
       coalesce(i.due_judged_cents, 0) AS due_judged_cents, coalesce(i.collected_cents, 0) AS collected_cents,
       coalesce(i.collected_judged_cents, 0) AS collected_judged_cents
FROM analytics.fact_plan p
LEFT JOIN (
    SELECT plan_id,
           count(*) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')) AS judged,
           count(*) FILTER (WHERE outcome = 'kept') AS kept, count(*) FILTER (WHERE outcome = 'kept_late') AS kept_late,
           count(*) FILTER (WHERE outcome = 'partial') AS partial, count(*) FILTER (WHERE outcome = 'missed') AS missed,
           count(*) FILTER (WHERE outcome = 'waived') AS waived,
           sum(amount_due_cents) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')) AS due_judged_cents,
           sum(amount_paid_cents) AS collected_cents,
           sum(amount_paid_cents) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed'))
               AS collected_judged_cents
    FROM analytics.fact_installment GROUP BY plan_id) i ON i.plan_id = p.plan_id;

-- ---- aggregates follow the facts -------------------------------------------------------------
-- The facts' contributions: each row of `source` (sign, fact row) adds sign x
-- its measures to its group. The statements are built once here and run by
-- the triggers over the statement's transition tables (new_rows, old_rows).

-- The rows an INSERT, UPDATE or DELETE brought (+1) and took away (-1).
CREATE OR REPLACE FUNCTION analytics.delta_source(p_op text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE p_op WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
                 WHEN 'UPDATE' THEN 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o'
                 ELSE 'SELECT -1 AS sign, o.* FROM old_rows o' END;

CREATE OR REPLACE FUNCTION analytics.installments_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    v_judged CONSTANT text := $$outcome IN ('kept', 'kept_late', 'partial', 'missed')$$;
BEGIN
    EXECUTE format($q$
        WITH d AS (%1$s)
        INSERT INTO analytics.agg_week AS a
        SELECT due_week, origin, currency, creditor,
               sum(CASE WHEN outcome <> 'waived' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'waived' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'scheduled' THEN sign ELSE 0 END),
               sum(CASE WHEN %2$s THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'kept' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'kept_late' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'partial' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome = 'missed' THEN sign ELSE 0 END),
               sum(CASE WHEN outcome <> 'waived' THEN sign * amount_due_cents ELSE 0 END),
               sum(CASE WHEN outcome <> 'waived' THEN sign * amount_paid_cents ELSE 0 END),
               sum(CASE WHEN %2$s THEN sign * amount_due_cents ELSE 0 END),
               sum(CASE WHEN %2$s THEN sign * amount_paid_cents ELSE 0 END)
        FROM d GROUP BY due_week, origin, currency, creditor
        ON CONFLICT (due_week, origin, currency, creditor) DO UPDATE SET
            installments = a.installments + EXCLUDED.installments, waived = a.waived + EXCLUDED.waived,
            scheduled = a.scheduled + EXCLUDED.scheduled, judged = a.judged + EXCLUDED.judged,
            kept = a.kept + EXCLUDED.kept, kept_late = a.kept_late + EXCLUDED.kept_late,
            partial = a.partial + EXCLUDED.partial, missed = a.missed + EXCLUDED.missed,
            due_cents = a.due_cents + EXCLUDED.due_cents, collected_cents = a.collected_cents + EXCLUDED.collected_cents,
            due_judged_cents = a.due_judged_cents + EXCLUDED.due_judged_cents,
            collected_judged_cents = a.collected_judged_cents + EXCLUDED.collected_judged_cents$q$,
        analytics.delta_source(TG_OP), v_judged);
    EXECUTE format($q$
        WITH d AS (%1$s)
        INSERT INTO analytics.agg_plan AS a
        SELECT plan_start_week, origin, channel, coalesce(agent_user_id, 0), currency, creditor, 0, 0, 0, 0, 0, 0,
               sum(CASE WHEN %2$s THEN sign ELSE 0 END),
               sum(CASE WHEN outcome IN ('kept', 'kept_late') THEN sign ELSE 0 END),
               sum(CASE WHEN %2$s THEN sign * amount_due_cents ELSE 0 END),
               sum(CASE WHEN %2$s THEN sign * amount_paid_cents ELSE 0 END),
               sum(CASE WHEN %2$s AND plan_status = 'active' AND amount_paid_cents < amount_due_cents
                        THEN sign ELSE 0 END),
               sum(CASE WHEN %2$s AND plan_status = 'active'
                        THEN sign * greatest(amount_due_cents - amount_paid_cents, 0) ELSE 0 END)
        FROM d GROUP BY plan_start_week, origin, channel, coalesce(agent_user_id, 0), currency, creditor
        ON CONFLICT (start_week, origin, channel, agent_user_id, currency, creditor) DO UPDATE SET
            judged = a.judged + EXCLUDED.judged, kept_any = a.kept_any + EXCLUDED.kept_any,
            due_judged_cents = a.due_judged_cents + EXCLUDED.due_judged_cents,
            collected_judged_cents = a.collected_judged_cents + EXCLUDED.collected_judged_cents,
            in_arrears = a.in_arrears + EXCLUDED.in_arrears, arrears_cents = a.arrears_cents + EXCLUDED.arrears_cents$q$,
        analytics.delta_source(TG_OP), v_judged);
    IF TG_OP <> 'INSERT' THEN -- facts that moved or went away can leave empty groups behind
        EXECUTE format($q$
            WITH d AS (%s)
            DELETE FROM analytics.agg_week a USING (SELECT DISTINCT due_week, origin, currency, creditor FROM d) g
            WHERE (a.due_week, a.origin, a.currency, a.creditor) = (g.due_week, g.origin, g.currency, g.creditor)
              AND a.installments = 0 AND a.waived = 0$q$, analytics.delta_source(TG_OP));
        EXECUTE format(analytics.prune_plan_groups_sql(), analytics.delta_source(TG_OP), 'plan_start_week');
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION analytics.plans_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO analytics.agg_plan AS a
        SELECT start_week, origin, channel, coalesce(agent_user_id, 0), currency, creditor, sum(sign),
               sum(CASE WHEN activated_at IS NOT NULL THEN sign ELSE 0 END),
               sum(CASE WHEN status = 'active' THEN sign ELSE 0 END),
               sum(CASE WHEN status = 'completed' THEN sign ELSE 0 END),
               sum(CASE WHEN status = 'broken' THEN sign ELSE 0 END),
               sum(CASE WHEN activated_at IS NOT NULL THEN sign * weekly_share ELSE 0 END), 0, 0, 0, 0, 0, 0
        FROM d GROUP BY start_week, origin, channel, coalesce(agent_user_id, 0), currency, creditor
        ON CONFLICT (start_week, origin, channel, agent_user_id, currency, creditor) DO UPDATE SET
            plans = a.plans + EXCLUDED.plans, activated = a.activated + EXCLUDED.activated,
            active = a.active + EXCLUDED.active, completed = a.completed + EXCLUDED.completed,
            broken = a.broken + EXCLUDED.broken, weekly_share_sum = a.weekly_share_sum + EXCLUDED.weekly_share_sum$q$,
        analytics.delta_source(TG_OP));
    IF TG_OP <> 'INSERT' THEN
        EXECUTE format(analytics.prune_plan_groups_sql(), analytics.delta_source(TG_OP), 'start_week');
    END IF;
    RETURN NULL;
END $fn$;

-- Deletes the plan groups the changed rows (%1$s, their start week in
-- column %2$s) left empty: no plan and no installment counts there any more.
CREATE OR REPLACE FUNCTION analytics.prune_plan_groups_sql() RETURNS text
LANGUAGE sql IMMUTABLE
RETURN $q$
    WITH d AS (%1$s)
    DELETE FROM analytics.agg_plan a
    USING (SELECT DISTINCT %2$s AS start_week, origin, channel, coalesce(agent_user_id, 0) AS agent, currency, creditor
           FROM d) g
    WHERE (a.start_week, a.origin, a.channel, a.agent_user_id, a.currency, a.creditor)
          = (g.start_week, g.origin, g.channel, g.agent, g.currency, g.creditor)
      AND a.plans = 0 AND a.judged = 0 AND a.activated = 0 AND a.due_judged_cents = 0 AND a.collected_judged_cents = 0
      AND a.in_arrears = 0 AND a.arrears_cents = 0$q$;

-- One trigger per event: a trigger with transition tables fires for one kind
-- of statement only. INSERT ... ON CONFLICT DO UPDATE fires both the insert
-- and the update trigger, each with its own rows.
DO $$
DECLARE
    t record;
    op text;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('fact_installment', 'installments_changed'),
                                   ('fact_plan', 'plans_changed')) v(tbl, fn) LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %1$s_%2$s ON analytics.%1$s', t.tbl, op);
            EXECUTE format('CREATE TRIGGER %1$s_%2$s AFTER %2$s ON analytics.%1$s REFERENCING %3$s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION analytics.%4$s()', t.tbl, op,
                           CASE op WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                   WHEN 'update' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                   ELSE 'OLD TABLE AS old_rows' END, t.fn);
        END LOOP;
    END LOOP;
END $$;

-- TRUNCATE fires no row-level deltas: truncating a fact table (an analyst's
-- SQL) empties what it fed in the aggregates.
CREATE OR REPLACE FUNCTION analytics.facts_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'fact_installment' THEN
        TRUNCATE analytics.agg_week;
        UPDATE analytics.agg_plan SET judged = 0, kept_any = 0, due_judged_cents = 0, collected_judged_cents = 0,
                                      in_arrears = 0, arrears_cents = 0;
    ELSE
        UPDATE analytics.agg_plan SET plans = 0, activated = 0, active = 0, completed = 0, broken = 0,
                                      weekly_share_sum = 0;
    END IF;
    DELETE FROM analytics.agg_plan
    WHERE plans = 0 AND judged = 0 AND activated = 0 AND due_judged_cents = 0 AND collected_judged_cents = 0
      AND in_arrears = 0 AND arrears_cents = 0;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS fact_installment_truncate ON analytics.fact_installment;
CREATE TRIGGER fact_installment_truncate AFTER TRUNCATE ON analytics.fact_installment
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.facts_truncated();
DROP TRIGGER IF EXISTS fact_plan_truncate ON analytics.fact_plan;
CREATE TRIGGER fact_plan_truncate AFTER TRUNCATE ON analytics.fact_plan
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.facts_truncated();

-- ---- writing facts ---------------------------------------------------------------------------
-- analytics.write_<fact>(rows) upserts whole rows and answers how many
-- changed; a row equal to the stored one is left alone. The SET list is read
-- from the catalog when this file runs, so it is every column there is.
DO $gen$
DECLARE
    t record;
    v_cols text;
    v_new text;
    v_old text;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('fact_plan', ARRAY['plan_id']), ('fact_installment', ARRAY['plan_id', 'seq']),
                                   ('fact_call', ARRAY['call_id']), ('fact_payment', ARRAY['payment_id'])) v(tbl, key)
    LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
               string_agg('EXCLUDED.' || quote_ident(a.attname), ', ' ORDER BY a.attnum),
               string_agg('f.' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
        INTO v_cols, v_new, v_old
        FROM pg_attribute a
        WHERE a.attrelid = format('analytics.%I', t.tbl)::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname <> ALL (t.key);
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION analytics.write_%1$s(p_rows analytics.%1$s[]) RETURNS bigint
            LANGUAGE sql AS $body$
                WITH written AS (
                    INSERT INTO analytics.%1$s AS f SELECT * FROM unnest(p_rows)
                    ON CONFLICT (%2$s) DO UPDATE SET (%3$s) = ROW(%4$s)
                    WHERE ROW(%5$s) IS DISTINCT FROM ROW(%4$s)
                    RETURNING 1)
                SELECT count(*) FROM written;
            $body$$f$, t.tbl, array_to_string(t.key, ', '), v_cols, v_new, v_old);
    END LOOP;
END $gen$;

-- A repair: the facts of the given plans (with their installments), calls
-- and payments become exactly the operational rows given (JSON arrays of
-- fact rows); a fact whose operational row is gone goes too. Answers the
-- number of facts written or removed.
CREATE OR REPLACE FUNCTION analytics.replace(p_plans bigint[], p_calls bigint[], p_payments bigint[],
                                             p_plan_rows json, p_installment_rows json, p_call_rows json,
                                             p_payment_rows json)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total bigint := 0;
BEGIN
    DELETE FROM analytics.fact_installment f WHERE f.plan_id = ANY (p_plans) AND NOT EXISTS (
        SELECT 1 FROM json_populate_recordset(NULL::analytics.fact_installment, p_installment_rows) r
        WHERE (r.plan_id, r.seq) = (f.plan_id, f.seq));
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM analytics.fact_plan f WHERE f.plan_id = ANY (p_plans) AND NOT EXISTS (
        SELECT 1 FROM json_populate_recordset(NULL::analytics.fact_plan, p_plan_rows) r WHERE r.plan_id = f.plan_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM analytics.fact_call f WHERE f.call_id = ANY (p_calls) AND NOT EXISTS (
        SELECT 1 FROM json_populate_recordset(NULL::analytics.fact_call, p_call_rows) r WHERE r.call_id = f.call_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM analytics.fact_payment f WHERE f.payment_id = ANY (p_payments) AND NOT EXISTS (
        SELECT 1 FROM json_populate_recordset(NULL::analytics.fact_payment, p_payment_rows) r
        WHERE r.payment_id = f.payment_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN total + n + analytics.write_json(p_plan_rows, p_installment_rows, p_call_rows, p_payment_rows);
END $$;

-- Applies one batch carried from another database, in the caller's
-- transaction: every fact, then the cursor — but only if the batch starts
-- where the cursor is (a batch applied twice, or by two loaders at once, is
-- refused: answers -1). Answers the events it loaded. Each JSON array is
-- parsed once.
DROP FUNCTION IF EXISTS analytics.apply(json);
DROP FUNCTION IF EXISTS analytics.apply(jsonb);
DROP FUNCTION IF EXISTS analytics.add_deltas(json);
DROP FUNCTION IF EXISTS analytics.add_deltas(jsonb);
CREATE OR REPLACE FUNCTION analytics.apply(p_from_tx xid8, p_from_id bigint, p_to_tx xid8, p_to_id bigint,
                                           p_events bigint, p_last_at timestamptz, p_plans json,
                                           p_installments json, p_calls json, p_payments json)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    s analytics.loader_state;
BEGIN
    SELECT * INTO s FROM analytics.loader_state WHERE id = 1 FOR UPDATE;
    IF (s.last_tx_id, s.last_event_id) <> (p_from_tx, p_from_id) THEN
        RETURN -1;
    END IF;
    PERFORM analytics.write_json(p_plans, p_installments, p_calls, p_payments);
    PERFORM analytics.advance(p_to_tx, p_to_id, p_events, p_last_at);
    RETURN p_events;
END $$;

-- Writes facts carried as JSON arrays of fact rows; answers how many changed.
CREATE OR REPLACE FUNCTION analytics.write_json(p_plans json, p_installments json, p_calls json, p_payments json)
RETURNS bigint LANGUAGE sql AS $$
    SELECT analytics.write_fact_plan(ARRAY(SELECT json_populate_recordset(NULL::analytics.fact_plan, p_plans)))
         + analytics.write_fact_installment(ARRAY(
               SELECT json_populate_recordset(NULL::analytics.fact_installment, p_installments)))
         + analytics.write_fact_call(ARRAY(SELECT json_populate_recordset(NULL::analytics.fact_call, p_calls)))
         + analytics.write_fact_payment(ARRAY(SELECT json_populate_recordset(NULL::analytics.fact_payment, p_payments)));
$$;

-- Moves the cursor past a batch of p_events events.
CREATE OR REPLACE FUNCTION analytics.advance(p_to_tx xid8, p_to_id bigint, p_events bigint, p_last_at timestamptz)
RETURNS void LANGUAGE sql AS $$
    UPDATE analytics.loader_state
    SET last_tx_id = p_to_tx, last_event_id = p_to_id, last_event_at = coalesce(p_last_at, last_event_at),
        events_loaded = events_loaded + p_events, loaded_at = now()
    WHERE id = 1;
$$;

-- The loader looked at the outbox at p_at (the operational database's clock)
-- and found nothing after its cursor: everything committed before p_at is in.
CREATE OR REPLACE FUNCTION analytics.caught_up(p_at timestamptz)
RETURNS void LANGUAGE sql AS $$
    UPDATE analytics.loader_state SET caught_up_at = greatest(caught_up_at, p_at)
    WHERE id = 1 AND NOT rebuild_needed;
$$;

-- A rebuild, in the caller's transaction (readers keep seeing the old facts
-- until it commits): every fact goes (the triggers empty the aggregates with
-- them) and the cursor is put at p_tx/p_id, the last event the rebuild's
-- pages will already reflect.
DROP FUNCTION IF EXISTS analytics.reset();
DROP FUNCTION IF EXISTS analytics.set_cursor(xid8, bigint);
CREATE OR REPLACE FUNCTION analytics.rebuild_begin(p_tx xid8, p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM analytics.loader_state WHERE id = 1 FOR UPDATE;
    DELETE FROM analytics.fact_installment;
    DELETE FROM analytics.fact_plan;
    DELETE FROM analytics.fact_call;
    DELETE FROM analytics.fact_payment;
    UPDATE analytics.loader_state
    SET last_tx_id = p_tx, last_event_id = p_id, loaded_at = now(), rebuild_needed = false, rebuilt_at = now(),
        verify_after_plan = 0, verify_after_call = 0, verify_after_payment = 0, sweep_mismatches = 0,
        sweep_started_at = now()
    WHERE id = 1;
END $$;

-- ---- checking -------------------------------------------------------------------------------
-- The differences between operational fact rows and the stored facts whose
-- key lies in (p_from, p_to] on column p_range, leaving out the entities in
-- p_skip (those with events the loader has not reached). The operational
-- rows come from p_source: 'json', p_arg is a JSON array of rows carried
-- from another database (analytics.fact_differences); 'local', p_arg is the
-- page's ids and the rows are kept's own extraction, in the operational
-- database (kept.analytics_local_differences). Rows are
-- compared whole; only those that differ are taken apart, one row per
-- differing column; a row present on one side only is one row with column
-- '*'. At most p_limit rows, each with the total count and the entity's id.
DROP FUNCTION IF EXISTS analytics.fact_differences(text, json, text, bigint, bigint, bigint[], integer);
DROP FUNCTION IF EXISTS analytics.differences_of(text, text, anyelement, text, bigint, bigint, bigint[], integer);
CREATE OR REPLACE FUNCTION analytics.differences_of(p_fact text, p_source text, p_arg anyelement, p_range text,
                                                    p_from bigint, p_to bigint, p_skip bigint[], p_limit integer)
RETURNS TABLE (entity text, key jsonb, column_name text, analytics_value text, operational_value text,
               total bigint, id bigint)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    v_key text[] := CASE p_fact WHEN 'fact_installment' THEN ARRAY['plan_id', 'seq']
                                WHEN 'fact_plan' THEN ARRAY['plan_id'] WHEN 'fact_call' THEN ARRAY['call_id']
                                WHEN 'fact_payment' THEN ARRAY['payment_id'] END;
    v_rows text := CASE p_source
        WHEN 'json' THEN format('SELECT * FROM json_populate_recordset(NULL::analytics.%I, $1)', p_fact)
        WHEN 'local' THEN CASE p_fact
            WHEN 'fact_plan' THEN 'SELECT * FROM kept.analytics_plan_rows($1)'
            WHEN 'fact_installment' THEN 'SELECT * FROM kept.analytics_installment_rows($1, ''{}'', ''{}'')'
            WHEN 'fact_call' THEN 'SELECT * FROM kept.analytics_call_rows($1)'
            WHEN 'fact_payment' THEN 'SELECT * FROM kept.analytics_payment_rows($1)' END END;
BEGIN
    IF v_key IS NULL OR v_rows IS NULL OR p_range NOT IN ('plan_id', 'call_id', 'payment_id') THEN
        RAISE EXCEPTION 'analytics.differences_of: no fact % from %', p_fact, p_source;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH op AS MATERIALIZED (
            SELECT r.* FROM (%5$s) r WHERE r.%2$I > $2 AND r.%2$I <= $3 AND r.%2$I <> ALL ($4)
        ), an AS MATERIALIZED (
            SELECT f.* FROM analytics.%1$I f WHERE f.%2$I > $2 AND f.%2$I <= $3 AND f.%2$I <> ALL ($4)
        ), pairs AS (
            SELECT to_jsonb(an) AS a, to_jsonb(op) AS o
            FROM op FULL JOIN an ON (%3$s) WHERE op IS DISTINCT FROM an
        ), diffs AS (
            SELECT coalesce(a, o) AS any_row, '*' AS column_name,
                   CASE WHEN a IS NULL THEN '(no fact)' ELSE '(a fact)' END AS a_value,
                   CASE WHEN o IS NULL THEN '(no operational row)' ELSE '(an operational row)' END AS o_value
            FROM pairs WHERE a IS NULL OR o IS NULL
            UNION ALL
            SELECT o, c, a->>c, o->>c
            FROM pairs, jsonb_object_keys(o) c WHERE a IS NOT NULL AND o IS NOT NULL AND (a->c) IS DISTINCT FROM (o->c)
        )
        SELECT %4$L::text, (SELECT jsonb_object_agg(k, any_row->k) FROM unnest($5::text[]) k), column_name,
               a_value, o_value, count(*) OVER (), (any_row->>%2$L)::bigint
        FROM diffs ORDER BY (any_row->>%2$L)::bigint, any_row::text, column_name LIMIT $6$q$,
        p_fact, p_range, (SELECT string_agg(format('op.%1$I = an.%1$I', k), ' AND ') FROM unnest(v_key) k),
        p_fact, v_rows)
    USING p_arg, p_from, p_to, coalesce(p_skip, '{}'), v_key, p_limit;
END $fn$;
REVOKE EXECUTE ON FUNCTION analytics.differences_of(text, text, anyelement, text, bigint, bigint, bigint[], integer)
    FROM PUBLIC;

-- The same, for operational rows carried as JSON from another database.
CREATE OR REPLACE FUNCTION analytics.fact_differences(p_fact text, p_rows json, p_range text, p_from bigint,
                                                      p_to bigint, p_skip bigint[], p_limit integer)
RETURNS TABLE (entity text, key jsonb, column_name text, analytics_value text, operational_value text,
               total bigint, id bigint)
LANGUAGE sql STABLE AS $$
    SELECT * FROM analytics.differences_of(p_fact, 'json', p_rows, p_range, p_from, p_to, p_skip, p_limit);
$$;

-- The aggregates as the facts say they should be (optionally for one due
-- week and one plan start week only).
CREATE OR REPLACE FUNCTION analytics.expected_agg_week(p_week date) RETURNS SETOF analytics.agg_week
LANGUAGE sql STABLE AS $$
    SELECT due_week, origin, currency, creditor,
           count(*) FILTER (WHERE outcome <> 'waived'), count(*) FILTER (WHERE outcome = 'waived'),
           count(*) FILTER (WHERE outcome = 'scheduled'),
           count(*) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')),
           count(*) FILTER (WHERE outcome = 'kept'), count(*) FILTER (WHERE outcome = 'kept_late'),
           count(*) FILTER (WHERE outcome = 'partial'), count(*) FILTER (WHERE outcome = 'missed'),
           coalesce(sum(amount_due_cents) FILTER (WHERE outcome <> 'waived'), 0),
           coalesce(sum(amount_paid_cents) FILTER (WHERE outcome <> 'waived'), 0),
           coalesce(sum(amount_due_cents) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0),
           coalesce(sum(amount_paid_cents) FILTER (WHERE outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0)
    FROM analytics.fact_installment
    WHERE p_week IS NULL OR (due_date >= p_week AND due_date < p_week + 7)
    GROUP BY due_week, origin, currency, creditor;
$$;

CREATE OR REPLACE FUNCTION analytics.expected_agg_plan(p_week date) RETURNS SETOF analytics.agg_plan
LANGUAGE sql STABLE AS $$
    SELECT start_week, origin, channel, agent, currency, creditor, sum(plans), sum(activated), sum(active), sum(completed),
           sum(broken), sum(share), sum(judged), sum(kept_any), sum(due_judged), sum(collected_judged),
           sum(in_arrears), sum(arrears)
    FROM (
        SELECT start_week, origin, channel, coalesce(agent_user_id, 0) AS agent, currency, creditor, 1 AS plans,
               (activated_at IS NOT NULL)::int AS activated, (status = 'active')::int AS active,
               (status = 'completed')::int AS completed, (status = 'broken')::int AS broken,
               CASE WHEN activated_at IS NOT NULL THEN weekly_share ELSE 0 END AS share,
               0 AS judged, 0 AS kept_any, 0 AS due_judged, 0 AS collected_judged, 0 AS in_arrears, 0 AS arrears
        FROM analytics.fact_plan WHERE p_week IS NULL OR start_week = p_week
        UNION ALL
        SELECT plan_start_week, origin, channel, coalesce(agent_user_id, 0), currency, creditor, 0, 0, 0, 0, 0, 0,
               (outcome IN ('kept', 'kept_late', 'partial', 'missed'))::int,
               (outcome IN ('kept', 'kept_late'))::int,
               CASE WHEN outcome IN ('kept', 'kept_late', 'partial', 'missed') THEN amount_due_cents ELSE 0 END,
               CASE WHEN outcome IN ('kept', 'kept_late', 'partial', 'missed') THEN amount_paid_cents ELSE 0 END,
               (outcome IN ('kept', 'kept_late', 'partial', 'missed') AND plan_status = 'active'
                AND amount_paid_cents < amount_due_cents)::int,
               CASE WHEN outcome IN ('kept', 'kept_late', 'partial', 'missed') AND plan_status = 'active'
                    THEN greatest(amount_due_cents - amount_paid_cents, 0) ELSE 0 END
        FROM analytics.fact_installment WHERE p_week IS NULL OR plan_start_week = p_week) x
    GROUP BY start_week, origin, channel, agent, currency, creditor;
$$;

-- Stored aggregates against the facts: every group (p_week NULL) or the
-- groups of one week. Same shape as fact_differences.
DROP FUNCTION IF EXISTS analytics.aggregate_differences(date, integer);
CREATE OR REPLACE FUNCTION analytics.aggregate_differences(p_week date, p_limit integer)
RETURNS TABLE (entity text, key jsonb, column_name text, analytics_value text, operational_value text,
               total bigint, id bigint)
LANGUAGE sql STABLE AS $$
    WITH pairs AS (
        SELECT 'agg_week' AS entity, to_jsonb(s) AS a, to_jsonb(e) AS o,
               ARRAY['due_week', 'origin', 'currency', 'creditor'] AS k
        FROM (SELECT * FROM analytics.agg_week WHERE p_week IS NULL OR due_week = p_week) s
        FULL JOIN analytics.expected_agg_week(p_week) e USING (due_week, origin, currency, creditor)
        UNION ALL
        SELECT 'agg_plan', to_jsonb(s), to_jsonb(e),
               ARRAY['start_week', 'origin', 'channel', 'agent_user_id', 'currency', 'creditor']
        FROM (SELECT * FROM analytics.agg_plan WHERE p_week IS NULL OR start_week = p_week) s
        FULL JOIN analytics.expected_agg_plan(p_week) e
            USING (start_week, origin, channel, agent_user_id, currency, creditor)
    ), diffs AS (
        SELECT entity, (SELECT jsonb_object_agg(x, coalesce(a, o)->x) FROM unnest(k) x) AS key, c AS column_name,
               a->>c AS a_value, o->>c AS o_value
        FROM pairs, jsonb_object_keys(coalesce(a, o)) c
        WHERE c <> ALL (k) AND (a->c)::numeric IS DISTINCT FROM (o->c)::numeric
          AND (coalesce(a->>c, '0')::numeric <> 0 OR coalesce(o->>c, '0')::numeric <> 0)
    )
    SELECT entity, key, column_name, a_value, o_value, count(*) OVER (), NULL::bigint
    FROM diffs ORDER BY entity, key::text, column_name LIMIT p_limit;
$$;

-- The aggregates computed again from the facts (a repair of aggregates that
-- were changed by hand). The facts are not touched.
CREATE OR REPLACE FUNCTION analytics.recompute_aggregates() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM analytics.agg_week;
    DELETE FROM analytics.agg_plan;
    INSERT INTO analytics.agg_week SELECT * FROM analytics.expected_agg_week(NULL);
    INSERT INTO analytics.agg_plan SELECT * FROM analytics.expected_agg_plan(NULL);
$$;

-- The continuous check's bookkeeping: a slice found p_found differences and
-- went round the end of the kinds in p_wrapped (1 plans, 2 calls, 4
-- payments); a sweep is whole once every kind has gone round.
DROP FUNCTION IF EXISTS analytics.sweep_record(bigint, bigint, bigint, date, bigint, boolean);
CREATE OR REPLACE FUNCTION analytics.sweep_record(p_after_plan bigint, p_after_call bigint, p_after_payment bigint,
                                                  p_week date, p_found bigint, p_wrapped integer)
RETURNS analytics.loader_state LANGUAGE sql AS $$
    UPDATE analytics.loader_state
    SET verify_after_plan = p_after_plan, verify_after_call = p_after_call, verify_after_payment = p_after_payment,
        verify_week = p_week,
        sweep_mismatches = CASE WHEN sweep_wrapped | p_wrapped = 7 THEN 0 ELSE sweep_mismatches + p_found END,
        last_sweep_mismatches = CASE WHEN sweep_wrapped | p_wrapped = 7 THEN sweep_mismatches + p_found
                                     ELSE last_sweep_mismatches END,
        last_sweep_at = CASE WHEN sweep_wrapped | p_wrapped = 7 THEN now() ELSE last_sweep_at END,
        sweep_started_at = CASE WHEN sweep_wrapped | p_wrapped = 7 OR sweep_started_at IS NULL THEN now()
                                ELSE sweep_started_at END,
        sweep_wrapped = CASE WHEN sweep_wrapped | p_wrapped = 7 THEN 0 ELSE sweep_wrapped | p_wrapped END
    WHERE id = 1
    RETURNING *;
$$;

-- After a repair what the sweeps counted is history: they start again.
CREATE OR REPLACE FUNCTION analytics.sweep_reset() RETURNS void
LANGUAGE sql AS $$
    UPDATE analytics.loader_state
    SET sweep_mismatches = 0, last_sweep_mismatches = 0, sweep_wrapped = 0, sweep_started_at = now()
    WHERE id = 1;
$$;
