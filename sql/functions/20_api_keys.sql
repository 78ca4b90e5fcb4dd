-- API keys: the record as the API shows it (never the hash), creation,
-- revocation and authentication, each write audited in the same
-- transaction. A key belongs to a user (sql/functions/19_users.sql).

DROP FUNCTION IF EXISTS kept.api_key_create(bigint, text, text, text, text, text);

CREATE OR REPLACE FUNCTION kept.api_key_json(k kept.api_keys) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id, 'name', k.name, 'role', k.role, 'user', kept.user_ref(k.user_id),
        'expires_at', kept.ts(k.expires_at),
        'created_at', kept.ts(k.created_at), 'created_by', k.created_by,
        'revoked_at', kept.ts(k.revoked_at), 'revoked_by', k.revoked_by);
$$;

-- p_key_hash is the hex SHA-256 of the key, computed by keptd. p: {user_id,
-- role?, name?, expires_at?} — a key of that user (no role: it acts in every
-- role the user holds) — or {name, role} as before users: a key of the user
-- of that name (kept.user_for_key_name).
DROP FUNCTION IF EXISTS kept.api_key_create(bigint, text, text, jsonb, text);
CREATE OR REPLACE FUNCTION kept.api_key_create(p_actor kept.actor, p jsonb, p_key_hash text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    u kept.users;
    k kept.api_keys;
    v_role text := p->>'role';
    v_expires timestamptz := kept.parse_instant(p->>'expires_at');
BEGIN
    IF p->>'expires_at' IS NOT NULL AND v_expires IS NULL THEN
        PERFORM kept.fail('invalid', 'invalid_time', 'expires_at', 'expires_at is an RFC 3339 time');
    END IF;
    IF v_role IS NOT NULL AND v_role NOT IN ('agent', 'supervisor', 'finance', 'admin') THEN
        PERFORM kept.fail('invalid', 'invalid_role', 'role', 'role must be agent, supervisor, finance or admin');
    END IF;
    IF v_expires IS NOT NULL AND v_expires <= now() THEN
        PERFORM kept.fail('rule_violation', 'expiry_in_past', 'expires_at', 'a key must expire in the future');
    END IF;
    IF p ? 'user_id' THEN
        SELECT * INTO u FROM kept.users WHERE id = (p->>'user_id')::bigint FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM kept.fail('rule_violation', 'unknown_user', 'user_id', format('no user with id %s', p->>'user_id'));
        END IF;
        IF v_role IS NOT NULL AND NOT v_role = ANY (u.roles) THEN
            PERFORM kept.fail('rule_violation', 'role_not_held', 'role',
                              format('user %s does not hold the %s role', u.id, v_role));
        END IF;
    ELSIF p->>'name' IS NULL OR v_role IS NULL THEN
        PERFORM kept.fail('invalid', 'missing_field', CASE WHEN p->>'name' IS NULL THEN 'name' ELSE 'role' END,
                          'send user_id (and optionally role), or name and role');
    ELSE
        u := kept.user_for_key_name(p_actor, p->>'name', v_role);
    END IF;
    IF NOT u.active THEN
        PERFORM kept.fail('rule_violation', 'user_inactive', 'user_id', format('user %s is not active', u.id));
    END IF;
    INSERT INTO kept.api_keys (name, role, key_hash, created_by, user_id, expires_at)
    VALUES (coalesce(p->>'name', u.name), v_role, decode(p_key_hash, 'hex'), (p_actor).key_id, u.id, v_expires)
    RETURNING * INTO k;
    RETURN kept.write_end(p_actor, 'api_key.created', 'api_key', k.id, NULL,
                          kept.api_key_json(k)::jsonb, NULL, NULL, kept.api_key_json(k));
END $$;

-- Revoking is idempotent: a key already revoked is returned as it is. The
-- last key that can administer kept cannot be revoked.
DROP FUNCTION IF EXISTS kept.api_key_revoke(bigint, text, text, bigint);
CREATE OR REPLACE FUNCTION kept.api_key_revoke(p_actor kept.actor, p_id bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.api_keys;
    k kept.api_keys;
BEGIN
    -- Lock every active admin user in id order first: two revocations of the
    -- last two admin keys then serialise instead of both passing the check.
    PERFORM 1 FROM kept.users WHERE 'admin' = ANY (roles) AND active ORDER BY id FOR UPDATE;
    old := kept.lock_or_404(NULL::kept.api_keys, p_id, 'FOR UPDATE',
                            'api_key_not_found', 'id', format('no API key with id %s', p_id));
    IF old.revoked_at IS NOT NULL THEN
        RETURN kept.api_key_json(old);
    END IF;
    IF kept.admin_keys_left(NULL, NULL) > 0 AND kept.admin_keys_left(p_id, NULL) = 0 THEN
        PERFORM kept.fail('conflict', 'last_admin_key', 'id',
                          'this is the last active admin key; create another admin key first');
    END IF;
    UPDATE kept.api_keys SET revoked_at = now(), revoked_by = (p_actor).key_id
    WHERE id = p_id RETURNING * INTO k;
    RETURN kept.write_end(p_actor, 'api_key.revoked', 'api_key', k.id,
                          kept.api_key_json(old)::jsonb, kept.api_key_json(k)::jsonb, NULL, NULL,
                          kept.api_key_json(k));
END $$;

-- Who a presented key is: its id, its user, their team, the roles it acts in
-- (comma-separated) and its state: ok, expired, revoked, inactive (the user).
-- No row: no such key.
CREATE OR REPLACE FUNCTION kept.api_key_authenticate(p_key_hash text, OUT key_id bigint, OUT user_id bigint,
                                                     OUT user_name text, OUT team text, OUT roles text,
                                                     OUT state text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT k.id, u.id, u.name, u.team, array_to_string(kept.key_roles(k, u), ','),
           CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                WHEN NOT u.active THEN 'inactive'
                WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                ELSE 'ok' END
    FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
    WHERE k.key_hash = decode(p_key_hash, 'hex');
$$;
