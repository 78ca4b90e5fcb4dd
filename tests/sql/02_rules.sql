-- The rule helpers behind the CHECK constraints and the import's validation.
BEGIN;
SELECT plan(22);

SELECT ok(kept.is_e164('+14155550123'), 'E.164 US number');
SELECT ok(kept.is_e164('+447700900123'), 'E.164 UK number');
SELECT ok(NOT kept.is_e164('14155550123'), 'E.164 needs the plus');
SELECT ok(NOT kept.is_e164('+04155550123'), 'E.164 country code cannot start with 0');
SELECT ok(NOT kept.is_e164('+1415555012345678'), 'E.164 has at most 15 digits');
SELECT ok(NOT kept.is_e164('+1 415 555 0123'), 'E.164 has no spaces');
SELECT ok(kept.is_jurisdiction('US-MA'), 'US-MA');
SELECT ok(kept.is_jurisdiction('GB'), 'GB');
SELECT ok(NOT kept.is_jurisdiction('us-ma'), 'jurisdiction is upper case');
SELECT ok(NOT kept.is_jurisdiction('USA'), 'jurisdiction is alpha-2');
SELECT ok(kept.is_language('en'), 'en');
SELECT ok(kept.is_language('es-419'), 'es-419');
SELECT ok(NOT kept.is_language('English'), 'not a tag');
SELECT ok(kept.is_currency('USD') AND NOT kept.is_currency('usd') AND NOT kept.is_currency('US'), 'currency codes');
SELECT ok(kept.is_reference('ACME/2024:000123-a_b.c'), 'references allow . _ : / -');
SELECT ok(NOT kept.is_reference('-starts-with-dash'), 'references start with a letter or digit');
SELECT ok(NOT kept.is_reference(repeat('a', 65)), 'references are at most 64 characters');
SELECT ok(NOT kept.is_reference('has space'), 'references have no spaces');
SELECT ok(kept.is_display_name('Zoë O''Brien-Müller'), 'names in any script');
SELECT ok(NOT kept.is_display_name(E'line\nbreak'), 'names have no control characters');
SELECT ok(NOT kept.is_display_name('   '), 'names are not blank');
SELECT ok(NOT kept.is_display_name(repeat('x', 201)), 'names are at most 200 characters');

SELECT * FROM finish();
ROLLBACK;
