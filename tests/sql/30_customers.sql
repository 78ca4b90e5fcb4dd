-- Customers and phones: create, partial update, consent timestamps, versions.
BEGIN;
SELECT plan(13);

CREATE TEMP TABLE c AS
SELECT (kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"CUS-1","name":"Ann",
    "time_zone":"America/Los_Angeles","jurisdiction":"US-CA",
    "phones":[{"number":"+14155550100","consent_automated":true},
              {"number":"+14155550101","consent_automated":false}],
    "contact_restrictions":{"dispute_open":true,"moratorium_until":"2027-01-31"}}')::jsonb) AS doc;

SELECT is((SELECT doc->>'language' FROM c), 'en', 'language defaults to en');
SELECT is((SELECT doc #>> '{phones,0,number}' FROM c), '+14155550100', 'phones keep their order');
SELECT is((SELECT (doc #>> '{contact_restrictions,dispute_open}')::boolean FROM c), true, 'restriction stored');
SELECT is((SELECT (doc->>'version')::int FROM c), 1, 'a new customer is at version 1');

-- consent changes move the consent timestamp; unchanged numbers keep theirs
UPDATE kept.customer_phones SET consent_updated_at = '2020-01-01'
WHERE kept.pii_open(customer_id, number_enc) IN ('+14155550100', '+14155550101');
SELECT lives_ok($$SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM c), 1,
    '{"phones":[{"number":"+14155550101","consent_automated":true},{"number":"+14155550100","consent_automated":true}]}')$$,
    'phones replaced at the expected version');
SELECT is((SELECT consent_updated_at FROM kept.customer_phones WHERE kept.pii_open(customer_id, number_enc) = '+14155550100'),
          '2020-01-01'::timestamptz, 'unchanged consent keeps its timestamp');
SELECT isnt((SELECT consent_updated_at FROM kept.customer_phones WHERE kept.pii_open(customer_id, number_enc) = '+14155550101'),
          '2020-01-01'::timestamptz, 'changed consent gets a new timestamp');
SELECT is((SELECT position FROM kept.customer_phones WHERE kept.pii_open(customer_id, number_enc) = '+14155550101'), 1::smallint, 'new order kept');

SELECT throws_ok($$SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM c), 1, '{"name":"B"}')$$,
    'KRPRE', NULL, 'a stale version is refused');
SELECT lives_ok($$SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM c), NULL,
    '{"contact_restrictions":{"moratorium_until":null}}')$$, 'null clears the moratorium');
SELECT is((SELECT moratorium_until FROM kept.customers WHERE external_ref = 'CUS-1'), NULL, 'moratorium cleared, ');
SELECT throws_ok($$SELECT kept.customer_update(ROW(NULL, 'test', NULL)::kept.actor, (SELECT (doc->>'id')::bigint FROM c), NULL,
    '{"phones":[{"number":"+14155550100","consent_automated":true},{"number":"+14155550100","consent_automated":false}]}')$$,
    'KRINV', NULL, 'a number listed twice is refused');
SELECT throws_ok($$SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"CUS-2","name":"Bo",
    "time_zone":"Not/AZone","jurisdiction":"GB"}')$$, '23503', NULL, 'an unknown time zone is refused');

SELECT * FROM finish();
ROLLBACK;
