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

-- One token: a piece of a search text, keyed, cut to 64 bits.
CREATE OR REPLACE FUNCTION kept.search_token(p_key bytea, p_piece text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ('x' || encode(substr(kept.crypto_hmac(convert_to(p_piece, 'UTF8'), p_key), 1, 8), 'hex'))::bit(64)::bigint;

-- The tokens of `p_text` under `p_key`: every three characters in a row
-- within each of its words, keyed and cut to 64 bits. What a search
-- filters by: a line holds every one of a query's.
CREATE OR REPLACE FUNCTION kept.search_tokens(p_key bytea, p_text text) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(DISTINCT kept.search_token(p_key, substr(w, i, 3))), '{}')
            FROM regexp_split_to_table(p_text, '[^[:alnum:]]+') w, generate_series(1, length(w) - 2) i
            WHERE p_key IS NOT NULL);
END $$;

-- The edges of `p_text`'s words under `p_key`: a space and a word's first
-- two characters, its last two and a space (a word of one character: the
-- character with a space before, and after). A space is never inside a word,
-- so an edge is never an inner token. A line's tokens hold its edges too.
-- What a search ranks by: a line that holds a query word's edges holds it as
-- a word of its own (or at the start or end of one), before a line that holds
-- it inside a longer word. (A query word may be any part of a word: its
-- edges rank, they do not filter.)
CREATE OR REPLACE FUNCTION kept.search_edges(p_key bytea, p_text text) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(DISTINCT kept.search_token(p_key, e)), '{}')
            FROM regexp_split_to_table(p_text, '[^[:alnum:]]+') w,
                 LATERAL (VALUES (' ' || left(w, 2)), (right(w, 2) || ' ')) x(e)
            WHERE p_key IS NOT NULL AND w <> '');
END $$;

-- What a search reads of a customer, opened: the folded name, the
-- customer's and their accounts' references in lower case, the numbers'
-- digits. (The customer's data key is unwrapped once for all of them; in
-- PL/pgSQL, whose statements' plans a session keeps, because a search opens
-- lines one at a time.)
CREATE OR REPLACE FUNCTION kept.customer_search_text(c kept.customers) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_key bytea := kept.customer_key(c.id);
BEGIN
    RETURN concat_ws(' ', kept.search_fold(convert_from(kept.crypto_open(v_key, c.name_enc), 'UTF8')),
                     lower(c.external_ref),
                     (SELECT string_agg(lower(a.external_ref), ' ' ORDER BY a.id) FROM kept.accounts a
                      WHERE a.customer_id = c.id),
                     (SELECT string_agg(substr(convert_from(kept.crypto_open(v_key, p.number_enc), 'UTF8'), 2), ' '
                                        ORDER BY p.position)
                      FROM kept.customer_phones p WHERE p.customer_id = c.id));
END $$;

-- A line's tokens hold its words' edges too (kept.search_edges) from format
-- 2 on; lines written before (format 1) are written again by the backfill
-- below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'kept.customer_search'::regclass AND attname = 'format'
                                                AND NOT attisdropped) THEN
        ALTER TABLE kept.customer_search ADD COLUMN format smallint NOT NULL DEFAULT 1;
    END IF;
END $$;

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
    INSERT INTO kept.customer_search AS s (customer_id, tokens, format)
    SELECT x.id, kept.search_tokens(v_key, x.doc) || kept.search_edges(v_key, x.doc), 2
    FROM (SELECT c.id, kept.customer_search_text(c) AS doc
          FROM kept.customers c WHERE c.id = ANY (p_ids) AND c.erased_at IS NULL OFFSET 0) x
    ON CONFLICT (customer_id) DO UPDATE SET tokens = EXCLUDED.tokens, format = EXCLUDED.format
    WHERE s.tokens IS DISTINCT FROM EXCLUDED.tokens OR s.format IS DISTINCT FROM EXCLUDED.format;
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
-- tokens or held edges, and after a bulk load that bypassed triggers) get
-- their line here; a no-op once every customer has a whole one. (It opens
-- names and numbers: `keptd migrate` passes KEPT_DATA_KEY.)
SELECT kept.customer_search_refresh(ARRAY(
    SELECT c.id FROM kept.customers c
    WHERE c.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM kept.customer_search s
                                              WHERE s.customer_id = c.id AND s.format = 2)));

-- One customer as a search finds it: who, their numbers' last four digits,
-- their accounts, and what matched. (Their data key is unwrapped once.)
CREATE OR REPLACE FUNCTION kept.customer_found_json(c kept.customers, p_matched text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'external_ref', c.external_ref, 'name', convert_from(kept.crypto_open(k.key, c.name_enc), 'UTF8'),
        'time_zone', c.time_zone, 'jurisdiction', c.jurisdiction, 'matched', p_matched,
        'phones_last4', coalesce((SELECT json_agg(right(convert_from(kept.crypto_open(k.key, p.number_enc), 'UTF8'), 4)
                                                  ORDER BY p.position)
                                  FROM kept.customer_phones p WHERE p.customer_id = c.id), '[]'),
        'accounts', coalesce((SELECT json_agg(json_build_object(
                                  'id', a.id, 'external_ref', a.external_ref, 'creditor', a.creditor,
                                  'balance_cents', a.balance_cents, 'currency', a.currency, 'status', a.status)
                                  ORDER BY a.id)
                              FROM kept.accounts a WHERE a.customer_id = c.id), '[]'))
    FROM (SELECT kept.customer_key(c.id) AS key) k;
$$;

-- Of the customers `p_ids` (search lines, in the order to try them), the
-- first `p_want` that the team `p_team` sees and whose opened text holds
-- every word of `p_words`. Opened one at a time, only until enough are found.
CREATE OR REPLACE FUNCTION kept.customer_find_open(p_ids bigint[], p_words text[], p_team text, p_want integer)
RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_hits bigint[] := '{}';
    v_id bigint;
    v_doc text;
BEGIN
    FOREACH v_id IN ARRAY p_ids LOOP
        EXIT WHEN cardinality(v_hits) >= p_want;
        CONTINUE WHEN NOT kept.team_sees_customer(p_team, v_id);
        SELECT kept.customer_search_text(c) INTO v_doc FROM kept.customers c WHERE c.id = v_id;
        IF NOT EXISTS (SELECT 1 FROM unnest(p_words) w WHERE strpos(v_doc, w) = 0) THEN
            v_hits := v_hits || v_id;
        END IF;
    END LOOP;
    RETURN v_hits;
END $$;

-- GET /v1/customers?q=: at least 3 characters, at most 200. A reference (the
-- customer's or an account's) that equals the query is the answer;
-- otherwise the customers whose text holds every word of the query — its
-- digits, when it is a phone number written any way — closest match first.
--
-- Nothing is opened to rank. First come the lines holding every query word
-- whole (its tokens and its words' edges), as the GIN index gives them, at
-- most 201: for a name many people share, a page is found among them. When
-- they are not enough, the other lines holding the query's tokens follow (at
-- most 1,000, of every team), ranked by how many of the query words' edges
-- they hold (the start or end of a word before a part inside one), then the
-- shorter lines (fewer other words), then the older customers. In that
-- order the lines of customers the viewer's team sees are opened, only until
-- the page and one more are found whose text holds every word (a token may
-- stand for another trigram, and trigrams need not be in a row): a page
-- costs its own customers' keys and team checks, not the candidates'.
-- `truncated` says more than 200 lines hold the query (more may match than
-- can be paged to: the agent adds more of the name). The first 200 matches
-- can be paged to (by offset); a query with no three letters or digits in a
-- row has no token and finds no one. 20 a page, 100 at most. The customers
-- answered go to the access log.
DROP FUNCTION IF EXISTS kept.customer_find(text, text, text);
CREATE OR REPLACE FUNCTION kept.customer_find(p_viewer bigint, p_request_id text, p_path text, p_q text,
                                              p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
    v_q text := btrim(coalesce(p_q, ''));
    v_limit integer;
    v_offset integer;
    v_digits text := regexp_replace(v_q, '[^0-9]', '', 'g');
    v_phone boolean;
    v_words text[];
    v_key bytea;
    v_tokens bigint[];
    v_edges bigint[];
    v_whole bigint[] := '{}';
    v_ranked bigint[] := '{}';
    v_hits bigint[] := '{}';
    v_page bigint[];
    v_matched text;
    v_items json;
    v_cap CONSTANT integer := 200;
    v_lines CONSTANT integer := 1000;
    v_want integer;
BEGIN
    IF p_q IS NULL THEN
        PERFORM kept.fail('invalid', 'missing_value', 'q',
                          'q is required: part of a name, a phone number or a reference');
    END IF;
    IF length(v_q) < 3 OR length(v_q) > 200 THEN
        PERFORM kept.fail('invalid', CASE WHEN length(v_q) < 3 THEN 'query_too_short' ELSE 'query_too_long' END, 'q',
                          'q is what to look for: 3 to 200 characters of a name, a phone number or a reference');
    END IF;
    -- what to look for comes before which page of it
    v_limit := kept.page_limit_upto(p_limit, 20, 100);
    v_offset := CASE WHEN coalesce(p_cursor, '') = '' THEN 0
                     ELSE kept.cursor_decode_text('find', p_cursor, '[0-9]{1,6}')::integer END;
    -- the matches to find: the page's last and one more (to know there is a
    -- next page), within the first v_cap
    v_want := CASE WHEN v_offset < v_cap THEN least(v_offset + v_limit, v_cap) + 1 ELSE 0 END;
    v_phone := v_q ~ '^[+0-9 ().-]+$' AND length(v_digits) >= 3;
    -- every word somewhere in the text, in any order ("smith john")
    v_words := CASE WHEN v_phone THEN ARRAY[v_digits] ELSE regexp_split_to_array(kept.search_fold(v_q), '\s+') END;
    -- a reference typed whole is the one customer meant: nothing else is looked for
    v_hits := ARRAY(SELECT c.id FROM kept.customers c WHERE c.external_ref = v_q
                                                        AND kept.team_sees_customer(v_team, c.id)
                    UNION
                    SELECT a.customer_id FROM kept.accounts a WHERE a.external_ref = v_q
                                                               AND kept.team_sees_account(v_team, a.id)
                    ORDER BY 1);
    IF cardinality(v_hits) > 0 THEN
        v_matched := 'reference';
    ELSE
        v_matched := CASE WHEN v_phone THEN 'phone' ELSE 'name' END;
        v_key := kept.search_key();
        v_tokens := kept.search_tokens(v_key, array_to_string(v_words, ' '));
        v_edges := kept.search_edges(v_key, array_to_string(v_words, ' '));
        -- first the lines that hold every query word whole (its tokens and
        -- its edges), as the index gives them, at most the first 201: they
        -- are the closest, and for a name many share, enough for a page
        v_whole := ARRAY(SELECT s.customer_id FROM kept.customer_search s
                         WHERE cardinality(v_tokens) > 0 AND s.tokens @> (v_tokens || v_edges)
                         LIMIT v_cap + 1);
        v_hits := kept.customer_find_open(v_whole, v_words, v_team, v_want);
        IF cardinality(v_hits) < v_want AND cardinality(v_whole) <= v_cap THEN
            -- then the other lines holding the query's tokens, closest first:
            -- more of the query words' edges, then shorter lines (fewer other
            -- words), then the older customers
            v_ranked := ARRAY(
                SELECT l.customer_id
                FROM (SELECT s.customer_id, s.tokens FROM kept.customer_search s
                      WHERE cardinality(v_tokens) > 0 AND s.tokens @> v_tokens
                        AND s.customer_id <> ALL (v_whole)
                      LIMIT v_lines) l
                ORDER BY (SELECT count(*) FROM unnest(v_edges) e WHERE e = ANY (l.tokens)) DESC,
                         cardinality(l.tokens), l.customer_id);
            v_hits := v_hits || kept.customer_find_open(v_ranked, v_words, v_team, v_want - cardinality(v_hits));
        END IF;
    END IF;
    v_page := v_hits[v_offset + 1 : least(v_offset + v_limit, v_cap)];
    SELECT json_agg(kept.customer_found_json(c, v_matched) ORDER BY o.n)
    INTO v_items
    FROM unnest(v_page) WITH ORDINALITY o(id, n) JOIN kept.customers c ON c.id = o.id;
    PERFORM kept.access_log_write(p_viewer, p_request_id, 'GET', '/v1/customers', p_path, v_page);
    RETURN json_build_object('items', coalesce(v_items, '[]'::json),
                             'truncated', cardinality(v_whole) > v_cap OR cardinality(v_ranked) > v_cap,
                             'next_cursor', CASE WHEN cardinality(v_hits) > v_offset + v_limit
                                                  AND v_offset + v_limit < v_cap
                                                 THEN kept.cursor_encode_text('find', (v_offset + v_limit)::text) END);
END $$;
