-- Writing and verifying the audit log (the table and its chain trigger are
-- in schema/0001_foundation.sql).

-- Appends one audit event in the caller's transaction.
CREATE OR REPLACE FUNCTION kept.audit_write(p_actor_key_id bigint, p_actor text, p_request_id text,
                                            p_action text, p_entity_type text, p_entity_id bigint,
                                            p_before jsonb, p_after jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO kept.audit_events (actor_key_id, actor, request_id, action, entity_type, entity_id,
                                   before, after)
    VALUES (p_actor_key_id, p_actor, p_request_id, p_action, p_entity_type, p_entity_id,
            p_before, p_after);
$$;

-- Walks the whole chain. ok is false when any row's hash does not match its
-- content, a link is broken, a sequence number is missing, or the head does
-- not point at the last row; first_bad_seq names the first bad row (or the
-- head's seq when only the tail was cut).
CREATE OR REPLACE FUNCTION kept.audit_verify(OUT ok boolean, OUT checked bigint, OUT first_bad_seq bigint)
LANGUAGE sql STABLE AS $$
    WITH chain AS (
        SELECT e.*,
               lag(e.hash) OVER (ORDER BY e.chain_seq) AS expected_prev,
               row_number() OVER (ORDER BY e.chain_seq) AS position
        FROM kept.audit_events e
    ), bad AS (
        SELECT min(chain_seq) AS seq
        FROM chain
        WHERE chain_seq <> position
           OR prev_hash <> coalesce(expected_prev, kept.audit_genesis())
           OR hash <> kept.audit_hash(prev_hash, chain_seq, at, actor_key_id, actor, request_id,
                                      action, entity_type, entity_id, before, after)
    ), tail AS (
        SELECT count(*) AS n,
               coalesce(max(chain_seq), 0) AS last_seq,
               (SELECT hash FROM kept.audit_events ORDER BY chain_seq DESC LIMIT 1) AS last_hash
        FROM kept.audit_events
    )
    SELECT bad.seq IS NULL AND h.seq = tail.last_seq
               AND h.hash = coalesce(tail.last_hash, kept.audit_genesis()),
           tail.n,
           coalesce(bad.seq, CASE WHEN h.seq <> tail.last_seq THEN h.seq END)
    FROM bad, tail, kept.audit_chain_head h;
$$;
