-- The time zones kept knows for a customer (sql/functions/25_phone_zones.sql):
-- a number's zones by its longest known prefix; the address's zone and each
-- number's together. Prefixes of an unused area code (555) are made here.
BEGIN;
SELECT plan(7);

DELETE FROM kept.phone_zone_prefixes WHERE prefix LIKE '1555%';
INSERT INTO kept.phone_zone_prefixes VALUES ('1555', '{America/Chicago}'), ('15551', '{America/Denver}'),
    ('155512', '{America/Denver,America/Phoenix}');

SELECT is(kept.phone_time_zones('+15559990000'), '{America/Chicago}', 'a four-digit prefix gives its zone');
SELECT is(kept.phone_time_zones('+15551990000'), '{America/Denver}', 'a longer prefix wins');
SELECT is(kept.phone_time_zones('+15551290000'), '{America/Denver,America/Phoenix}', 'the longest, with all its zones');
SELECT is(kept.phone_time_zones('+447700900123'), '{}', 'a number outside North America has none');
SELECT is(kept.phone_time_zones('+12125550123'), '{America/New_York}', 'libphonenumber''s data is loaded: 212 is New York');

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PZ-C","name":"Pat Zones","time_zone":"Europe/London",
    "jurisdiction":"GB","phones":[{"number":"+15551290000","consent_automated":true},
                                  {"number":"+15559990000","consent_automated":false},
                                  {"number":"+447700900999","consent_automated":true}]}');
SELECT is(kept.customer_zones((SELECT id FROM kept.customers WHERE external_ref = 'PZ-C')),
          '{America/Chicago,America/Denver,America/Phoenix,Europe/London}',
          'a customer''s zones: the address''s and every number''s, once each, sorted');
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PZ-D","name":"No Phones","time_zone":"Asia/Tokyo",
    "jurisdiction":"JP"}');
SELECT is(kept.customer_zones((SELECT id FROM kept.customers WHERE external_ref = 'PZ-D')), '{Asia/Tokyo}',
          'without numbers, the address''s zone');

SELECT * FROM finish();
ROLLBACK;
