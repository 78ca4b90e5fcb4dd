-- 0016: the audit log partitioned by month of `at`, online.
--
-- The table as it is becomes the first partition (kept.audit_events_legacy,
-- from the beginning to the bound 0015 set, the start of the month after the
-- migration), so no row is copied: validating that bound reads the table
-- under a lock that lets writers go on; from the rename on, writers wait only
-- for catalog changes. Its indexes are attached to the new table's as they
-- are (no index is built). Monthly partitions after it are made ahead of
-- time by kept.audit_partitions_ensure (keptd's maintenance worker); a
-- default partition catches what none holds, so that no change is ever
-- refused for want of a partition.
--
-- A partitioned table's unique keys must contain the partition key, so id
-- and chain_seq are unique per partition (primary key and unique index of
-- each); across partitions id comes from one identity and chain_seq from the
-- one sealer holding the chain head, and kept.audit_verify checks both.
-- Old partitions can be detached into schema kept_archive
-- (kept.audit_archive), each recorded in kept.audit_archives with what the
-- chain needs to be verified across the cut.
ALTER TABLE kept.audit_events VALIDATE CONSTRAINT audit_events_legacy_bound;

ALTER TABLE kept.audit_events RENAME TO audit_events_legacy;
ALTER TABLE kept.audit_events_legacy RENAME CONSTRAINT audit_events_pkey TO audit_events_legacy_pkey;
ALTER INDEX kept.audit_events_entity_idx RENAME TO audit_events_legacy_entity_idx;
ALTER INDEX kept.audit_events_unsealed_idx RENAME TO audit_events_legacy_unsealed_idx;
-- its own row triggers give way to the ones every partition gets from the parent
DROP TRIGGER audit_events_stamp ON kept.audit_events_legacy;
DROP TRIGGER audit_events_no_update ON kept.audit_events_legacy;
DROP TRIGGER audit_events_no_delete ON kept.audit_events_legacy;

CREATE TABLE kept.audit_events (
    id           bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    chain_seq    bigint,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id bigint,
    actor        text NOT NULL,
    request_id   text,
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    bigint,
    before       jsonb,
    after        jsonb,
    prev_hash    bytea,
    hash         bytea
) PARTITION BY RANGE (at);
SELECT setval(pg_get_serial_sequence('kept.audit_events', 'id'),
              coalesce(pg_sequence_last_value(pg_get_serial_sequence('kept.audit_events_legacy', 'id')::regclass), 0) + 1,
              false);
ALTER TABLE kept.audit_events_legacy ALTER COLUMN id DROP IDENTITY;

DO $$
BEGIN
    EXECUTE format('ALTER TABLE kept.audit_events ATTACH PARTITION kept.audit_events_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
                   (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');
END $$;
ALTER TABLE kept.audit_events_legacy DROP CONSTRAINT audit_events_legacy_bound;

CREATE INDEX audit_events_entity_idx ON ONLY kept.audit_events (entity_type, entity_id, chain_seq);
ALTER INDEX kept.audit_events_entity_idx ATTACH PARTITION kept.audit_events_legacy_entity_idx;
CREATE INDEX audit_events_unsealed_idx ON ONLY kept.audit_events (id) WHERE chain_seq IS NULL;
ALTER INDEX kept.audit_events_unsealed_idx ATTACH PARTITION kept.audit_events_legacy_unsealed_idx;

CREATE TRIGGER audit_events_stamp BEFORE INSERT ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_stamp();
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_guard();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON kept.audit_events
    FOR EACH ROW EXECUTE FUNCTION kept.audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON kept.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION kept.audit_append_only();

-- The months the partitions cover (the legacy one from -infinity).
CREATE TABLE kept.audit_partitions (
    name       text PRIMARY KEY,
    range_from timestamptz NOT NULL,
    range_to   timestamptz NOT NULL UNIQUE
);
INSERT INTO kept.audit_partitions
VALUES ('audit_events_legacy', '-infinity',
        (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');

CREATE TABLE kept.audit_events_default PARTITION OF kept.audit_events DEFAULT;
ALTER TABLE kept.audit_events_default ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX audit_events_default_chain_seq_key ON kept.audit_events_default (chain_seq);
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON kept.audit_events_default
    FOR EACH STATEMENT EXECUTE FUNCTION kept.audit_append_only();

-- Partitions detached for archive: where they went and what the chain needs
-- from them to be verified without them (sql/functions/10_audit.sql).
CREATE SCHEMA IF NOT EXISTS kept_archive;
CREATE TABLE kept.audit_archives (
    name        text PRIMARY KEY,         -- kept_archive.<name> until it is dumped and dropped
    range_from  timestamptz NOT NULL,
    range_to    timestamptz NOT NULL,
    events      bigint NOT NULL,
    seqs        int8multirange NOT NULL,  -- the chain positions it holds
    tail_hashes jsonb NOT NULL,           -- {"seq": "hex hash"} of its events whose successor it does not hold
    digest      bytea NOT NULL,           -- SHA-256 of its hashes in chain order
    detached_at timestamptz NOT NULL DEFAULT now()
);
