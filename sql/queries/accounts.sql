-- Accounts. $1-$3 of writes are the actor, as for customers.

-- name: account_create
SELECT kept.account_create($1::bigint, $2, $3, $4::jsonb)

-- name: account_get
SELECT kept.account_json(a) FROM kept.accounts a WHERE a.id = $1::bigint

-- name: account_page
SELECT kept.account_page($1, $2, $3, $4)

-- name: account_overview
SELECT kept.account_overview($1::bigint)
