-- 0003 payments and adherence: payments and their allocations, what each
-- installment needs to be judged without joins, escalations, and an audit
-- chain sealed after commit instead of inside every writing transaction.

-- ---- installments: everything their outcome depends on ---------------------------
-- due_end_at / grace_end_at: the instants the local due day and the grace
-- period end, computed from the customer's time zone when the plan is made
-- (and again if the customer moves). threshold_cents: what counts as kept.
-- paid_by_due_cents / paid_by_grace_cents: money received before each
-- instant. The outcome is then a function of the row alone.
ALTER TABLE kept.installments
    ADD COLUMN due_end_at timestamptz,
    ADD COLUMN grace_end_at timestamptz,
    ADD COLUMN threshold_cents bigint,
    ADD COLUMN paid_by_due_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN paid_by_grace_cents bigint NOT NULL DEFAULT 0;

UPDATE kept.installments i
SET due_end_at = kept.local_day_end(i.due_date, c.time_zone),
    grace_end_at = kept.local_day_end(i.due_date + p.grace_days, c.time_zone),
    threshold_cents = (i.amount_due_cents * p.kept_threshold_percent + 99) / 100
FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id JOIN kept.customers c ON c.id = a.customer_id
WHERE p.id = i.plan_id;

ALTER TABLE kept.installments
    ALTER COLUMN due_end_at SET NOT NULL,
    ALTER COLUMN grace_end_at SET NOT NULL,
    ALTER COLUMN threshold_cents SET NOT NULL,
    ADD CONSTRAINT installments_paid_check
        CHECK (paid_by_due_cents <= paid_by_grace_cents AND paid_by_grace_cents <= amount_paid_cents);

DROP INDEX kept.installments_scheduled_due_idx;
CREATE INDEX installments_to_evaluate_idx ON kept.installments (due_end_at) WHERE outcome = 'scheduled';
-- the oldest unpaid installments of a plan, where payments go first
CREATE INDEX installments_unpaid_idx ON kept.installments (plan_id, seq) WHERE amount_paid_cents < amount_due_cents;

-- Plans whose new outcomes may break them; the evaluator's second phase
-- takes them, account by account.
ALTER TABLE kept.plans ADD COLUMN evaluation_pending boolean NOT NULL DEFAULT false;
CREATE INDEX plans_evaluation_pending_idx ON kept.plans (account_id) WHERE evaluation_pending;

-- ---- payments ---------------------------------------------------------------------------
CREATE TABLE kept.payment_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_sha256   text NOT NULL,
    lines         integer NOT NULL,
    posted        integer NOT NULL,
    duplicates    integer NOT NULL,
    amount_cents  bigint NOT NULL,
    imported_by   bigint REFERENCES kept.api_keys (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kept.payments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id        bigint NOT NULL,
    amount_cents      bigint NOT NULL,
    currency          text NOT NULL,
    received_at       timestamptz NOT NULL,
    source            text NOT NULL,
    source_ref        text NOT NULL,
    status            text NOT NULL DEFAULT 'posted',
    idempotency_owner bigint,          -- the API key that sent Idempotency-Key
    idempotency_key   text,
    request_hash      text,            -- SHA-256 of the request body it came with
    import_id         bigint REFERENCES kept.payment_imports (id),
    posted_by         bigint REFERENCES kept.api_keys (id),
    balance_after_cents bigint NOT NULL, -- the account's balance right after posting
    plan_id           bigint REFERENCES kept.plans (id), -- the active plan it went to, if any
    created_at        timestamptz NOT NULL DEFAULT now(),
    reversed_at       timestamptz,
    reversed_by       bigint REFERENCES kept.api_keys (id),
    reversal_reason   text,
    CONSTRAINT payments_account_id_fkey FOREIGN KEY (account_id) REFERENCES kept.accounts (id),
    CONSTRAINT payments_amount_check CHECK (amount_cents > 0),
    CONSTRAINT payments_source_check CHECK (source ~ '^[a-z0-9][a-z0-9_.:-]{0,39}$'),
    CONSTRAINT payments_source_ref_check CHECK (length(source_ref) BETWEEN 1 AND 128 AND source_ref !~ '[[:cntrl:]]'),
    CONSTRAINT payments_status_check CHECK (status IN ('posted', 'reversed')),
    CONSTRAINT payments_source_ref_key UNIQUE (source, source_ref)
);
CREATE INDEX payments_account_idx ON kept.payments (account_id, id);
CREATE INDEX payments_import_idx ON kept.payments (import_id) WHERE import_id IS NOT NULL;
-- only API payments carry a key; file imports rely on source_ref alone
CREATE UNIQUE INDEX payments_idempotency_key ON kept.payments (idempotency_owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Which installments a payment paid, and whether the money was in time for
-- the due day and for the grace period (what a reversal must take back).
CREATE TABLE kept.allocations (
    payment_id   bigint NOT NULL REFERENCES kept.payments (id),
    plan_id      bigint NOT NULL,
    seq          integer NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    on_time      boolean NOT NULL,
    in_grace     boolean NOT NULL,
    PRIMARY KEY (payment_id, plan_id, seq),
    FOREIGN KEY (plan_id, seq) REFERENCES kept.installments (plan_id, seq)
);
CREATE INDEX allocations_installment_idx ON kept.allocations (plan_id, seq);

-- A settlement's write-off, so a returned payment can undo it.
ALTER TABLE kept.plans ADD COLUMN written_off_cents bigint NOT NULL DEFAULT 0;

-- ---- escalations ------------------------------------------------------------------------
-- Each reason has a priority (1 most urgent), an SLA and a team.
CREATE TABLE kept.escalation_reasons (
    reason      text PRIMARY KEY,
    priority    integer NOT NULL CHECK (priority BETWEEN 1 AND 5),
    sla         interval NOT NULL,
    team        text NOT NULL,
    description text NOT NULL
);
INSERT INTO kept.escalation_reasons VALUES
    ('payment_reversed', 1, '1 day', 'payments', 'a payment was returned'),
    ('customer_requested_agent', 1, '4 hours', 'collections', 'the customer asked to speak to an agent'),
    ('dispute', 1, '1 day', 'disputes', 'the customer disputes the debt'),
    ('vulnerability', 1, '1 day', 'specialist', 'the customer may be vulnerable'),
    ('plan_broken_after_kept', 2, '2 days', 'collections', 'a plan that had been kept broke'),
    ('repeated_call_failures', 3, '3 days', 'collections', 'reminder calls keep failing'),
    ('other', 3, '5 days', 'collections', 'anything else');

CREATE TABLE kept.escalations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES kept.accounts (id),
    plan_id         bigint REFERENCES kept.plans (id),
    payment_id      bigint REFERENCES kept.payments (id),
    reason          text NOT NULL REFERENCES kept.escalation_reasons (reason),
    priority        integer NOT NULL CHECK (priority BETWEEN 1 AND 5),
    team            text NOT NULL,
    due_by          timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    note            text,
    assigned_to     bigint REFERENCES kept.api_keys (id),
    assigned_at     timestamptz,
    resolved_by     bigint REFERENCES kept.api_keys (id),
    resolved_at     timestamptz,
    resolution_note text,
    created_by      bigint REFERENCES kept.api_keys (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT escalations_resolution_check CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX escalations_queue_idx ON kept.escalations (priority, due_by, id) WHERE status = 'open';
CREATE INDEX escalations_account_idx ON kept.escalations (account_id);
-- what kept opens by itself, it opens once
CREATE UNIQUE INDEX escalations_once_per_broken_plan ON kept.escalations (plan_id) WHERE reason = 'plan_broken_after_kept';
CREATE UNIQUE INDEX escalations_once_per_reversal ON kept.escalations (payment_id) WHERE reason = 'payment_reversed';

-- ---- the audit chain, sealed after commit ---------------------------------------------------
-- Chaining inside every writing transaction made all of them wait for one
-- row until commit. Events are now written unsealed; kept.audit_seal()
-- (keptd's auditor worker) chains committed events in order. The table
-- stays append-only: the one UPDATE allowed is sealing an unsealed event
-- with exactly the hash its content implies.
DROP TRIGGER audit_events_chain ON kept.audit_events;
DROP FUNCTION kept.audit_chain();
DROP FUNCTION IF EXISTS kept.audit_verify(OUT boolean, OUT bigint, OUT bigint);
ALTER TABLE kept.audit_events
    ALTER COLUMN chain_seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL;
CREATE INDEX audit_events_unsealed_idx ON kept.audit_events (id) WHERE chain_seq IS NULL;

CREATE FUNCTION kept.audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := now();
    NEW.chain_seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_stamp BEFORE INSERT ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_stamp();

CREATE FUNCTION kept.audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor_key_id, NEW.actor, NEW.request_id, NEW.action, NEW.entity_type,
            NEW.entity_id, NEW.before, NEW.after)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_key_id, OLD.actor, OLD.request_id, OLD.action, OLD.entity_type,
            OLD.entity_id, OLD.before, OLD.after)
       AND NEW.hash = kept.audit_hash(NEW.prev_hash, NEW.chain_seq, NEW.at, NEW.actor_key_id, NEW.actor,
                                      NEW.request_id, NEW.action, NEW.entity_type, NEW.entity_id,
                                      NEW.before, NEW.after) THEN
        RETURN NEW; -- sealing
    END IF;
    RAISE EXCEPTION 'audit events are append-only (UPDATE refused)'
        USING ERRCODE = 'KR409', HINT = 'audit_append_only';
END $$;
DROP TRIGGER audit_events_no_update ON kept.audit_events;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_guard();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_append_only();
