-- 0022 equality across customers over sealed numbers, and contacts' numbers sealed.
--
-- 0021 seals every phone number under its customer's data key and compares
-- numbers by a digest keyed by that data key: equal only within one
-- customer. Some rules compare numbers whoever's debt they are about (issue
-- 13: two debts on one number are never rung the same day; the dialler rings a
-- number once at a time), and the customer search (sql/functions/32_find.sql)
-- matches across customers. Both use kept's own "index key": 32 random bytes
-- made once, wrapped under KEPT_DATA_KEY like the customers' data keys and
-- re-wrapped by `keptd data-key rotate` with them, never per customer.
--
-- A number's global digest is HMAC-SHA-256 of the number under a key derived
-- from the index key ('kept number'). It says that two rows hold the same
-- number, not which number: the number cannot be read back from it without
-- the index key (which only the key-encryption key opens). An erasure deletes
-- (phones) or blanks (calls, contacts) the customer's digests with the sealed
-- numbers.

CREATE TABLE kept.system_keys (
    name         text PRIMARY KEY CONSTRAINT system_keys_name_check CHECK (name IN ('index')),
    kek_id       text NOT NULL,
    wrapped      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz
);

-- The key-encryption key that wrapped something under p_kek_id: the current
-- one or, during a rotation, the previous.
CREATE FUNCTION kept.kek_for(p_kek_id text, p_what text) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_kek bytea := kept.require_kek();
BEGIN
    IF p_kek_id <> kept.kek_id(v_kek) THEN
        v_kek := kept.kek(true);
        IF v_kek IS NULL OR p_kek_id <> kept.kek_id(v_kek) THEN
            RAISE EXCEPTION '% is wrapped under key % which this session does not have '
                            '(set KEPT_DATA_KEY_PREVIOUS during a rotation)', p_what, p_kek_id
                USING ERRCODE = 'KR500', HINT = 'data_key_unknown';
        END IF;
    END IF;
    RETURN v_kek;
END $$;

-- kept's own key `p_name`, made (under the current key-encryption key) when there is none.
CREATE FUNCTION kept.system_key_make(p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_kek bytea;
BEGIN
    IF EXISTS (SELECT 1 FROM kept.system_keys WHERE name = p_name) THEN
        RETURN;
    END IF;
    v_kek := kept.require_kek();
    INSERT INTO kept.system_keys (name, kek_id, wrapped)
    VALUES (p_name, kept.kek_id(v_kek), kept.crypto_seal(v_kek, kept.crypto_random(32)))
    ON CONFLICT (name) DO NOTHING;
END $$;

-- kept's own key `p_name`, unwrapped; NULL while there is none.
CREATE FUNCTION kept.system_key(p_name text) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k kept.system_keys;
BEGIN
    SELECT * INTO k FROM kept.system_keys WHERE name = p_name;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN kept.crypto_open(kept.kek_for(k.kek_id, format('kept''s %s key', p_name)), k.wrapped);
END $$;

-- The digest that stands for a phone number wherever numbers are compared
-- across customers (the index key is made if needed).
CREATE FUNCTION kept.number_gdigest(p_number text) RETURNS bytea
LANGUAGE plpgsql AS $$
BEGIN
    IF p_number IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM kept.system_key_make('index');
    RETURN kept.crypto_hmac(convert_to(p_number, 'UTF8'), kept.crypto_hmac('kept number'::bytea, kept.system_key('index')));
END $$;

-- ---- the data ---------------------------------------------------------------------------------

ALTER TABLE kept.customer_phones ADD COLUMN number_gdigest bytea;
ALTER TABLE kept.calls ADD COLUMN number_gdigest bytea;
ALTER TABLE kept.contacts
    ADD COLUMN number_enc bytea,
    ADD COLUMN number_digest bytea,
    ADD COLUMN number_gdigest bytea;

DO $$
BEGIN
    IF kept.kek() IS NULL AND (EXISTS (SELECT 1 FROM kept.customer_phones)
                               OR EXISTS (SELECT 1 FROM kept.contacts WHERE number IS NOT NULL)) THEN
        RAISE EXCEPTION 'keptd migrate needs KEPT_DATA_KEY (64 hex digits) to digest and seal the numbers already stored'
            USING ERRCODE = 'KR500', HINT = 'data_key_missing';
    END IF;
    IF kept.kek() IS NOT NULL THEN
        PERFORM kept.system_key_make('index');
    END IF;
END $$;

UPDATE kept.customer_phones SET number_gdigest = kept.number_gdigest(kept.pii_open(customer_id, number_enc));
ALTER TABLE kept.customer_phones ALTER COLUMN number_gdigest SET NOT NULL;

ALTER TABLE kept.calls DISABLE TRIGGER USER;
UPDATE kept.calls SET number_gdigest = kept.number_gdigest(kept.pii_open(customer_id, number_enc))
WHERE number_enc IS NOT NULL;
ALTER TABLE kept.calls ENABLE TRIGGER USER;
-- the last automated attempt on a number, whoever's debt (0010's calls_number_idx went with calls.number)
CREATE INDEX calls_number_gdigest_idx ON kept.calls (number_gdigest, dialed_at) WHERE dialed_at IS NOT NULL;

UPDATE kept.contacts SET number_enc = kept.pii_seal(customer_id, number),
                         number_digest = kept.pii_digest(customer_id, number),
                         number_gdigest = kept.number_gdigest(number)
WHERE number IS NOT NULL AND customer_id NOT IN (SELECT id FROM kept.customers WHERE erased_at IS NOT NULL);
-- an outbound telephone contact names its number: kept.contact_log checks it
-- (a CHECK could not: an erasure blanks the number)
ALTER TABLE kept.contacts DROP COLUMN number;
