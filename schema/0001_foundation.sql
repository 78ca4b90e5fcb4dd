-- 0001 foundation: API keys, customers with phones, accounts, the audit log.
--
-- Domain rules that the database enforces live here as IMMUTABLE helper
-- functions used by CHECK constraints; the bulk import validates staged rows
-- with the same helpers, so a rule is written once. Changing a rule is a
-- schema change: it takes a new migration.

CREATE SCHEMA IF NOT EXISTS kept;

-- ---- rules ------------------------------------------------------------------

-- External references from the creditor's systems.
CREATE FUNCTION kept.is_reference(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$';

-- E.164: a plus, a non-zero country digit, 7 to 15 digits in all.
CREATE FUNCTION kept.is_e164(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^\+[1-9][0-9]{6,14}$';

-- ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision: GB, US-MA.
CREATE FUNCTION kept.is_jurisdiction(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$';

-- A BCP 47 language tag of the common shapes: en, en-GB, es-419, zh-Hant-TW.
CREATE FUNCTION kept.is_language(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$';

-- ISO 4217 alphabetic code.
CREATE FUNCTION kept.is_currency(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[A-Z]{3}$';

-- A person's or organisation's display name: 1-200 characters, no control characters.
CREATE FUNCTION kept.is_display_name(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN length(v) BETWEEN 1 AND 200 AND v !~ '[[:cntrl:]]' AND btrim(v) <> '';

-- The IANA zone names this PostgreSQL server knows (pg_timezone_names),
-- refreshed by every `keptd migrate`. Customers reference it, so a time zone
-- the server cannot compute with is refused at the door.
CREATE TABLE kept.time_zones (
    name text PRIMARY KEY
);

-- ---- API keys -------------------------------------------------------------------

CREATE TABLE kept.api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    role        text NOT NULL,
    key_hash    bytea NOT NULL,      -- SHA-256 of the key; the key itself is never stored
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint REFERENCES kept.api_keys (id),
    revoked_at  timestamptz,
    revoked_by  bigint REFERENCES kept.api_keys (id),
    CONSTRAINT api_keys_name_check CHECK (kept.is_display_name(name)),
    CONSTRAINT api_keys_role_check CHECK (role IN ('agent', 'supervisor', 'finance', 'admin')),
    CONSTRAINT api_keys_key_hash_check CHECK (length(key_hash) = 32),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

-- ---- customers and accounts ------------------------------------------------------

CREATE TABLE kept.customers (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_ref         text NOT NULL,
    name                 text NOT NULL,
    time_zone            text NOT NULL,
    jurisdiction         text NOT NULL,
    language             text NOT NULL DEFAULT 'en',
    cease_communication  boolean NOT NULL DEFAULT false,
    attorney_represented boolean NOT NULL DEFAULT false,
    bankruptcy           boolean NOT NULL DEFAULT false,
    dispute_open         boolean NOT NULL DEFAULT false,
    vulnerable           boolean NOT NULL DEFAULT false,
    moratorium_until     date,
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_external_ref_key UNIQUE (external_ref),
    CONSTRAINT customers_external_ref_check CHECK (kept.is_reference(external_ref)),
    CONSTRAINT customers_name_check CHECK (kept.is_display_name(name)),
    CONSTRAINT customers_time_zone_fkey FOREIGN KEY (time_zone) REFERENCES kept.time_zones (name),
    CONSTRAINT customers_jurisdiction_check CHECK (kept.is_jurisdiction(jurisdiction)),
    CONSTRAINT customers_language_check CHECK (kept.is_language(language))
);

-- Each number carries its own consent for automated (prerecorded) calls.
CREATE TABLE kept.customer_phones (
    customer_id        bigint NOT NULL REFERENCES kept.customers (id),
    number             text NOT NULL,
    position           smallint NOT NULL,
    consent_automated  boolean NOT NULL DEFAULT false,
    consent_updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_phones_pkey PRIMARY KEY (customer_id, number),
    CONSTRAINT customer_phones_number_check CHECK (kept.is_e164(number))
);
CREATE INDEX customer_phones_number_idx ON kept.customer_phones (number);

CREATE TABLE kept.accounts (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id            bigint NOT NULL,
    external_ref           text NOT NULL,
    creditor               text NOT NULL,
    original_balance_cents bigint NOT NULL,
    balance_cents          bigint NOT NULL,
    currency               text NOT NULL,
    status                 text NOT NULL DEFAULT 'open',
    placed_on              date NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES kept.customers (id),
    CONSTRAINT accounts_external_ref_key UNIQUE (external_ref),
    CONSTRAINT accounts_external_ref_check CHECK (kept.is_reference(external_ref)),
    CONSTRAINT accounts_creditor_check CHECK (kept.is_display_name(creditor)),
    -- CHECKs run in name order: the original balance is checked before the
    -- remaining one, which defaults to it, so errors name the field sent.
    CONSTRAINT accounts_original_balance_check CHECK (original_balance_cents > 0),
    CONSTRAINT accounts_remaining_balance_check CHECK (balance_cents >= 0),
    CONSTRAINT accounts_currency_check CHECK (kept.is_currency(currency)),
    CONSTRAINT accounts_status_check CHECK (status IN ('open', 'in_plan', 'paid', 'settled', 'closed'))
);
CREATE INDEX accounts_customer_id_idx ON kept.accounts (customer_id, id);

-- ---- audit log -------------------------------------------------------------------------
--
-- Append-only and hash-chained: each row's hash covers its content and the
-- previous row's hash, in chain_seq order. A single-row head table hands out
-- chain_seq and holds the latest hash; updating it serialises writers for
-- the rest of their transaction, which is what makes the chain a chain.

CREATE TABLE kept.audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_seq    bigint NOT NULL UNIQUE,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id bigint,            -- the API key that acted; NULL for the keptd command line
    actor        text NOT NULL,
    request_id   text,
    action       text NOT NULL,     -- e.g. customer.created
    entity_type  text NOT NULL,
    entity_id    bigint,
    before       jsonb,
    after        jsonb,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE INDEX audit_events_entity_idx ON kept.audit_events (entity_type, entity_id, chain_seq);

CREATE TABLE kept.audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea NOT NULL
);
-- The hash the first event links to.
CREATE FUNCTION kept.audit_genesis() RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256('kept audit genesis'::bytea);

INSERT INTO kept.audit_chain_head (seq, hash) VALUES (0, kept.audit_genesis());

-- The hash of one event given the previous hash. Every column that carries
-- meaning is covered, each as text with an explicit separator.
CREATE FUNCTION kept.audit_hash(prev bytea, seq bigint, at timestamptz, actor_key_id bigint,
                                actor text, request_id text, action text, entity_type text,
                                entity_id bigint, before jsonb, after jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256(prev || convert_to(concat_ws(E'\x1f', seq::text,
    (extract(epoch FROM at) * 1000000)::bigint::text, coalesce(actor_key_id::text, ''),
    actor, coalesce(request_id, ''), action, entity_type, coalesce(entity_id::text, ''),
    coalesce(before::text, ''), coalesce(after::text, '')), 'UTF8'));

CREATE FUNCTION kept.audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_prev bytea;
BEGIN
    UPDATE kept.audit_chain_head SET seq = seq + 1
        RETURNING seq, hash INTO NEW.chain_seq, v_prev;
    NEW.at := now();
    NEW.prev_hash := v_prev;
    NEW.hash := kept.audit_hash(v_prev, NEW.chain_seq, NEW.at, NEW.actor_key_id, NEW.actor,
                                NEW.request_id, NEW.action, NEW.entity_type, NEW.entity_id,
                                NEW.before, NEW.after);
    UPDATE kept.audit_chain_head SET hash = NEW.hash;
    RETURN NEW;
END $$;

CREATE TRIGGER audit_events_chain BEFORE INSERT ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_chain();

CREATE FUNCTION kept.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'KR409', HINT = 'audit_append_only';
END $$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON kept.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION kept.audit_append_only();
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON kept.audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION kept.audit_append_only();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON kept.audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION kept.audit_append_only();
