-- 0032 the actor of a write as one value.
--
-- Every function that writes takes who acts as its first argument, one
-- kept.actor, instead of three arguments in a row: the API key that acted
-- (NULL for keptd itself, the command line and the customer acting
-- without a key), the name the audit log gives them, and the request it came
-- in on (NULL outside a request). kept.audit_write stores the three parts in
-- kept.audit_events' actor_key_id, actor and request_id. A named query builds
-- it from its first three parameters: ROW($1::bigint, $2::text, $3::text)::kept.actor.
CREATE TYPE kept.actor AS (
    key_id     bigint,
    name       text,
    request_id text
);
