-- kept.is_display_name was STRICT over a body that is not strict (an AND),
-- which stops PostgreSQL inlining it: every CHECK that uses it (accounts,
-- customers, policies) ran it through the SQL-function executor, a fifth of
-- the time of a bulk balance update. The same rule, inlinable; NULL still
-- answers NULL, which a CHECK takes as a pass, as before.
CREATE OR REPLACE FUNCTION kept.is_display_name(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN length(v) BETWEEN 1 AND 200 AND v !~ '[[:cntrl:]]' AND btrim(v) <> '';
