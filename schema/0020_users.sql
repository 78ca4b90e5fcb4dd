-- 0020 people, not keys: a user is a person (name, email, team, roles,
-- active); API keys belong to a user (several for rotation, each with an
-- optional expiry); teams own creditors; the records of who agreed a plan
-- and who approved it name the user. A key keeps its role: it acts in that
-- role while its user holds it (NULL: in every role its user holds).

-- A team: lower-case letters, digits and . _ -, starting with a letter or digit.
CREATE FUNCTION kept.is_team(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN v ~ '^[a-z0-9][a-z0-9._-]{0,63}$';

-- An email address of the common shape: one @, a dot in the domain, no
-- spaces or control characters, at most 254 characters.
CREATE FUNCTION kept.is_email(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN length(v) <= 254 AND v ~ '^[^@[:space:][:cntrl:]]{1,64}@[^@[:space:][:cntrl:].]+(\.[^@[:space:][:cntrl:].]+)+$';

-- One to four distinct roles of agent, supervisor, finance, admin.
CREATE FUNCTION kept.is_roles(v text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN cardinality(v) BETWEEN 1 AND 4 AND v <@ ARRAY['agent', 'supervisor', 'finance', 'admin']
   AND cardinality(v) = (SELECT count(DISTINCT r) FROM unnest(v) r);

CREATE TABLE kept.users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    email      text,
    team       text NOT NULL DEFAULT 'default',
    roles      text[] NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_name_check CHECK (kept.is_display_name(name)),
    CONSTRAINT users_email_check CHECK (kept.is_email(email)),
    CONSTRAINT users_team_check CHECK (kept.is_team(team)),
    CONSTRAINT users_roles_check CHECK (kept.is_roles(roles))
);
CREATE UNIQUE INDEX users_email_key ON kept.users (lower(email));
CREATE INDEX users_name_idx ON kept.users (name);

-- Every existing key becomes the key of a user of its own, named as the key
-- was, in the default team, holding the key's role.
ALTER TABLE kept.api_keys
    ADD COLUMN user_id bigint REFERENCES kept.users (id),
    ADD COLUMN expires_at timestamptz,
    ALTER COLUMN role DROP NOT NULL;
DO $$
DECLARE
    k kept.api_keys;
    v_user bigint;
BEGIN
    FOR k IN SELECT * FROM kept.api_keys ORDER BY id LOOP
        INSERT INTO kept.users (name, team, roles, created_at, updated_at)
        VALUES (k.name, 'default', ARRAY[k.role], k.created_at, k.created_at)
        RETURNING id INTO v_user;
        UPDATE kept.api_keys SET user_id = v_user WHERE id = k.id;
    END LOOP;
END $$;
ALTER TABLE kept.api_keys ALTER COLUMN user_id SET NOT NULL;
CREATE INDEX api_keys_user_idx ON kept.api_keys (user_id);

-- A key belongs to one user for life, so a key id names a person for good.
CREATE FUNCTION kept.api_key_user_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.key_hash IS DISTINCT FROM OLD.key_hash THEN
        RAISE EXCEPTION 'an API key''s user and hash never change'
            USING ERRCODE = 'KR409', HINT = 'api_key_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_user_fixed BEFORE UPDATE ON kept.api_keys
    FOR EACH ROW EXECUTE FUNCTION kept.api_key_user_fixed();

-- ---- teams own creditors ------------------------------------------------------------------
-- Agents, supervisors and finance see the accounts of their team's
-- creditors (and the customers of those accounts); admins see everything.
CREATE TABLE kept.creditors (
    name       text PRIMARY KEY,
    team       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT creditors_name_check CHECK (kept.is_display_name(name)),
    CONSTRAINT creditors_team_check CHECK (kept.is_team(team))
);
CREATE INDEX creditors_team_idx ON kept.creditors (team);
INSERT INTO kept.creditors (name, team)
SELECT creditor, 'default' FROM kept.accounts
UNION SELECT creditor, 'default' FROM kept.policies WHERE creditor IS NOT NULL;
ALTER TABLE kept.accounts ADD CONSTRAINT accounts_creditor_fkey
    FOREIGN KEY (creditor) REFERENCES kept.creditors (name);

-- The team that brought a customer in (NULL: an import); a customer is also
-- seen by every team one of its accounts' creditors belongs to.
ALTER TABLE kept.customers ADD COLUMN team text CONSTRAINT customers_team_check CHECK (kept.is_team(team));

-- ---- who agreed, who approved -------------------------------------------------------------
-- The two associates of an out-of-policy plan are two users; a plan agreed in
-- another system (the history import) names its user without any key.
ALTER TABLE kept.plans ADD COLUMN created_by_user bigint REFERENCES kept.users (id);
UPDATE kept.plans p SET created_by_user = k.user_id FROM kept.api_keys k WHERE k.id = p.created_by;
ALTER TABLE kept.plan_approvals ADD COLUMN approved_by_user bigint REFERENCES kept.users (id);
UPDATE kept.plan_approvals ap SET approved_by_user = k.user_id FROM kept.api_keys k WHERE k.id = ap.approved_by;
CREATE INDEX plans_created_by_user_idx ON kept.plans (created_by_user);

-- ---- reads of personal data ------------------------------------------------------------------
-- Every request that reads a customer's personal data, once it is allowed:
-- who (user and key), when, what (method, route, path), whose (customer).
-- Append-only; rows older than the retention are removed only by
-- kept.access_log_prune (the retention job).
CREATE TABLE kept.access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES kept.users (id),
    key_id      bigint REFERENCES kept.api_keys (id),
    request_id  text,
    method      text NOT NULL,
    route       text NOT NULL,
    path        text NOT NULL,
    customer_id bigint
);
CREATE INDEX access_log_customer_idx ON kept.access_log (customer_id, id);
CREATE INDEX access_log_user_idx ON kept.access_log (user_id, id);
CREATE INDEX access_log_at_idx ON kept.access_log (at);

CREATE FUNCTION kept.access_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kept.access_log_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP
        USING ERRCODE = 'KR409', HINT = 'access_log_append_only';
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON kept.access_log
    FOR EACH ROW EXECUTE FUNCTION kept.access_log_guard();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON kept.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION kept.access_log_guard();
