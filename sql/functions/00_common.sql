-- Shared helpers: kept's own errors, timestamps, pagination cursors.
-- Loaded (CREATE OR REPLACE) by every `keptd migrate`, after schema/.

-- The SQLSTATE of each kind of error kept's SQL raises, by the kind's name in
-- service/src/err/err.c (kept_err_name). db.c's classify_own reads the kind
-- back from the SQLSTATE; only the http module turns a kind into a status.
-- NULL for a kind SQL does not raise.
CREATE OR REPLACE FUNCTION kept.error_state(p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE p_kind WHEN 'invalid' THEN 'KRINV'
                   WHEN 'forbidden' THEN 'KRFBD'
                   WHEN 'not_found' THEN 'KRNFD'
                   WHEN 'conflict' THEN 'KRCFL'
                   WHEN 'precondition_failed' THEN 'KRPRE'
                   WHEN 'rule_violation' THEN 'KRRUL' END;

-- Raises one of kept's own errors: its kind (kept.error_state's names), HINT
-- the stable error code, COLUMN the field. A kind kept does not know is a
-- defect of the caller: a plain exception, which keptd answers 500 and logs.
CREATE OR REPLACE FUNCTION kept.fail(p_kind text, p_code text, p_field text, p_message text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_state text := kept.error_state(p_kind);
BEGIN
    IF v_state IS NULL THEN
        RAISE EXCEPTION 'kept.fail: % is not an error kind (raising %: %)', p_kind, p_code, p_message;
    END IF;
    RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = p_message, HINT = p_code, COLUMN = coalesce(p_field, '');
END $$;

-- ---- the field rules ---------------------------------------------------------------------
-- Declared once in keptd (service/src/rules/rules.c) and written into
-- kept.field_rules by every `keptd migrate`: p_rules is their JSON array.
-- Rules keptd no longer declares are removed.
CREATE OR REPLACE FUNCTION kept.field_rules_load(p_rules jsonb) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM kept.field_rules
    WHERE name NOT IN (SELECT r->>'name' FROM jsonb_array_elements(p_rules) r);
    INSERT INTO kept.field_rules (name, code, field, property, message, pattern, vals, max_chars,
                                  minimum, maximum, predicate, constraints)
    SELECT r->>'name', r->>'code', r->>'field', r->>'property', r->>'message', r->>'pattern',
           string_to_array(r->>'values', ' '), (r->>'max_chars')::integer, (r->>'minimum')::bigint,
           (r->>'maximum')::bigint, r->>'predicate',
           coalesce(string_to_array(r->>'constraints', ' '), '{}')
    FROM jsonb_array_elements(p_rules) r
    ON CONFLICT (name) DO UPDATE
        SET code = EXCLUDED.code, field = EXCLUDED.field, property = EXCLUDED.property,
            message = EXCLUDED.message, pattern = EXCLUDED.pattern, vals = EXCLUDED.vals,
            max_chars = EXCLUDED.max_chars, minimum = EXCLUDED.minimum, maximum = EXCLUDED.maximum,
            predicate = EXCLUDED.predicate, constraints = EXCLUDED.constraints;
$$;

-- The rule p_name; a rule keptd does not declare is a defect of the caller
-- (a plain exception: keptd answers 500 and logs it), never a check that
-- passes because its pattern or length read as NULL.
CREATE OR REPLACE FUNCTION kept.field_rule(p_name text) RETURNS kept.field_rules
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v kept.field_rules;
BEGIN
    SELECT * INTO v FROM kept.field_rules WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no field rule %', p_name;
    END IF;
    RETURN v;
END $$;

-- The message of the rule p_name.
CREATE OR REPLACE FUNCTION kept.rule_message(p_name text) RETURNS text
LANGUAGE sql STABLE
RETURN (kept.field_rule(p_name)).message;

-- Raises the rule p_name's error: invalid, its code, field and message.
CREATE OR REPLACE FUNCTION kept.fail_rule(p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v kept.field_rules := kept.field_rule(p_name);
BEGIN
    PERFORM kept.fail('invalid', v.code, v.field, v.message);
END $$;

-- The HTTP statuses it raised before kinds (KR<status>) are gone: no caller is left.
DROP FUNCTION IF EXISTS kept.fail(integer, text, text, text);

-- The row of p_row's table (pass NULL::kept.plans) whose id is p_id, locked
-- as p_lock says — 'FOR UPDATE', 'FOR NO KEY UPDATE' (the account: plans and
-- payments that reference it may still be inserted), or '' to read without
-- a lock (a row whose lock must wait until another row's is taken) — or
-- kept.fail('not_found', p_code, p_field, p_message) when there is none.
CREATE OR REPLACE FUNCTION kept.lock_or_404(p_row anyelement, p_id bigint, p_lock text, p_code text,
                                            p_field text, p_message text)
RETURNS anyelement LANGUAGE plpgsql AS $$
DECLARE
    v_table regclass := (SELECT typrelid FROM pg_type WHERE oid = pg_typeof(p_row) AND typrelid <> 0)::regclass;
    v_row ALIAS FOR $0; -- the result: a row of p_row's type
    v_found bigint;
BEGIN
    IF v_table IS NULL OR p_lock NOT IN ('FOR UPDATE', 'FOR NO KEY UPDATE', '') THEN
        RAISE EXCEPTION 'kept.lock_or_404: % is not a table''s row type, or "%" not a lock', pg_typeof(p_row), p_lock;
    END IF;
    EXECUTE format('SELECT * FROM %s WHERE id = $1 %s', v_table, p_lock) INTO v_row USING p_id;
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found = 0 THEN
        PERFORM kept.fail('not_found', p_code, p_field, p_message);
    END IF;
    RETURN v_row;
END $$;

-- If-Match on a versioned row: p_expected (NULL: none sent) must be the row's
-- p_version, else precondition_failed version_mismatch naming p_what.
CREATE OR REPLACE FUNCTION kept.check_version(p_what text, p_version integer, p_expected integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_expected IS NOT NULL AND p_expected <> p_version THEN
        PERFORM kept.fail('precondition_failed', 'version_mismatch', 'If-Match',
                          format('the %s is at version %s, not %s', p_what, p_version, p_expected));
    END IF;
END $$;

-- The end of a write, in the caller's transaction: the audit event (who, what
-- action on which entity, before and after), the outbox event p_event about
-- the same entity with p_payload (none when p_event is NULL), and the answer
-- the caller gives back (its JSON, or the row it hands on), returned as it is.
DROP FUNCTION IF EXISTS kept.write_end(bigint, text, text, text, text, bigint, jsonb, jsonb, text, jsonb, anyelement);
CREATE OR REPLACE FUNCTION kept.write_end(p_actor kept.actor, p_action text, p_entity_type text, p_entity_id bigint,
                                          p_before jsonb, p_after jsonb, p_event text, p_payload jsonb,
                                          p_answer anyelement)
RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kept.audit_write(p_actor, p_action, p_entity_type, p_entity_id, p_before, p_after);
    IF p_event IS NOT NULL THEN
        PERFORM kept.outbox_write(p_event, p_entity_type, p_entity_id, p_payload);
    END IF;
    RETURN p_answer;
END $$;

-- RFC 3339 UTC with microseconds, the one timestamp format of the API.
CREATE OR REPLACE FUNCTION kept.ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Opaque page cursors: base64url of "<kind>:<position>". A cursor of one
-- list is refused by another. The position is the last id for lists in id
-- order, or "a,b,c" for lists in another order.
CREATE OR REPLACE FUNCTION kept.cursor_encode_text(p_kind text, p_position text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN rtrim(translate(encode(convert_to(p_kind || ':' || p_position, 'UTF8'), 'base64'), '+/', '-_'), '=');

CREATE OR REPLACE FUNCTION kept.cursor_decode_text(p_kind text, p_cursor text, p_shape text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_b64 text;
    v_text text;
BEGIN
    IF p_cursor !~ '^[A-Za-z0-9_-]{1,200}$' THEN
        PERFORM kept.fail('invalid', 'invalid_cursor', 'cursor', 'the cursor is not one this list gave out');
    END IF;
    v_b64 := translate(p_cursor, '-_', '+/');
    v_b64 := v_b64 || repeat('=', (4 - length(v_b64) % 4) % 4);
    BEGIN
        v_text := convert_from(decode(v_b64, 'base64'), 'UTF8');
    EXCEPTION WHEN others THEN
        v_text := NULL;
    END;
    IF v_text IS NULL OR v_text !~ ('^' || p_kind || ':' || p_shape || '$') THEN
        PERFORM kept.fail('invalid', 'invalid_cursor', 'cursor', 'the cursor is not one this list gave out');
    END IF;
    RETURN substr(v_text, length(p_kind) + 2);
END $$;

CREATE OR REPLACE FUNCTION kept.cursor_encode(p_kind text, p_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN kept.cursor_encode_text(p_kind, p_id::text);

-- The last id of the previous page, 0 for the first page.
CREATE OR REPLACE FUNCTION kept.cursor_decode(p_kind text, p_cursor text) RETURNS bigint
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN coalesce(p_cursor, '') = '' THEN 0
            ELSE kept.cursor_decode_text(p_kind, p_cursor, '[0-9]{1,18}')::bigint END;

-- The answer of a list endpoint: the page's items and, when the query found
-- more rows than the page holds (it asks for limit + 1), the cursor of the next.
CREATE OR REPLACE FUNCTION kept.page_json(p_items json, p_last_id bigint, p_found integer, p_limit integer,
                                          p_kind text)
RETURNS json LANGUAGE sql IMMUTABLE
RETURN json_build_object('items', coalesce(p_items, '[]'::json),
                         'next_cursor', CASE WHEN p_found > p_limit THEN kept.cursor_encode(p_kind, p_last_id) END);

-- The answer of a list in id order from the items of its rows (each with its
-- "id"), in order, as the query found them: it asks for p_limit + 1, so one
-- more than the page holds tells that another page follows, after the last
-- id the page shows.
CREATE OR REPLACE FUNCTION kept.page_of(p_items json[], p_limit integer, p_kind text) RETURNS json
LANGUAGE sql IMMUTABLE
RETURN kept.page_json(array_to_json(coalesce(p_items[1:p_limit], '{}')), (p_items[p_limit]->>'id')::bigint,
                      cardinality(p_items), p_limit, p_kind);

-- A page size from the query string: absent, p_default; else a whole number
-- from 1 to p_max (an empty one is not absent: it is refused like any other).
CREATE OR REPLACE FUNCTION kept.page_limit_upto(p_limit text, p_default integer, p_max integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_limit IS NULL THEN
        RETURN p_default;
    END IF;
    IF p_limit !~ '^[0-9]{1,3}$' OR p_limit::integer NOT BETWEEN 1 AND p_max THEN
        PERFORM kept.fail('invalid', 'invalid_limit', 'limit', format('limit must be a whole number from 1 to %s', p_max));
    END IF;
    RETURN p_limit::integer;
END $$;

-- The lists' page size: default 50, 1..500.
CREATE OR REPLACE FUNCTION kept.page_limit(p_limit text) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN kept.page_limit_upto(p_limit, 50, 500);

-- An amount in minor units as people write it, in its currency's own units:
-- money_text(48950, 'GBP') = '489.50 GBP', (1500, 'JPY') = '1,500 JPY',
-- (12345, 'KWD') = '12.345 KWD'. Unknown currencies get two places.
CREATE OR REPLACE FUNCTION kept.money_text(p_cents bigint, p_currency text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_units integer := coalesce((SELECT minor_units FROM kept.currencies WHERE code = p_currency), 2);
    v_scale bigint := (10 ^ v_units)::bigint;
    v_whole text := (abs(p_cents) / v_scale)::text;
BEGIN
    -- thousands grouped as the kept client prints them: 1,234.567 KWD
    v_whole := regexp_replace(reverse(regexp_replace(reverse(v_whole), '(\d{3})(?=\d)', '\1,', 'g')), '^,', '');
    RETURN CASE WHEN p_cents < 0 THEN '-' ELSE '' END || v_whole
           || CASE WHEN v_units > 0 THEN '.' || lpad((abs(p_cents) % v_scale)::text, v_units, '0') ELSE '' END
           || ' ' || coalesce(p_currency, '');
END $$;
