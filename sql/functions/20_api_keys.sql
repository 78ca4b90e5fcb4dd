-- API keys: the record as the API shows it (never the hash), creation and
-- revocation, each audited in the same transaction.

CREATE OR REPLACE FUNCTION kept.api_key_json(k kept.api_keys) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id, 'name', k.name, 'role', k.role,
        'created_at', kept.ts(k.created_at), 'created_by', k.created_by,
        'revoked_at', kept.ts(k.revoked_at), 'revoked_by', k.revoked_by);
$$;

-- p_key_hash is the hex SHA-256 of the key, computed by keptd.
CREATE OR REPLACE FUNCTION kept.api_key_create(p_actor_key_id bigint, p_actor text, p_request_id text,
                                               p_name text, p_role text, p_key_hash text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    k kept.api_keys;
BEGIN
    INSERT INTO kept.api_keys (name, role, key_hash, created_by)
    VALUES (p_name, p_role, decode(p_key_hash, 'hex'), p_actor_key_id)
    RETURNING * INTO k;
    PERFORM kept.audit_write(p_actor_key_id, p_actor, p_request_id, 'api_key.created', 'api_key',
                             k.id, NULL, kept.api_key_json(k)::jsonb);
    RETURN kept.api_key_json(k);
END $$;

-- Revoking is idempotent: a key already revoked is returned as it is. The
-- last active admin key cannot be revoked, so kept can always be administered.
CREATE OR REPLACE FUNCTION kept.api_key_revoke(p_actor_key_id bigint, p_actor text, p_request_id text,
                                               p_id bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.api_keys;
    k kept.api_keys;
BEGIN
    -- Lock every active admin key in id order first: two revocations of the
    -- last two admins then serialise instead of both passing the check.
    PERFORM 1 FROM kept.api_keys WHERE role = 'admin' AND revoked_at IS NULL ORDER BY id FOR UPDATE;
    SELECT * INTO old FROM kept.api_keys WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail(404, 'api_key_not_found', 'id', format('no API key with id %s', p_id));
    END IF;
    IF old.revoked_at IS NOT NULL THEN
        RETURN kept.api_key_json(old);
    END IF;
    IF old.role = 'admin' AND NOT EXISTS (SELECT 1 FROM kept.api_keys
                                          WHERE role = 'admin' AND revoked_at IS NULL AND id <> p_id) THEN
        PERFORM kept.fail(409, 'last_admin_key', 'id',
                          'this is the last active admin key; create another admin key first');
    END IF;
    UPDATE kept.api_keys SET revoked_at = now(), revoked_by = p_actor_key_id
    WHERE id = p_id RETURNING * INTO k;
    PERFORM kept.audit_write(p_actor_key_id, p_actor, p_request_id, 'api_key.revoked', 'api_key',
                             k.id, kept.api_key_json(old)::jsonb, kept.api_key_json(k)::jsonb);
    RETURN kept.api_key_json(k);
END $$;
