-- agents: the origin report's figures per agent (who agreed the plan).
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/agents.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
--
-- The figures mean what they mean in origin.sql (plans that became the
-- customer's commitment; rates over judged installments, each beside its
-- count; money per currency).
--
-- Columns: agent_user_id (the user who agreed the plans; 0: none recorded,
-- such as kept's command line), agent_name (their name), currency, plans, completed, broken, active, judged, kept_any, kept_rate,
-- due_judged_cents, collected_judged_cents, collection_rate,
-- completion_rate, broken_rate, avg_weekly_share.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT a.agent_user_id,
       (SELECT f.agent_name FROM analytics.fact_plan f WHERE f.agent_user_id = a.agent_user_id LIMIT 1) AS agent_name,
       a.currency, sum(a.activated) AS plans, sum(a.completed) AS completed, sum(a.broken) AS broken,
       sum(a.active) AS active, sum(a.judged) AS judged, sum(a.kept_any) AS kept_any,
       round(sum(a.kept_any)::numeric / nullif(sum(a.judged), 0), 4) AS kept_rate,
       sum(a.due_judged_cents) AS due_judged_cents, sum(a.collected_judged_cents) AS collected_judged_cents,
       round(sum(a.collected_judged_cents)::numeric / nullif(sum(a.due_judged_cents), 0), 4) AS collection_rate,
       round(sum(a.completed)::numeric / nullif(sum(a.activated), 0), 4) AS completion_rate,
       round(sum(a.broken)::numeric / nullif(sum(a.activated), 0), 4) AS broken_rate,
       round(sum(a.weekly_share_sum) / nullif(sum(a.activated), 0), 4) AS avg_weekly_share
FROM analytics.agg_plan a
WHERE a.start_week >= :'from'::date AND a.start_week < :'to'::date AND analytics.in_scope(a.creditor)
GROUP BY a.agent_user_id, a.currency
HAVING sum(a.activated) > 0
ORDER BY a.agent_user_id, a.currency;
