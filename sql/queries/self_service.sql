-- The customer's self-service page and the links agents make
-- (sql/functions/86_self_service.sql). Hashes and sealed texts travel as hex.

-- name: self_service_link_create
-- $4 account id, $5 the token's SHA-256, $6 the checked JSON body
SELECT kept.self_service_link_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5, $6::jsonb)

-- name: self_service_links_of_account
SELECT kept.self_service_links_of_account($1::bigint)

-- name: self_service_link_revoke
SELECT kept.self_service_link_revoke(ROW($1::bigint, $2::text, $3::text)::kept.actor,
                                     $4::bigint, ($5::jsonb)->>'reason')

-- name: page_view
-- $1 token hash, $2 session hash (or NULL), $3 the address's HMAC, $4 request id
SELECT kept.page_view($1, $2, $3, $4)

-- name: page_verify
-- ... $2 the new session's hash, $5 date of birth, $6 postcode, as typed
SELECT kept.page_verify($1, $2, $3, $4, $5, $6)

-- name: page_verify_code
-- ... $2 the new session's hash, $5 the code's HMAC
SELECT kept.page_verify_code($1, $2, $3, $4, $5)

-- name: page_code_send
-- $1 token hash, $2 address, $3 request id, $4 the code's HMAC, $5 language, $6 body (no code), $7 sealed text
SELECT kept.page_code_send($1, $2, $3, $4, $5, $6, $7)

-- name: page_signout
SELECT kept.page_signout($1, $2, $3)

-- name: page_propose
-- $1 token hash, $2 session hash, $3 address, $4 request id, $5 the form as JSON
SELECT kept.page_propose($1, $2, $3, $4, $5::jsonb)

-- name: page_plan
SELECT kept.page_plan($1, $2, $3, $4, $5::jsonb)

-- name: page_budget
SELECT kept.page_budget($1, $2, $3, $4, $5::jsonb)

-- name: page_offer
SELECT kept.page_offer($1, $2, $3, $4, $5::jsonb)

-- name: page_settle
SELECT kept.page_settle($1, $2, $3, $4, $5::jsonb)
