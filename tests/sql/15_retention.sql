-- The outbox's pruning (sql/functions/15_retention.sql): only events the
-- analytics loader has applied (at or before its cursor) and older than the
-- cut-off go, oldest first, at most the batch's size.
BEGIN;
SELECT plan(5);

DELETE FROM kept.outbox_events;
INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload, occurred_at)
SELECT 'test_event', 'test', n, '{}', '2026-01-01'::timestamptz + n * interval '1 day' FROM generate_series(1, 6) n;
CREATE TEMP TABLE ev AS SELECT array_agg(id ORDER BY id) AS ids, pg_current_xact_id() AS tx FROM kept.outbox_events;

-- the loader's cursor at the fourth event; the cut-off after the fifth day
SELECT is(kept.outbox_prune((SELECT tx FROM ev), (SELECT ids[4] FROM ev), '2026-01-05 12:00', 2), 2,
          'a batch removes at most its size');
SELECT is(ARRAY(SELECT id FROM kept.outbox_events ORDER BY id), (SELECT ids[3:6] FROM ev), 'the oldest first');
SELECT is(kept.outbox_prune((SELECT tx FROM ev), (SELECT ids[4] FROM ev), '2026-01-05 12:00', 100), 2,
          'the next batch takes the rest the loader has applied');
SELECT is(ARRAY(SELECT id FROM kept.outbox_events ORDER BY id), (SELECT ids[5:6] FROM ev),
          'nothing after the loader''s cursor goes, though old enough');
SELECT is(kept.outbox_prune((SELECT tx FROM ev), (SELECT ids[6] FROM ev), '2026-01-03', 100), 0,
          'nor anything newer than the cut-off');

SELECT * FROM finish();
ROLLBACK;
