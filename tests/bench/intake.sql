-- pgbench: the transaction keptd runs for POST /v1/payments, as keptd runs
-- it (two statements, prepared, autocommit): authenticate the key, then post
-- the payment with a new idempotency key and source_ref, sequential per
-- client as wrk's are per thread (run.sh sets run and n). The body is JSON
-- text cast to jsonb, as keptd passes it.
\set account random(:first, :last)
\set n :n + 1
SELECT key_id, user_id, user_name, team, roles, state FROM kept.api_key_authenticate(:key_hash::text);
SELECT kept.payment_post(ROW(:key_id::bigint, 'bench', 'pgbench')::kept.actor,
                         format('{"account_id":%s,"amount_cents":100,"received_at":"%s","source":"bench","source_ref":"%s"}',
                                :account::bigint, :received_at::text, ref)::jsonb,
                         ref)
FROM (SELECT 'pgb-' || :run::text || '-' || :client_id::text || '-' || :n::text AS ref) k;
