-- cohorts: plans grouped by the week they started; for each week since the
-- start, the share of that week's judged installments that were kept.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/cohorts.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
-- Columns: cohort_week (Monday of the start week), week (1 = the plan's first
-- week), plans (with an installment judged that week), judged, kept (kept +
-- kept_late), kept_share = kept / judged.
SELECT i.plan_start_week AS cohort_week, i.weeks_since_start AS week, count(DISTINCT i.plan_id) AS plans,
       count(*) AS judged, count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late')) AS kept,
       round(count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late'))::numeric / count(*), 4) AS kept_share
FROM analytics.fact_installment i
WHERE i.plan_start_week >= :'from'::date AND i.plan_start_week < :'to'::date
  AND i.outcome IN ('kept', 'kept_late', 'partial', 'missed')
GROUP BY i.plan_start_week, i.weeks_since_start
ORDER BY i.plan_start_week, i.weeks_since_start;
