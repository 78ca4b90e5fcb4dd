-- summary: the headline figures, per currency.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/summary.sql
--
-- Parameters (psql variables): from, to — dates. `week` is the week (Monday to
-- Sunday) holding the day before `to`, or today (UTC) when that is earlier;
-- the four weeks before it are the "last four". Plans broken or completed
-- count when they ended on or after `from` and before `to` (midnight UTC).
-- Dates are UTC's, whatever psql's time zone.
--
-- What the figures mean:
-- - kept_rate_week / kept_rate_4w: (kept + kept_late) / judged among the
--   installments due in `week` (partial while the week lasts:
--   week_state = current) and in the four weeks before it; judged_week and
--   judged_4w are their counts.
-- - collection_rate_4w = collected_judged_4w_cents / due_judged_4w_cents: paid
--   against due on the judged installments of the last four weeks.
-- - active_plans and arrears_cents are analytics' present state, not as of
--   `to`: arrears_cents is what the judged installments of active plans still
--   lack, installments_in_arrears how many of them lack something.
-- - Waived installments are not due; money is per currency; every rate
--   comes with the count it is a rate of.
--
-- Columns: currency, week, week_state, judged_week, kept_week, kept_rate_week,
-- judged_4w, kept_4w, kept_rate_4w, due_judged_4w_cents,
-- collected_judged_4w_cents, collection_rate_4w, active_plans,
-- broken_plans, completed_plans, arrears_cents, installments_in_arrears.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
WITH bounds AS (
    SELECT date_trunc('week', least(:'to'::date - 1, (now() AT TIME ZONE 'UTC')::date))::date AS week,
           :'from'::date::timestamp AT TIME ZONE 'UTC' AS from_at, :'to'::date::timestamp AT TIME ZONE 'UTC' AS to_at
), weeks AS (
    SELECT w.currency,
           sum(w.judged) FILTER (WHERE w.due_week = b.week) AS judged_week,
           sum(w.kept + w.kept_late) FILTER (WHERE w.due_week = b.week) AS kept_week,
           sum(w.judged) FILTER (WHERE w.due_week < b.week) AS judged_4w,
           sum(w.kept + w.kept_late) FILTER (WHERE w.due_week < b.week) AS kept_4w,
           sum(w.due_judged_cents) FILTER (WHERE w.due_week < b.week) AS due_judged_4w,
           sum(w.collected_judged_cents) FILTER (WHERE w.due_week < b.week) AS collected_judged_4w
    FROM analytics.agg_week w, bounds b
    WHERE w.due_week >= b.week - 28 AND w.due_week <= b.week AND analytics.in_scope(w.creditor)
    GROUP BY w.currency
), plans AS (
    SELECT a.currency, sum(a.active) AS active_plans, sum(a.in_arrears) AS installments_in_arrears,
           sum(a.arrears_cents) AS arrears_cents
    FROM analytics.agg_plan a WHERE analytics.in_scope(a.creditor) GROUP BY a.currency
), ended AS (
    SELECT p.currency, count(*) FILTER (WHERE p.status = 'broken') AS broken_plans,
           count(*) FILTER (WHERE p.status = 'completed') AS completed_plans
    FROM analytics.fact_plan p, bounds b
    WHERE p.status IN ('broken', 'completed') AND p.ended_at >= b.from_at AND p.ended_at < b.to_at
      AND analytics.in_scope(p.creditor)
    GROUP BY p.currency
), currencies AS (
    SELECT currency FROM weeks UNION SELECT currency FROM plans WHERE active_plans > 0 OR arrears_cents > 0
    UNION SELECT currency FROM ended
)
SELECT c.currency, b.week,
       CASE WHEN b.week + 7 <= (now() AT TIME ZONE 'UTC')::date THEN 'past'
            WHEN b.week <= (now() AT TIME ZONE 'UTC')::date THEN 'current' ELSE 'future' END AS week_state,
       coalesce(w.judged_week, 0) AS judged_week, coalesce(w.kept_week, 0) AS kept_week,
       round(w.kept_week::numeric / nullif(w.judged_week, 0), 4) AS kept_rate_week,
       coalesce(w.judged_4w, 0) AS judged_4w, coalesce(w.kept_4w, 0) AS kept_4w,
       round(w.kept_4w::numeric / nullif(w.judged_4w, 0), 4) AS kept_rate_4w,
       coalesce(w.due_judged_4w, 0) AS due_judged_4w_cents, coalesce(w.collected_judged_4w, 0) AS collected_judged_4w_cents,
       round(w.collected_judged_4w::numeric / nullif(w.due_judged_4w, 0), 4) AS collection_rate_4w,
       coalesce(p.active_plans, 0) AS active_plans, coalesce(e.broken_plans, 0) AS broken_plans,
       coalesce(e.completed_plans, 0) AS completed_plans, coalesce(p.arrears_cents, 0) AS arrears_cents,
       coalesce(p.installments_in_arrears, 0) AS installments_in_arrears
FROM currencies c CROSS JOIN bounds b
LEFT JOIN weeks w USING (currency) LEFT JOIN plans p USING (currency) LEFT JOIN ended e USING (currency)
ORDER BY c.currency;
