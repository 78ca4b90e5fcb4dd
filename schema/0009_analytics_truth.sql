-- 0009: what analytics needs to equal the operational truth.
--
-- A plan's channel: how it was agreed (an agent on the telephone or in
-- person, the customer's self-service page, the reminder call's key pad, a
-- history import). Plans made with `imported: true` came from another system.
ALTER TABLE kept.plans ADD COLUMN channel text NOT NULL DEFAULT 'agent'
    CONSTRAINT plans_channel_check CHECK (channel IN ('agent', 'self_service', 'ivr', 'import'));
UPDATE kept.plans SET channel = 'import' WHERE imported;

-- An account is placed on a date kept's calendar (analytics.dim_date) covers;
-- no payment is received before the day its account was placed.
-- NOT VALID: an existing database with older rows still migrates; new rows are checked.
ALTER TABLE kept.accounts ADD CONSTRAINT accounts_placed_on_check CHECK (placed_on >= DATE '2000-01-01') NOT VALID;

-- History from another system (POST /v1/imports/history): one row per file,
-- like payment files.
CREATE TABLE kept.history_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_sha256   text NOT NULL,
    records       integer NOT NULL,
    accounts      integer NOT NULL,
    plans         integer NOT NULL,
    payments      integer NOT NULL,
    reversals     integer NOT NULL,
    cancellations integer NOT NULL,
    imported_by   bigint REFERENCES kept.api_keys (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A call changes many times on many paths (queued, deferred, claimed, dialled,
-- each provider callback) and its analytics fact reads most of its columns:
-- rather than trusting every path to write an event, every statement that
-- inserts calls, or changes a column the fact reads, writes one call_changed
-- outbox event per row (sql/functions/91_analytics_extract.sql).
CREATE FUNCTION kept.calls_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
        SELECT 'call_changed', 'call', n.id, jsonb_build_object('state', n.state) FROM new_rows n;
    ELSE
        INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
        SELECT 'call_changed', 'call', n.id, jsonb_build_object('state', n.state)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (o.account_id, o.plan_id, o.seq, o.purpose, o.state, o.blocked_rule, o.deferred_rule, o.provider_sid,
               o.scheduled_at, o.dialed_at, o.answered_by, o.right_party, o.conversation_at, o.digits,
               CASE WHEN n.dialed_at IS NULL THEN o.updated_at END)
              IS DISTINCT FROM
              (n.account_id, n.plan_id, n.seq, n.purpose, n.state, n.blocked_rule, n.deferred_rule, n.provider_sid,
               n.scheduled_at, n.dialed_at, n.answered_by, n.right_party, n.conversation_at, n.digits,
               CASE WHEN n.dialed_at IS NULL THEN n.updated_at END);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER calls_outbox_insert AFTER INSERT ON kept.calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kept.calls_changed();
CREATE TRIGGER calls_outbox_update AFTER UPDATE ON kept.calls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kept.calls_changed();
