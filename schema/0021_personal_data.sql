-- 0021 personal data that is encrypted at rest, kept out of the audit log's
-- clear text, and erasable.
--
-- Envelope encryption: every customer has a data key of their own (32 random
-- bytes), stored wrapped (encrypted and authenticated) under the key-
-- encryption key from keptd's configuration (KEPT_DATA_KEY), which keptd
-- hands each of its sessions at connection time (the setting kept.data_key,
-- 64 hex digits) and which never reaches a table. A customer's name and
-- phone numbers — in kept.customers, kept.customer_phones, kept.calls — and
-- every personal value the audit log records about them are sealed under
-- their data key. Erasing a customer destroys the data key (crypto-
-- shredding): whatever copies of the ciphertext remain, in the audit log or
-- in a backup, can no longer be read. Rotating KEPT_DATA_KEY re-wraps the data
-- keys only (keptd data-key rotate); nothing else is re-encrypted.
--
-- A sealed value is 0x01 || iv (16 bytes) || AES-256-CBC(PKCS#7) ciphertext
-- || HMAC-SHA-256(iv || ciphertext): encrypt-then-MAC, the encryption and MAC
-- keys derived from the data key by HMAC-SHA-256. Equality on phone numbers
-- (the same number twice for one customer, the number a call rang) uses a
-- digest: HMAC-SHA-256 of the number under a key derived from the customer's
-- data key, so it means nothing once the data key is gone.
--
-- The crypto primitives are pgcrypto's. These functions are the storage
-- format, so they live here; a change to them is a new migration.

-- pgcrypto in a schema of its own (or where an existing database has it); the
-- four primitives kept uses are bound to it here.
DO $do$
DECLARE
    v_schema text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto') THEN
        CREATE SCHEMA IF NOT EXISTS kept_crypto;
        CREATE EXTENSION pgcrypto WITH SCHEMA kept_crypto;
    END IF;
    SELECT n.nspname INTO v_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pgcrypto';
    EXECUTE format($f$CREATE FUNCTION kept.crypto_hmac(p_data bytea, p_key bytea) RETURNS bytea
                      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                      RETURN %I.hmac(p_data, p_key, 'sha256')$f$, v_schema);
    EXECUTE format($f$CREATE FUNCTION kept.crypto_random(p_n integer) RETURNS bytea
                      LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
                      RETURN %I.gen_random_bytes(p_n)$f$, v_schema);
    EXECUTE format($f$CREATE FUNCTION kept.crypto_aes_encrypt(p_data bytea, p_key bytea, p_iv bytea) RETURNS bytea
                      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                      RETURN %I.encrypt_iv(p_data, p_key, p_iv, 'aes-cbc/pad:pkcs')$f$, v_schema);
    EXECUTE format($f$CREATE FUNCTION kept.crypto_aes_decrypt(p_data bytea, p_key bytea, p_iv bytea) RETURNS bytea
                      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                      RETURN %I.decrypt_iv(p_data, p_key, p_iv, 'aes-cbc/pad:pkcs')$f$, v_schema);
END $do$;

-- ---- primitives -----------------------------------------------------------------------------

-- Seals `p_plain` under `p_key` (32 bytes): see the top of this file.
CREATE FUNCTION kept.crypto_seal(p_key bytea, p_plain bytea) RETURNS bytea
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    v_iv bytea := kept.crypto_random(16);
    v_ct bytea := kept.crypto_aes_encrypt(p_plain, kept.crypto_hmac('kept enc'::bytea, p_key), v_iv);
BEGIN
    RETURN '\x01'::bytea || v_iv || v_ct || kept.crypto_hmac(v_iv || v_ct, kept.crypto_hmac('kept mac'::bytea, p_key));
END $$;

-- Opens what crypto_seal sealed; NULL when it was not sealed under this key
-- or was changed.
CREATE FUNCTION kept.crypto_open(p_key bytea, p_sealed bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    n integer := length(p_sealed);
    v_iv bytea;
    v_ct bytea;
BEGIN
    IF n < 1 + 16 + 16 + 32 OR get_byte(p_sealed, 0) <> 1 THEN
        RETURN NULL;
    END IF;
    v_iv := substring(p_sealed FROM 2 FOR 16);
    v_ct := substring(p_sealed FROM 18 FOR n - 17 - 32);
    IF kept.crypto_hmac(v_iv || v_ct, kept.crypto_hmac('kept mac'::bytea, p_key))
       <> substring(p_sealed FROM n - 31 FOR 32) THEN
        RETURN NULL;
    END IF;
    RETURN kept.crypto_aes_decrypt(v_ct, kept.crypto_hmac('kept enc'::bytea, p_key), v_iv);
END $$;

-- ---- the key-encryption key (keptd's configuration) and the customers' data keys ------------

-- The configured key-encryption key (p_previous: the one being rotated away
-- from), or NULL when this session was not given one.
CREATE FUNCTION kept.kek(p_previous boolean DEFAULT false) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text := current_setting(CASE WHEN p_previous THEN 'kept.data_key_previous' ELSE 'kept.data_key' END, true);
BEGIN
    IF coalesce(v, '') !~ '^[0-9a-fA-F]{64}$' THEN
        RETURN NULL;
    END IF;
    RETURN decode(v, 'hex');
END $$;

-- Which key-encryption key wrapped a data key: the first 16 hex digits of its SHA-256.
CREATE FUNCTION kept.kek_id(p_kek bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
RETURN left(encode(sha256(p_kek), 'hex'), 16);

CREATE FUNCTION kept.require_kek() RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v bytea := kept.kek();
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION 'this session has no data key: keptd passes KEPT_DATA_KEY (psql: PGOPTIONS=''-c kept.data_key=...'')'
            USING ERRCODE = 'KR500', HINT = 'data_key_missing';
    END IF;
    RETURN v;
END $$;

CREATE TABLE kept.customer_keys (
    -- deferred: a customer's key is made before the customer row that holds its sealed name
    customer_id bigint PRIMARY KEY REFERENCES kept.customers (id) DEFERRABLE INITIALLY DEFERRED,
    kek_id      text NOT NULL,
    wrapped     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz
);
CREATE INDEX customer_keys_kek_idx ON kept.customer_keys (kek_id);

-- A customer's data key: made when they have none, unless they were erased
-- (nothing of theirs is sealed again: what would be, is dropped).
CREATE FUNCTION kept.customer_key_make(p_customer_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_kek bytea := kept.require_kek();
BEGIN
    IF EXISTS (SELECT 1 FROM kept.customers WHERE id = p_customer_id AND erased_at IS NOT NULL) THEN
        RETURN;
    END IF;
    INSERT INTO kept.customer_keys (customer_id, kek_id, wrapped)
    VALUES (p_customer_id, kept.kek_id(v_kek), kept.crypto_seal(v_kek, kept.crypto_random(32)))
    ON CONFLICT (customer_id) DO NOTHING;
END $$;

-- A customer's data key, unwrapped with the current or the previous
-- key-encryption key; NULL when they have none (erased).
CREATE FUNCTION kept.customer_key(p_customer_id bigint) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k kept.customer_keys;
    v_kek bytea;
BEGIN
    SELECT * INTO k FROM kept.customer_keys WHERE customer_id = p_customer_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_kek := kept.require_kek();
    IF k.kek_id <> kept.kek_id(v_kek) THEN
        v_kek := kept.kek(true);
        IF v_kek IS NULL OR k.kek_id <> kept.kek_id(v_kek) THEN
            RAISE EXCEPTION 'customer %''s data key is wrapped under key % which this session does not have '
                            '(set KEPT_DATA_KEY_PREVIOUS during a rotation)', p_customer_id, k.kek_id
                USING ERRCODE = 'KR500', HINT = 'data_key_unknown';
        END IF;
    END IF;
    RETURN kept.crypto_open(v_kek, k.wrapped);
END $$;

-- A value of a customer's, sealed under their data key (made if needed);
-- NULL for an erased customer.
CREATE FUNCTION kept.pii_seal(p_customer_id bigint, p_value text) RETURNS bytea
LANGUAGE plpgsql AS $$
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM kept.customer_key_make(p_customer_id);
    RETURN kept.crypto_seal(kept.customer_key(p_customer_id), convert_to(p_value, 'UTF8'));
END $$;

-- The clear value; NULL when the customer was erased (or it is not theirs).
CREATE FUNCTION kept.pii_open(p_customer_id bigint, p_sealed bytea) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_key bytea;
BEGIN
    IF p_sealed IS NULL THEN
        RETURN NULL;
    END IF;
    v_key := kept.customer_key(p_customer_id);
    RETURN CASE WHEN v_key IS NOT NULL THEN convert_from(kept.crypto_open(v_key, p_sealed), 'UTF8') END;
END $$;

-- The digest that stands for a phone number of a customer's in comparisons.
CREATE FUNCTION kept.pii_digest(p_customer_id bigint, p_value text) RETURNS bytea
LANGUAGE plpgsql AS $$
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM kept.customer_key_make(p_customer_id);
    RETURN kept.crypto_hmac(convert_to(p_value, 'UTF8'),
                            kept.crypto_hmac('kept digest'::bytea, kept.customer_key(p_customer_id)));
END $$;

-- Sealed text, as the audit log keeps a personal value: 'pii:' and base64.
CREATE FUNCTION kept.pii_seal_text(p_customer_id bigint, p_value text) RETURNS text
LANGUAGE sql
RETURN 'pii:' || translate(encode(kept.pii_seal(p_customer_id, p_value), 'base64'), E'\n', '');

CREATE FUNCTION kept.pii_open_text(p_customer_id bigint, p_sealed text) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN p_sealed LIKE 'pii:%' THEN kept.pii_open(p_customer_id, decode(substr(p_sealed, 5), 'base64'))
            ELSE p_sealed END;

-- The members of a JSON document that hold a customer's personal values:
-- names, references, numbers, free text (anything may be written in a note).
CREATE FUNCTION kept.pii_members() RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY['name', 'customer_name', 'external_ref', 'account_external_ref', 'number', 'note', 'reason',
             'cancel_reason', 'resolution_note', 'approval_note', 'reversal_reason'];

-- Whether a document may hold a personal value (a cheap test on its text;
-- sql/functions/10_audit.sql keeps it the same, for kept.audit_write).
CREATE OR REPLACE FUNCTION kept.audit_has_pii(j jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN j IS NOT NULL AND j::text ~ ('"(' || array_to_string(kept.pii_members(), '|') || ')": "');

-- `j` with every personal value sealed (in nested objects and arrays too).
CREATE FUNCTION kept.pii_seal_json(p_customer_id bigint, j jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(j) = 'array' THEN
        RETURN (SELECT coalesce(jsonb_agg(kept.pii_seal_json(p_customer_id, e) ORDER BY n), '[]')
                FROM jsonb_array_elements(j) WITH ORDINALITY t(e, n));
    ELSIF jsonb_typeof(j) <> 'object' THEN
        RETURN j;
    END IF;
    RETURN (SELECT coalesce(jsonb_object_agg(k, CASE
                       WHEN k LIKE '%\_user' THEN v -- who did it: a user of kept's, not the customer
                       WHEN k = ANY (kept.pii_members()) AND jsonb_typeof(v) = 'string'
                            AND v #>> '{}' NOT LIKE 'pii:%'
                           THEN to_jsonb(kept.pii_seal_text(p_customer_id, v #>> '{}'))
                       WHEN jsonb_typeof(v) IN ('object', 'array') THEN kept.pii_seal_json(p_customer_id, v)
                       ELSE v END), '{}')
            FROM jsonb_each(j) e(k, v));
END $$;

-- The customer an audited entity concerns, or NULL.
CREATE FUNCTION kept.audit_customer(p_entity_type text, p_entity_id bigint) RETURNS bigint
LANGUAGE sql STABLE
RETURN CASE p_entity_type
    WHEN 'customer' THEN p_entity_id
    WHEN 'account' THEN (SELECT customer_id FROM kept.accounts WHERE id = p_entity_id)
    WHEN 'plan' THEN (SELECT a.customer_id FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id
                      WHERE p.id = p_entity_id)
    WHEN 'payment' THEN (SELECT a.customer_id FROM kept.payments p JOIN kept.accounts a ON a.id = p.account_id
                         WHERE p.id = p_entity_id)
    WHEN 'proposal' THEN (SELECT a.customer_id FROM kept.proposals p JOIN kept.accounts a ON a.id = p.account_id
                          WHERE p.id = p_entity_id)
    WHEN 'settlement_offer' THEN (SELECT a.customer_id FROM kept.settlement_offers o
                                  JOIN kept.accounts a ON a.id = o.account_id WHERE o.id = p_entity_id)
    WHEN 'escalation' THEN (SELECT a.customer_id FROM kept.escalations e JOIN kept.accounts a ON a.id = e.account_id
                            WHERE e.id = p_entity_id)
    WHEN 'review' THEN (SELECT a.customer_id FROM kept.reviews r JOIN kept.plans p ON p.id = r.plan_id
                        JOIN kept.accounts a ON a.id = p.account_id WHERE r.id = p_entity_id)
    WHEN 'call' THEN (SELECT customer_id FROM kept.calls WHERE id = p_entity_id)
    WHEN 'contact' THEN (SELECT customer_id FROM kept.contacts WHERE id = p_entity_id)
    END;

-- ---- the data itself ------------------------------------------------------------------------

ALTER TABLE kept.customers
    ADD COLUMN name_enc bytea,
    ADD COLUMN erased_at timestamptz;
ALTER TABLE kept.customer_phones
    ADD COLUMN number_enc bytea,
    ADD COLUMN number_digest bytea;
ALTER TABLE kept.calls
    ADD COLUMN number_enc bytea,
    ADD COLUMN number_digest bytea;

-- What is already stored is sealed now: keptd migrate passes KEPT_DATA_KEY.
DO $$
BEGIN
    IF (EXISTS (SELECT 1 FROM kept.customers) OR EXISTS (SELECT 1 FROM kept.audit_events)) AND kept.kek() IS NULL THEN
        RAISE EXCEPTION 'keptd migrate needs KEPT_DATA_KEY (64 hex digits) to encrypt the names and numbers already stored'
            USING ERRCODE = 'KR500', HINT = 'data_key_missing';
    END IF;
END $$;
UPDATE kept.customers SET name_enc = kept.pii_seal(id, name);
UPDATE kept.customer_phones SET number_enc = kept.pii_seal(customer_id, number),
                                number_digest = kept.pii_digest(customer_id, number);
ALTER TABLE kept.calls DISABLE TRIGGER USER;
UPDATE kept.calls SET number_enc = kept.pii_seal(customer_id, number),
                      number_digest = kept.pii_digest(customer_id, number);
ALTER TABLE kept.calls ENABLE TRIGGER USER;

ALTER TABLE kept.customers DROP COLUMN name;
ALTER TABLE kept.customers ADD CONSTRAINT customers_name_sealed
    CHECK ((erased_at IS NULL) = (name_enc IS NOT NULL));
ALTER TABLE kept.customer_phones DROP CONSTRAINT customer_phones_pkey;
DROP INDEX IF EXISTS kept.customer_phones_number_idx;
ALTER TABLE kept.customer_phones DROP COLUMN number;
ALTER TABLE kept.customer_phones
    ALTER COLUMN number_enc SET NOT NULL,
    ALTER COLUMN number_digest SET NOT NULL,
    ADD CONSTRAINT customer_phones_pkey PRIMARY KEY (customer_id, number_digest);
ALTER TABLE kept.calls DROP COLUMN number;
CREATE INDEX calls_number_digest_idx ON kept.calls (customer_id, number_digest);

-- The outbox kept a returned payment's reason (free text); events no longer
-- carry any.
UPDATE kept.outbox_events SET payload = payload - 'reason'
WHERE event_type = 'payment_reversed' AND payload ? 'reason';

-- ---- the audit log keeps no personal value in clear ------------------------------------------
-- Events written before this migration held whole customer records. Their
-- personal values are sealed now, as every later event's are when written
-- (kept.audit_write), and the sealed chain is computed again over what the
-- events now hold, from the first event that changed: the chain was checked
-- first, and its head before and after are recorded here, so the old head
-- still proves what the log held until this migration. A log with no
-- personal value in clear is left as it is (and not locked).
CREATE TABLE kept.audit_rechains (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    reason        text NOT NULL,
    events        bigint NOT NULL,
    old_head_seq  bigint NOT NULL,
    old_head_hash bytea NOT NULL,
    old_chain_ok  boolean NOT NULL,
    new_head_hash bytea NOT NULL
);

DO $$
DECLARE
    v_old kept.audit_chain_head;
    v_ok boolean;
    v_from bigint;
    v_hash bytea;
    v_prev bytea;
    v_n bigint := 0;
    e kept.audit_events;
BEGIN
    -- only the events that hold a personal value change (a cheap test on
    -- their text first), and the chain is computed again from the first of
    -- them: a log without any needs no rewrite and takes no lock here
    CREATE TEMP TABLE audit_resealed ON COMMIT DROP AS
    SELECT x.id, x.chain_seq, kept.pii_seal_json(x.customer, x.before) AS before,
           kept.pii_seal_json(x.customer, x.after) AS after
    FROM (SELECT ev.id, ev.chain_seq, ev.before, ev.after, kept.audit_customer(ev.entity_type, ev.entity_id) AS customer
          FROM kept.audit_events ev
          WHERE kept.audit_has_pii(ev.before) OR kept.audit_has_pii(ev.after)) x
    WHERE x.customer IS NOT NULL;
    DELETE FROM audit_resealed r USING kept.audit_events ev
    WHERE ev.id = r.id AND ev.before IS NOT DISTINCT FROM r.before AND ev.after IS NOT DISTINCT FROM r.after;
    IF NOT EXISTS (SELECT 1 FROM audit_resealed) THEN
        RETURN;
    END IF;
    -- a partition archived before this migration (keptd audit-archive, 0016)
    -- records the hash the next live event links to; rechaining the live
    -- events would break that link, so this migration does not guess
    IF EXISTS (SELECT 1 FROM kept.audit_archives) THEN
        RAISE EXCEPTION '0021 seals and rechains the audit log, but % audit partitions were archived before it '
                        '(kept.audit_archives): their chain would no longer link to the live one',
                        (SELECT count(*) FROM kept.audit_archives)
            USING ERRCODE = 'KR500', HINT = 'reattach the archived partitions (ALTER TABLE kept.audit_events '
                                            'ATTACH PARTITION ...) and delete their kept.audit_archives rows, then '
                                            'run keptd migrate again; archive them again afterwards';
    END IF;
    SELECT * INTO v_old FROM kept.audit_chain_head FOR UPDATE;
    SELECT ok INTO v_ok FROM kept.audit_verify();
    -- the user triggers that keep the log append-only; on the partitioned log
    -- (0016) this reaches every partition's row triggers too
    ALTER TABLE kept.audit_events DISABLE TRIGGER USER;
    UPDATE kept.audit_events ev SET before = r.before, after = r.after FROM audit_resealed r WHERE r.id = ev.id;
    v_from := (SELECT min(chain_seq) FROM audit_resealed);
    IF v_from IS NOT NULL THEN
        v_hash := coalesce((SELECT ev.prev_hash FROM kept.audit_events ev WHERE ev.chain_seq = v_from),
                           kept.audit_genesis());
        FOR e IN SELECT * FROM kept.audit_events WHERE chain_seq >= v_from ORDER BY chain_seq LOOP
            v_prev := v_hash;
            v_hash := kept.audit_hash(v_prev, e.chain_seq, e.at, e.actor_key_id, e.actor, e.request_id, e.action,
                                      e.entity_type, e.entity_id, e.before, e.after);
            UPDATE kept.audit_events SET prev_hash = v_prev, hash = v_hash WHERE id = e.id;
            v_n := v_n + 1;
        END LOOP;
        UPDATE kept.audit_chain_head SET hash = v_hash;
    END IF;
    ALTER TABLE kept.audit_events ENABLE TRIGGER USER;
    INSERT INTO kept.audit_rechains (reason, events, old_head_seq, old_head_hash, old_chain_ok, new_head_hash)
    VALUES ('0021: personal values sealed', v_n, v_old.seq, v_old.hash, v_ok, coalesce(v_hash, v_old.hash));
END $$;

-- ---- retention ------------------------------------------------------------------------------
-- How long a customer's data is kept once their last account is closed (paid,
-- settled or closed), per jurisdiction: the exact code (US-MA), else its
-- country (US), else '*'. After that it is erased: by an admin on request,
-- or by the retention job.
CREATE TABLE kept.retention_policies (
    jurisdiction text PRIMARY KEY
                 CONSTRAINT retention_policies_jurisdiction_check
                 CHECK (jurisdiction = '*' OR kept.is_jurisdiction(jurisdiction)),
    retain_days  integer NOT NULL CONSTRAINT retention_policies_days_check CHECK (retain_days BETWEEN 0 AND 3650),
    citation     text NOT NULL CONSTRAINT retention_policies_citation_check CHECK (btrim(citation) <> ''),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO kept.retention_policies (jurisdiction, retain_days, citation) VALUES
    ('*', 2190, 'six years: the limitation period for claims on a contract in England and Wales (Limitation Act 1980 s.5)'),
    ('GB', 2190, 'six years after the account closed (Limitation Act 1980 s.5; FCA CONC record keeping)'),
    ('US', 1095, 'three years after the last collection activity (12 CFR 1006.100(a), Regulation F record retention)');

-- When an account was closed (paid, settled or closed); NULL while it is not.
ALTER TABLE kept.accounts ADD COLUMN closed_at timestamptz;
UPDATE kept.accounts SET closed_at = updated_at WHERE status IN ('paid', 'settled', 'closed');

CREATE FUNCTION kept.account_closed_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('paid', 'settled', 'closed') THEN
        IF TG_OP = 'INSERT' OR OLD.status NOT IN ('paid', 'settled', 'closed') THEN
            NEW.closed_at := kept.now();
        END IF;
    ELSE
        NEW.closed_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_closed_at BEFORE INSERT OR UPDATE OF status ON kept.accounts
    FOR EACH ROW EXECUTE FUNCTION kept.account_closed_at();
