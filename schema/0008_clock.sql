-- 0008: one clock for the SQL side. kept.now() is the time kept's functions
-- record and judge by: the transaction's start (now()) unless the transaction
-- set kept.clock (SET LOCAL kept.clock = '2026-03-02T10:00:00Z'), as the
-- history import does while it replays a past agreement at the time it was
-- made. A SET LOCAL ends with its transaction, so a clock set for one
-- request never leaks into the next on the same connection.
--
-- The audit log (audit_events.at) and the outbox (occurred_at) keep the real
-- time: they say when kept recorded something, whatever time it describes.
CREATE FUNCTION kept.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(nullif(current_setting('kept.clock', true), '')::timestamptz, now());

-- The domain's own times follow the clock.
ALTER TABLE kept.affordability_assessments ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.proposals ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.settlement_offers ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.plans ALTER COLUMN created_at SET DEFAULT kept.now(),
                       ALTER COLUMN updated_at SET DEFAULT kept.now();
ALTER TABLE kept.plan_approvals ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.reviews ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.payments ALTER COLUMN created_at SET DEFAULT kept.now();
ALTER TABLE kept.escalations ALTER COLUMN created_at SET DEFAULT kept.now();
