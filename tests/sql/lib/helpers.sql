-- What the pgTAP files share, loaded once by tests/sql/run.sh into the test
-- database (schema kept_test, never part of kept's own schema).
CREATE SCHEMA IF NOT EXISTS kept_test;

-- The stable code (the HINT kept.fail sets) of the error `p_sql` raises, or
-- 'no error'.
CREATE OR REPLACE FUNCTION kept_test.error_code(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hint text;
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
    RETURN v_hint;
END $$;
