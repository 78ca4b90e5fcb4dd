-- Finding the customer on the telephone (GET /v1/customers?q=, kept find):
-- by name (case and accents ignored, parts of its words in any order), by any
-- run of digits of a phone number, by a customer's or an account's reference
-- — over names and numbers stored sealed (schema/0021_personal_data.sql).
--
-- A blind index. What a search reads of a customer is their name folded
-- (lower case, accents removed), their and their accounts' references in
-- lower case and their numbers' digits (kept.customer_search_text, opened).
-- Its line in kept.customer_search holds none of that, only tokens: every
-- three characters in a row within a word of it (letters and digits: the
-- trigrams pg_trgm looks for under a LIKE, without its padded word-boundary
-- ones, which a part of a word never has), each the first 8 bytes of an
-- HMAC-SHA-256 under a key derived from kept's index key
-- (schema/0022_index_key.sql: one key for every customer, wrapped under
-- KEPT_DATA_KEY, kept across a rotation). A query makes its tokens the same
-- way; a GIN index (PostgreSQL's array opclass) finds the lines holding all
-- of them, at most 1,000 are opened, and each word of the query is checked
-- as a part of the opened text; the lines that hold every word are ranked
-- by pg_trgm's word_similarity against it, as the clear search line was.
-- The triggers below rewrite a line in the statement that changes a name, a
-- reference or a number; an erasure deletes it (35_privacy.sql).

-- Lower case without accents: "Zoë Ångström" -> "zoe angstrom". The
-- extensions live in schema kept and are named there, whatever the caller's
-- search_path.
CREATE OR REPLACE FUNCTION kept.search_fold(v text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lower(kept.unaccent('kept.unaccent'::regdictionary, v));

-- The search line as issue 16 made it (the folded name, references and digits
-- in clear, under a trigram index) becomes the blind index, once: emptied
-- (TRUNCATE: nothing of it stays in the table's files) and written again by
-- the backfill below. Here and not in a migration because schema/0025, which
-- makes the table, runs after this branch's migrations on a new database.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'kept.customer_search'::regclass AND attname = 'doc'
                                            AND NOT attisdropped) THEN
        TRUNCATE kept.customer_search;
        DROP INDEX IF EXISTS kept.customer_search_doc_idx;
        ALTER TABLE kept.customer_search DROP COLUMN doc, ADD COLUMN tokens bigint[] NOT NULL;
        CREATE INDEX customer_search_tokens_idx ON kept.customer_search USING gin (tokens);
    END IF;
END $$;

-- The key of the search's tokens (NULL until kept's index key exists).
CREATE OR REPLACE FUNCTION kept.search_key() RETURNS bytea
LANGUAGE sql STABLE
RETURN kept.crypto_hmac('kept search'::bytea, kept.system_key('index'));

-- The tokens of `p_text` under `p_key`: every three characters in a row
-- within each of its words, keyed and cut to 64 bits.
CREATE OR REPLACE FUNCTION kept.search_tokens(p_key bytea, p_text text) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT ('x' || encode(substr(kept.crypto_hmac(convert_to(substr(w, i, 3), 'UTF8'),
                                                                              p_key), 1, 8), 'hex'))::bit(64)::bigint),
                    '{}')
    FROM regexp_split_to_table(p_text, '[^[:alnum:]]+') w, generate_series(1, length(w) - 2) i
    WHERE p_key IS NOT NULL;
$$;

-- What a search reads of a customer, opened: the folded name, the
-- customer's and their accounts' references in lower case, the numbers'
-- digits. (The customer's data key is unwrapped once for all of them.)
CREATE OR REPLACE FUNCTION kept.customer_search_text(c kept.customers) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT concat_ws(' ', kept.search_fold(convert_from(kept.crypto_open(k.key, c.name_enc), 'UTF8')),
                     lower(c.external_ref),
                     (SELECT string_agg(lower(a.external_ref), ' ' ORDER BY a.id) FROM kept.accounts a
                      WHERE a.customer_id = c.id),
                     (SELECT string_agg(substr(convert_from(kept.crypto_open(k.key, p.number_enc), 'UTF8'), 2), ' '
                                        ORDER BY p.position)
                      FROM kept.customer_phones p WHERE p.customer_id = c.id))
    FROM (SELECT kept.customer_key(c.id) AS key) k;
$$;

-- The lines of the customers `p_ids`, written (or rewritten); none for an erased customer.
CREATE OR REPLACE FUNCTION kept.customer_search_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_key bytea;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kept.customers WHERE id = ANY (p_ids) AND erased_at IS NULL) THEN
        RETURN;
    END IF;
    PERFORM kept.system_key_make('index');
    v_key := kept.search_key();
    INSERT INTO kept.customer_search AS s (customer_id, tokens)
    SELECT c.id, kept.search_tokens(v_key, kept.customer_search_text(c))
    FROM kept.customers c WHERE c.id = ANY (p_ids) AND c.erased_at IS NULL
    ON CONFLICT (customer_id) DO UPDATE SET tokens = EXCLUDED.tokens
    WHERE s.tokens IS DISTINCT FROM EXCLUDED.tokens;
END $$;

-- One trigger function for the three tables: the customers whose name,
-- references or numbers a statement wrote. An update that changes none of
-- them (a balance, a phone's failures) costs nothing.
CREATE OR REPLACE FUNCTION kept.customer_search_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' AND TG_TABLE_NAME = 'customers' THEN
        v_ids := ARRAY(SELECT id FROM new_rows);
    ELSIF TG_OP = 'INSERT' THEN
        v_ids := ARRAY(SELECT DISTINCT customer_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        v_ids := ARRAY(SELECT DISTINCT customer_id FROM old_rows);
    ELSIF TG_TABLE_NAME = 'customers' THEN
        v_ids := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                       WHERE n.name_enc IS DISTINCT FROM o.name_enc OR n.external_ref IS DISTINCT FROM o.external_ref);
    ELSIF TG_TABLE_NAME = 'customer_phones' THEN
        v_ids := ARRAY(SELECT DISTINCT n.customer_id FROM new_rows n
                       LEFT JOIN old_rows o ON o.customer_id = n.customer_id AND o.number_digest = n.number_digest
                       WHERE o.customer_id IS NULL OR o.position IS DISTINCT FROM n.position);
    ELSE
        v_ids := ARRAY(SELECT n.customer_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                       WHERE n.external_ref IS DISTINCT FROM o.external_ref OR n.customer_id <> o.customer_id
                       UNION
                       SELECT o.customer_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                       WHERE n.customer_id <> o.customer_id);
    END IF;
    IF cardinality(v_ids) > 0 THEN
        PERFORM kept.customer_search_refresh(v_ids);
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t record;
BEGIN
    -- issue 16's update triggers saw the new rows only; these see both
    FOR t IN SELECT * FROM (VALUES ('customers'), ('customer_phones'), ('accounts')) v(tbl) LOOP
        IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = format('%s_search_update', t.tbl)
                                              AND tgrelid = format('kept.%s', t.tbl)::regclass) THEN
            EXECUTE format('DROP TRIGGER %1$s_search_update ON kept.%1$s', t.tbl);
        END IF;
    END LOOP;
    FOR t IN SELECT * FROM (VALUES ('customers', 'insert', 'insert', 'NEW TABLE AS new_rows'),
                                   ('customers', 'changed', 'update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                                   ('customer_phones', 'insert', 'insert', 'NEW TABLE AS new_rows'),
                                   ('customer_phones', 'changed', 'update',
                                    'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                                   ('customer_phones', 'delete', 'delete', 'OLD TABLE AS old_rows'),
                                   ('accounts', 'insert', 'insert', 'NEW TABLE AS new_rows'),
                                   ('accounts', 'changed', 'update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'))
                           v(tbl, name, op, ref) LOOP
        -- made once: a reload takes no lock on tables writers use
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = format('%s_search_%s', t.tbl, t.name)
                                                         AND tgrelid = format('kept.%s', t.tbl)::regclass);
        EXECUTE format('CREATE TRIGGER %1$s_search_%2$s AFTER %3$s ON kept.%1$s REFERENCING %4$s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kept.customer_search_changed()',
                       t.tbl, t.name, t.op, t.ref);
    END LOOP;
END $$;

-- Customers written before the search existed (or before its lines were
-- tokens, and after a bulk load that bypassed triggers) get their line here;
-- a no-op once every customer has one. (It opens names and numbers:
-- `keptd migrate` passes KEPT_DATA_KEY.)
SELECT kept.customer_search_refresh(ARRAY(
    SELECT c.id FROM kept.customers c
    WHERE c.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM kept.customer_search s WHERE s.customer_id = c.id)));

-- One customer as a search finds it: who, their numbers' last four digits,
-- their accounts, and what matched.
CREATE OR REPLACE FUNCTION kept.customer_found_json(c kept.customers, p_matched text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'external_ref', c.external_ref, 'name', kept.pii_open(c.id, c.name_enc), 'time_zone', c.time_zone,
        'jurisdiction', c.jurisdiction, 'matched', p_matched,
        'phones_last4', coalesce((SELECT json_agg(right(kept.pii_open(p.customer_id, p.number_enc), 4)
                                                  ORDER BY p.position)
                                  FROM kept.customer_phones p WHERE p.customer_id = c.id), '[]'),
        'accounts', coalesce((SELECT json_agg(json_build_object(
                                  'id', a.id, 'external_ref', a.external_ref, 'creditor', a.creditor,
                                  'balance_cents', a.balance_cents, 'currency', a.currency, 'status', a.status)
                                  ORDER BY a.id)
                              FROM kept.accounts a WHERE a.customer_id = c.id), '[]'));
$$;

-- GET /v1/customers?q=: at least 3 characters, at most 200. A reference (the
-- customer's or an account's) that equals the query is the answer;
-- otherwise the customers whose text holds every word of the query — its
-- digits, when it is a phone number written any way — closest match first:
-- of the lines holding every token of the query, at most 1,000 are opened,
-- and the first 200 that hold it are ranked (`truncated` says when there may
-- be more: the agent adds more of the name). A query with no three letters
-- or digits in a row has no token and finds no one. 20 a page, 100 at most;
-- paged by offset. Only customers the viewer's team sees
-- (kept.team_sees_customer); the ones answered go to the access log.
DROP FUNCTION IF EXISTS kept.customer_find(text, text, text);
CREATE OR REPLACE FUNCTION kept.customer_find(p_viewer bigint, p_request_id text, p_path text, p_q text,
                                              p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
    v_q text := btrim(coalesce(p_q, ''));
    v_limit integer := kept.page_limit_upto(p_limit, 20, 100);
    v_offset integer := CASE WHEN coalesce(p_cursor, '') = '' THEN 0
                             ELSE kept.cursor_decode_text('find', p_cursor, '[0-9]{1,6}')::integer END;
    v_digits text := regexp_replace(v_q, '[^0-9]', '', 'g');
    v_phone boolean;
    v_needle text;
    v_words text[];
    v_tokens bigint[];
    v_ids bigint[];
    v_items json;
    v_found integer;
    v_cap CONSTANT integer := 200;
    v_opened CONSTANT integer := 1000;
    v_capped boolean;
    v_exact boolean;
BEGIN
    IF length(v_q) < 3 OR length(v_q) > 200 THEN
        PERFORM kept.fail('invalid', CASE WHEN length(v_q) < 3 THEN 'query_too_short' ELSE 'query_too_long' END, 'q',
                          'q is what to look for: 3 to 200 characters of a name, a phone number or a reference');
    END IF;
    v_phone := v_q ~ '^[+0-9 ().-]+$' AND length(v_digits) >= 3;
    v_needle := CASE WHEN v_phone THEN v_digits ELSE kept.search_fold(v_q) END;
    -- every word somewhere in the text, in any order ("smith john")
    v_words := CASE WHEN v_phone THEN ARRAY[v_needle] ELSE regexp_split_to_array(v_needle, '\s+') END;
    v_tokens := kept.search_tokens(kept.search_key(), array_to_string(v_words, ' '));
    -- a reference typed whole is the one customer meant: nothing else is looked for
    v_exact := EXISTS (SELECT 1 FROM kept.customers c WHERE c.external_ref = v_q
                                                        AND kept.team_sees_customer(v_team, c.id))
               OR EXISTS (SELECT 1 FROM kept.accounts a WHERE a.external_ref = v_q
                                                          AND kept.team_sees_account(v_team, a.id));
    WITH exact AS (
        SELECT c.id, 0 AS rank, 0::real AS distance, 'reference' AS matched
        FROM kept.customers c WHERE c.external_ref = v_q AND kept.team_sees_customer(v_team, c.id)
        UNION
        SELECT a.customer_id, 0, 0, 'reference' FROM kept.accounts a
        WHERE a.external_ref = v_q AND kept.team_sees_account(v_team, a.id)
    ), candidates AS MATERIALIZED (
        -- the lines holding every token of the query (a token may stand for
        -- another trigram, and trigrams in a line need not be in a row: opened below)
        SELECT s.customer_id FROM kept.customer_search s
        WHERE NOT v_exact AND cardinality(v_tokens) > 0 AND s.tokens @> v_tokens
          AND kept.team_sees_customer(v_team, s.customer_id)
        LIMIT v_opened
    ), holding AS MATERIALIZED (
        -- opened one by one until v_cap + 1 hold every word (OFFSET 0: each text opened once)
        SELECT x.id, x.doc
        FROM (SELECT c.id, kept.customer_search_text(c) AS doc
              FROM candidates k JOIN kept.customers c ON c.id = k.customer_id OFFSET 0) x
        WHERE NOT EXISTS (SELECT 1 FROM unnest(v_words) w WHERE strpos(x.doc, w) = 0)
        LIMIT v_cap + 1
    ), near AS (
        SELECT h.id, 1 AS rank, v_needle OPERATOR(kept.<<->) h.doc AS distance,
               CASE WHEN v_phone THEN 'phone' ELSE 'name' END AS matched
        FROM holding h
        ORDER BY v_needle OPERATOR(kept.<<->) h.doc
        LIMIT v_cap
    ), ranked AS (
        SELECT DISTINCT ON (id) id, rank, distance, matched FROM (SELECT * FROM exact UNION ALL SELECT * FROM near) x
        ORDER BY id, rank, distance
    ), page AS (
        SELECT r.*, row_number() OVER (ORDER BY r.rank, r.distance, r.id) AS n FROM ranked r
    )
    SELECT json_agg(kept.customer_found_json(c, p.matched) ORDER BY p.n) FILTER (WHERE p.n > v_offset
                                                                                AND p.n <= v_offset + v_limit),
           count(*),
           (SELECT count(*) FROM holding) > v_cap OR (SELECT count(*) FROM candidates) >= v_opened,
           array_agg(p.id) FILTER (WHERE p.n > v_offset AND p.n <= v_offset + v_limit)
    INTO v_items, v_found, v_capped, v_ids
    FROM page p JOIN kept.customers c ON c.id = p.id;
    PERFORM kept.access_log_write(p_viewer, p_request_id, 'GET', '/v1/customers', p_path, v_ids);
    RETURN json_build_object('items', coalesce(v_items, '[]'::json), 'truncated', v_capped,
                             'next_cursor', CASE WHEN v_found > v_offset + v_limit
                                                 THEN kept.cursor_encode_text('find', (v_offset + v_limit)::text) END);
END $$;
