-- Bulk import of customers and accounts (POST /v1/imports/accounts).
--
-- keptd parses the CSV, COPYs every record into a temporary staging table
-- (with the line it started on and any format problem), then calls
-- kept.import_accounts_apply(). Validation is set-based and uses the same
-- rule helpers as the table constraints; if any line has a problem nothing
-- is written and every problem is returned. Otherwise new customers (and
-- their phones) and all accounts are inserted and audited, all in keptd's
-- one transaction.
--
-- A customer_external_ref that already exists in kept gets the new accounts;
-- its stored details are left as they are.

CREATE OR REPLACE FUNCTION kept.import_accounts_stage() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS import_accounts_stage (
        line                   integer NOT NULL,
        parse_error            text,
        customer_external_ref  text,
        customer_name          text,
        time_zone              text,
        jurisdiction           text,
        language               text,
        phone                  text,
        phone_consent          text,
        account_external_ref   text,
        creditor               text,
        original_balance_cents text,
        balance_cents          text,
        currency               text,
        placed_on              text,
        date_of_birth          text,
        postcode               text,
        phone_texts_consent    text
    ) ON COMMIT DROP;
    TRUNCATE pg_temp.import_accounts_stage;
END $$;

-- A date from text, or NULL when it is not a real YYYY-MM-DD date.
CREATE OR REPLACE FUNCTION kept.parse_date(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF v !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN v::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION kept.parse_consent(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN lower(v) IN ('true', 'yes', 'y', '1', 't') THEN true
            WHEN lower(v) IN ('false', 'no', 'n', '0', 'f') THEN false END;

-- Every problem of every staged line, in line order.
-- PL/pgSQL, not SQL: the staging table exists only inside an import.
CREATE OR REPLACE FUNCTION kept.import_accounts_problems()
RETURNS TABLE (line integer, code text, field text, message text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH s AS (SELECT * FROM pg_temp.import_accounts_stage),
    ok AS (SELECT * FROM s WHERE parse_error IS NULL),
    first_of_customer AS (
        SELECT DISTINCT ON (customer_external_ref) *
        FROM ok WHERE customer_external_ref IS NOT NULL
        ORDER BY customer_external_ref, line)
    SELECT * FROM (
        SELECT s.line, s.parse_error, NULL::text, 'the line is not well-formed CSV'
        FROM s WHERE s.parse_error IS NOT NULL
        UNION ALL
        SELECT ok.line, 'missing_value', v.f, v.f || ' is required'
        FROM ok, LATERAL (VALUES ('customer_external_ref', ok.customer_external_ref),
                                 ('customer_name', ok.customer_name), ('time_zone', ok.time_zone),
                                 ('jurisdiction', ok.jurisdiction),
                                 ('account_external_ref', ok.account_external_ref),
                                 ('creditor', ok.creditor),
                                 ('original_balance_cents', ok.original_balance_cents),
                                 ('currency', ok.currency)) AS v(f, val)
        WHERE v.val IS NULL
        UNION ALL
        SELECT ok.line, 'invalid_external_ref', 'customer_external_ref',
               kept.rule_message('external_ref')
        FROM ok WHERE NOT kept.is_reference(ok.customer_external_ref)
        UNION ALL
        SELECT ok.line, 'invalid_name', 'customer_name', kept.rule_message('name')
        FROM ok WHERE NOT kept.is_display_name(ok.customer_name)
        UNION ALL
        SELECT ok.line, 'invalid_time_zone', 'time_zone', kept.rule_message('time_zone')
        FROM ok WHERE ok.time_zone IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM kept.time_zones tz WHERE tz.name = ok.time_zone)
        UNION ALL
        SELECT ok.line, 'invalid_jurisdiction', 'jurisdiction', kept.rule_message('jurisdiction')
        FROM ok WHERE NOT kept.is_jurisdiction(ok.jurisdiction)
        UNION ALL
        SELECT ok.line, 'invalid_language', 'language', kept.rule_message('language')
        FROM ok WHERE NOT kept.is_language(ok.language)
        UNION ALL
        SELECT ok.line, 'invalid_phone', 'phone', kept.rule_message('phone')
        FROM ok WHERE NOT kept.is_e164(ok.phone)
        UNION ALL
        SELECT ok.line, 'invalid_consent', 'phone_consent', 'must be true or false'
        FROM ok WHERE ok.phone_consent IS NOT NULL AND kept.parse_consent(ok.phone_consent) IS NULL
        UNION ALL
        SELECT ok.line, 'invalid_consent', 'phone_texts_consent', 'must be true or false'
        FROM ok WHERE ok.phone_texts_consent IS NOT NULL AND kept.parse_consent(ok.phone_texts_consent) IS NULL
        UNION ALL
        SELECT ok.line, 'invalid_date_of_birth', 'date_of_birth', kept.rule_message('date_of_birth')
        FROM ok WHERE ok.date_of_birth IS NOT NULL
                  AND coalesce(kept.parse_date(ok.date_of_birth) NOT BETWEEN DATE '1900-01-01'
                                   AND (kept.now() AT TIME ZONE 'UTC')::date - 1, true)
        UNION ALL
        SELECT ok.line, 'invalid_postcode', 'postcode', kept.rule_message('postcode')
        FROM ok WHERE NOT kept.is_postcode(ok.postcode)
        UNION ALL
        SELECT ok.line, 'invalid_external_ref', 'account_external_ref',
               kept.rule_message('external_ref')
        FROM ok WHERE NOT kept.is_reference(ok.account_external_ref)
        UNION ALL
        SELECT ok.line, 'invalid_creditor', 'creditor', kept.rule_message('creditor')
        FROM ok WHERE NOT kept.is_display_name(ok.creditor)
        UNION ALL
        SELECT ok.line, 'invalid_amount', 'original_balance_cents', 'must be a positive whole number of cents'
        FROM ok WHERE ok.original_balance_cents !~ '^[0-9]{1,15}$'
                   OR ok.original_balance_cents ~ '^0+$'
        UNION ALL
        SELECT ok.line, 'invalid_amount', 'balance_cents', 'must be a whole number of cents, zero or more'
        FROM ok WHERE ok.balance_cents !~ '^[0-9]{1,15}$'
        UNION ALL
        SELECT ok.line, 'invalid_currency', 'currency', kept.rule_message('currency')
        FROM ok WHERE NOT kept.is_currency(ok.currency)
        UNION ALL
        SELECT ok.line, 'unknown_currency', 'currency', format('%s is not an ISO 4217 currency kept knows', ok.currency)
        FROM ok WHERE kept.is_currency(ok.currency)
                  AND NOT EXISTS (SELECT 1 FROM kept.currencies c WHERE c.code = ok.currency)
        UNION ALL
        SELECT ok.line, 'invalid_date', 'placed_on', 'must be a real date YYYY-MM-DD'
        FROM ok WHERE ok.placed_on IS NOT NULL AND kept.parse_date(ok.placed_on) IS NULL
        UNION ALL
        SELECT ok.line, 'invalid_placed_on', 'placed_on', kept.rule_message('placed_on')
        FROM ok WHERE kept.parse_date(ok.placed_on) NOT BETWEEN DATE '2000-01-01' AND (kept.now() AT TIME ZONE 'UTC')::date + 1
        UNION ALL
        SELECT ok.line, 'duplicate_external_ref', 'account_external_ref', 'an account with this reference already exists'
        FROM ok WHERE EXISTS (SELECT 1 FROM kept.accounts a WHERE a.external_ref = ok.account_external_ref)
        UNION ALL
        SELECT d.line, 'duplicate_in_file', 'account_external_ref', 'this account reference is on an earlier line'
        FROM (SELECT ok.line, row_number() OVER (PARTITION BY ok.account_external_ref ORDER BY ok.line) AS n
              FROM ok WHERE ok.account_external_ref IS NOT NULL) d
        WHERE d.n > 1
        UNION ALL
        SELECT ok.line, 'inconsistent_customer', 'customer_external_ref',
               'name, time zone, jurisdiction or language differ from line ' || f.line
        FROM ok JOIN first_of_customer f USING (customer_external_ref)
        WHERE ok.line <> f.line
          AND (ok.customer_name, ok.time_zone, ok.jurisdiction, coalesce(ok.language, 'en'))
              IS DISTINCT FROM (f.customer_name, f.time_zone, f.jurisdiction, coalesce(f.language, 'en'))
    ) problems (line, code, field, message)
    ORDER BY 1, 3;
END $$;

DROP FUNCTION IF EXISTS kept.import_accounts_write(bigint, text, text);
CREATE OR REPLACE FUNCTION kept.import_accounts_write(p_actor kept.actor)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_lines bigint;
    v_new_customers bigint;
    v_existing bigint;
    v_accounts bigint;
BEGIN
    SELECT count(*), count(DISTINCT customer_external_ref) INTO v_lines, v_existing
    FROM pg_temp.import_accounts_stage;

    CREATE TEMP TABLE import_new_customers (id bigint, external_ref text) ON COMMIT DROP;
    WITH first AS (
        SELECT DISTINCT ON (customer_external_ref) *
        FROM pg_temp.import_accounts_stage ORDER BY customer_external_ref, line
    ), numbered AS (
        SELECT nextval(pg_get_serial_sequence('kept.customers', 'id')) AS id, f.*
        FROM (SELECT * FROM first f
              WHERE NOT EXISTS (SELECT 1 FROM kept.customers c WHERE c.external_ref = f.customer_external_ref)
              ORDER BY f.line) f
    ), ins AS (
        -- the name, date of birth and postcode sealed under the new customer's own data key
        INSERT INTO kept.customers (id, external_ref, name_enc, time_zone, jurisdiction, language,
                                    date_of_birth_enc, postcode_enc)
        OVERRIDING SYSTEM VALUE
        SELECT f.id, f.customer_external_ref, kept.pii_seal(f.id, f.customer_name), f.time_zone, f.jurisdiction,
               coalesce(f.language, 'en'), kept.pii_seal(f.id, kept.parse_date(f.date_of_birth)::text),
               kept.pii_seal(f.id, f.postcode)
        FROM numbered f
        ORDER BY f.line
        RETURNING id, external_ref
    )
    INSERT INTO pg_temp.import_new_customers SELECT id, external_ref FROM ins;
    GET DIAGNOSTICS v_new_customers = ROW_COUNT;
    v_existing := v_existing - v_new_customers;

    INSERT INTO kept.customer_phones (customer_id, number_enc, number_digest, number_gdigest, position,
                                      consent_automated, consent_texts, texts_consent_updated_at)
    SELECT nc.id, kept.pii_seal(nc.id, ph.phone), kept.pii_digest(nc.id, ph.phone), kept.number_gdigest(ph.phone),
           row_number() OVER (PARTITION BY nc.id ORDER BY ph.first_line)::smallint, ph.consent,
           ph.texts, CASE WHEN ph.texts_given THEN kept.now() END
    FROM (SELECT customer_external_ref, phone, min(line) AS first_line,
                 coalesce(bool_or(kept.parse_consent(phone_consent)), false) AS consent,
                 coalesce(bool_or(kept.parse_consent(phone_texts_consent)), false) AS texts,
                 bool_or(phone_texts_consent IS NOT NULL) AS texts_given
          FROM pg_temp.import_accounts_stage WHERE phone IS NOT NULL
          GROUP BY customer_external_ref, phone) ph
    JOIN pg_temp.import_new_customers nc ON nc.external_ref = ph.customer_external_ref;

    PERFORM kept.audit_write(p_actor, 'customer.imported', 'customer',
                             c.id, NULL, kept.customer_audit_json(c))
    FROM kept.customers c JOIN pg_temp.import_new_customers nc ON nc.id = c.id
    ORDER BY c.id;

    -- creditors kept does not know yet join the importing admin's team
    PERFORM kept.creditor_for_account((p_actor).key_id, x.creditor)
    FROM (SELECT DISTINCT creditor FROM pg_temp.import_accounts_stage ORDER BY 1) x;

    INSERT INTO kept.accounts (customer_id, external_ref, creditor, original_balance_cents,
                               balance_cents, currency, placed_on)
    SELECT c.id, s.account_external_ref, s.creditor, s.original_balance_cents::bigint,
           coalesce(s.balance_cents, s.original_balance_cents)::bigint, s.currency,
           coalesce(kept.parse_date(s.placed_on), kept.local_today(c.time_zone))
    FROM pg_temp.import_accounts_stage s
    JOIN kept.customers c ON c.external_ref = s.customer_external_ref
    ORDER BY s.line;
    GET DIAGNOSTICS v_accounts = ROW_COUNT;

    -- validation guaranteed every staged account reference is new
    PERFORM kept.audit_write(p_actor, 'account.imported', 'account',
                             a.id, NULL, kept.account_json(a)::jsonb)
    FROM kept.accounts a JOIN pg_temp.import_accounts_stage s ON s.account_external_ref = a.external_ref
    ORDER BY s.line;

    RETURN json_build_object('lines', v_lines, 'customers_created', v_new_customers,
                             'customers_existing', v_existing, 'accounts_created', v_accounts);
END $$;
