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
