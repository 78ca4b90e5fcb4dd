-- 0005 reminder calls: the calls kept places, the provider's callbacks, and
-- the contact rules that differ by jurisdiction.

-- Jurisdictions whose rules are stricter than the defaults (calling window
-- 08:00-21:00 local, at most 7 attempts in 7 days per debt under 12 CFR
-- 1006.14(b)). A row narrows; it never widens.
CREATE TABLE kept.jurisdiction_call_rules (
    jurisdiction    text PRIMARY KEY CHECK (kept.is_jurisdiction(jurisdiction)),
    window_start    time NOT NULL DEFAULT '08:00',
    window_end      time NOT NULL DEFAULT '21:00',
    max_attempts_7d integer NOT NULL DEFAULT 7 CHECK (max_attempts_7d BETWEEN 0 AND 7),
    source          text NOT NULL,
    CHECK (window_start >= '08:00' AND window_end <= '21:00' AND window_start < window_end)
);
INSERT INTO kept.jurisdiction_call_rules (jurisdiction, max_attempts_7d, source)
VALUES ('US-MA', 2, '940 CMR 7.04(1)(f): at most two calls in seven days per debt');

-- One automated call attempt. state: queued (waiting for its time) ->
-- blocked (a rule forbade it; final) | dialing (claimed, being placed) ->
-- placed (the provider took it) | failed (never placed) | unknown (may have
-- been placed; never dialled again) -> the provider's states, forward only.
CREATE TABLE kept.calls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES kept.accounts (id),
    customer_id     bigint NOT NULL REFERENCES kept.customers (id),
    plan_id         bigint NOT NULL,
    seq             integer NOT NULL,
    purpose         text NOT NULL CHECK (purpose IN ('pre_due', 'missed')),
    number          text NOT NULL CHECK (kept.is_e164(number)),
    scheduled_at    timestamptz NOT NULL,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'blocked', 'dialing', 'placed', 'failed', 'unknown', 'initiated',
                                     'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'canceled')),
    blocked_rule    text,             -- the rule that stopped it for good
    deferred_rule   text,             -- the last time rule that moved it
    deferrals       integer NOT NULL DEFAULT 0,
    dialed_at       timestamptz,      -- the as_of it was dialled at: what the 7-day rules count
    dial_attempts   integer NOT NULL DEFAULT 0,
    reconciled      boolean NOT NULL DEFAULT false,
    provider_sid    text UNIQUE,
    answered_by     text,
    digits          text NOT NULL DEFAULT '',
    right_party     boolean NOT NULL DEFAULT false,
    conversation_at timestamptz,      -- a confirmed right party: a conversation for the 7-day rule
    duration_s      integer,
    error           text,
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (plan_id, seq) REFERENCES kept.installments (plan_id, seq),
    -- rule 6: at most one reminder per installment and purpose
    CONSTRAINT calls_one_per_installment_purpose UNIQUE (plan_id, seq, purpose),
    CONSTRAINT calls_blocked_rule_check CHECK ((state = 'blocked') = (blocked_rule IS NOT NULL))
);
CREATE INDEX calls_due_idx ON kept.calls (scheduled_at, id) WHERE state = 'queued';
CREATE INDEX calls_dialing_idx ON kept.calls (claimed_at) WHERE state = 'dialing';
CREATE INDEX calls_account_idx ON kept.calls (account_id, dialed_at);

-- Status callbacks seen, for deduplication on (CallSid, SequenceNumber).
CREATE TABLE kept.call_callbacks (
    provider_sid    text NOT NULL,
    sequence_number integer NOT NULL,
    call_id         bigint NOT NULL REFERENCES kept.calls (id),
    status          text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_sid, sequence_number)
);

-- A customer asking for an agent on a call opens one escalation per call.
ALTER TABLE kept.escalations ADD COLUMN call_id bigint REFERENCES kept.calls (id);
CREATE UNIQUE INDEX escalations_once_per_call ON kept.escalations (call_id) WHERE reason = 'customer_requested_agent';
