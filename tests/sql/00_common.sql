-- The helpers every SQL file uses (sql/functions/00_common.sql): kept.fail's
-- error shape, timestamps, page cursors and limits, amounts as people write them.
BEGIN;
SELECT plan(28);

CREATE FUNCTION pg_temp.error_of(p_sql text, OUT state text, OUT hint text, OUT field text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT, field = COLUMN_NAME,
                            message = MESSAGE_TEXT;
END $$;

-- kept.fail: the stable code, the field and the message travel with the error
SELECT is((SELECT hint || '|' || field || '|' || message FROM pg_temp.error_of(
           $$SELECT kept.fail('rule_violation', 'some_code', 'some_field', 'a message')$$)),
          'some_code|some_field|a message', 'kept.fail carries its code, field and message');
SELECT is((SELECT field FROM pg_temp.error_of($$SELECT kept.fail('invalid', 'c', NULL, 'm')$$)), '', 'no field: an empty one');

-- timestamps: RFC 3339 UTC with microseconds, whatever the session's zone
SET LOCAL TIME ZONE 'America/New_York';
SELECT is(kept.ts('2026-03-08 01:59:59.5-05'), '2026-03-08T06:59:59.500000Z', 'kept.ts answers UTC with microseconds');
SELECT is(kept.ts(NULL), NULL, 'and NULL for NULL');

-- cursors: opaque, per list, refused by another list and when tampered with
SELECT is(kept.cursor_decode('account', kept.cursor_encode('account', 12345)), 12345::bigint, 'a cursor round-trips');
SELECT ok(kept.cursor_encode('account', 12345) ~ '^[A-Za-z0-9_-]+$', 'in URL-safe base64 without padding');
SELECT is(kept.cursor_decode('account', NULL), 0::bigint, 'no cursor: the first page');
SELECT is(kept.cursor_decode('account', ''), 0::bigint, 'an empty one too');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.cursor_decode('payment', kept.cursor_encode('account', 1))$$)),
          'invalid_cursor', 'a cursor of another list is refused');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.cursor_decode('account', 'not a cursor!')$$)),
          'invalid_cursor', 'so is one that is not base64url');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.cursor_decode('account', kept.cursor_encode_text('account', '1;2'))$$)),
          'invalid_cursor', 'and one whose position has the wrong shape');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.cursor_decode('account', 'gA')$$)),
          'invalid_cursor', 'and bytes that are not UTF-8');
SELECT is(kept.cursor_decode_text('x', kept.cursor_encode_text('x', '1,2,3'), '[0-9,]+'), '1,2,3',
          'a position of several keys round-trips');

-- pages: a next cursor only when the query found more than the page
SELECT is(kept.page_json('[1,2]', 2, 2, 2, 'account')::jsonb, '{"items": [1, 2], "next_cursor": null}'::jsonb,
          'a last page has no next cursor');
SELECT is(kept.cursor_decode('account', kept.page_json('[1,2]', 2, 3, 2, 'account')->>'next_cursor'), 2::bigint,
          'a full page''s cursor points after its last item');
SELECT is(kept.page_limit(NULL), 50, 'the default page is 50');
SELECT is(kept.page_limit('500'), 500, 'at most 500');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.page_limit('501')$$)), 'invalid_limit', '501 is refused');
SELECT is((SELECT hint FROM pg_temp.error_of($$SELECT kept.page_limit('')$$)), 'invalid_limit',
          'an empty limit is refused, not taken as absent');

-- amounts in their currency's own units
SELECT is(ARRAY[kept.money_text(48950, 'GBP'), kept.money_text(150000, 'JPY'), kept.money_text(1234567, 'KWD')],
          ARRAY['489.50 GBP', '150,000 JPY', '1,234.567 KWD'], 'minor units in each currency''s places, thousands grouped');
SELECT is(kept.money_text(-5, 'USD'), '-0.05 USD', 'a negative amount keeps its sign');

-- the field rules: keptd's table, written by `keptd migrate`, read by SQL's checks
SELECT ok((SELECT count(*) FROM kept.field_rules) > 20, 'keptd migrate wrote the field rules');
SELECT is((SELECT hint || '|' || field || '|' || message FROM pg_temp.error_of($$SELECT kept.fail_rule('source')$$)),
          'invalid_source|source|' || kept.rule_message('source'), 'kept.fail_rule raises the rule''s code, field and message');
SELECT is((SELECT state FROM pg_temp.error_of($$SELECT kept.rule_message('no_such_rule')$$)), 'P0001',
          'a rule keptd does not declare is a defect, not a client''s error');
SELECT is((SELECT message FROM pg_temp.error_of($$SELECT (kept.field_rule('no_such_rule')).pattern$$)),
          'no field rule no_such_rule', 'a check reading an undeclared rule''s pattern raises, never passes on NULL');
SELECT is((SELECT state FROM pg_temp.error_of($$SELECT kept.fail_rule('no_such_rule')$$)), 'P0001',
          'and raising one too');
SELECT kept.field_rules_load('[{"name": "source", "code": "invalid_source", "field": "source", "property": "source",
                                "message": "a new message", "pattern": "^x$", "max_chars": 1,
                                "constraints": "payments_source_check"}]');
SELECT is((SELECT message || '|' || pattern || '|' || max_chars FROM kept.field_rules WHERE name = 'source'),
          'a new message|^x$|1', 'a load replaces a rule');
SELECT is((SELECT count(*) FROM kept.field_rules), 1::bigint, 'and removes the rules keptd no longer declares');

SELECT * FROM finish();
ROLLBACK;
