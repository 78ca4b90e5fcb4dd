-- cohorts: plans grouped by the week they started; for each week since the
-- start, the share of that week's judged installments that were kept.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/cohorts.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
--
-- What the figures mean: cohort_size is the number of plans that started that
-- week and became the customer's commitment; for each week since the start
-- (1 = the plan's first week), plans counts those with an installment judged
-- that week, judged the installments judged (waived ones are not due), kept
-- those kept or kept late, and kept_share = kept / judged — a share beside
-- its count, so a small cohort is visible as one.
--
-- Columns: cohort_week (Monday of the start week), cohort_size, week, plans,
-- judged, kept, kept_share.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT i.plan_start_week AS cohort_week,
       (SELECT count(*) FROM analytics.fact_plan p
        WHERE p.start_week = i.plan_start_week AND p.activated_at IS NOT NULL
          AND analytics.in_scope(p.creditor)) AS cohort_size,
       i.weeks_since_start AS week, count(DISTINCT i.plan_id) AS plans,
       count(*) AS judged, count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late')) AS kept,
       round(count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late'))::numeric / count(*), 4) AS kept_share
FROM analytics.fact_installment i
WHERE i.plan_start_week >= :'from'::date AND i.plan_start_week < :'to'::date
  AND i.outcome IN ('kept', 'kept_late', 'partial', 'missed') AND analytics.in_scope(i.creditor)
GROUP BY i.plan_start_week, i.weeks_since_start
ORDER BY i.plan_start_week, i.weeks_since_start;
