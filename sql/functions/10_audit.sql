-- Writing and verifying the audit log (the table and its triggers are in
-- schema/0001_foundation.sql, 0003_payments.sql and 0016_audit_partitions.sql:
-- partitioned by month of `at`), making its monthly partitions, and
-- detaching old ones for archive with the chain still verifiable.

-- Appends one audit event in the caller's transaction, by p_actor (its key,
-- name and request id go to actor_key_id, actor and request_id). An event about a
-- customer (or their accounts, plans, payments, ...) keeps ids, field names
-- and values, but every personal value — name, reference, number, free
-- text — sealed under that customer's data key (schema/0021_personal_data.sql):
-- readable with kept.pii_open_text while the customer is kept, unreadable for
-- good once they are erased, and the hash chain covers what is stored, so it
-- verifies before and after an erasure.
DROP FUNCTION IF EXISTS kept.audit_write(bigint, text, text, text, text, bigint, jsonb, jsonb);
CREATE OR REPLACE FUNCTION kept.audit_write(p_actor kept.actor, p_action text, p_entity_type text, p_entity_id bigint,
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
    VALUES ((p_actor).key_id, (p_actor).name, (p_actor).request_id, p_action, p_entity_type, p_entity_id,
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
        -- `at` picks the partition; id alone would probe every partition's key
        UPDATE kept.audit_events SET chain_seq = v_seq, prev_hash = v_prev, hash = v_hash
        WHERE id = e.id AND at = e.at;
        v_n := v_n + 1;
    END LOOP;
    IF v_n > 0 THEN
        UPDATE kept.audit_chain_head SET seq = v_seq, hash = v_hash;
    END IF;
    RETURN v_n;
END $$;

-- Walks the sealed chain. ok is false when any sealed event's hash does not
-- match its content, a link is broken, a sequence number is missing or held
-- twice, or the head does not point at the last sealed event; first_bad_seq
-- names the first bad event (or the head's seq when only the tail was cut).
-- unsealed counts events not chained yet.
--
-- Events in partitions detached for archive (kept.audit_archives) are not
-- read: an event whose predecessor was archived links to the hash recorded
-- for it, and the positions the archives hold count as present (each
-- archive is checked on its own by kept.audit_verify_archive).
CREATE OR REPLACE FUNCTION kept.audit_verify(OUT ok boolean, OUT checked bigint, OUT first_bad_seq bigint,
                                             OUT unsealed bigint)
LANGUAGE sql STABLE AS $$
    WITH archived AS (
        SELECT coalesce(range_agg(a.seqs), '{}'::int8multirange) AS seqs, coalesce(sum(a.events), 0) AS events
        FROM kept.audit_archives a
    ), tails AS (
        SELECT t.key::bigint AS seq, decode(t.value, 'hex') AS hash
        FROM kept.audit_archives a CROSS JOIN LATERAL jsonb_each_text(a.tail_hashes) t
    ), chain AS (
        SELECT e.*,
               lag(e.hash) OVER (ORDER BY e.chain_seq) AS prev_live,
               lag(e.chain_seq) OVER (ORDER BY e.chain_seq) AS prev_seq
        FROM kept.audit_events e WHERE e.chain_seq IS NOT NULL
    ), bad AS (
        SELECT min(c.chain_seq) AS seq
        FROM chain c, archived
        WHERE c.chain_seq = c.prev_seq
           OR c.chain_seq < 1
           OR archived.seqs @> c.chain_seq
           OR c.prev_hash IS DISTINCT FROM
              CASE WHEN c.prev_seq = c.chain_seq - 1 THEN c.prev_live
                   WHEN c.chain_seq = 1 THEN kept.audit_genesis()
                   ELSE (SELECT t.hash FROM tails t WHERE t.seq = c.chain_seq - 1) END
           OR c.hash <> kept.audit_hash(c.prev_hash, c.chain_seq, c.at, c.actor_key_id, c.actor, c.request_id,
                                        c.action, c.entity_type, c.entity_id, c.before, c.after)
    ), tail AS (
        SELECT count(*) AS n, coalesce(max(chain_seq), 0) AS last_seq
        FROM kept.audit_events WHERE chain_seq IS NOT NULL
    ), head_hash AS (
        SELECT coalesce((SELECT e.hash FROM kept.audit_events e, kept.audit_chain_head h
                         WHERE e.chain_seq = h.seq LIMIT 1),
                        (SELECT t.hash FROM tails t, kept.audit_chain_head h WHERE t.seq = h.seq),
                        kept.audit_genesis()) AS hash
    )
    SELECT bad.seq IS NULL AND h.seq = tail.n + archived.events AND tail.last_seq <= h.seq
               AND h.hash = head_hash.hash,
           tail.n,
           coalesce(bad.seq, CASE WHEN h.seq <> tail.n + archived.events OR tail.last_seq > h.seq
                                       OR h.hash <> head_hash.hash THEN h.seq END),
           (SELECT count(*) FROM kept.audit_events WHERE chain_seq IS NULL)
    FROM bad, tail, archived, head_hash, kept.audit_chain_head h;
$$;

-- The first instant of the UTC month `p_months` after the one `t` is in.
CREATE OR REPLACE FUNCTION kept.audit_month(t timestamptz, p_months integer DEFAULT 0) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (date_trunc('month', t AT TIME ZONE 'UTC') + make_interval(months => p_months)) AT TIME ZONE 'UTC';

-- Makes the monthly partitions from the last one there is up to and
-- including the month p_ahead months after this one; answers how many it
-- made. A month some events in the default partition fall in is left to
-- them (a partition cannot be made over rows already held elsewhere) and
-- said in a warning. Each partition gets what a partitioned table cannot
-- give it: its primary key, its unique chain positions, its TRUNCATE guard.
CREATE OR REPLACE FUNCTION kept.audit_partitions_ensure(p_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz := (SELECT max(range_to) FROM kept.audit_partitions);
    v_to timestamptz;
    v_name text;
    v_made integer := 0;
BEGIN
    WHILE v_from < kept.audit_month(now(), p_ahead + 1) LOOP
        v_to := kept.audit_month(v_from, 1);
        v_name := 'audit_events_' || to_char(v_from AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
        IF EXISTS (SELECT 1 FROM kept.audit_events_default WHERE at >= v_from AND at < v_to) THEN
            RAISE WARNING 'audit events of % are in the default partition; no partition made for that month', v_name;
        ELSE
            EXECUTE format('CREATE TABLE kept.%I PARTITION OF kept.audit_events FOR VALUES FROM (%L) TO (%L)',
                           v_name, v_from, v_to);
            EXECUTE format('ALTER TABLE kept.%I ADD PRIMARY KEY (id)', v_name);
            EXECUTE format('CREATE UNIQUE INDEX %I ON kept.%I (chain_seq)', v_name || '_chain_seq_key', v_name);
            EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON kept.%I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION kept.audit_append_only()', v_name);
            v_made := v_made + 1;
        END IF;
        INSERT INTO kept.audit_partitions VALUES (v_name, v_from, v_to);
        v_from := v_to;
    END LOOP;
    RETURN v_made;
END $$;

-- What an archive record says of partition p: its positions, the hashes the
-- events after its gaps link to, and a digest of all its hashes.
CREATE OR REPLACE FUNCTION kept.audit_archive_record(p regclass, OUT events bigint, OUT seqs int8multirange,
                                                     OUT tail_hashes jsonb, OUT digest bytea)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    EXECUTE format($q$
        SELECT count(*), coalesce(range_agg(int8range(chain_seq, chain_seq + 1)), '{}'::int8multirange),
               coalesce(jsonb_object_agg(chain_seq::text, encode(hash, 'hex'))
                        FILTER (WHERE NOT EXISTS (SELECT 1 FROM %1$s n WHERE n.chain_seq = e.chain_seq + 1)), '{}'),
               sha256(coalesce(string_agg(hash, ''::bytea ORDER BY chain_seq), ''::bytea))
        FROM %1$s e$q$, p) INTO events, seqs, tail_hashes, digest;
END $$;

-- Detaches, oldest first, every monthly partition that ends before
-- p_before and whose events are all sealed, into schema kept_archive, and
-- records each in kept.audit_archives (keptd refuses a p_before inside the
-- retention, KEPT_AUDIT_RETENTION_MONTHS). Answers the tables detached.
-- Dump and drop them as the archive policy says; the live chain verifies
-- without them. DETACH waits at most lock_timeout for the table.
CREATE OR REPLACE FUNCTION kept.audit_archive(p_before timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part kept.audit_partitions;
    rec record;
BEGIN
    PERFORM set_config('lock_timeout', '5s', true);
    FOR part IN SELECT * FROM kept.audit_partitions WHERE range_to <= p_before ORDER BY range_to LOOP
        IF to_regclass('kept.' || quote_ident(part.name)) IS NULL THEN
            CONTINUE; -- never made (its month was in the default partition)
        END IF;
        EXECUTE format('SELECT count(*) FROM kept.%I WHERE chain_seq IS NULL', part.name) INTO rec;
        IF rec.count > 0 THEN
            PERFORM kept.fail('conflict', 'audit_unsealed', '',
                              format('partition %s still has %s unsealed events', part.name, rec.count));
        END IF;
        SELECT * INTO rec FROM kept.audit_archive_record(('kept.' || quote_ident(part.name))::regclass);
        INSERT INTO kept.audit_archives (name, range_from, range_to, events, seqs, tail_hashes, digest)
        VALUES (part.name, part.range_from, part.range_to, rec.events, rec.seqs, rec.tail_hashes, rec.digest);
        EXECUTE format('ALTER TABLE kept.audit_events DETACH PARTITION kept.%I', part.name);
        EXECUTE format('ALTER TABLE kept.%I SET SCHEMA kept_archive', part.name);
        DELETE FROM kept.audit_partitions WHERE name = part.name;
        RETURN NEXT 'kept_archive.' || part.name;
    END LOOP;
END $$;

-- Checks one detached partition on its own: every event's hash matches its
-- content, consecutive positions link, and what it holds is what was
-- recorded when it was detached (positions, hashes at its gaps, digest).
-- An event whose predecessor is elsewhere links to that predecessor's hash
-- as the live table or another archive's record has it.
CREATE OR REPLACE FUNCTION kept.audit_verify_archive(p regclass) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a kept.audit_archives;
    rec record;
    v_bad bigint;
BEGIN
    SELECT * INTO a FROM kept.audit_archives WHERE name = (SELECT relname FROM pg_class WHERE oid = p);
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO rec FROM kept.audit_archive_record(p);
    IF (rec.events, rec.seqs, rec.tail_hashes, rec.digest) IS DISTINCT FROM (a.events, a.seqs, a.tail_hashes, a.digest) THEN
        RETURN false;
    END IF;
    EXECUTE format($q$
        SELECT count(*) FROM (
            SELECT e.*, lag(e.hash) OVER (ORDER BY e.chain_seq) AS prev_here,
                   lag(e.chain_seq) OVER (ORDER BY e.chain_seq) AS prev_seq
            FROM %s e) c
        WHERE c.hash <> kept.audit_hash(c.prev_hash, c.chain_seq, c.at, c.actor_key_id, c.actor, c.request_id,
                                        c.action, c.entity_type, c.entity_id, c.before, c.after)
           OR c.prev_hash IS DISTINCT FROM
              CASE WHEN c.prev_seq = c.chain_seq - 1 THEN c.prev_here
                   WHEN c.chain_seq = 1 THEN kept.audit_genesis()
                   ELSE coalesce((SELECT l.hash FROM kept.audit_events l WHERE l.chain_seq = c.chain_seq - 1),
                                 (SELECT decode(o.tail_hashes->>((c.chain_seq - 1)::text), 'hex')
                                  FROM kept.audit_archives o WHERE o.tail_hashes ? ((c.chain_seq - 1)::text))) END
    $q$, p) INTO v_bad;
    RETURN v_bad = 0;
END $$;

-- The coming months' partitions exist from the first migrate on (keptd's
-- maintenance worker keeps making them).
SELECT kept.audit_partitions_ensure();
