-- Escalations: the triage queue (sql/functions/72_escalations.sql).

-- name: escalation_open
SELECT kept.escalation_open(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: escalation_get
SELECT kept.escalation_json(e) FROM kept.escalations e WHERE e.id = $1::bigint

-- name: escalation_page
SELECT kept.escalation_page($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)

-- name: escalation_assign
SELECT kept.escalation_assign(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: escalation_resolve
SELECT kept.escalation_resolve(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)
