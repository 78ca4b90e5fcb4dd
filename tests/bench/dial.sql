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
-- numbers sealed under each customer's data key, as keptd stores them
INSERT INTO kept.customer_phones (customer_id, number_enc, number_digest, position, consent_automated)
SELECT customer_id, kept.pii_seal(customer_id, n), kept.pii_digest(customer_id, n), 1, true
FROM (SELECT DISTINCT customer_id, '+1555' || lpad(customer_id::text, 7, '0') AS n FROM pick) x
ON CONFLICT DO NOTHING;
INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, scheduled_at)
SELECT p.account_id, p.customer_id, p.plan_id, p.seq, 'pre_due', ph.number_enc, ph.number_digest,
       now() - interval '1 minute'
FROM pick p JOIN kept.customer_phones ph ON ph.customer_id = p.customer_id;
COMMIT;
ANALYZE kept.calls;
