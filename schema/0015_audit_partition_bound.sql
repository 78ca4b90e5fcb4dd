-- 0015: the first step of partitioning the audit log by month (0016), kept
-- apart so that 0016 can validate it without blocking writers: a CHECK that
-- every event so far, and every event until the end of this month, falls
-- before the first month of its own partition. NOT VALID takes its lock for
-- an instant and reads nothing; 0016 validates it under a lock that lets
-- writers go on, so that attaching the table as a partition needs no scan.
DO $$
BEGIN
    EXECUTE format('ALTER TABLE kept.audit_events ADD CONSTRAINT audit_events_legacy_bound CHECK (at < %L) NOT VALID',
                   (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');
END $$;
