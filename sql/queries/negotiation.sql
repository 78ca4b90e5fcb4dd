-- Negotiation. Writes take ($1 key id, $2 actor, $3 request id, $4 path id,
-- $5 the checked JSON body), so one handler shape (api_write) serves them all.

-- name: policy_list
SELECT kept.policy_list()

-- name: policy_create
SELECT kept.policy_create($1::bigint, $2, $3, $4::jsonb)

-- name: policy_replace
SELECT kept.policy_replace($1::bigint, $2, $3, $4::bigint, $5::integer, $6::jsonb)

-- name: affordability_record
SELECT kept.affordability_record($1::bigint, $2, $3, $4::bigint, $5::jsonb)

-- name: affordability_latest
SELECT kept.affordability_latest($1::bigint)

-- name: proposal_create
SELECT kept.proposal_create($1::bigint, $2, $3, $4::bigint, $5::jsonb)

-- name: plan_create
SELECT kept.plan_create($1::bigint, $2, $3, $4::bigint, $5::jsonb)

-- name: plan_get
SELECT kept.plan_json(p) FROM kept.plans p WHERE p.id = $1::bigint

-- name: plans_of_account
SELECT kept.plans_of_account($1::bigint)

-- name: plan_approve
SELECT kept.plan_approve($1::bigint, $2, $3, $4::bigint, ($5::jsonb)->>'note')

-- name: plan_cancel
SELECT kept.plan_cancel($1::bigint, $2, $3, $4::bigint, ($5::jsonb)->>'reason')

-- name: review_page
-- $1: the viewer's key (team scope, who may read what; the access log), $2, $3: request id and path
SELECT kept.review_page($1::bigint, $2, $3, $4, $5, $6)

-- name: review_get
-- $2: the viewer's key
SELECT kept.review_get($1::bigint, $2::bigint)

-- name: review_decide
SELECT kept.review_decide($1::bigint, $2, $3, $4::bigint, ($5::jsonb)->>'decision', ($5::jsonb)->>'note')

-- name: settlement_offer_create
SELECT kept.settlement_offer_create($1::bigint, $2, $3, $4::bigint, $5::jsonb)

-- name: settlement_accept
SELECT kept.settlement_accept($1::bigint, $2, $3, $4::bigint, $5::jsonb)

-- name: settlement_offer_get
SELECT kept.settlement_json(o, a.currency) FROM kept.settlement_offers o
JOIN kept.accounts a ON a.id = o.account_id WHERE o.id = $1::bigint
