-- Evaluation at scale: kept.evaluate_outcomes (in keptd's batches, here in
-- one transaction) + kept.evaluate_plans at
-- :'as_of' against the baseline statement that only touches the same rows
-- (UPDATE ... SET outcome = outcome WHERE <the same predicate>). Each run is
-- rolled back and followed by a VACUUM, so every run sees the same data.
-- Prints "baseline <seconds> <rows>" and "evaluate <seconds> <rows>".
\set ON_ERROR_STOP on
\set QUIET on
\pset tuples_only on
\pset format unaligned

BEGIN;
SELECT clock_timestamp() AS t0 \gset
WITH touched AS (
    UPDATE kept.installments i SET outcome = i.outcome
    FROM kept.plans p
    WHERE p.id = i.plan_id AND p.status IN ('active', 'completed')
      AND i.outcome = 'scheduled' AND i.due_end_at <= :'as_of'::timestamptz
      AND (i.grace_end_at <= :'as_of'::timestamptz OR i.paid_by_due_cents >= i.threshold_cents)
    RETURNING 1)
SELECT count(*) AS rows FROM touched \gset
SELECT 'baseline', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), :rows;
ROLLBACK;
VACUUM kept.installments;
CHECKPOINT;

BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT kept.evaluate_outcomes(:'as_of'::timestamptz) AS rows \gset
SELECT kept.evaluate_plans(:'as_of'::timestamptz, 1000) AS plans \gset
SELECT 'evaluate', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), :rows;
ROLLBACK;
VACUUM kept.installments, kept.plans, kept.outbox_events;
CHECKPOINT;
