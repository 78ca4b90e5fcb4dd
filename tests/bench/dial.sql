-- Dispatcher benchmark data: :calls bench accounts without calls get a
-- number with consent (in :'zone', where it is daytime now) and a queued
-- pre_due reminder for their last installment, due now. One transaction, so
-- the dispatcher sees all of them at once.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE pick AS
SELECT a.id AS account_id, a.customer_id, p.id AS plan_id, p.installment_count AS seq
FROM kept.accounts a JOIN kept.plans p ON p.account_id = a.id AND p.status = 'active'
WHERE a.external_ref LIKE 'BA-%' AND NOT EXISTS (SELECT 1 FROM kept.calls c WHERE c.account_id = a.id)
ORDER BY a.id LIMIT :calls;
UPDATE kept.customers SET time_zone = :'zone' WHERE id IN (SELECT customer_id FROM pick) AND time_zone <> :'zone';
INSERT INTO kept.customer_phones (customer_id, number, position, consent_automated)
SELECT DISTINCT customer_id, '+1555' || lpad(customer_id::text, 7, '0'), 1, true FROM pick
ON CONFLICT DO NOTHING;
INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number, scheduled_at)
SELECT account_id, customer_id, plan_id, seq, 'pre_due', '+1555' || lpad(customer_id::text, 7, '0'),
       now() - interval '1 minute'
FROM pick;
COMMIT;
ANALYZE kept.calls;
