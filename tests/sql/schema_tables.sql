-- The schema keptd relies on: tables, the constraints the API names in its
-- errors (service/src/api/support.c), the migration bookkeeping.
BEGIN;
SELECT plan(29);

SELECT has_schema('kept');
SELECT has_table('kept', t, 'table kept.' || t) FROM unnest(ARRAY['customers', 'customer_phones',
    'accounts', 'api_keys', 'audit_events', 'audit_chain_head', 'time_zones', 'schema_migrations',
    'schema_state']) AS t;

-- every constraint the API maps to a field-named error exists under that name
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint WHERE conname = c), 'constraint ' || c)
FROM unnest(ARRAY['customers_external_ref_key', 'customers_external_ref_check', 'users_name_check',
    'customers_time_zone_fkey', 'customers_jurisdiction_check', 'customers_language_check',
    'users_roles_check', 'accounts_external_ref_key', 'accounts_external_ref_check',
    'accounts_creditor_check', 'accounts_original_balance_check', 'accounts_remaining_balance_check',
    'accounts_currency_check', 'accounts_customer_id_fkey', 'api_keys_name_check',
    'api_keys_role_check']) AS c;

SELECT ok((SELECT count(*) FROM kept.time_zones) > 300, 'time zones loaded from pg_timezone_names');
SELECT ok(EXISTS (SELECT 1 FROM kept.time_zones WHERE name = 'Pacific/Auckland'), 'Pacific/Auckland known');
SELECT is((SELECT count(*)::int FROM kept.schema_migrations WHERE checksum ~ '^[0-9a-f]{64}$'),
          (SELECT count(*)::int FROM kept.schema_migrations), 'every migration recorded with a SHA-256');

SELECT * FROM finish();
ROLLBACK;
