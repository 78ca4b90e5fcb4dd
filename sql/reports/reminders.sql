-- reminders: are installments with a reminder call kept more often?
--
--   psql -v from=2026-01-05 -v to=2027-01-04 -f sql/reports/reminders.sql
--
-- Parameters (psql variables): from, to — due dates from (inclusive) to (exclusive).
-- Columns: reminder (none, pre_due, missed or missed+pre_due: the calls that
-- reached the provider for the installment), judged, kept, kept_late,
-- partial, missed, kept_rate = (kept + kept_late) / judged.
--
-- Scope: the rows of the creditors keptd sets in kept.report_creditors (a
-- finance user's team's); unset, as with psql, every creditor.
SELECT CASE WHEN i.reminded THEN array_to_string(i.reminder_purposes, '+') ELSE 'none' END AS reminder,
       count(*) AS judged, count(*) FILTER (WHERE i.outcome = 'kept') AS kept,
       count(*) FILTER (WHERE i.outcome = 'kept_late') AS kept_late,
       count(*) FILTER (WHERE i.outcome = 'partial') AS partial,
       count(*) FILTER (WHERE i.outcome = 'missed') AS missed,
       round(count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late'))::numeric / count(*), 4) AS kept_rate
FROM analytics.fact_installment i
WHERE i.due_date >= :'from'::date AND i.due_date < :'to'::date
  AND i.outcome IN ('kept', 'kept_late', 'partial', 'missed') AND analytics.in_scope(i.creditor)
GROUP BY 1
ORDER BY 1;
