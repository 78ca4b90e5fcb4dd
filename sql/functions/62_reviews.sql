-- Reviews: supervisors review out-of-policy decisions after the fact (upheld,
-- or corrected with a note); a review never blocks the customer. The review
-- is opened by plan_approve (61_plans.sql) when the second associate agrees.

-- A review with the people in it: who made the plan, who approved it (and
-- why: approval_note), who reviewed it (and what they said: review_note;
-- `note` is the same, kept for older clients).
CREATE OR REPLACE FUNCTION kept.review_json(r kept.reviews) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', r.id, 'plan_id', r.plan_id, 'account_id', p.account_id, 'origin', p.origin,
        'weekly_amount_cents', p.weekly_amount_cents, 'total_cents', p.total_cents, 'currency', p.currency,
        'reasons', to_json(r.reasons),
        'plan_created_by', p.created_by, 'plan_created_by_user', kept.user_ref(p.created_by_user),
        'plan_created_by_name', (SELECT u.name FROM kept.users u WHERE u.id = p.created_by_user),
        'approved_by', ap.approved_by, 'approved_by_user', kept.user_ref(ap.approved_by_user),
        'approved_by_name', (SELECT u.name FROM kept.users u WHERE u.id = ap.approved_by_user),
        'approval_note', ap.note, 'approved_at', kept.ts(ap.created_at),
        'first_approved_by', p.first_approved_by,
        'first_approved_by_name', (SELECT name FROM kept.api_keys WHERE id = p.first_approved_by),
        'channel', p.channel,
        'status', r.status,
        'decided_by', r.decided_by, 'decided_by_user', kept.key_user_ref(r.decided_by),
        'decided_by_name', kept.key_user_ref(r.decided_by)->>'name',
        'review_note', r.note, 'note', r.note,
        'decided_at', kept.ts(r.decided_at), 'created_at', kept.ts(r.created_at))
    FROM kept.plans p LEFT JOIN kept.plan_approvals ap ON ap.plan_id = p.id
    WHERE p.id = r.plan_id;
$$;

-- Whether a viewer may read a review of their team's: a key acting as
-- reviewer (supervisor, admin) reads all; anyone else only the reviews of
-- plans their user made or approved (an agent sees how their own decisions
-- were judged, and their corrections). The keptd command line (NULL) reads all.
DROP FUNCTION IF EXISTS kept.review_visible(kept.reviews, bigint, text);
CREATE OR REPLACE FUNCTION kept.review_visible(r kept.reviews, p_viewer bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_viewer IS NULL
        OR EXISTS (SELECT 1 FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
                   WHERE k.id = p_viewer AND kept.key_roles(k, u) && ARRAY['supervisor', 'admin'])
        OR EXISTS (SELECT 1 FROM kept.plans p LEFT JOIN kept.plan_approvals ap ON ap.plan_id = p.id
                   WHERE p.id = r.plan_id
                     AND kept.actor_user(p_viewer) IN (p.created_by_user, ap.approved_by_user));
$$;

-- GET /v1/reviews/{id} (the dispatcher has checked the team and logged the
-- read): 404 for a review the caller may not read, as for one that does not exist.
DROP FUNCTION IF EXISTS kept.review_get(bigint, bigint, text);
CREATE OR REPLACE FUNCTION kept.review_get(p_id bigint, p_viewer bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r kept.reviews;
BEGIN
    SELECT * INTO r FROM kept.reviews WHERE id = p_id;
    IF NOT FOUND OR NOT kept.review_visible(r, p_viewer) THEN
        PERFORM kept.fail('not_found', 'review_not_found', 'id', format('no review with id %s', p_id));
    END IF;
    RETURN kept.review_json(r);
END $$;

-- The queue, oldest first: status 'open' (default), 'upheld', 'corrected' or
-- 'all'. Only the reviews of accounts the viewer's team may see, and of
-- those only the ones the viewer may read; the customers they concern go to
-- the access log.
DROP FUNCTION IF EXISTS kept.review_page(text, text, text);
DROP FUNCTION IF EXISTS kept.review_page(text, text, text, bigint, text);
CREATE OR REPLACE FUNCTION kept.review_page(p_viewer bigint, p_request_id text, p_path text, p_status text,
                                            p_cursor text, p_limit text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
    v_plans bigint[];
    v_status text := coalesce(nullif(p_status, ''), 'open');
    v_after bigint := kept.cursor_decode('review', p_cursor);
    v_limit integer := kept.page_limit(p_limit);
    v_items json;
    v_last bigint;
    v_count integer;
BEGIN
    IF v_status NOT IN ('open', 'upheld', 'corrected', 'all') THEN
        PERFORM kept.fail('invalid', 'invalid_status', 'status', 'status is open, upheld, corrected or all');
    END IF;
    SELECT json_agg(kept.review_json(page.r) ORDER BY (page.r).id) FILTER (WHERE page.n <= v_limit),
           max((page.r).id) FILTER (WHERE page.n <= v_limit), count(*),
           array_agg((page.r).plan_id) FILTER (WHERE page.n <= v_limit)
    INTO v_items, v_last, v_count, v_plans
    FROM (SELECT r, row_number() OVER (ORDER BY r.id) AS n FROM kept.reviews r
          WHERE (v_status = 'all' OR r.status = v_status) AND r.id > v_after
            AND (v_team IS NULL OR kept.team_sees_account(v_team, (SELECT p.account_id FROM kept.plans p
                                                                   WHERE p.id = r.plan_id)))
            AND kept.review_visible(r, p_viewer)
          ORDER BY r.id LIMIT v_limit + 1) page;
    PERFORM kept.access_log_write(p_viewer, p_request_id, 'GET', '/v1/reviews', p_path,
                                  ARRAY(SELECT a.customer_id FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id
                                        WHERE p.id = ANY (v_plans)));
    RETURN kept.page_json(v_items, v_last, v_count, v_limit, 'review');
END $$;

DROP FUNCTION IF EXISTS kept.review_decide(bigint, text, text, bigint, text, text);
CREATE OR REPLACE FUNCTION kept.review_decide(p_actor kept.actor, p_review_id bigint, p_decision text, p_note text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    old kept.reviews;
    r kept.reviews;
BEGIN
    old := kept.lock_or_404(NULL::kept.reviews, p_review_id, 'FOR UPDATE',
                            'review_not_found', 'id', format('no review with id %s', p_review_id));
    IF p_decision NOT IN ('upheld', 'corrected') THEN
        PERFORM kept.fail('invalid', 'invalid_decision', 'decision', 'decision is upheld or corrected');
    END IF;
    IF p_decision = 'corrected' AND coalesce(btrim(p_note), '') = '' THEN
        PERFORM kept.fail('invalid', 'note_required', 'note', 'a correction needs a note saying what should change');
    END IF;
    IF old.status <> 'open' THEN
        PERFORM kept.fail('conflict', 'review_closed', 'id', format('review %s was already %s', old.id, old.status));
    END IF;
    UPDATE kept.reviews SET status = p_decision, decided_by = (p_actor).key_id, note = p_note, decided_at = kept.now()
    WHERE id = old.id RETURNING * INTO r;
    RETURN kept.write_end(p_actor, 'review.decided', 'review', r.id,
                          jsonb_build_object('status', old.status),
                          jsonb_build_object('status', r.status, 'note', r.note), 'review_decided',
                          jsonb_build_object('plan_id', r.plan_id, 'decision', r.status), kept.review_json(r));
END $$;

