-- Erasure and retention of customers' personal data, and the rotation of
-- the key that wraps their data keys (schema/0021_personal_data.sql).
--
-- A customer may be erased once every account of theirs is closed (paid,
-- settled or closed) and the retention period of their jurisdiction
-- (kept.retention_policies) has passed since the last one closed — or since
-- they were created, when they never had an account. Erasure destroys their
-- data key, so everything sealed under it (name, numbers, the personal values
-- in the audit log) is unreadable for good, and also removes or blanks what
-- is stored in clear: phone rows, the numbers of their calls, their and
-- their accounts' external references, free-text notes and reasons, income
-- and expenditure lines. What the figures are made of stays (amounts,
-- dates, outcomes, time zone, jurisdiction): analytics is unchanged, and
-- keeps no personal data of its own. The audit log's rows are never touched,
-- so its chain verifies before and after. The retention job erases every
-- customer whose time has come.

-- The retention policy of a jurisdiction: its own row, else its country's, else '*'.
CREATE OR REPLACE FUNCTION kept.retention_for(p_jurisdiction text) RETURNS kept.retention_policies
LANGUAGE sql STABLE AS $$
    SELECT * FROM kept.retention_policies
    WHERE jurisdiction IN (p_jurisdiction, split_part(p_jurisdiction, '-', 1), '*')
    ORDER BY CASE jurisdiction WHEN p_jurisdiction THEN 0 WHEN '*' THEN 2 ELSE 1 END
    LIMIT 1;
$$;

CREATE OR REPLACE FUNCTION kept.retention_json(r kept.retention_policies) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('jurisdiction', r.jurisdiction, 'retain_days', r.retain_days, 'citation', r.citation,
                             'updated_at', kept.ts(r.updated_at));
$$;

CREATE OR REPLACE FUNCTION kept.retention_list() RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('items', coalesce(json_agg(kept.retention_json(r) ORDER BY r.jurisdiction = '*',
                                                        r.jurisdiction), '[]'::json))
    FROM kept.retention_policies r;
$$;

-- PUT /v1/retention-policies/{jurisdiction} {retain_days, citation}
DROP FUNCTION IF EXISTS kept.retention_put(bigint, text, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.retention_put(p_actor kept.actor, p_jurisdiction text, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.retention_policies;
    r kept.retention_policies;
BEGIN
    IF p_jurisdiction <> '*' AND NOT coalesce(kept.is_jurisdiction(p_jurisdiction), false) THEN
        PERFORM kept.fail('not_found', 'retention_policy_not_found', 'jurisdiction',
                          'a retention policy is for an ISO 3166 code such as GB or US-MA, or * for every other');
    END IF;
    SELECT * INTO old FROM kept.retention_policies WHERE jurisdiction = p_jurisdiction FOR UPDATE;
    INSERT INTO kept.retention_policies AS x (jurisdiction, retain_days, citation)
    VALUES (p_jurisdiction, (p->>'retain_days')::integer, p->>'citation')
    ON CONFLICT (jurisdiction) DO UPDATE SET retain_days = EXCLUDED.retain_days, citation = EXCLUDED.citation,
                                             updated_at = now()
    RETURNING * INTO r;
    RETURN kept.write_end(p_actor, 'retention_policy.set', 'retention_policy', NULL,
                          CASE WHEN old.jurisdiction IS NOT NULL THEN kept.retention_json(old)::jsonb END,
                          kept.retention_json(r)::jsonb, NULL, NULL, kept.retention_json(r));
END $$;

-- Why a customer may not be erased at p_as_of — {kind, code, message} —
-- or NULL when they may.
CREATE OR REPLACE FUNCTION kept.erasure_refusal(c kept.customers, p_as_of timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_open bigint[];
    v_last timestamptz;
    pol kept.retention_policies := kept.retention_for(c.jurisdiction);
    v_until timestamptz;
BEGIN
    IF c.erased_at IS NOT NULL THEN
        RETURN jsonb_build_object('kind', 'conflict', 'code', 'customer_erased',
                                  'message', format('customer %s was erased on %s', c.id, kept.ts(c.erased_at)));
    END IF;
    SELECT array_agg(a.id ORDER BY a.id) FILTER (WHERE a.status NOT IN ('paid', 'settled', 'closed')),
           max(a.closed_at)
    INTO v_open, v_last FROM kept.accounts a WHERE a.customer_id = c.id;
    IF v_open IS NOT NULL THEN
        RETURN jsonb_build_object('kind', 'rule_violation', 'code', 'accounts_open',
                                  'message', format('accounts %s are not closed; a customer with a debt is not erased',
                                                    array_to_string(v_open, ', ')));
    END IF;
    v_until := coalesce(v_last, c.created_at) + make_interval(days => pol.retain_days);
    IF p_as_of < v_until THEN
        RETURN jsonb_build_object('kind', 'rule_violation', 'code', 'retention_not_passed',
                                  'message', format('kept must keep this customer''s records until %s (%s: %s days, %s)',
                                                    kept.ts(v_until), pol.jurisdiction, pol.retain_days, pol.citation));
    END IF;
    RETURN NULL;
END $$;

-- Erases a locked customer who may be erased (see the top of this file).
-- Answers what was done, as counts.
DROP FUNCTION IF EXISTS kept.customer_erase_now(bigint, text, text, kept.customers, text);
CREATE OR REPLACE FUNCTION kept.customer_erase_now(p_actor kept.actor, c kept.customers, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_accounts bigint[] := ARRAY(SELECT id FROM kept.accounts WHERE customer_id = c.id);
    v_plans bigint[] := ARRAY(SELECT id FROM kept.plans WHERE account_id = ANY (v_accounts));
    v_phones bigint;
    v_calls bigint;
    v_notes bigint := 0;
    n bigint;
    v json;
BEGIN
    DELETE FROM kept.customer_keys WHERE customer_id = c.id; -- crypto-shredding
    -- texts their numbers sent (kept keeps only the number's digest and a keyword)
    DELETE FROM kept.inbound_messages
    WHERE number_gdigest IN (SELECT number_gdigest FROM kept.customer_phones WHERE customer_id = c.id);
    DELETE FROM kept.customer_phones WHERE customer_id = c.id;
    GET DIAGNOSTICS v_phones = ROW_COUNT;
    UPDATE kept.customers SET name_enc = NULL, date_of_birth_enc = NULL, postcode_enc = NULL,
                              erased_at = kept.now(), external_ref = 'erased-' || id,
                              version = version + 1, updated_at = kept.now()
    WHERE id = c.id;
    UPDATE kept.accounts SET external_ref = 'erased-' || id WHERE id = ANY (v_accounts);
    UPDATE kept.calls SET number_enc = NULL, number_digest = NULL, number_gdigest = NULL, error = NULL
    WHERE customer_id = c.id AND (number_enc IS NOT NULL OR number_gdigest IS NOT NULL OR error IS NOT NULL);
    GET DIAGNOSTICS v_calls = ROW_COUNT;
    UPDATE kept.contacts SET number_enc = NULL, number_digest = NULL, number_gdigest = NULL, note = NULL
    WHERE customer_id = c.id AND (number_enc IS NOT NULL OR number_gdigest IS NOT NULL OR note IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    DELETE FROM kept.customer_search WHERE customer_id = c.id;
    UPDATE kept.plans SET cancel_reason = NULL WHERE id = ANY (v_plans) AND cancel_reason IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.plan_approvals SET note = NULL WHERE plan_id = ANY (v_plans) AND note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.reviews SET note = '[erased]' WHERE plan_id = ANY (v_plans) AND note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.proposals SET note = NULL WHERE account_id = ANY (v_accounts) AND note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.settlement_offers SET note = NULL WHERE account_id = ANY (v_accounts) AND note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.escalations SET note = NULL, resolution_note = NULL
    WHERE account_id = ANY (v_accounts) AND (note IS NOT NULL OR resolution_note IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.payments SET reversal_reason = '[erased]' WHERE account_id = ANY (v_accounts) AND reversal_reason IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.affordability_assessments SET income = '[]', fixed_costs = '[]', flexible_costs = '[]'
    WHERE account_id = ANY (v_accounts);
    -- texts to them, personal links and codes: the numbers and words
    UPDATE kept.messages SET number_enc = NULL, number_digest = NULL, number_gdigest = NULL, body_enc = NULL,
                             sealed = NULL
    WHERE customer_id = c.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_notes := v_notes + n;
    UPDATE kept.self_service_links SET sent_to_enc = NULL WHERE customer_id = c.id AND sent_to_enc IS NOT NULL;
    UPDATE kept.self_service_codes k SET number_enc = NULL
    FROM kept.self_service_links l WHERE l.id = k.link_id AND l.customer_id = c.id AND k.number_enc IS NOT NULL;
    UPDATE kept.plans SET first_approval_note = NULL WHERE id = ANY (v_plans) AND first_approval_note IS NOT NULL;
    v := json_build_object('customer_id', c.id, 'erased_at', kept.ts(kept.now()), 'accounts', cardinality(v_accounts),
                           'phones', v_phones, 'calls', v_calls, 'notes', v_notes, 'reason', p_reason);
    RETURN kept.write_end(p_actor, 'customer.erased', 'customer', c.id, NULL,
                          jsonb_build_object('customer_id', c.id, 'accounts', cardinality(v_accounts),
                                             'phones', v_phones, 'calls', v_calls, 'notes', v_notes),
                          'customer_erased', jsonb_build_object('accounts', to_jsonb(v_accounts)), v);
END $$;

-- POST /v1/customers/{id}/erasure {reason?}: erases the customer, or refuses
-- with the reason (409 customer_erased, 422 accounts_open or retention_not_passed).
-- The reason given is answered but not stored: it may name them.
DROP FUNCTION IF EXISTS kept.customer_erase(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.customer_erase(p_actor kept.actor, p_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c kept.customers;
    v_refusal jsonb;
BEGIN
    c := kept.lock_or_404(NULL::kept.customers, p_id, 'FOR UPDATE',
                          'customer_not_found', 'id', format('no customer with id %s', p_id));
    PERFORM 1 FROM kept.accounts WHERE customer_id = c.id ORDER BY id FOR UPDATE;
    v_refusal := kept.erasure_refusal(c, kept.now());
    IF v_refusal IS NOT NULL THEN
        PERFORM kept.fail(v_refusal->>'kind', v_refusal->>'code', 'id', v_refusal->>'message');
    END IF;
    RETURN kept.customer_erase_now(p_actor, c, p->>'reason');
END $$;

-- The retention job: erases (at most p_limit of) the customers whose
-- retention period has passed at p_as_of, and removes access-log rows older
-- than p_access_days. Customers another transaction holds are left for the
-- next run.
CREATE OR REPLACE FUNCTION kept.retention_run(p_as_of timestamptz, p_limit integer, p_access_days integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c kept.customers;
    v_erased bigint[] := '{}';
    v_pruned bigint;
BEGIN
    FOR c IN
        SELECT cu.* FROM kept.customers cu
        WHERE cu.erased_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM kept.accounts a
                          WHERE a.customer_id = cu.id AND a.status NOT IN ('paid', 'settled', 'closed'))
          AND coalesce((SELECT max(a.closed_at) FROM kept.accounts a WHERE a.customer_id = cu.id), cu.created_at)
              + make_interval(days => (kept.retention_for(cu.jurisdiction)).retain_days) <= p_as_of
        ORDER BY cu.id LIMIT p_limit FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM 1 FROM kept.accounts WHERE customer_id = c.id ORDER BY id FOR UPDATE;
        IF kept.erasure_refusal(c, p_as_of) IS NULL THEN
            PERFORM kept.customer_erase_now(ROW(NULL, 'keptd retention', NULL)::kept.actor, c, 'retention period passed');
            v_erased := v_erased || c.id;
        END IF;
    END LOOP;
    PERFORM set_config('kept.access_log_prune', 'on', true);
    DELETE FROM kept.access_log WHERE at < p_as_of - make_interval(days => p_access_days);
    GET DIAGNOSTICS v_pruned = ROW_COUNT;
    PERFORM set_config('kept.access_log_prune', '', true);
    RETURN json_build_object('as_of', kept.ts(p_as_of), 'erased', cardinality(v_erased),
                             'customers', to_json(v_erased), 'access_log_pruned', v_pruned);
END $$;

-- ---- rotating KEPT_DATA_KEY --------------------------------------------------------------------

-- Re-wraps at most p_limit data keys that the current key-encryption key does
-- not wrap yet (each opened with KEPT_DATA_KEY_PREVIOUS), and kept's own keys
-- (schema/0022_index_key.sql); answers how many, and how many are left.
CREATE OR REPLACE FUNCTION kept.data_keys_rewrap(p_limit integer, OUT rewrapped bigint, OUT remaining bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_kek bytea := kept.require_kek();
    v_id text := kept.kek_id(v_kek);
    n bigint;
BEGIN
    WITH todo AS (
        SELECT customer_id FROM kept.customer_keys WHERE kek_id <> v_id
        ORDER BY customer_id LIMIT p_limit FOR UPDATE SKIP LOCKED
    )
    UPDATE kept.customer_keys k
    SET wrapped = kept.crypto_seal(v_kek, kept.customer_key(k.customer_id)), kek_id = v_id, rewrapped_at = now()
    FROM todo WHERE k.customer_id = todo.customer_id;
    GET DIAGNOSTICS rewrapped = ROW_COUNT;
    -- kept's own keys (the index key of the search and the numbers' global digests) go with them
    WITH todo AS (SELECT name FROM kept.system_keys WHERE kek_id <> v_id FOR UPDATE SKIP LOCKED)
    UPDATE kept.system_keys k
    SET wrapped = kept.crypto_seal(v_kek, kept.system_key(k.name)), kek_id = v_id, rewrapped_at = now()
    FROM todo WHERE k.name = todo.name;
    GET DIAGNOSTICS n = ROW_COUNT;
    rewrapped := rewrapped + n;
    SELECT (SELECT count(*) FROM kept.customer_keys WHERE kek_id <> v_id)
           + (SELECT count(*) FROM kept.system_keys WHERE kek_id <> v_id)
    INTO remaining;
END $$;

-- For people with psql and the key (PGOPTIONS='-c kept.data_key=...'): a customer's name.
CREATE OR REPLACE FUNCTION kept.customer_name(p_customer_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT kept.pii_open(c.id, c.name_enc) FROM kept.customers c WHERE c.id = p_customer_id;
$$;
