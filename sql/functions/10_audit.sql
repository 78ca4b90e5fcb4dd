-- Writing and verifying the audit log (the table and its chain trigger are
-- in schema/0001_foundation.sql).

-- Appends one audit event in the caller's transaction. An event about a
-- customer (or their accounts, plans, payments, ...) keeps ids, field names
-- and values, but every personal value — name, reference, number, free
-- text — sealed under that customer's data key (schema/0021_personal_data.sql):
-- readable with kept.pii_open_text while the customer is kept, unreadable for
-- good once they are erased, and the hash chain covers what is stored, so it
-- verifies before and after an erasure.
CREATE OR REPLACE FUNCTION kept.audit_write(p_actor_key_id bigint, p_actor text, p_request_id text,
                                            p_action text, p_entity_type text, p_entity_id bigint,
                                            p_before jsonb, p_after jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_customer bigint;
BEGIN
    IF kept.audit_has_pii(p_before) OR kept.audit_has_pii(p_after) THEN
        v_customer := kept.audit_customer(p_entity_type, p_entity_id);
        IF v_customer IS NOT NULL THEN
            p_before := kept.pii_seal_json(v_customer, p_before);
            p_after := kept.pii_seal_json(v_customer, p_after);
        END IF;
    END IF;
    INSERT INTO kept.audit_events (actor_key_id, actor, request_id, action, entity_type, entity_id,
                                   before, after)
    VALUES (p_actor_key_id, p_actor, p_request_id, p_action, p_entity_type, p_entity_id,
            p_before, p_after);
END $$;

-- Whether a document may hold a personal value: a member of
-- kept.pii_members() with a string value, at any depth (a cheap test on its
-- text, before the real work; a false alarm only costs that work).
CREATE OR REPLACE FUNCTION kept.audit_has_pii(j jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN j IS NOT NULL AND j::text ~ ('"(' || array_to_string(kept.pii_members(), '|') || ')": "');

-- Chains committed, unsealed events after the head, oldest id first, at
-- most p_limit of them; returns how many. Holding the head row makes
-- concurrent sealers take turns. Events of transactions still running are
-- invisible here and are sealed by a later call, so the chain's order
-- (chain_seq) is the order events were sealed, not their ids.
CREATE OR REPLACE FUNCTION kept.audit_seal(p_limit integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_hash bytea;
    v_prev bytea;
    v_n integer := 0;
    e kept.audit_events;
BEGIN
    SELECT seq, hash INTO v_seq, v_hash FROM kept.audit_chain_head FOR UPDATE;
    FOR e IN SELECT * FROM kept.audit_events WHERE chain_seq IS NULL ORDER BY id LIMIT p_limit LOOP
        v_seq := v_seq + 1;
        v_prev := v_hash;
        v_hash := kept.audit_hash(v_prev, v_seq, e.at, e.actor_key_id, e.actor, e.request_id, e.action,
                                  e.entity_type, e.entity_id, e.before, e.after);
        UPDATE kept.audit_events SET chain_seq = v_seq, prev_hash = v_prev, hash = v_hash WHERE id = e.id;
        v_n := v_n + 1;
    END LOOP;
    IF v_n > 0 THEN
        UPDATE kept.audit_chain_head SET seq = v_seq, hash = v_hash;
    END IF;
    RETURN v_n;
END $$;

-- Walks the sealed chain. ok is false when any sealed event's hash does not
-- match its content, a link is broken, a sequence number is missing, or the
-- head does not point at the last sealed event; first_bad_seq names the first
-- bad event (or the head's seq when only the tail was cut). unsealed counts
-- events not chained yet.
CREATE OR REPLACE FUNCTION kept.audit_verify(OUT ok boolean, OUT checked bigint, OUT first_bad_seq bigint,
                                             OUT unsealed bigint)
LANGUAGE sql STABLE AS $$
    WITH chain AS (
        SELECT e.*,
               lag(e.hash) OVER (ORDER BY e.chain_seq) AS expected_prev,
               row_number() OVER (ORDER BY e.chain_seq) AS position
        FROM kept.audit_events e WHERE e.chain_seq IS NOT NULL
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
               (SELECT hash FROM kept.audit_events WHERE chain_seq IS NOT NULL
                ORDER BY chain_seq DESC LIMIT 1) AS last_hash
        FROM kept.audit_events WHERE chain_seq IS NOT NULL
    )
    SELECT bad.seq IS NULL AND h.seq = tail.last_seq
               AND h.hash = coalesce(tail.last_hash, kept.audit_genesis()),
           tail.n,
           coalesce(bad.seq, CASE WHEN h.seq <> tail.last_seq THEN h.seq END),
           (SELECT count(*) FROM kept.audit_events WHERE chain_seq IS NULL)
    FROM bad, tail, kept.audit_chain_head h;
$$;
