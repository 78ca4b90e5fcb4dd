-- origin: plans the customer proposed vs plans the agent set vs settlements.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/origin.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
-- Columns: origin, currency, plans, kept_rate (kept + kept_late over judged
-- installments), collection_rate (paid over due, both on the judged
-- installments), completion_rate and broken_rate (share of the plans),
-- avg_weekly_share (the weekly amount as a share of the balance at start).
SELECT a.origin, a.currency, sum(a.plans) AS plans,
       round(sum(a.kept_any)::numeric / nullif(sum(a.judged), 0), 4) AS kept_rate,
       round(sum(a.collected_cents)::numeric / nullif(sum(a.due_judged_cents), 0), 4) AS collection_rate,
       round(sum(a.completed)::numeric / sum(a.plans), 4) AS completion_rate,
       round(sum(a.broken)::numeric / sum(a.plans), 4) AS broken_rate,
       round(sum(a.weekly_share_sum) / sum(a.plans), 4) AS avg_weekly_share
FROM analytics.agg_plan a
WHERE a.start_week >= :'from'::date AND a.start_week < :'to'::date
GROUP BY a.origin, a.currency
ORDER BY a.origin, a.currency;
