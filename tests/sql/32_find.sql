-- Finding the customer on the telephone (sql/functions/32_find.sql): by any
-- part of their name's words in any order, accents and case ignored; by any
-- run of a number's digits written any way; by a reference, which is the
-- answer; over a blind index that holds no name or number. Team scope, the
-- access log, paging and the query's bounds.
BEGIN;
SELECT plan(22);

-- the external_refs a search finds, in its order
CREATE FUNCTION pg_temp.found(p_q text, p_viewer bigint DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(i->>'external_ref', ',' ORDER BY n), '')
    FROM json_array_elements(kept.customer_find(p_viewer, 'req-f', '/v1/customers', p_q, NULL, NULL)->'items')
         WITH ORDINALITY x(i, n) WHERE i->>'external_ref' LIKE 'FND-%';
$$;

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"FND-ZOE","name":"Zoë Ångström-Quixotic","time_zone":"UTC",
    "jurisdiction":"GB","phones":[{"number":"+447700900811","consent_automated":true}]}');
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"FND-JOHN","name":"John Quixoticson","time_zone":"UTC",
    "jurisdiction":"GB","phones":[{"number":"+12025550199","consent_automated":true}]}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'FND-JOHN'), 'external_ref', 'FND-ACC-7', 'creditor', 'Find Bank',
    'original_balance_cents', 10000, 'currency', 'GBP')::jsonb);

SELECT is(kept_test.error_code($$SELECT kept.customer_find(NULL, NULL, NULL, NULL, NULL, 'abc')$$), 'missing_value',
          'what to look for is asked before which page of it');
SELECT is(kept.search_fold('Zoë ÅNGSTRÖM'), 'zoe angstrom', 'folding: lower case without accents');
SELECT is(pg_temp.found('zoe angstrom'), 'FND-ZOE', 'a name without its accents finds it');
SELECT is(pg_temp.found('ANGST zo'), 'FND-ZOE', 'parts of its words, in any order, any case');
SELECT is(pg_temp.found('quixotic'), 'FND-ZOE,FND-JOHN', 'every customer holding the word, closest first');
SELECT is(pg_temp.found('quixotic nobody'), '', 'every word must be there');
SELECT is(pg_temp.found('(202) 555-01'), 'FND-JOHN', 'a run of a number''s digits, written any way');
SELECT is(pg_temp.found('0900811'), 'FND-ZOE', 'the middle of a number');
SELECT is(pg_temp.found('FND-ACC-7'), 'FND-JOHN', 'an account''s reference finds its customer');
SELECT is((kept.customer_find(NULL, NULL, NULL, 'FND-JOHN', NULL, NULL)->'items'->0->>'matched'), 'reference',
          'and says a reference matched');
SELECT is((kept.customer_find(NULL, NULL, NULL, 'John Quix', NULL, NULL)->'items'->0->'phones_last4')::jsonb, '["0199"]'::jsonb,
          'a found customer shows their numbers'' last four digits only');

-- the index holds tokens, not the name
SELECT ok((SELECT s.tokens::text !~* 'zoe|angstr|quixot' FROM kept.customer_search s
           JOIN kept.customers c ON c.id = s.customer_id WHERE c.external_ref = 'FND-ZOE'), 'the search line holds no name');
SELECT is((SELECT count(*)::int FROM kept.access_log WHERE request_id = 'req-f'
           AND customer_id = (SELECT id FROM kept.customers WHERE external_ref = 'FND-ZOE')) > 0, true,
          'who a search answered goes to the access log');

-- ranked without opening: a word whole, then the start of a word, then a part inside one
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"FND-INSIDE","name":"Ann Unquixoticness","time_zone":"UTC",
    "jurisdiction":"GB"}');
SELECT is(pg_temp.found('quixotic'), 'FND-ZOE,FND-JOHN,FND-INSIDE', 'a word whole, then a word''s start, then inside one');
SELECT ok((SELECT s.tokens @> kept.search_edges(kept.search_key(), 'quixotic') AND s.format = 2
           FROM kept.customer_search s JOIN kept.customers c ON c.id = s.customer_id WHERE c.external_ref = 'FND-ZOE'),
          'a line holds its words'' edges among its tokens');
SELECT is(kept.search_edges(kept.search_key(), 'ab') <@ kept.search_tokens(kept.search_key(), 'xab abx'), false,
          'an edge is never an inner token');

-- team scope: a team sees the customers of its creditors
UPDATE kept.creditors SET team = 'north' WHERE name = 'Find Bank';
UPDATE kept.customers SET team = 'north' WHERE external_ref LIKE 'FND-%';
INSERT INTO kept.users (name, roles, team) VALUES ('South Finder', '{agent}', 'south');
INSERT INTO kept.api_keys (name, role, key_hash, user_id)
SELECT 'south-finder', 'agent', sha256('south-finder'::bytea), id FROM kept.users WHERE name = 'South Finder';
SELECT is(pg_temp.found('quixotic', (SELECT id FROM kept.api_keys WHERE name = 'south-finder')), '',
          'another team finds none of them');

-- bounds and pages
SELECT is(kept_test.error_code($$SELECT kept.customer_find(NULL, NULL, NULL, NULL, NULL, NULL)$$), 'missing_value',
          'no q at all: missing, not short');
SELECT is(kept_test.error_code($$SELECT kept.customer_find(NULL, NULL, NULL, ' zo ', NULL, NULL)$$), 'query_too_short',
          'at least three characters');
SELECT is(kept_test.error_code($$SELECT kept.customer_find(NULL, NULL, NULL, repeat('a', 201), NULL, NULL)$$), 'query_too_long',
          'at most 200');
CREATE TEMP TABLE p1 AS SELECT kept.customer_find(NULL, NULL, NULL, 'quixotic', NULL, '1')::jsonb AS doc;
SELECT is((SELECT jsonb_array_length(doc->'items') FROM p1), 1, 'a page of one');
SELECT is((SELECT kept.customer_find(NULL, NULL, NULL, 'quixotic', (SELECT doc->>'next_cursor' FROM p1), '1')->'items'->0->>'external_ref'),
          'FND-JOHN', 'the next page continues with the next closest');

SELECT * FROM finish();
ROLLBACK;
