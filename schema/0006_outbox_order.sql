-- 0006: the analytics loader reads the outbox in (tx_id, id) order, from
-- transactions that have ended (see sql/functions/91_analytics_extract.sql).
CREATE INDEX outbox_events_order_idx ON kept.outbox_events (tx_id, id);
