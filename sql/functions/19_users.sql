-- Users (people), the teams that own creditors, who may see what, and the
-- log of reads of personal data (schema/0020_users.sql).
--
-- The actor of a write (kept.actor, the first argument of every write
-- function) acts with the API key that made the request (NULL for the keptd
-- command line); kept.actor_user names its person. What a key may see is decided by its user: admins (a key acting
-- as admin) see everything; everyone else sees the accounts whose creditor
-- belongs to their team, and the customers of those accounts or whom their
-- team brought in. An id the actor may not see answers 404, as an id that
-- does not exist does.

-- ---- users ----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.user_json(u kept.users) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', u.id, 'name', u.name, 'email', u.email, 'team', u.team, 'roles', to_json(u.roles),
        'active', u.active, 'version', u.version,
        'keys', coalesce((SELECT json_agg(json_build_object(
                                'id', k.id, 'name', k.name, 'role', k.role,
                                'expires_at', kept.ts(k.expires_at), 'revoked_at', kept.ts(k.revoked_at))
                            ORDER BY k.id)
                          FROM kept.api_keys k WHERE k.user_id = u.id), '[]'::json),
        'created_at', kept.ts(u.created_at), 'updated_at', kept.ts(u.updated_at));
$$;

-- {"id": ..., "name": ...} of a user, for the records that say who did something.
CREATE OR REPLACE FUNCTION kept.user_ref(p_user_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', u.id, 'name', u.name) FROM kept.users u WHERE u.id = p_user_id;
$$;

CREATE OR REPLACE FUNCTION kept.key_user_ref(p_key_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', u.id, 'name', u.name)
    FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id WHERE k.id = p_key_id;
$$;

-- The person behind an actor: the key's user, else the user a replay of
-- another system's history acts for (kept.actor_user, SET LOCAL), else NULL.
CREATE OR REPLACE FUNCTION kept.actor_user(p_actor_key_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT k.user_id FROM kept.api_keys k WHERE k.id = p_actor_key_id),
                    nullif(current_setting('kept.actor_user', true), '')::bigint);
$$;

-- The roles a key acts in: its own role while its user holds it, or every
-- role of its user when it has none. Nothing for an inactive user.
CREATE OR REPLACE FUNCTION kept.key_roles(k kept.api_keys, u kept.users) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN NOT u.active THEN '{}'::text[]
                WHEN k.role IS NULL THEN u.roles
                WHEN k.role = ANY (u.roles) THEN ARRAY[k.role]
                ELSE '{}'::text[] END;
$$;

-- Keys that still let someone administer kept (active, unexpired, acting as admin).
CREATE OR REPLACE FUNCTION kept.admin_keys_left(p_except_key bigint, p_except_user bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
    WHERE k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      AND 'admin' = ANY (kept.key_roles(k, u))
      AND k.id IS DISTINCT FROM p_except_key AND u.id IS DISTINCT FROM p_except_user;
$$;

CREATE OR REPLACE FUNCTION kept.user_check(p jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p ? 'roles' AND (jsonb_typeof(p->'roles') <> 'array'
                        OR EXISTS (SELECT 1 FROM jsonb_array_elements(p->'roles') e WHERE jsonb_typeof(e) <> 'string')
                        OR NOT kept.is_roles(ARRAY(SELECT jsonb_array_elements_text(p->'roles')))) THEN
        PERFORM kept.fail('invalid', 'invalid_roles', 'roles',
                          'roles is a list of one to four of agent, supervisor, finance, admin, each once');
    END IF;
END $$;

-- POST /v1/users {name, email?, team?, roles, active?}
DROP FUNCTION IF EXISTS kept.user_create(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.user_create(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    u kept.users;
BEGIN
    PERFORM kept.user_check(p);
    INSERT INTO kept.users (name, email, team, roles, active)
    VALUES (p->>'name', p->>'email', coalesce(p->>'team', 'default'),
            ARRAY(SELECT jsonb_array_elements_text(p->'roles')), coalesce((p->>'active')::boolean, true))
    RETURNING * INTO u;
    RETURN kept.write_end(p_actor, 'user.created', 'user', u.id, NULL,
                          kept.user_json(u)::jsonb, NULL, NULL, kept.user_json(u));
END $$;

-- PATCH /v1/users/{id}: the fields present change. A user who would leave
-- nobody able to administer kept is refused; a new name is an outbox event,
-- since analytics names the agent of every plan.
DROP FUNCTION IF EXISTS kept.user_update(bigint, text, text, bigint, integer, jsonb);
CREATE OR REPLACE FUNCTION kept.user_update(p_actor kept.actor, p_id bigint, p_expected_version integer, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.users;
    u kept.users;
BEGIN
    PERFORM kept.user_check(p);
    PERFORM 1 FROM kept.users WHERE 'admin' = ANY (roles) AND active ORDER BY id FOR UPDATE;
    old := kept.lock_or_404(NULL::kept.users, p_id, 'FOR UPDATE',
                            'user_not_found', 'id', format('no user with id %s', p_id));
    PERFORM kept.check_version('user', old.version, p_expected_version);
    UPDATE kept.users SET
        name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
        email = CASE WHEN p ? 'email' THEN p->>'email' ELSE email END,
        team = CASE WHEN p ? 'team' THEN p->>'team' ELSE team END,
        roles = CASE WHEN p ? 'roles' THEN ARRAY(SELECT jsonb_array_elements_text(p->'roles')) ELSE roles END,
        active = coalesce((p->>'active')::boolean, active),
        version = version + 1, updated_at = now()
    WHERE id = p_id RETURNING * INTO u;
    IF (NOT u.active OR NOT 'admin' = ANY (u.roles)) AND kept.admin_keys_left(NULL, u.id) = 0 THEN
        PERFORM kept.fail('conflict', 'last_admin', 'id',
                          'this would leave no one able to administer kept; give another user an admin key first');
    END IF;
    IF u.name IS DISTINCT FROM old.name THEN
        PERFORM kept.outbox_write('user_renamed', 'user', u.id, jsonb_build_object('name', u.name));
    END IF;
    RETURN kept.write_end(p_actor, 'user.updated', 'user', u.id,
                          kept.user_json(old)::jsonb - 'keys', kept.user_json(u)::jsonb - 'keys', NULL, NULL,
                          kept.user_json(u));
END $$;

CREATE OR REPLACE FUNCTION kept.user_page(p_team text, p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after bigint := kept.cursor_decode('user', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
BEGIN
    RETURN kept.page_of(ARRAY(SELECT kept.user_json(u) FROM kept.users u
                              WHERE (p_team IS NULL OR u.team = p_team) AND u.id > v_after
                              ORDER BY u.id LIMIT v_limit + 1),
                        v_limit, 'user');
END $$;

-- The user a key made for `name` belongs to (`keptd keys create --name N`,
-- POST /v1/api-keys {name, role}): the oldest user of that name, who gains
-- `role` if they lacked it; else a new user of that name in the default
-- team. So scripts written when keys were people still run.
DROP FUNCTION IF EXISTS kept.user_for_key_name(bigint, text, text, text, text);
CREATE OR REPLACE FUNCTION kept.user_for_key_name(p_actor kept.actor, p_name text, p_role text)
RETURNS kept.users LANGUAGE plpgsql AS $$
DECLARE
    u kept.users;
BEGIN
    SELECT * INTO u FROM kept.users WHERE name = p_name ORDER BY id LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN (SELECT x FROM json_populate_record(NULL::kept.users,
                    kept.user_create(p_actor,
                                     jsonb_build_object('name', p_name, 'roles', jsonb_build_array(p_role)))) x);
    END IF;
    IF NOT p_role = ANY (u.roles) THEN
        RETURN (SELECT x FROM json_populate_record(NULL::kept.users,
                    kept.user_update(p_actor, u.id, NULL,
                                     jsonb_build_object('roles', to_jsonb(u.roles || p_role)))) x);
    END IF;
    RETURN u;
END $$;

-- ---- teams and creditors ------------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.creditor_json(c kept.creditors) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('name', c.name, 'team', c.team, 'created_at', kept.ts(c.created_at),
                             'updated_at', kept.ts(c.updated_at));
$$;

-- POST /v1/creditors {name, team}: a creditor and the team that owns it
-- (moving an existing creditor to another team moves who sees its accounts).
DROP FUNCTION IF EXISTS kept.creditor_put(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.creditor_put(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.creditors;
    c kept.creditors;
BEGIN
    SELECT * INTO old FROM kept.creditors WHERE name = p->>'name' FOR UPDATE;
    INSERT INTO kept.creditors AS x (name, team) VALUES (p->>'name', p->>'team')
    ON CONFLICT (name) DO UPDATE SET team = EXCLUDED.team, updated_at = now()
    RETURNING * INTO c;
    RETURN kept.write_end(p_actor,
                          CASE WHEN old.name IS NULL THEN 'creditor.created' ELSE 'creditor.moved' END, 'creditor',
                          NULL, CASE WHEN old.name IS NOT NULL THEN kept.creditor_json(old)::jsonb END,
                          kept.creditor_json(c)::jsonb, NULL, NULL, kept.creditor_json(c));
END $$;

CREATE OR REPLACE FUNCTION kept.creditor_list() RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('items', coalesce(json_agg(kept.creditor_json(c) ORDER BY c.name), '[]'::json))
    FROM kept.creditors c;
$$;

-- ---- who may see what ---------------------------------------------------------------------

-- The team whose accounts an actor sees; NULL for one who sees everything
-- (an admin, or the keptd command line).
CREATE OR REPLACE FUNCTION kept.viewer_team(p_actor_key_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_actor_key_id IS NULL THEN NULL
                WHEN 'admin' = ANY (kept.key_roles(k, u)) THEN NULL
                ELSE u.team END
    FROM (SELECT 1) one
    LEFT JOIN kept.api_keys k ON k.id = p_actor_key_id LEFT JOIN kept.users u ON u.id = k.user_id;
$$;

CREATE OR REPLACE FUNCTION kept.creditor_team(p_creditor text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT team FROM kept.creditors WHERE name = p_creditor;
$$;

-- The creditors a team's reports cover (NULL team: every creditor, answered as NULL).
CREATE OR REPLACE FUNCTION kept.viewer_creditors(p_actor_key_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN v.team IS NULL THEN NULL
                ELSE ARRAY(SELECT c.name FROM kept.creditors c WHERE c.team = v.team ORDER BY c.name) END
    FROM (SELECT kept.viewer_team(p_actor_key_id) AS team) v;
$$;

CREATE OR REPLACE FUNCTION kept.team_sees_account(p_team text, p_account_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_team IS NULL OR EXISTS (SELECT 1 FROM kept.accounts a JOIN kept.creditors c ON c.name = a.creditor
                                     WHERE a.id = p_account_id AND c.team = p_team);
$$;

CREATE OR REPLACE FUNCTION kept.team_sees_customer(p_team text, p_customer_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_team IS NULL
        OR EXISTS (SELECT 1 FROM kept.customers cu WHERE cu.id = p_customer_id AND cu.team = p_team)
        OR EXISTS (SELECT 1 FROM kept.accounts a JOIN kept.creditors c ON c.name = a.creditor
                   WHERE a.customer_id = p_customer_id AND c.team = p_team);
$$;

-- The customer (and the account, where there is one) a resource concerns:
-- kind customer, account, plan, payment, settlement_offer, escalation, review, self_service_link.
CREATE OR REPLACE FUNCTION kept.resource_owner(p_kind text, p_id bigint, OUT customer_id bigint,
                                               OUT account_id bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'customer' THEN
        SELECT c.id, NULL INTO customer_id, account_id FROM kept.customers c WHERE c.id = p_id;
        RETURN;
    END IF;
    account_id := CASE p_kind
        WHEN 'account' THEN (SELECT a.id FROM kept.accounts a WHERE a.id = p_id)
        WHEN 'plan' THEN (SELECT p.account_id FROM kept.plans p WHERE p.id = p_id)
        WHEN 'payment' THEN (SELECT p.account_id FROM kept.payments p WHERE p.id = p_id)
        WHEN 'settlement_offer' THEN (SELECT o.account_id FROM kept.settlement_offers o WHERE o.id = p_id)
        WHEN 'escalation' THEN (SELECT e.account_id FROM kept.escalations e WHERE e.id = p_id)
        WHEN 'review' THEN (SELECT p.account_id FROM kept.reviews r JOIN kept.plans p ON p.id = r.plan_id
                            WHERE r.id = p_id)
        WHEN 'self_service_link' THEN (SELECT l.account_id FROM kept.self_service_links l WHERE l.id = p_id) END;
    customer_id := (SELECT a.customer_id FROM kept.accounts a WHERE a.id = account_id);
END $$;

-- Before a request touches a resource: 404 <kind>_not_found unless it exists
-- and the actor may see it; a read of personal data (p_log) goes to the
-- access log. Answers the customer concerned.
CREATE OR REPLACE FUNCTION kept.access_check(p_actor_key_id bigint, p_request_id text, p_kind text, p_id bigint,
                                             p_method text, p_route text, p_path text, p_log boolean,
                                             p_field text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_actor_key_id);
    o record;
BEGIN
    o := kept.resource_owner(p_kind, p_id);
    IF o.customer_id IS NULL
       OR (p_kind = 'customer' AND NOT kept.team_sees_customer(v_team, o.customer_id))
       OR (p_kind <> 'customer' AND NOT kept.team_sees_account(v_team, o.account_id)) THEN
        PERFORM kept.fail('not_found', p_kind || '_not_found', p_field,
                          format('no %s with id %s', replace(p_kind, '_', ' '), p_id));
    END IF;
    IF p_log THEN
        PERFORM kept.access_log_write(p_actor_key_id, p_request_id, p_method, p_route, p_path,
                                      ARRAY[o.customer_id]);
    END IF;
    RETURN o.customer_id;
END $$;

CREATE OR REPLACE FUNCTION kept.access_log_write(p_actor_key_id bigint, p_request_id text, p_method text,
                                                 p_route text, p_path text, p_customers bigint[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO kept.access_log (user_id, key_id, request_id, method, route, path, customer_id)
    SELECT kept.actor_user(p_actor_key_id), p_actor_key_id, p_request_id, p_method, p_route,
           coalesce(p_path, p_route), c
    FROM (SELECT DISTINCT unnest(p_customers) AS c) x WHERE c IS NOT NULL;
$$;

-- A write that names an account in its body (payments, escalations):
-- not_found account_not_found / rule_violation unknown_account unless the
-- actor may see it.
CREATE OR REPLACE FUNCTION kept.require_account_visible(p_actor_key_id bigint, p_account_id bigint,
                                                        p_kind text, p_code text, p_field text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT kept.team_sees_account(kept.viewer_team(p_actor_key_id), p_account_id) THEN
        PERFORM kept.fail(p_kind, p_code, p_field, format('no account with id %s', p_account_id));
    END IF;
END $$;

-- A new account's creditor: created for the actor's team when kept does not
-- know it yet; refused when it belongs to another team.
CREATE OR REPLACE FUNCTION kept.creditor_for_account(p_actor_key_id bigint, p_creditor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_actor_key_id);
    v_owner text;
BEGIN
    IF NOT kept.is_display_name(p_creditor) THEN
        RETURN; -- the account's own CHECK names the field
    END IF;
    INSERT INTO kept.creditors (name, team)
    VALUES (p_creditor, coalesce(v_team, (SELECT u.team FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
                                         WHERE k.id = p_actor_key_id), 'default'))
    ON CONFLICT (name) DO NOTHING;
    v_owner := kept.creditor_team(p_creditor);
    IF v_team IS NOT NULL AND v_owner <> v_team THEN
        PERFORM kept.fail('rule_violation', 'creditor_of_another_team', 'creditor',
                          'this creditor belongs to another team; its accounts are theirs to place');
    END IF;
END $$;

-- ---- the access log, for admins ----------------------------------------------------------------

CREATE OR REPLACE FUNCTION kept.access_json(l kept.access_log) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', l.id, 'at', kept.ts(l.at), 'user', kept.user_ref(l.user_id), 'key_id', l.key_id,
                             'request_id', l.request_id, 'method', l.method, 'route', l.route, 'path', l.path,
                             'customer_id', l.customer_id);
$$;

-- GET /v1/access-log?customer_id=&user_id=&from=&to=&cursor=&limit= — newest first.
CREATE OR REPLACE FUNCTION kept.access_page(p_customer text, p_user text, p_from text, p_to text, p_cursor text,
                                            p_limit text)
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_before bigint := nullif(kept.cursor_decode('access', p_cursor), 0);
    v_limit integer := kept.page_limit(p_limit);
    v_items json;
    v_last bigint;
    v_count integer;
BEGIN
    IF p_customer IS NOT NULL AND p_customer !~ '^[1-9][0-9]{0,17}$' THEN
        PERFORM kept.fail('invalid', 'invalid_id', 'customer_id', 'customer_id must be a positive whole number');
    END IF;
    IF p_user IS NOT NULL AND p_user !~ '^[1-9][0-9]{0,17}$' THEN
        PERFORM kept.fail('invalid', 'invalid_id', 'user_id', 'user_id must be a positive whole number');
    END IF;
    IF p_from IS NOT NULL AND kept.parse_instant(p_from) IS NULL THEN
        PERFORM kept.fail('invalid', 'invalid_time', 'from', 'from is an RFC 3339 time or a date');
    END IF;
    IF p_to IS NOT NULL AND kept.parse_instant(p_to) IS NULL THEN
        PERFORM kept.fail('invalid', 'invalid_time', 'to', 'to is an RFC 3339 time or a date');
    END IF;
    SELECT json_agg(kept.access_json(page.l) ORDER BY (page.l).id DESC) FILTER (WHERE page.n <= v_limit),
           min((page.l).id) FILTER (WHERE page.n <= v_limit), count(*)
    INTO v_items, v_last, v_count
    FROM (SELECT l, row_number() OVER (ORDER BY l.id DESC) AS n FROM kept.access_log l
          WHERE (p_customer IS NULL OR l.customer_id = p_customer::bigint)
            AND (p_user IS NULL OR l.user_id = p_user::bigint)
            AND (p_from IS NULL OR l.at >= kept.parse_instant(p_from))
            AND (p_to IS NULL OR l.at < kept.parse_instant(p_to))
            AND (v_before IS NULL OR l.id < v_before)
          ORDER BY l.id DESC LIMIT v_limit + 1) page;
    RETURN kept.page_json(v_items, v_last, v_count, v_limit, 'access');
END $$;

-- An RFC 3339 time or a date (midnight UTC), or NULL.
CREATE OR REPLACE FUNCTION kept.parse_instant(v text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN (v::date)::timestamp AT TIME ZONE 'UTC';
    END IF;
    IF v !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$' THEN
        RETURN NULL;
    END IF;
    RETURN v::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
