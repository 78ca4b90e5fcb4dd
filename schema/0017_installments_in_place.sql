-- 0017: money reaching an installment or a balance updates the row in place.
--
-- An UPDATE can stay on its page without touching any index (a HOT update)
-- only when no indexed column changes — a partial index's predicate counts —
-- and the page has room. installments_unpaid_idx was defined on
-- amount_paid_cents < amount_due_cents, so every allocation wrote a new
-- entry into each of the installments' indexes; the oldest unpaid
-- installments of a plan are found through its primary key (plan_id, seq)
-- instead (a plan has at most 520, stored together). Installments and
-- accounts keep a tenth of each page free for their updates from now on
-- (pages already full are left as they are: no rewrite).
DROP INDEX kept.installments_unpaid_idx;
ALTER TABLE kept.installments SET (fillfactor = 90);
ALTER TABLE kept.accounts SET (fillfactor = 90);
