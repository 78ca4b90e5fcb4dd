-- Negotiation. Writes take ($1 key id, $2 actor, $3 request id, $4 path id,
-- $5 the checked JSON body), so one handler shape (api_write) serves them all.

-- name: policy_list
SELECT kept.policy_list()

-- name: policy_create
SELECT kept.policy_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: policy_replace
SELECT kept.policy_replace(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::integer, $6::jsonb)

-- name: affordability_record
SELECT kept.affordability_record(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: affordability_latest
SELECT kept.affordability_latest($1::bigint)

-- name: proposal_create
SELECT kept.proposal_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: plan_create
SELECT kept.plan_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: plan_get
SELECT kept.plan_json(p) FROM kept.plans p WHERE p.id = $1::bigint

-- name: plans_of_account
SELECT kept.plans_of_account($1::bigint)

-- name: plan_approve
SELECT kept.plan_approve(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, ($5::jsonb)->>'note')

-- name: plan_cancel
SELECT kept.plan_cancel(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, ($5::jsonb)->>'reason')
