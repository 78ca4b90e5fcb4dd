-- Queries of `keptd migrate` and of /readyz.

-- name: migrate_bootstrap
-- Run as a script (several statements) before any migration, under the lock.
CREATE SCHEMA IF NOT EXISTS kept;
CREATE TABLE IF NOT EXISTS kept.schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS kept.schema_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    bundle     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- name: migrate_lock
-- Session-level, so it spans the per-migration transactions. The key is
-- the ASCII of "keptmigr".
SELECT pg_advisory_lock(7738715180060206962)

-- name: migrate_unlock
SELECT pg_advisory_unlock(7738715180060206962)

-- name: migrate_applied
SELECT name, checksum FROM kept.schema_migrations ORDER BY name

-- name: migrate_record
INSERT INTO kept.schema_migrations (name, checksum) VALUES ($1, $2)

-- name: migrate_refresh_time_zones
INSERT INTO kept.time_zones (name)
SELECT name FROM pg_timezone_names
ON CONFLICT (name) DO NOTHING

-- name: migrate_set_state
INSERT INTO kept.schema_state (bundle) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET bundle = EXCLUDED.bundle, updated_at = now()

-- name: schema_ready
-- True when the database holds exactly the schema and functions of this keptd.
SELECT bundle = $1 FROM kept.schema_state

-- name: migrate_field_rules
-- keptd's field rules (service/src/rules/rules.c), as a JSON array.
SELECT kept.field_rules_load($1::jsonb)
