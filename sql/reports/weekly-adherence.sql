-- weekly-adherence: per due week and currency, how the installments due that week went.
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/weekly-adherence.sql
--
-- Parameters (psql variables): from, to — dates; the weeks (Monday to
-- Sunday) that start on or after `from` and before `to`.
--
-- What the figures mean:
-- - An installment is due in the week of its due date (the customer's own
--   calendar). Waived installments (what a plan still had scheduled when it
--   was renegotiated, cancelled, broken or paid off early) are not due: they
--   are counted in `waived` and in no other figure.
-- - judged = kept + kept_late + partial + missed; scheduled = due but not
--   judged yet (its day, or its grace period, has not ended).
-- - kept_rate = (kept + kept_late) / judged; collection_rate = what was paid
--   on the judged installments (late or not) / what they were due. Both count
--   only judged installments, so a week that has not come shows no rate (not
--   0%), and each is shown beside the count it is a rate of.
-- - week_state: past (ended before today), current (today, in UTC, is in it:
--   its figures are partial) or future.
-- - Money is per currency: one row per week and currency, never a sum across them.
--
-- Columns: week (its Monday), currency, week_state, installments_due, waived,
-- scheduled, judged, kept, kept_late, partial, missed, kept_rate,
-- amount_due_cents and amount_collected_cents (all installments due),
-- amount_due_judged_cents, amount_collected_judged_cents, collection_rate.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT w.due_week AS week, w.currency,
       CASE WHEN w.due_week + 7 <= (now() AT TIME ZONE 'UTC')::date THEN 'past'
            WHEN w.due_week <= (now() AT TIME ZONE 'UTC')::date THEN 'current' ELSE 'future' END AS week_state,
       sum(w.installments) AS installments_due, sum(w.waived) AS waived, sum(w.scheduled) AS scheduled,
       sum(w.judged) AS judged, sum(w.kept) AS kept, sum(w.kept_late) AS kept_late, sum(w.partial) AS partial,
       sum(w.missed) AS missed,
       round(sum(w.kept + w.kept_late)::numeric / nullif(sum(w.judged), 0), 4) AS kept_rate,
       sum(w.due_cents) AS amount_due_cents, sum(w.collected_cents) AS amount_collected_cents,
       sum(w.due_judged_cents) AS amount_due_judged_cents,
       sum(w.collected_judged_cents) AS amount_collected_judged_cents,
       round(sum(w.collected_judged_cents)::numeric / nullif(sum(w.due_judged_cents), 0), 4) AS collection_rate
FROM analytics.agg_week w
WHERE w.due_week >= :'from'::date AND w.due_week < :'to'::date AND analytics.in_scope(w.creditor)
GROUP BY w.due_week, w.currency
ORDER BY w.due_week, w.currency;
