-- The figures of two reports computed straight from the operational tables,
-- for the analytics benchmark (tests/bench/run.sh): what finance would run
-- without schema analytics. :'from' and :'to' as in sql/reports/.

-- weekly-adherence
SELECT date_trunc('week', i.due_date)::date AS week, p.currency, count(*) AS installments_due,
       count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')) AS judged,
       count(*) FILTER (WHERE i.outcome = 'kept') AS kept, count(*) FILTER (WHERE i.outcome = 'kept_late') AS kept_late,
       count(*) FILTER (WHERE i.outcome = 'partial') AS partial, count(*) FILTER (WHERE i.outcome = 'missed') AS missed,
       sum(i.amount_due_cents) AS amount_due_cents, sum(i.amount_paid_cents) AS amount_collected_cents
FROM kept.installments i JOIN kept.plans p ON p.id = i.plan_id
WHERE i.due_date >= :'from'::date AND date_trunc('week', i.due_date) < :'to'::date
GROUP BY 1, 2 ORDER BY 1, 2;

-- origin
WITH per_plan AS (
    SELECT p.id, p.origin, p.currency, p.status, p.weekly_amount_cents::numeric / p.balance_at_start_cents AS share,
           count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')) AS judged,
           count(*) FILTER (WHERE i.outcome IN ('kept', 'kept_late')) AS kept_any,
           coalesce(sum(i.amount_due_cents) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0) AS due,
           coalesce(sum(i.amount_paid_cents) FILTER (WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')), 0) AS paid
    FROM kept.plans p JOIN kept.installments i ON i.plan_id = p.id
    WHERE date_trunc('week', p.first_due_date) >= :'from'::date AND date_trunc('week', p.first_due_date) < :'to'::date
    GROUP BY p.id
)
SELECT origin, currency, count(*) AS plans, round(sum(kept_any)::numeric / nullif(sum(judged), 0), 4) AS kept_rate,
       round(sum(paid)::numeric / nullif(sum(due), 0), 4) AS collection_rate,
       round(count(*) FILTER (WHERE status = 'completed')::numeric / count(*), 4) AS completion_rate,
       round(count(*) FILTER (WHERE status = 'broken')::numeric / count(*), 4) AS broken_rate,
       round(avg(share), 4) AS avg_weekly_share
FROM per_plan GROUP BY origin, currency ORDER BY 1, 2;
