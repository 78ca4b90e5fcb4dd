-- Escalations: the triage queue (sql/functions/72_escalations.sql).

-- name: escalation_open
SELECT kept.escalation_open(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::jsonb)

-- name: escalation_get
SELECT kept.escalation_json(e) FROM kept.escalations e WHERE e.id = $1::bigint

-- name: escalation_page
-- $1-$3 the viewer: key, request id, path; $4 the route's query parameters as JSON (api/routes.c)
SELECT kept.escalation_page($1::bigint, $2, $3, $4::jsonb->>'status', $4::jsonb->>'reason', $4::jsonb->>'team',
                            $4::jsonb->>'assigned_to', $4::jsonb->>'account_id', $4::jsonb->>'overdue',
                            $4::jsonb->>'cursor', $4::jsonb->>'limit')

-- name: escalation_assign
SELECT kept.escalation_assign(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)

-- name: escalation_resolve
SELECT kept.escalation_resolve(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint, $5::jsonb)
