-- The audit log partitioned by month: partitions made ahead, events routed
-- by `at`, old partitions detached for archive with the chain verifiable
-- across the cut, even where sealing order and months interleave (a change
-- that began before midnight and committed after).
BEGIN;
SELECT plan(14);

SELECT ok((SELECT count(*) FROM kept.audit_partitions WHERE range_from >= kept.audit_month(now(), 1)) >= 3,
          'partitions exist for the coming months');
SELECT is(kept.audit_partitions_ensure(), 0, 'making them again makes nothing');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'kept.audit_events'::regclass), 'p',
          'audit_events is partitioned');

-- events of this month (the legacy partition) and of next month, written
-- alternately, so that sealing interleaves the two partitions
ALTER TABLE kept.audit_events DISABLE TRIGGER audit_events_stamp;
INSERT INTO kept.audit_events (at, actor, action, entity_type, entity_id)
SELECT CASE WHEN g % 2 = 0 THEN now() ELSE kept.audit_month(now(), 1) + interval '1 hour' END,
       'test', 'test.event', 'test', g
FROM generate_series(1, 40) g;
ALTER TABLE kept.audit_events ENABLE TRIGGER audit_events_stamp;
SELECT ok(kept.audit_seal(100000) >= 40, 'sealed');
SELECT is((SELECT count(DISTINCT tableoid) FROM kept.audit_events WHERE action = 'test.event'), 2::bigint,
          'the events went to two partitions');
SELECT is((SELECT ok FROM kept.audit_verify()), true, 'the chain verifies');

SELECT kept.audit_write(ROW(NULL, 'test', NULL)::kept.actor, 'test.unsealed', 'test', 0, NULL, NULL);
SELECT throws_ok($$SELECT kept.audit_archive(kept.audit_month(now(), 1))$$,
                 'KRCFL', NULL, 'a partition with unsealed events is not detached');
SELECT ok(kept.audit_seal(100000) >= 1, 'sealed again');
SELECT is((SELECT array_agg(t) FROM kept.audit_archive(kept.audit_month(now(), 1)) t),
          ARRAY['kept_archive.audit_events_legacy'], 'this month''s partition is detached for archive');
SELECT is((SELECT count(*) FROM kept.audit_events WHERE action = 'test.event'), 20::bigint,
          'next month''s events stay');
SELECT is((SELECT ok FROM kept.audit_verify()), true, 'the live chain still verifies across the cut');
SELECT is(kept.audit_verify_archive('kept_archive.audit_events_legacy'), true, 'and the archive on its own');

-- runs `change`, answers what `probe` then says, and undoes the change
CREATE FUNCTION pg_temp.after_undone(change text, probe text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v boolean;
BEGIN
    BEGIN
        EXECUTE change;
        EXECUTE probe INTO v;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = v::text;
    EXCEPTION WHEN raise_exception THEN
        RETURN SQLERRM::boolean;
    END;
END $$;
SELECT is(pg_temp.after_undone(
    $$UPDATE kept_archive.audit_events_legacy SET actor = 'mallory' WHERE action = 'test.event' AND entity_id = 2$$,
    $$SELECT kept.audit_verify_archive('kept_archive.audit_events_legacy')$$), false, 'an edited archive is detected');
SELECT is(pg_temp.after_undone(
    $$ALTER TABLE kept.audit_events DISABLE TRIGGER USER;
      DELETE FROM kept.audit_events WHERE action = 'test.event' AND entity_id = 3$$,
    $$SELECT ok FROM kept.audit_verify()$$), false, 'an event removed after the cut is detected');

SELECT * FROM finish();
ROLLBACK;
