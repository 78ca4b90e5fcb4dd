-- Dispatcher benchmark data: :calls bench accounts without calls each get a
-- customer of their own (in :'zone', where it is daytime now) with a number
-- with consent, and a queued pre_due reminder for their last installment,
-- due now. A customer of its own, because kept rings a number at most once a
-- local day whatever the debt (spacing): the bench's ten accounts per
-- customer would otherwise wait for tomorrow. One transaction, so the
-- dispatcher sees all of them at once.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE pick AS
SELECT a.id AS account_id, p.id AS plan_id, p.installment_count AS seq,
       '+1555' || lpad(a.id::text, 7, '0') AS number
FROM kept.accounts a JOIN kept.plans p ON p.account_id = a.id AND p.status = 'active'
WHERE a.external_ref LIKE 'BA-%' AND NOT EXISTS (SELECT 1 FROM kept.calls c WHERE c.account_id = a.id)
ORDER BY a.id LIMIT :calls;
-- customers with their names and numbers sealed under their own data keys,
-- as keptd stores them (the session has the data key: PGOPTIONS, common.sh)
INSERT INTO kept.customers (id, external_ref, name_enc, time_zone, jurisdiction)
OVERRIDING SYSTEM VALUE
SELECT c.id, 'BD-' || c.account_id, kept.pii_seal(c.id, 'Bench Dial ' || c.account_id), :'zone', 'GB'
FROM (SELECT account_id, nextval(pg_get_serial_sequence('kept.customers', 'id')) AS id FROM pick) c;
UPDATE kept.accounts a SET customer_id = c.id
FROM pick JOIN kept.customers c ON c.external_ref = 'BD-' || pick.account_id
WHERE a.id = pick.account_id;
INSERT INTO kept.customer_phones (customer_id, number_enc, number_digest, number_gdigest, position, consent_automated)
SELECT a.customer_id, kept.pii_seal(a.customer_id, pick.number), kept.pii_digest(a.customer_id, pick.number),
       kept.number_gdigest(pick.number), 1, true
FROM pick JOIN kept.accounts a ON a.id = pick.account_id;
INSERT INTO kept.calls (account_id, customer_id, plan_id, seq, purpose, number_enc, number_digest, number_gdigest,
                        scheduled_at)
SELECT pick.account_id, ph.customer_id, pick.plan_id, pick.seq, 'pre_due', ph.number_enc, ph.number_digest,
       ph.number_gdigest, now() - interval '1 minute'
FROM pick JOIN kept.accounts a ON a.id = pick.account_id JOIN kept.customer_phones ph ON ph.customer_id = a.customer_id;
COMMIT;
ANALYZE kept.calls, kept.customers, kept.customer_phones;
