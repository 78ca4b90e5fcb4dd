-- weekly-adherence: per due week, how the installments due that week went.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/weekly-adherence.sql
--
-- Parameters (psql variables): from, to — dates; the weeks (Monday to
-- Sunday) that start on or after `from` and before `to`.
-- Columns: week (its Monday), currency, installments_due, judged (kept +
-- kept_late + partial + missed so far), kept, kept_late, partial, missed,
-- kept_rate = (kept + kept_late) / judged, amount_due_cents,
-- amount_collected_cents (paid against those installments, late or not),
-- collection_rate = collected / due. One row per week and currency.
SELECT w.due_week AS week, w.currency,
       sum(w.installments) AS installments_due, sum(w.judged) AS judged, sum(w.kept) AS kept,
       sum(w.kept_late) AS kept_late, sum(w.partial) AS partial, sum(w.missed) AS missed,
       round(sum(w.kept + w.kept_late)::numeric / nullif(sum(w.judged), 0), 4) AS kept_rate,
       sum(w.due_cents) AS amount_due_cents, sum(w.collected_cents) AS amount_collected_cents,
       round(sum(w.collected_cents)::numeric / nullif(sum(w.due_cents), 0), 4) AS collection_rate
FROM analytics.agg_week w
WHERE w.due_week >= :'from'::date AND w.due_week < :'to'::date
GROUP BY w.due_week, w.currency
ORDER BY w.due_week, w.currency;
