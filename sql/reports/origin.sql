-- origin: plans the customer proposed vs plans the agent set vs settlements,
-- each split by the channel the plan was made through: agent (an agent's
-- desk), self_service (the customer's page), ivr (keyed in on a reminder
-- call), import (the history import or an imported plan).
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/origin.sql
--
-- Parameters (psql variables): from, to — dates; plans whose first due date
-- falls in a week starting on or after `from` and before `to`.
--
-- What the figures mean:
-- - plans: plans that became the customer's commitment (activated); one
--   waiting for a second associate, or replaced before it started, is not
--   counted. completed, broken and active are among them.
-- - judged: their installments judged so far (kept + kept_late + partial +
--   missed; waived ones are not due). kept_rate = kept_any / judged.
-- - collection_rate = collected_judged_cents / due_judged_cents: what was paid
--   on the judged installments over what they were due.
-- - completion_rate and broken_rate are shares of `plans`; avg_weekly_share
--   is the mean of weekly amount / balance at the start, over `plans`.
-- - Every rate is shown with the count it is a rate of; money is per currency.
--
-- Columns: origin, channel, currency, plans, completed, broken, active, judged,
-- kept_any, kept_rate, due_judged_cents, collected_judged_cents,
-- collection_rate, completion_rate, broken_rate, avg_weekly_share.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT a.origin, a.channel, a.currency, sum(a.activated) AS plans, sum(a.completed) AS completed, sum(a.broken) AS broken,
       sum(a.active) AS active, sum(a.judged) AS judged, sum(a.kept_any) AS kept_any,
       round(sum(a.kept_any)::numeric / nullif(sum(a.judged), 0), 4) AS kept_rate,
       sum(a.due_judged_cents) AS due_judged_cents, sum(a.collected_judged_cents) AS collected_judged_cents,
       round(sum(a.collected_judged_cents)::numeric / nullif(sum(a.due_judged_cents), 0), 4) AS collection_rate,
       round(sum(a.completed)::numeric / nullif(sum(a.activated), 0), 4) AS completion_rate,
       round(sum(a.broken)::numeric / nullif(sum(a.activated), 0), 4) AS broken_rate,
       round(sum(a.weekly_share_sum) / nullif(sum(a.activated), 0), 4) AS avg_weekly_share
FROM analytics.agg_plan a
WHERE a.start_week >= :'from'::date AND a.start_week < :'to'::date AND analytics.in_scope(a.creditor)
GROUP BY a.origin, a.channel, a.currency
HAVING sum(a.activated) > 0
ORDER BY a.origin, a.channel, a.currency;
