-- compliance: reminder calls placed and stopped, by rule, by week.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/compliance.sql
--
-- Parameters (psql variables): from, to — dates; calls dialled (or stopped)
-- in weeks starting on or after `from` and before `to`.
-- Columns: week (Monday), status (placed: reached the provider; blocked:
-- stopped for good; deferred: waiting for its next allowed time; failed:
-- never placed), rule (the blocking or deferring rule; empty when placed or
-- failed), calls.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT date_trunc('week', c.call_date)::date AS week,
       CASE WHEN c.placed THEN 'placed' WHEN c.state = 'blocked' THEN 'blocked'
            WHEN c.state = 'queued' THEN 'deferred' ELSE 'failed' END AS status,
       coalesce(CASE WHEN c.state = 'blocked' THEN c.blocked_rule
                     WHEN c.state = 'queued' THEN c.deferred_rule END, '') AS rule,
       count(*) AS calls
FROM analytics.fact_call c
WHERE c.call_date >= :'from'::date AND c.call_date < :'to'::date + 6
  AND date_trunc('week', c.call_date) >= :'from'::date AND date_trunc('week', c.call_date) < :'to'::date
  AND analytics.in_scope(c.creditor)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
