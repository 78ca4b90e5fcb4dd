-- 0030 the customer answers for themselves: identity for the self-service
-- page, consent to texts per number and opt-outs, personal links with their
-- sessions, one-time codes and rate limits, text messages out and in, plans a
-- customer made that two associates approve, the reminder call's key-in.

-- ---- identity ---------------------------------------------------------------------------
-- Optional: a customer without them proves who they are by a code texted to a
-- number on file. The postcode is compared without spaces, hyphens or case.
CREATE FUNCTION kept.is_postcode(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$';

CREATE FUNCTION kept.postcode_key(v text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN upper(regexp_replace(v, '[ -]', '', 'g'));

ALTER TABLE kept.customers
    ADD COLUMN date_of_birth date
        CONSTRAINT customers_date_of_birth_check CHECK (date_of_birth >= DATE '1900-01-01'),
    ADD COLUMN postcode text CONSTRAINT customers_postcode_check CHECK (kept.is_postcode(postcode));

-- ---- texts: consent per number, opt-outs ---------------------------------------------------
-- Consent to texts is a number's own, apart from consent to automated calls.
-- An opt-out (STOP, or the provider refusing a number that opted out at the
-- carrier) holds for the number whoever's it is, until the number texts START;
-- staff setting consent_texts again does not lift it.
ALTER TABLE kept.customer_phones
    ADD COLUMN consent_texts boolean NOT NULL DEFAULT false,
    ADD COLUMN texts_consent_updated_at timestamptz;

CREATE TABLE kept.text_opt_outs (
    number       text PRIMARY KEY CONSTRAINT text_opt_outs_number_check CHECK (kept.is_e164(number)),
    opted_out_at timestamptz NOT NULL,
    how          text NOT NULL CHECK (how IN ('keyword', 'provider_refused'))
);

-- ---- personal links ---------------------------------------------------------------------------
-- A link is bound to one account and its customer. Its token (signed by keptd
-- with KEPT_LINK_SECRET) is never stored: only its SHA-256. failures counts
-- wrong identity answers since the last right one; the fifth locks the link.
CREATE TABLE kept.self_service_links (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES kept.accounts (id),
    customer_id bigint NOT NULL REFERENCES kept.customers (id),
    token_hash  bytea NOT NULL CONSTRAINT self_service_links_token_hash_key UNIQUE
                CONSTRAINT self_service_links_token_hash_check CHECK (length(token_hash) = 32),
    created_by  bigint REFERENCES kept.api_keys (id),
    created_at  timestamptz NOT NULL DEFAULT kept.now(),
    expires_at  timestamptz NOT NULL,
    sent_to     text CONSTRAINT self_service_links_sent_to_check CHECK (kept.is_e164(sent_to)),
    language    text CONSTRAINT self_service_links_language_check CHECK (kept.is_language(language)),
    revoked_at  timestamptz,
    revoked_by  bigint REFERENCES kept.api_keys (id),
    failures    integer NOT NULL DEFAULT 0,
    locked_at   timestamptz,
    verified_at timestamptz,
    CONSTRAINT self_service_links_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX self_service_links_account_idx ON kept.self_service_links (account_id, id);

-- A verified visit: a cookie whose SHA-256 is stored, bound to the link.
CREATE TABLE kept.self_service_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id      bigint NOT NULL REFERENCES kept.self_service_links (id),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    method       text NOT NULL CHECK (method IN ('date_of_birth_postcode', 'code')),
    created_at   timestamptz NOT NULL DEFAULT kept.now(),
    last_seen_at timestamptz NOT NULL DEFAULT kept.now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX self_service_sessions_link_idx ON kept.self_service_sessions (link_id);

-- One-time codes texted to a number on file: an HMAC of the code under
-- keptd's secret, so the table cannot be searched for it; used once.
CREATE TABLE kept.self_service_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id    bigint NOT NULL REFERENCES kept.self_service_links (id),
    code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
    number     text NOT NULL CHECK (kept.is_e164(number)),
    created_at timestamptz NOT NULL DEFAULT kept.now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX self_service_codes_link_idx ON kept.self_service_codes (link_id, id);

-- Fixed-window counters: per link and per client address (an HMAC of it, not
-- the address), by kind of request.
CREATE TABLE kept.self_service_rates (
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- ---- text messages -------------------------------------------------------------------------------
-- One text to a customer's number. body is what staff see (a link or a code
-- left out); sealed, while it waits, is what goes to the provider, encrypted
-- under a key keptd derives from KEPT_LINK_SECRET (AES-256-GCM), and is
-- cleared once the provider has it. state: queued -> blocked (a rule forbade
-- it; final) | sending (claimed) -> accepted (the provider took it) | refused
-- (the number opted out; never retried) | failed | unknown (may have been
-- sent; never sent again) -> the provider's sent, delivered, undelivered, failed.
CREATE TABLE kept.messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id   bigint NOT NULL REFERENCES kept.customers (id),
    account_id    bigint REFERENCES kept.accounts (id),
    link_id       bigint REFERENCES kept.self_service_links (id),
    purpose       text NOT NULL CHECK (purpose IN ('link', 'code', 'confirmation')),
    number        text NOT NULL CONSTRAINT messages_number_check CHECK (kept.is_e164(number)),
    language      text NOT NULL,
    body          text NOT NULL CHECK (length(body) <= 1600),
    sealed        bytea,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'blocked', 'sending', 'accepted', 'refused', 'failed', 'unknown',
                                   'sent', 'delivered', 'undelivered')),
    scheduled_at  timestamptz NOT NULL,
    useful_until  timestamptz NOT NULL,
    blocked_rule  text,
    deferred_rule text,
    decision      text,
    judged_at     timestamptz,
    zones         text[],
    claimed_at    timestamptz,
    sent_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    reconciled    boolean NOT NULL DEFAULT false,
    provider_sid  text UNIQUE,
    error_code    integer,
    error         text,
    created_by    bigint REFERENCES kept.api_keys (id),
    created_at    timestamptz NOT NULL DEFAULT kept.now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_blocked_rule_check CHECK ((state = 'blocked') = (blocked_rule IS NOT NULL))
);
CREATE INDEX messages_due_idx ON kept.messages (scheduled_at, id) WHERE state = 'queued';
CREATE INDEX messages_sending_idx ON kept.messages (claimed_at) WHERE state = 'sending';
CREATE INDEX messages_account_idx ON kept.messages (account_id, id);
CREATE INDEX messages_customer_idx ON kept.messages (customer_id, id);

-- Texts the customers sent (the number's messaging webhook), once per MessageSid.
CREATE TABLE kept.inbound_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_sid text NOT NULL UNIQUE,
    number       text NOT NULL,
    to_number    text NOT NULL,
    keyword      text CHECK (keyword IN ('stop', 'start', 'help')),
    body         text NOT NULL CHECK (length(body) <= 1600),
    received_at  timestamptz NOT NULL DEFAULT kept.now()
);
CREATE INDEX inbound_messages_number_idx ON kept.inbound_messages (number, id);

-- ---- plans the customer made -----------------------------------------------------------------------
-- A customer's own plan (self-service page or reminder call) has no associate
-- behind it: out of policy it needs two associates, the first recorded here,
-- the second (another person) in plan_approvals as for every plan.
ALTER TABLE kept.plans
    ADD COLUMN first_approved_by bigint REFERENCES kept.api_keys (id),
    ADD COLUMN first_approved_at timestamptz,
    ADD COLUMN first_approval_note text;

-- ---- the reminder call's key-in ---------------------------------------------------------------------
-- The proposal the customer keyed in on the call (read back to them), and the
-- plan it became.
ALTER TABLE kept.calls
    ADD COLUMN offer_proposal_id bigint REFERENCES kept.proposals (id),
    ADD COLUMN offer_plan_id bigint REFERENCES kept.plans (id);

-- ---- escalations -------------------------------------------------------------------------------------
INSERT INTO kept.escalation_reasons VALUES
    ('self_service_locked', 2, '1 day', 'collections',
     'five wrong answers locked a customer''s self-service link: someone may be trying to get in');
