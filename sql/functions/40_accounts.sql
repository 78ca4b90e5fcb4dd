-- Accounts: one debt each, owned by a customer.

CREATE OR REPLACE FUNCTION kept.account_json(a kept.accounts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', a.id,
        'customer_id', a.customer_id,
        'external_ref', a.external_ref,
        'creditor', a.creditor,
        'original_balance_cents', a.original_balance_cents,
        'balance_cents', a.balance_cents,
        'currency', a.currency,
        'status', a.status,
        'placed_on', a.placed_on,
        'version', a.version,
        'created_at', kept.ts(a.created_at),
        'updated_at', kept.ts(a.updated_at));
$$;

-- balance_cents defaults to original_balance_cents, placed_on to the
-- customer's today (a payment the same minute is not before the day placed);
-- placed_on is from 2000-01-01 (a CHECK) to tomorrow (anywhere on Earth it may be today).
DROP FUNCTION IF EXISTS kept.account_create(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.account_create(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    a kept.accounts;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kept.customers WHERE id = (p->>'customer_id')::bigint)
       OR NOT kept.team_sees_customer(kept.viewer_team((p_actor).key_id), (p->>'customer_id')::bigint) THEN
        PERFORM kept.fail('rule_violation', 'unknown_customer', 'customer_id',
                          format('no customer with id %s', p->>'customer_id'));
    END IF;
    PERFORM kept.creditor_for_account((p_actor).key_id, p->>'creditor');
    IF (p->>'placed_on')::date > (kept.now() AT TIME ZONE 'UTC')::date + 1 THEN
        PERFORM kept.fail('rule_violation', 'placed_on_in_future', 'placed_on', 'an account cannot be placed in the future');
    END IF;
    INSERT INTO kept.accounts (customer_id, external_ref, creditor, original_balance_cents,
                               balance_cents, currency, placed_on)
    VALUES ((p->>'customer_id')::bigint, p->>'external_ref', p->>'creditor',
            (p->>'original_balance_cents')::bigint,
            coalesce((p->>'balance_cents')::bigint, (p->>'original_balance_cents')::bigint),
            p->>'currency',
            coalesce((p->>'placed_on')::date,
                     kept.local_today((SELECT time_zone FROM kept.customers WHERE id = (p->>'customer_id')::bigint))))
    RETURNING * INTO a;
    RETURN kept.write_end(p_actor, 'account.created', 'account', a.id, NULL,
                          kept.account_json(a)::jsonb, NULL, NULL, kept.account_json(a));
END $$;

-- A list of one account's things names an account that must exist:
-- kept.fail not_found account_not_found on p_field otherwise.
CREATE OR REPLACE FUNCTION kept.account_must_exist(p_account_id bigint, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kept.accounts WHERE id = p_account_id) THEN
        PERFORM kept.fail('not_found', 'account_not_found', p_field, format('no account with id %s', p_account_id));
    END IF;
END $$;

-- The account of a list filtered by ?account_id= (calls, messages), which is
-- required: an account id (invalid_account_id) of an account that exists.
CREATE OR REPLACE FUNCTION kept.account_id_required(p_account_id text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_account_id IS NULL OR p_account_id !~ '^[1-9][0-9]{0,17}$' THEN
        PERFORM kept.fail('invalid', 'invalid_account_id', 'account_id', 'account_id is required: an account id');
    END IF;
    PERFORM kept.account_must_exist(p_account_id::bigint, 'account_id');
    RETURN p_account_id::bigint;
END $$;

-- One page of accounts, filtered by customer and/or external reference,
-- in id order: {"items": [...], "next_cursor": "..." | null}. Only accounts
-- the viewer's team may see; the customers they belong to go to the access log.
DROP FUNCTION IF EXISTS kept.account_page(text, text, text, text);
CREATE OR REPLACE FUNCTION kept.account_page(p_viewer bigint, p_request_id text, p_path text,
                                             p_customer_id text, p_external_ref text,
                                             p_cursor text, p_limit text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
    v_customers bigint[];
    v_after bigint := kept.cursor_decode('account', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
    v_customer bigint;
    v_items json;
    v_last bigint;
    v_count integer;
BEGIN
    IF p_customer_id IS NOT NULL THEN
        IF p_customer_id !~ '^[0-9]{1,18}$' THEN
            PERFORM kept.fail('invalid', 'invalid_id', 'customer_id', 'customer_id must be a positive whole number');
        END IF;
        v_customer := p_customer_id::bigint;
    END IF;
    -- one row more than the page tells whether another page exists
    SELECT json_agg(kept.account_json(page.acc) ORDER BY (page.acc).id) FILTER (WHERE page.n <= v_limit),
           max((page.acc).id) FILTER (WHERE page.n <= v_limit), count(*),
           array_agg((page.acc).customer_id) FILTER (WHERE page.n <= v_limit)
    INTO v_items, v_last, v_count, v_customers
    FROM (SELECT acc, row_number() OVER (ORDER BY acc.id) AS n
          FROM kept.accounts acc
          WHERE (v_customer IS NULL OR acc.customer_id = v_customer)
            AND (p_external_ref IS NULL OR acc.external_ref = p_external_ref)
            AND acc.id > v_after
            AND (v_team IS NULL OR acc.creditor IN (SELECT c.name FROM kept.creditors c WHERE c.team = v_team))
          ORDER BY acc.id LIMIT v_limit + 1) page;
    PERFORM kept.access_log_write(p_viewer, p_request_id, 'GET', '/v1/accounts', p_path, v_customers);
    RETURN kept.page_json(v_items, v_last, v_count, v_limit, 'account');
END $$;
