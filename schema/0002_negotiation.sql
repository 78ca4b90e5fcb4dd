-- 0002 negotiation: policies, affordability, proposals, plans and their
-- installments, two-associate approvals, the review queue, settlement offers,
-- and the outbox the analytics loader will read.

-- ---- policy -----------------------------------------------------------------------
-- One default row (creditor NULL) and optional rows per creditor. A plan
-- copies the settings that judge it (grace, threshold, misses) when it is
-- made, so a later policy change never rewrites an existing commitment.
CREATE TABLE kept.policies (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    creditor               text,
    max_weeks              integer NOT NULL DEFAULT 104,
    grace_days             integer NOT NULL DEFAULT 3,
    kept_threshold_percent integer NOT NULL DEFAULT 100,
    breaks_after_misses    integer NOT NULL DEFAULT 2,
    min_settlement_percent integer NOT NULL DEFAULT 60,
    reminder_lead_days     integer NOT NULL DEFAULT 2,
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policies_creditor_check CHECK (creditor IS NULL OR kept.is_display_name(creditor)),
    CONSTRAINT policies_max_weeks_check CHECK (max_weeks BETWEEN 1 AND 520),
    CONSTRAINT policies_grace_days_check CHECK (grace_days BETWEEN 0 AND 28),
    CONSTRAINT policies_threshold_check CHECK (kept_threshold_percent BETWEEN 1 AND 100),
    CONSTRAINT policies_misses_check CHECK (breaks_after_misses BETWEEN 1 AND 52),
    CONSTRAINT policies_settlement_check CHECK (min_settlement_percent BETWEEN 1 AND 100),
    CONSTRAINT policies_lead_days_check CHECK (reminder_lead_days BETWEEN 0 AND 14)
);
CREATE UNIQUE INDEX policies_creditor_key ON kept.policies (coalesce(creditor, ''));
INSERT INTO kept.policies (creditor) VALUES (NULL);

-- ---- affordability -------------------------------------------------------------------
-- The UK Standard Financial Statement's shape: income lines, fixed costs,
-- flexible costs, each line monthly integer cents.
CREATE TABLE kept.affordability_assessments (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id                bigint NOT NULL REFERENCES kept.accounts (id),
    income                    jsonb NOT NULL,
    fixed_costs               jsonb NOT NULL,
    flexible_costs            jsonb NOT NULL,
    monthly_income_cents      bigint NOT NULL,
    monthly_expenditure_cents bigint NOT NULL,
    monthly_disposable_cents  bigint NOT NULL,
    weekly_disposable_cents   bigint NOT NULL,
    assessed_by               bigint REFERENCES kept.api_keys (id),
    created_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX affordability_account_idx ON kept.affordability_assessments (account_id, id DESC);

-- ---- proposals ----------------------------------------------------------------------------
-- One answer to "how much can you afford each week?" and kept's evaluation of it.
CREATE TABLE kept.proposals (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id                  bigint NOT NULL REFERENCES kept.accounts (id),
    weekly_amount_cents         bigint NOT NULL CHECK (weekly_amount_cents > 0),
    first_due_date              date NOT NULL,
    asked_by                    bigint REFERENCES kept.api_keys (id),
    note                        text,
    balance_cents               bigint NOT NULL,
    policy_id                   bigint NOT NULL REFERENCES kept.policies (id),
    max_weeks                   integer NOT NULL,
    policy_minimum_weekly_cents bigint NOT NULL,
    weeks_to_clear              integer NOT NULL,
    weekly_disposable_cents     bigint,
    in_policy                   boolean NOT NULL,
    reasons                     text[] NOT NULL,
    created_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proposals_account_idx ON kept.proposals (account_id, id);

-- ---- settlement offers ------------------------------------------------------------------
CREATE TABLE kept.settlement_offers (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id             bigint NOT NULL REFERENCES kept.accounts (id),
    offer_cents            bigint NOT NULL CHECK (offer_cents > 0),
    balance_cents          bigint NOT NULL,
    min_settlement_percent integer NOT NULL,
    floor_cents            bigint NOT NULL,
    counter_cents          bigint,
    status                 text NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'accepted', 'withdrawn')),
    offered_by             bigint REFERENCES kept.api_keys (id),
    note                   text,
    accepted_cents         bigint,
    accepted_at            timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_offers_account_idx ON kept.settlement_offers (account_id, id);

-- ---- plans and installments --------------------------------------------------------------
CREATE TABLE kept.plans (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id              bigint NOT NULL REFERENCES kept.accounts (id),
    origin                  text NOT NULL CHECK (origin IN ('customer_proposed', 'agent_set', 'settlement')),
    status                  text NOT NULL CHECK (status IN ('pending_approval', 'active', 'completed',
                                                            'broken', 'superseded', 'cancelled')),
    weekly_amount_cents     bigint NOT NULL CHECK (weekly_amount_cents > 0),
    first_due_date          date NOT NULL,
    installment_count       integer NOT NULL CHECK (installment_count BETWEEN 1 AND 520),
    total_cents             bigint NOT NULL CHECK (total_cents > 0),
    balance_at_start_cents  bigint NOT NULL,
    currency                text NOT NULL,
    policy_id               bigint NOT NULL REFERENCES kept.policies (id),
    grace_days              integer NOT NULL,
    kept_threshold_percent  integer NOT NULL,
    breaks_after_misses     integer NOT NULL,
    in_policy               boolean NOT NULL,
    reasons                 text[] NOT NULL,
    weekly_disposable_cents bigint,
    imported                boolean NOT NULL DEFAULT false,
    proposal_id             bigint UNIQUE REFERENCES kept.proposals (id),
    settlement_offer_id     bigint UNIQUE REFERENCES kept.settlement_offers (id),
    created_by              bigint REFERENCES kept.api_keys (id),
    activated_at            timestamptz,
    ended_at                timestamptz,
    -- deferred: a plan is superseded in the same transaction that creates its successor
    superseded_by           bigint REFERENCES kept.plans (id) DEFERRABLE INITIALLY DEFERRED,
    cancelled_by            bigint REFERENCES kept.api_keys (id),
    cancel_reason           text,
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_origin_link_check CHECK (
        (origin = 'customer_proposed') = (proposal_id IS NOT NULL) AND
        (origin = 'settlement') = (settlement_offer_id IS NOT NULL))
);
-- At most one active and one pending plan per account: the database's word,
-- whatever races between requests.
CREATE UNIQUE INDEX plans_one_active_per_account ON kept.plans (account_id) WHERE status = 'active';
CREATE UNIQUE INDEX plans_one_pending_per_account ON kept.plans (account_id) WHERE status = 'pending_approval';
CREATE INDEX plans_account_idx ON kept.plans (account_id, id);

CREATE TABLE kept.installments (
    plan_id           bigint NOT NULL REFERENCES kept.plans (id),
    seq               integer NOT NULL CHECK (seq >= 1),
    due_date          date NOT NULL,          -- the customer's local calendar
    amount_due_cents  bigint NOT NULL CHECK (amount_due_cents > 0),
    amount_paid_cents bigint NOT NULL DEFAULT 0 CHECK (amount_paid_cents >= 0),
    outcome           text NOT NULL DEFAULT 'scheduled'
                      CHECK (outcome IN ('scheduled', 'kept', 'kept_late', 'partial', 'missed', 'waived')),
    evaluated_at      timestamptz,
    PRIMARY KEY (plan_id, seq)
);
CREATE INDEX installments_scheduled_due_idx ON kept.installments (due_date) WHERE outcome = 'scheduled';

-- ---- approvals and reviews -------------------------------------------------------------------
CREATE TABLE kept.plan_approvals (
    plan_id     bigint PRIMARY KEY REFERENCES kept.plans (id),
    approved_by bigint REFERENCES kept.api_keys (id),
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Supervisors look at out-of-policy decisions after the fact; never blocking.
CREATE TABLE kept.reviews (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id    bigint NOT NULL UNIQUE REFERENCES kept.plans (id),
    reasons    text[] NOT NULL,
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'corrected')),
    decided_by bigint REFERENCES kept.api_keys (id),
    note       text,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_corrected_note_check CHECK (status <> 'corrected' OR note IS NOT NULL)
);
CREATE INDEX reviews_open_idx ON kept.reviews (id) WHERE status = 'open';

-- ---- outbox ------------------------------------------------------------------------------------------
-- Events written in the same transaction as the change they describe. tx_id
-- lets a reader take only events of transactions that have all committed
-- (pg_snapshot_xmin), so no event is skipped when commits finish out of id order.
CREATE TABLE kept.outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_type     text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   bigint NOT NULL,
    payload        jsonb NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now()
);

-- The instant a local calendar day ends in a time zone: the first moment of
-- the next local day. Daylight-saving changes make some local days 23 or 25
-- hours long; due dates themselves are dates and never move.
CREATE FUNCTION kept.local_day_end(day date, zone text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN ((day + 1)::timestamp AT TIME ZONE zone);
