-- The shared helpers of sql/functions: kept.fail's error kinds, the one
-- lock-or-404, the one ending of a write (audit + outbox + answer), and the
-- account a per-account list requires, and a page of a list in id order.
BEGIN;
SELECT plan(34);

-- ---- kept.fail: a kind, one SQLSTATE per kind (db.c's classify_own reads them back)
SELECT is(kept.error_state(k), s, k || ' raises ' || s)
FROM (VALUES ('invalid', 'KRINV'), ('forbidden', 'KRFBD'), ('not_found', 'KRNFD'), ('conflict', 'KRCFL'),
             ('precondition_failed', 'KRPRE'), ('rule_violation', 'KRRUL')) x(k, s);
SELECT is(kept.error_state('internal'), NULL, 'a kind SQL does not raise has no SQLSTATE');
SELECT throws_ok($$SELECT kept.fail('not_found', 'thing_not_found', 'id', 'no thing with id 7')$$, 'KRNFD',
                 'no thing with id 7', 'kept.fail raises its kind''s SQLSTATE with the message');

CREATE FUNCTION pg_temp.fail_detail() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hint text;
    v_column text;
BEGIN
    PERFORM kept.fail('conflict', 'thing_taken', 'name', 'taken');
    RETURN NULL;
EXCEPTION WHEN SQLSTATE 'KRCFL' THEN
    GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT, v_column = COLUMN_NAME;
    RETURN v_hint || ' ' || v_column;
END $$;
SELECT is(pg_temp.fail_detail(), 'thing_taken name', 'the code goes in HINT, the field in COLUMN');
SELECT throws_ok($$SELECT kept.fail('teapot', 'x', '', 'y')$$, 'P0001', NULL,
                 'a kind kept does not know is a defect (500), not a client error');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE oid = 'kept.fail'::regproc::oid
                                           OR (proname = 'fail' AND pronamespace = 'kept'::regnamespace)), 1,
          'one kept.fail: the status-taking one is gone');

-- ---- kept.lock_or_404
SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"HLP-C","name":"Helper","time_zone":"UTC","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id', (SELECT id FROM kept.customers WHERE external_ref = 'HLP-C'),
    'external_ref', 'HLP-A', 'creditor', 'Bank', 'original_balance_cents', 1000, 'currency', 'GBP')::jsonb);
CREATE TEMP TABLE acc AS SELECT id FROM kept.accounts WHERE external_ref = 'HLP-A';

SELECT is((kept.lock_or_404(NULL::kept.accounts, (SELECT id FROM acc), '', 'account_not_found', 'id', 'none')).external_ref,
          'HLP-A', 'the row of the table of the type passed, by id');
SELECT is((SELECT xmax::text FROM kept.accounts WHERE id = (SELECT id FROM acc)), '0', ''''' reads without a lock');
SELECT is((kept.lock_or_404(NULL::kept.accounts, (SELECT id FROM acc), 'FOR NO KEY UPDATE', 'account_not_found', 'id',
                            'none')).id, (SELECT id FROM acc), 'FOR NO KEY UPDATE');
SELECT is((SELECT xmax::text FROM kept.accounts WHERE id = (SELECT id FROM acc)), (pg_current_xact_id()::text::bigint % 4294967296)::text,
          'and the row is locked by this transaction');
SELECT is((kept.lock_or_404(NULL::kept.customers, (SELECT customer_id FROM kept.accounts WHERE id = (SELECT id FROM acc)),
                            'FOR UPDATE', 'customer_not_found', 'id', 'none')).external_ref,
          'HLP-C', 'FOR UPDATE, any table');
SELECT throws_ok($$SELECT kept.lock_or_404(NULL::kept.accounts, -1, 'FOR UPDATE', 'account_not_found', 'id',
                                           'no account with id -1')$$, 'KRNFD', 'no account with id -1',
                 'no row: not_found with the caller''s code and message');
SELECT throws_ok($$SELECT kept.lock_or_404(NULL::kept.accounts, 1, 'FOR SHARE; DROP TABLE kept.accounts', 'x', '', 'y')$$,
                 'P0001', NULL, 'a lock it does not know is refused');
SELECT throws_ok($$SELECT kept.lock_or_404(NULL::integer, 1, '', 'x', '', 'y')$$, 'P0001', NULL,
                 'so is a type that is no table''s row');

-- ---- kept.check_version (If-Match)
SELECT lives_ok($$SELECT kept.check_version('thing', 3, 3), kept.check_version('thing', 3, NULL)$$,
                'the version the row is at, or none, passes');
SELECT throws_ok($$SELECT kept.check_version('thing', 3, 2)$$, 'KRPRE', 'the thing is at version 3, not 2',
                 'another is precondition_failed');

-- ---- kept.write_end
CREATE TEMP TABLE mark AS SELECT (SELECT coalesce(max(id), 0) FROM kept.outbox_events) AS outbox,
                                 (SELECT count(*) FROM kept.audit_events WHERE request_id = 'req-helpers') AS audit;
SELECT is(kept.write_end(ROW(NULL, 'test', 'req-helpers')::kept.actor, 'thing.made', 'account', (SELECT id FROM acc), NULL,
                         '{"n": 1}', 'thing_made', '{"n": 1}', '{"answer": true}'::json)::text,
          '{"answer": true}', 'the answer comes back as it is');
SELECT is((SELECT count(*)::int FROM kept.audit_events WHERE request_id = 'req-helpers' AND action = 'thing.made'
                                                      AND entity_id = (SELECT id FROM acc) AND after = '{"n": 1}'), 1,
          'one audit event with its action, entity and after');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE id > (SELECT outbox FROM mark) AND event_type = 'thing_made'
                                                        AND aggregate_type = 'account'
                                                        AND aggregate_id = (SELECT id FROM acc)), 1,
          'one outbox event about the same entity');
SELECT is((kept.write_end(ROW(NULL, 'test', 'req-helpers')::kept.actor, 'thing.seen', 'account', (SELECT id FROM acc), NULL, '{}',
                          NULL, NULL, (SELECT a FROM kept.accounts a WHERE id = (SELECT id FROM acc)))).external_ref,
          'HLP-A', 'an answer may be a row handed on');
SELECT is((SELECT count(*)::int FROM kept.outbox_events WHERE id > (SELECT outbox FROM mark)), 1,
          'no event: no outbox row');

-- ---- the account a per-account list requires
SELECT is(kept.account_id_required((SELECT id::text FROM acc)), (SELECT id FROM acc), 'account_id names an account');
SELECT throws_ok($$SELECT kept.account_id_required(NULL)$$, 'KRINV', 'account_id is required: an account id',
                 'account_id is required');
SELECT throws_ok($$SELECT kept.account_id_required('0')$$, 'KRINV', NULL, 'and an account id');
SELECT throws_ok($$SELECT kept.account_must_exist(-1, 'id')$$, 'KRNFD', 'no account with id -1',
                 'an account that does not exist is not found');

-- ---- kept.page_of: a list in id order from its rows' items (the query asks for one more than a page)
SELECT is(kept.page_of(ARRAY['{"id": 1}', '{"id": 2}', '{"id": 3}']::json[], 2, 'thing')::jsonb,
          jsonb_build_object('items', '[{"id": 1}, {"id": 2}]'::jsonb, 'next_cursor', kept.cursor_encode('thing', 2)),
          'one more row than the page: the page, and the cursor after its last id');
SELECT is(kept.page_of(ARRAY['{"id": 1}', '{"id": 2}']::json[], 2, 'thing')::jsonb,
          '{"items": [{"id": 1}, {"id": 2}], "next_cursor": null}', 'the last page has no cursor');
SELECT is(kept.page_of('{}'::json[], 50, 'thing')::jsonb, '{"items": [], "next_cursor": null}', 'nothing: an empty page');
SELECT is(kept.cursor_decode('thing', kept.page_of(ARRAY['{"id": 7}', '{"id": 9}']::json[], 1, 'thing')->>'next_cursor'),
          7::bigint, 'the next page starts after the last id shown');

SELECT * FROM finish();
ROLLBACK;
