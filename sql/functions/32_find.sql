-- Finding the customer on the telephone (GET /v1/customers?q=, kept find):
-- by name (case and accents ignored, parts of its words in any order), by any run of digits
-- of a phone number, by a customer's or an account's reference. Each customer
-- has one line of search text (kept.customer_search, schema/0025_desk.sql),
-- rewritten by the triggers below whenever a name, a reference or a number
-- changes, in the same statement; a trigram index (pg_trgm) finds the lines
-- that hold the query and orders them by how closely a part of the line
-- matches it.

-- Lower case without accents: "Zoë Ångström" -> "zoe angstrom". The
-- extensions live in schema kept and are named there, whatever the caller's
-- search_path.
CREATE OR REPLACE FUNCTION kept.search_fold(v text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lower(kept.unaccent('kept.unaccent'::regdictionary, v));

-- The search text of the customers `p_ids`, written (or rewritten).
CREATE OR REPLACE FUNCTION kept.customer_search_refresh(p_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO kept.customer_search (customer_id, doc)
    SELECT c.id, concat_ws(' ', kept.search_fold(c.name), lower(c.external_ref),
                           (SELECT string_agg(lower(a.external_ref), ' ' ORDER BY a.id) FROM kept.accounts a
                            WHERE a.customer_id = c.id),
                           (SELECT string_agg(substr(p.number, 2), ' ' ORDER BY p.position) FROM kept.customer_phones p
                            WHERE p.customer_id = c.id))
    FROM kept.customers c WHERE c.id = ANY (p_ids)
    ON CONFLICT (customer_id) DO UPDATE SET doc = EXCLUDED.doc
    WHERE kept.customer_search.doc IS DISTINCT FROM EXCLUDED.doc;
$$;

-- One trigger function for the three tables: the customers a statement
-- touched, whichever of them it was.
CREATE OR REPLACE FUNCTION kept.customer_search_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'customers' THEN
        PERFORM kept.customer_search_refresh(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM kept.customer_search_refresh(ARRAY(SELECT DISTINCT customer_id FROM old_rows));
    ELSE
        PERFORM kept.customer_search_refresh(ARRAY(SELECT DISTINCT customer_id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('customers', 'insert', 'NEW TABLE AS new_rows'),
                                   ('customers', 'update', 'NEW TABLE AS new_rows'),
                                   ('customer_phones', 'insert', 'NEW TABLE AS new_rows'),
                                   ('customer_phones', 'update', 'NEW TABLE AS new_rows'),
                                   ('customer_phones', 'delete', 'OLD TABLE AS old_rows'),
                                   ('accounts', 'insert', 'NEW TABLE AS new_rows'),
                                   ('accounts', 'update', 'NEW TABLE AS new_rows')) v(tbl, op, ref) LOOP
        -- made once: a reload takes no lock on tables writers use
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = format('%s_search_%s', t.tbl, t.op)
                                                         AND tgrelid = format('kept.%s', t.tbl)::regclass);
        EXECUTE format('CREATE TRIGGER %1$s_search_%2$s AFTER %2$s ON kept.%1$s REFERENCING %3$s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kept.customer_search_changed()', t.tbl, t.op, t.ref);
    END LOOP;
END $$;

-- Customers written before the search existed (and after a bulk load that
-- bypassed triggers) get their line here; a no-op once every customer has one.
SELECT kept.customer_search_refresh(ARRAY(
    SELECT c.id FROM kept.customers c WHERE NOT EXISTS (SELECT 1 FROM kept.customer_search s WHERE s.customer_id = c.id)));

-- `v` with LIKE's wildcards and its escape character taken literally.
CREATE OR REPLACE FUNCTION kept.like_escape(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN replace(replace(replace(v, '\', '\\'), '%', '\%'), '_', '\_');

-- One customer as a search finds it: who, their numbers' last four digits,
-- their accounts, and what matched.
CREATE OR REPLACE FUNCTION kept.customer_found_json(c kept.customers, p_matched text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'external_ref', c.external_ref, 'name', c.name, 'time_zone', c.time_zone,
        'jurisdiction', c.jurisdiction, 'matched', p_matched,
        'phones_last4', coalesce((SELECT json_agg(right(p.number, 4) ORDER BY p.position)
                                  FROM kept.customer_phones p WHERE p.customer_id = c.id), '[]'),
        'accounts', coalesce((SELECT json_agg(json_build_object(
                                  'id', a.id, 'external_ref', a.external_ref, 'creditor', a.creditor,
                                  'balance_cents', a.balance_cents, 'currency', a.currency, 'status', a.status)
                                  ORDER BY a.id)
                              FROM kept.accounts a WHERE a.customer_id = c.id), '[]'));
$$;

-- GET /v1/customers?q=: at least 3 characters (a trigram), at most 200.
-- Lines holding the query are ranked among the first 200 found (`truncated`
-- says when more match: the agent adds more of the name). 20 a page, 100 at most.
-- A reference (the customer's or an account's) that equals the query is
-- the answer; otherwise the lines that hold the query — its digits, when it is a phone
-- number written any way — closest match first. Paged by offset.
CREATE OR REPLACE FUNCTION kept.customer_find(p_q text, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_q text := btrim(coalesce(p_q, ''));
    v_limit integer := kept.page_limit_upto(p_limit, 20, 100);
    v_offset integer := CASE WHEN coalesce(p_cursor, '') = '' THEN 0
                             ELSE kept.cursor_decode_text('find', p_cursor, '[0-9]{1,6}')::integer END;
    v_digits text := regexp_replace(v_q, '[^0-9]', '', 'g');
    v_phone boolean;
    v_needle text;
    v_words text[];
    v_keys text[];
    v_items json;
    v_found integer;
    v_cap CONSTANT integer := 200;
    v_capped boolean;
    v_exact boolean;
BEGIN
    IF length(v_q) < 3 OR length(v_q) > 200 THEN
        PERFORM kept.fail(400, CASE WHEN length(v_q) < 3 THEN 'query_too_short' ELSE 'query_too_long' END, 'q',
                          'q is what to look for: 3 to 200 characters of a name, a phone number or a reference');
    END IF;
    v_phone := v_q ~ '^[+0-9 ().-]+$' AND length(v_digits) >= 3;
    v_needle := CASE WHEN v_phone THEN v_digits ELSE kept.search_fold(v_q) END;
    -- every word somewhere in the line, in any order ("smith john"); the index
    -- finds the lines holding the four longest of 3 characters or more (or
    -- the whole query), the rest are checked on those
    v_words := CASE WHEN v_phone THEN ARRAY[v_needle] ELSE regexp_split_to_array(v_needle, '\s+') END;
    v_keys := ARRAY(SELECT '%' || kept.like_escape(w) || '%' FROM unnest(v_words) w
                    WHERE length(w) >= 3 ORDER BY length(w) DESC LIMIT 4);
    IF cardinality(v_keys) = 0 THEN
        v_keys := ARRAY['%' || kept.like_escape(v_needle) || '%'];
    END IF;
    -- a reference typed whole is the one customer meant: nothing else is looked for
    v_exact := EXISTS (SELECT 1 FROM kept.customers c WHERE c.external_ref = v_q)
               OR EXISTS (SELECT 1 FROM kept.accounts a WHERE a.external_ref = v_q);
    WITH exact AS (
        SELECT c.id, 0 AS rank, 0::real AS distance, 'reference' AS matched
        FROM kept.customers c WHERE c.external_ref = v_q
        UNION
        SELECT a.customer_id, 0, 0, 'reference' FROM kept.accounts a WHERE a.external_ref = v_q
    ), candidates AS (
        -- at most v_cap lines: a query that matches more (three letters of a
        -- common name) is answered from the first v_cap and says so
        SELECT s.customer_id, s.doc
        FROM kept.customer_search s
        WHERE NOT v_exact
          AND s.doc LIKE v_keys[1] AND s.doc LIKE coalesce(v_keys[2], v_keys[1])
          AND s.doc LIKE coalesce(v_keys[3], v_keys[1]) AND s.doc LIKE coalesce(v_keys[4], v_keys[1])
          AND s.doc LIKE ALL (ARRAY(SELECT '%' || kept.like_escape(w) || '%' FROM unnest(v_words) w))
        LIMIT v_cap + 1
    ), near AS (
        SELECT s.customer_id AS id, 1 AS rank, v_needle OPERATOR(kept.<<->) s.doc AS distance,
               CASE WHEN v_phone THEN 'phone' ELSE 'name' END AS matched
        FROM candidates s
        ORDER BY v_needle OPERATOR(kept.<<->) s.doc
        LIMIT v_cap
    ), ranked AS (
        SELECT DISTINCT ON (id) id, rank, distance, matched FROM (SELECT * FROM exact UNION ALL SELECT * FROM near) x
        ORDER BY id, rank, distance
    ), page AS (
        SELECT r.*, row_number() OVER (ORDER BY r.rank, r.distance, r.id) AS n FROM ranked r
    )
    SELECT json_agg(kept.customer_found_json(c, p.matched) ORDER BY p.n) FILTER (WHERE p.n > v_offset
                                                                                AND p.n <= v_offset + v_limit),
           count(*), (SELECT count(*) FROM candidates) > v_cap
    INTO v_items, v_found, v_capped
    FROM page p JOIN kept.customers c ON c.id = p.id;
    RETURN json_build_object('items', coalesce(v_items, '[]'::json), 'truncated', v_capped,
                             'next_cursor', CASE WHEN v_found > v_offset + v_limit
                                                 THEN kept.cursor_encode_text('find', (v_offset + v_limit)::text) END);
END $$;
