-- Reviews (sql/functions/62_reviews.sql). The write takes the same ($1 key id,
-- $2 actor, $3 request id, $4 path id, $5 the checked JSON body) as negotiation.sql's.

-- name: review_page
-- $1: the viewer's key (team scope, who may read what; the access log), $2, $3: request id and path
-- $4 the route's query parameters as JSON (api/routes.c)
SELECT kept.review_page($1::bigint, $2, $3, $4::jsonb->>'status', $4::jsonb->>'cursor', $4::jsonb->>'limit')

-- name: review_get
-- $2: the viewer's key
SELECT kept.review_get($1::bigint, $2::bigint)

-- name: review_decide
SELECT kept.review_decide(ROW($1::bigint, $2::text, $3::text)::kept.actor,
                          $4::bigint, ($5::jsonb)->>'decision', ($5::jsonb)->>'note')
