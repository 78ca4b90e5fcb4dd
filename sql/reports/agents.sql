-- agents: the origin report's figures per agent (the API key that made the plan).
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/agents.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
-- Columns: agent_key_id (0: none recorded), agent_name, currency, plans,
-- kept_rate, collection_rate, completion_rate, broken_rate, avg_weekly_share
-- (as in origin.sql).
SELECT a.agent_key_id, max(a.agent_name) AS agent_name, a.currency, sum(a.plans) AS plans,
       round(sum(a.kept_any)::numeric / nullif(sum(a.judged), 0), 4) AS kept_rate,
       round(sum(a.collected_cents)::numeric / nullif(sum(a.due_judged_cents), 0), 4) AS collection_rate,
       round(sum(a.completed)::numeric / sum(a.plans), 4) AS completion_rate,
       round(sum(a.broken)::numeric / sum(a.plans), 4) AS broken_rate,
       round(sum(a.weekly_share_sum) / sum(a.plans), 4) AS avg_weekly_share
FROM analytics.agg_plan a
WHERE a.start_week >= :'from'::date AND a.start_week < :'to'::date
GROUP BY a.agent_key_id, a.currency
ORDER BY a.agent_key_id, a.currency;
