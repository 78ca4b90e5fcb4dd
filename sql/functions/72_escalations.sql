-- Escalations: the skilled queue for what automation should not handle.
-- Opened by kept itself (a plan broken after it was kept, a returned payment;
-- the telephony issue adds more) or by hand; worked by priority, then due-by.

CREATE OR REPLACE FUNCTION kept.escalation_json(e kept.escalations) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', e.id, 'account_id', e.account_id, 'plan_id', e.plan_id, 'payment_id', e.payment_id,
        'reason', e.reason, 'priority', e.priority, 'team', e.team, 'due_by', kept.ts(e.due_by),
        'overdue', e.status = 'open' AND e.due_by < kept.now(), 'status', e.status, 'note', e.note,
        'assigned_to', e.assigned_to, 'assigned_to_user', kept.key_user_ref(e.assigned_to),
        'assigned_at', kept.ts(e.assigned_at), 'resolved_by', e.resolved_by,
        'resolved_by_user', kept.key_user_ref(e.resolved_by),
        'resolved_at', kept.ts(e.resolved_at), 'resolution_note', e.resolution_note,
        'created_by', e.created_by, 'created_by_user', kept.key_user_ref(e.created_by),
        'created_at', kept.ts(e.created_at));
$$;

-- What the outbox says of an escalation, in every escalation_* event.
CREATE OR REPLACE FUNCTION kept.escalation_payload(e kept.escalations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'account_id', e.account_id, 'plan_id', e.plan_id, 'payment_id', e.payment_id, 'reason', e.reason,
        'priority', e.priority, 'team', e.team, 'status', e.status);
$$;

CREATE OR REPLACE FUNCTION kept.escalation_event(e kept.escalations, p_type text) RETURNS void
LANGUAGE sql AS $$
    SELECT kept.outbox_write(p_type, 'escalation', e.id, kept.escalation_payload(e));
$$;

DROP FUNCTION IF EXISTS kept.escalation_insert(bigint, text, text, bigint, bigint, bigint, text, integer, text);
CREATE OR REPLACE FUNCTION kept.escalation_insert(p_actor kept.actor,
                                                  p_account_id bigint, p_plan_id bigint, p_payment_id bigint,
                                                  p_reason text, p_priority integer, p_note text)
RETURNS kept.escalations LANGUAGE plpgsql AS $$
DECLARE
    r kept.escalation_reasons;
    e kept.escalations;
BEGIN
    SELECT * INTO r FROM kept.escalation_reasons WHERE reason = p_reason;
    IF NOT FOUND THEN
        PERFORM kept.fail('invalid', 'invalid_reason', 'reason',
                          format('reason is one of %s', (SELECT string_agg(reason, ', ' ORDER BY reason)
                                                         FROM kept.escalation_reasons)));
    END IF;
    INSERT INTO kept.escalations (account_id, plan_id, payment_id, reason, priority, team, due_by, note, created_by)
    VALUES (p_account_id, p_plan_id, p_payment_id, r.reason, coalesce(p_priority, r.priority), r.team,
            kept.now() + r.sla, p_note, (p_actor).key_id)
    ON CONFLICT DO NOTHING
    RETURNING * INTO e;
    IF e.id IS NOT NULL THEN
        PERFORM kept.audit_write(p_actor, 'escalation.opened', 'escalation', e.id,
                                 NULL, kept.escalation_json(e)::jsonb);
        PERFORM kept.escalation_event(e, 'escalation_opened');
    END IF;
    RETURN e;
END $$;

-- What kept opens by itself, once per cause (unique indexes). History being
-- imported (kept.history set) opens nothing: what happened in another system
-- was handled there.
CREATE OR REPLACE FUNCTION kept.escalation_auto(p_account_id bigint, p_plan_id bigint, p_payment_id bigint,
                                                p_reason text, p_note text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('kept.history', true) = 'on' THEN
        RETURN;
    END IF;
    PERFORM kept.escalation_insert(ROW(NULL, 'keptd', NULL)::kept.actor, p_account_id, p_plan_id, p_payment_id, p_reason,
                                   NULL, p_note);
END $$;

-- POST /v1/escalations {account_id, reason, note, priority?, plan_id?}
DROP FUNCTION IF EXISTS kept.escalation_open(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.escalation_open(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    e kept.escalations;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kept.accounts WHERE id = (p->>'account_id')::bigint) THEN
        PERFORM kept.fail('rule_violation', 'unknown_account', 'account_id', format('no account with id %s', p->>'account_id'));
    END IF;
    PERFORM kept.require_account_visible((p_actor).key_id, (p->>'account_id')::bigint, 'rule_violation', 'unknown_account',
                                         'account_id');
    IF p ? 'plan_id' AND NOT EXISTS (SELECT 1 FROM kept.plans WHERE id = (p->>'plan_id')::bigint
                                                              AND account_id = (p->>'account_id')::bigint) THEN
        PERFORM kept.fail('rule_violation', 'unknown_plan', 'plan_id', 'no such plan on this account');
    END IF;
    IF (p->>'priority')::integer NOT BETWEEN 1 AND 5 THEN
        PERFORM kept.fail('invalid', 'invalid_priority', 'priority', 'priority is 1 (most urgent) to 5');
    END IF;
    e := kept.escalation_insert(p_actor, (p->>'account_id')::bigint,
                                (p->>'plan_id')::bigint, NULL, p->>'reason', (p->>'priority')::integer, p->>'note');
    IF e.id IS NULL THEN
        PERFORM kept.fail('conflict', 'escalation_exists', 'reason', 'this is already escalated');
    END IF;
    RETURN kept.escalation_json(e);
END $$;

-- The queue by priority, then due-by. Filters: status (open, resolved, all),
-- reason, team, assigned_to (a key id, or "none"), account_id, overdue. Only
-- the escalations of accounts the viewer's team may see; the customers they
-- concern go to the access log.
DROP FUNCTION IF EXISTS kept.escalation_page(text, text, text, text, text, text, text, text);
CREATE OR REPLACE FUNCTION kept.escalation_page(p_viewer bigint, p_request_id text, p_path text,
                                                p_status text, p_reason text, p_team text, p_assigned text,
                                                p_account text, p_overdue text, p_cursor text, p_limit text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
    v_accounts bigint[];
    v_status text := coalesce(nullif(p_status, ''), 'open');
    v_limit integer := kept.page_limit(p_limit);
    v_after text[];
    v_items json;
    v_last text;
    v_count integer;
BEGIN
    IF v_status NOT IN ('open', 'resolved', 'all') THEN
        PERFORM kept.fail('invalid', 'invalid_status', 'status', 'status is open, resolved or all');
    END IF;
    IF p_assigned IS NOT NULL AND p_assigned !~ '^([0-9]{1,18}|none)$' THEN
        PERFORM kept.fail('invalid', 'invalid_assignee', 'assigned_to', 'assigned_to is an API key id or none');
    END IF;
    IF p_account IS NOT NULL AND p_account !~ '^[0-9]{1,18}$' THEN
        PERFORM kept.fail('invalid', 'invalid_id', 'account_id', 'account_id must be a positive whole number');
    END IF;
    IF p_overdue IS NOT NULL AND p_overdue NOT IN ('true', 'false') THEN
        PERFORM kept.fail('invalid', 'invalid_overdue', 'overdue', 'overdue is true or false');
    END IF;
    IF coalesce(p_cursor, '') <> '' THEN
        v_after := string_to_array(kept.cursor_decode_text('escalation', p_cursor, '[1-5],-?[0-9]{1,20},[0-9]{1,18}'), ',');
    END IF;
    SELECT json_agg(kept.escalation_json(page.e) ORDER BY (page.e).priority, (page.e).due_by, (page.e).id)
               FILTER (WHERE page.n <= v_limit),
           max(CASE WHEN page.n = v_limit THEN concat_ws(',', (page.e).priority,
                    (extract(epoch FROM (page.e).due_by) * 1000000)::bigint, (page.e).id) END),
           count(*), array_agg((page.e).account_id) FILTER (WHERE page.n <= v_limit)
    INTO v_items, v_last, v_count, v_accounts
    FROM (SELECT e, row_number() OVER (ORDER BY e.priority, e.due_by, e.id) AS n
          FROM kept.escalations e
          WHERE (v_status = 'all' OR e.status = v_status)
            AND (v_team IS NULL OR kept.team_sees_account(v_team, e.account_id))
            AND (p_reason IS NULL OR e.reason = p_reason)
            AND (p_team IS NULL OR e.team = p_team)
            AND (p_assigned IS NULL OR (p_assigned = 'none' AND e.assigned_to IS NULL)
                 OR e.assigned_to::text = p_assigned)
            AND (p_account IS NULL OR e.account_id = p_account::bigint)
            AND (p_overdue IS NULL OR (e.status = 'open' AND e.due_by < kept.now()) = p_overdue::boolean)
            AND (v_after IS NULL OR (e.priority, (extract(epoch FROM e.due_by) * 1000000)::bigint, e.id)
                                    > (v_after[1]::integer, v_after[2]::bigint, v_after[3]::bigint))
          ORDER BY e.priority, e.due_by, e.id LIMIT v_limit + 1) page;
    PERFORM kept.access_log_write(p_viewer, p_request_id, 'GET', '/v1/escalations', p_path,
                                  ARRAY(SELECT a.customer_id FROM kept.accounts a WHERE a.id = ANY (v_accounts)));
    RETURN json_build_object('items', coalesce(v_items, '[]'::json),
                             'next_cursor', CASE WHEN v_count > v_limit THEN kept.cursor_encode_text('escalation', v_last) END);
END $$;

CREATE OR REPLACE FUNCTION kept.escalation_lock(p_id bigint) RETURNS kept.escalations
LANGUAGE plpgsql AS $$
DECLARE
    e kept.escalations;
BEGIN
    e := kept.lock_or_404(NULL::kept.escalations, p_id, 'FOR UPDATE',
                          'escalation_not_found', 'id', format('no escalation with id %s', p_id));
    IF e.status <> 'open' THEN
        PERFORM kept.fail('conflict', 'escalation_resolved', 'id', format('escalation %s is already resolved', e.id));
    END IF;
    RETURN e;
END $$;

-- {assignee_key_id?}: to that key, or to the caller.
DROP FUNCTION IF EXISTS kept.escalation_assign(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.escalation_assign(p_actor kept.actor, p_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.escalations := kept.escalation_lock(p_id);
    e kept.escalations;
    v_to bigint := coalesce((p->>'assignee_key_id')::bigint, (p_actor).key_id);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
                   WHERE k.id = v_to AND k.revoked_at IS NULL
                     AND kept.key_roles(k, u) && ARRAY['agent', 'supervisor', 'finance', 'admin']
                     AND kept.team_sees_account(CASE WHEN 'admin' = ANY (kept.key_roles(k, u)) THEN NULL ELSE u.team END,
                                                old.account_id)) THEN
        PERFORM kept.fail('rule_violation', 'unknown_assignee', 'assignee_key_id', 'assign to an active key of someone whose team sees this account');
    END IF;
    UPDATE kept.escalations SET assigned_to = v_to, assigned_at = kept.now() WHERE id = p_id RETURNING * INTO e;
    RETURN kept.write_end(p_actor, 'escalation.assigned', 'escalation', e.id,
                          jsonb_build_object('assigned_to', old.assigned_to), jsonb_build_object('assigned_to', v_to),
                          'escalation_assigned', kept.escalation_payload(e), kept.escalation_json(e));
END $$;

DROP FUNCTION IF EXISTS kept.escalation_resolve(bigint, text, text, bigint, jsonb);
CREATE OR REPLACE FUNCTION kept.escalation_resolve(p_actor kept.actor, p_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    e kept.escalations := kept.escalation_lock(p_id);
BEGIN
    IF coalesce(btrim(p->>'note'), '') = '' THEN
        PERFORM kept.fail('invalid', 'note_required', 'note', 'say what was done');
    END IF;
    UPDATE kept.escalations SET status = 'resolved', resolved_by = (p_actor).key_id, resolved_at = kept.now(),
                                resolution_note = p->>'note'
    WHERE id = p_id RETURNING * INTO e;
    PERFORM kept.audit_write(p_actor, 'escalation.resolved', 'escalation', e.id,
                             jsonb_build_object('status', 'open'),
                             jsonb_build_object('status', e.status, 'note', e.resolution_note));
    PERFORM kept.escalation_event(e, 'escalation_resolved');
    IF e.reason = 'repeated_call_failures' THEN
        -- someone has looked at the numbers: automated calls may try them again
        UPDATE kept.customer_phones p SET failed_attempts = 0
        FROM kept.accounts a WHERE a.id = e.account_id AND p.customer_id = a.customer_id;
    END IF;
    RETURN kept.escalation_json(e);
END $$;
