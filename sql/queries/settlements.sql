-- Settlement offers (sql/functions/63_settlements.sql). Writes take ($1 key id,
-- $2 actor, $3 request id, $4 path id, $5 the checked JSON body).

-- name: settlement_offer_create
SELECT kept.settlement_offer_create(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: settlement_accept
SELECT kept.settlement_accept(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: settlement_offer_get
SELECT kept.settlement_json(o, a.currency) FROM kept.settlement_offers o
JOIN kept.accounts a ON a.id = o.account_id WHERE o.id = $1::bigint
