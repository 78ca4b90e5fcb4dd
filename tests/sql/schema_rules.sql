-- The rule helpers behind the CHECK constraints and the import's validation.
BEGIN;
SELECT plan(26);

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
SELECT ok(kept.is_display_name(NULL) IS NULL, 'a missing name is for NOT NULL to refuse');
-- the CHECKs of a million-row balance update run these: they must stay inlinable
SELECT ok(NOT (SELECT proisstrict FROM pg_proc WHERE oid = 'kept.is_display_name(text)'::regprocedure),
          'is_display_name is not STRICT over a non-strict body, so it inlines');
-- what PostgreSQL can hold as timestamptz, and nothing it would take as a word
SELECT ok(kept.is_timestamp('2026-11-20T14:05:00Z') AND kept.is_timestamp('2026-11-20 14:05+15:59')
          AND kept.is_timestamp('0001-01-01T00:00:00.123456-0530') AND kept.is_timestamp('2024-02-29T00:00+01'),
          'timestamps: RFC 3339 shapes, offsets to 15:59');
SELECT ok(NOT kept.is_timestamp('2026-11-20T14:05:00+16:00') AND NOT kept.is_timestamp('0000-01-01T00:00:00Z')
          AND NOT kept.is_timestamp('2023-02-29T00:00:00Z') AND NOT kept.is_timestamp('2026-11-20T14:05:00')
          AND NOT kept.is_timestamp('yesterday') AND NOT kept.is_timestamp('2026-11-20T14:05:00.1234567Z'),
          'timestamps: no offset past 15:59, no year 0, no 29 February 2023, no missing zone, no words');

SELECT * FROM finish();
ROLLBACK;
