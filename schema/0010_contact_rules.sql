-- 0010 reminder calls a compliance officer can sign off on: one clock, phone
-- types and every known time zone, times the consumer says are
-- inconvenient, contacts from every channel, spacing and triage settings,
-- consent to a reminder, jurisdiction rows with citations, the provider's
-- pace.

-- ---- one clock ---------------------------------------------------------------------
-- keptd in simulated time (KEPT_CLOCK=simulated, allowed only with the
-- telephony simulator) sets kept.clock_offset on each of its sessions, so
-- that kept.now() is its clock: the transaction's start moved by the offset.
-- A transaction that SET LOCAL kept.clock (the history import) still wins.
CREATE OR REPLACE FUNCTION kept.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(nullif(current_setting('kept.clock', true), '')::timestamptz,
                now() + coalesce(nullif(current_setting('kept.clock_offset', true), '')::interval, interval '0'));

-- ---- phones: type, wrong party, consecutive failures ------------------------------------
-- type decides Massachusetts' limits (personal numbers: mobile, home; other: work).
-- wrong_party_at: someone else answered (key 2, or an agent logged it); no
-- automated call goes to the number again. failed_attempts: consecutive
-- attempts on the number that reached nobody (failed, busy, no answer, wrong
-- party); an answered call sets it back to 0.
ALTER TABLE kept.customer_phones
    ADD COLUMN type text NOT NULL DEFAULT 'mobile'
        CONSTRAINT customer_phones_type_check CHECK (type IN ('mobile', 'home', 'work')),
    ADD COLUMN wrong_party_at timestamptz,
    ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;

-- ---- times the consumer says are inconvenient (12 CFR 1006.6(b)(1)(i)) ----------------------
-- A JSON array of at most 20 {"days": ["mon", ...], "from": "HH:MM", "to": "HH:MM"}
-- (with an optional "note"), in the customer's own time zone, from < to.
CREATE FUNCTION kept.is_inconvenient_time(e jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN jsonb_typeof(e) = 'object'
   AND (SELECT coalesce(bool_and(k IN ('days', 'from', 'to', 'note')), false) FROM jsonb_object_keys(e) k)
   AND jsonb_typeof(e->'days') = 'array' AND jsonb_array_length(e->'days') BETWEEN 1 AND 7
   AND (SELECT bool_and(jsonb_typeof(d) = 'string' AND d #>> '{}' IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'))
        FROM jsonb_array_elements(e->'days') d)
   AND jsonb_typeof(e->'from') = 'string' AND e->>'from' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
   AND jsonb_typeof(e->'to') = 'string' AND e->>'to' ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
   AND (e->>'from')::time < CASE e->>'to' WHEN '24:00' THEN time '23:59:59.999999' ELSE (e->>'to')::time END
   AND (NOT e ? 'note' OR (jsonb_typeof(e->'note') = 'string' AND length(e->>'note') <= 200));

CREATE FUNCTION kept.is_inconvenient_times(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN jsonb_typeof(v) = 'array' AND jsonb_array_length(v) <= 20
   AND (SELECT coalesce(bool_and(kept.is_inconvenient_time(e)), true) FROM jsonb_array_elements(v) e);

ALTER TABLE kept.customers
    ADD COLUMN inconvenient_times jsonb NOT NULL DEFAULT '[]'
        CONSTRAINT customers_inconvenient_times_check CHECK (kept.is_inconvenient_times(inconvenient_times));

-- ---- policy: spacing and triage ---------------------------------------------------------
ALTER TABLE kept.policies
    ADD COLUMN min_call_gap_minutes integer NOT NULL DEFAULT 240
        CONSTRAINT policies_call_gap_check CHECK (min_call_gap_minutes BETWEEN 0 AND 1440),
    ADD COLUMN failed_calls_before_triage integer NOT NULL DEFAULT 6
        CONSTRAINT policies_triage_check CHECK (failed_calls_before_triage BETWEEN 1 AND 50);

-- ---- consent to a reminder (12 CFR 1006.14(b)(3)(i)) ---------------------------------------
-- The customer's prior consent, given directly to the agent who made the
-- plan, to a reminder within the next seven days: such a reminder is
-- excluded from the Reg F call counts.
ALTER TABLE kept.plans ADD COLUMN reminder_consent_at timestamptz;

-- ---- jurisdictions: a citation on every row, Massachusetts' second limit -------------------------
-- max_attempts_7d now limits calls per debt in seven days to personal
-- numbers (mobile, home); max_attempts_30d_other calls per debt in thirty
-- days to other numbers (work). NULL: no limit beyond the federal ones.
ALTER TABLE kept.jurisdiction_call_rules RENAME COLUMN source TO citation;
ALTER TABLE kept.jurisdiction_call_rules
    ADD COLUMN max_attempts_30d_other integer CHECK (max_attempts_30d_other BETWEEN 0 AND 7),
    ADD CONSTRAINT jurisdiction_call_rules_citation_check CHECK (btrim(citation) <> '');
UPDATE kept.jurisdiction_call_rules
SET max_attempts_30d_other = 2,
    citation = '940 CMR 7.04(1)(f): no more than two telephone communications in each seven-day period to the '
               || 'debtor''s residence, cellular or other personal number, and two in each thirty-day period '
               || 'to other numbers, for each debt'
WHERE jurisdiction = 'US-MA';

-- ---- contacts from every channel ---------------------------------------------------------------
-- What agents and customers did outside kept's own calls: an agent's call,
-- a customer's call in, a letter, an email. Logged by hand (source
-- 'logged'), or recorded with a negotiation (a proposal, plan or settlement
-- agreed by telephone is a telephone conversation; direction NULL, since it
-- is a conversation rather than an attempt). Telephone rows feed the Reg F
-- rules: outbound attempts count in 7-in-7, a conversation starts the 7-day
-- rule.
CREATE TABLE kept.contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES kept.accounts (id),
    customer_id bigint NOT NULL REFERENCES kept.customers (id),
    channel     text NOT NULL
                CONSTRAINT contacts_channel_check
                CHECK (channel IN ('phone', 'sms', 'email', 'letter', 'in_person', 'web')),
    direction   text CONSTRAINT contacts_direction_check CHECK (direction IN ('inbound', 'outbound')),
    number      text CONSTRAINT contacts_number_check CHECK (kept.is_e164(number)),
    occurred_at timestamptz NOT NULL,
    outcome     text NOT NULL
                CONSTRAINT contacts_outcome_check
                CHECK (outcome IN ('conversation', 'no_answer', 'left_message', 'wrong_party', 'refused')),
    source      text NOT NULL DEFAULT 'logged'
                CHECK (source IN ('logged', 'proposal', 'plan', 'settlement_offer', 'settlement')),
    source_id   bigint,
    note        text CONSTRAINT contacts_note_check CHECK (length(note) <= 2000),
    recorded_by bigint REFERENCES kept.api_keys (id),
    created_at  timestamptz NOT NULL DEFAULT kept.now(),
    CONSTRAINT contacts_logged_direction CHECK (source <> 'logged' OR direction IS NOT NULL),
    CONSTRAINT contacts_outbound_phone_number CHECK (NOT (channel = 'phone' AND direction = 'outbound')
                                                     OR number IS NOT NULL)
);
CREATE INDEX contacts_account_idx ON kept.contacts (account_id, occurred_at);

-- ---- every known location: the time zones of North American numbers -------------------------------
-- Loaded on every `keptd migrate` from libphonenumber's time zone data as
-- Debian packages it (generated at build time; see service/tools/phonezones.py).
-- A number takes the zones of its longest matching prefix (an area code or
-- longer); a number no prefix of four digits or more matches adds none.
CREATE TABLE kept.phone_zone_prefixes (
    prefix text PRIMARY KEY CHECK (prefix ~ '^1[0-9]{3,14}$'),
    zones  text[] NOT NULL CHECK (cardinality(zones) > 0)
);
CREATE TABLE kept.phone_zone_source (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    source    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- ---- calls: the judgment in plain words -----------------------------------------------------
ALTER TABLE kept.calls
    ADD COLUMN judged_at timestamptz, -- when the rules were last judged, on kept's clock
    ADD COLUMN decision text,         -- the last judgment in plain words: which rule held or blocked
                                      -- it and when it may go, or why it was cleared to dial
    ADD COLUMN excluded text,         -- why it does not count toward Reg F's frequencies (1006.14(b)(3))
    ADD COLUMN zones text[];          -- the time zones it was judged in
ALTER TABLE kept.calls ALTER COLUMN created_at SET DEFAULT kept.now();
CREATE INDEX calls_number_idx ON kept.calls (number, dialed_at) WHERE dialed_at IS NOT NULL;

-- ---- the provider's pace -------------------------------------------------------------------------
-- The next free slot for a create request, shared by every keptd: claims
-- reserve slots 1/KEPT_TELEPHONY_CPS seconds apart (on the database's clock).
CREATE TABLE kept.dial_pacing (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    next_slot_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO kept.dial_pacing DEFAULT VALUES;

-- ---- escalations ------------------------------------------------------------------------------------
INSERT INTO kept.escalation_reasons VALUES
    ('wrong_party', 2, '1 day', 'collections', 'a reminder call reached someone else: the customer needs a new number');
CREATE UNIQUE INDEX escalations_open_once_per_account ON kept.escalations (account_id, reason)
    WHERE status = 'open' AND reason IN ('wrong_party', 'repeated_call_failures');
