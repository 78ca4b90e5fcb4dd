-- History from another system (POST /v1/imports/history): a client's book
-- onboarded with its past — the plans agreed over the past months (who agreed
-- them and when, of every origin), their payments, returned payments and
-- cancellations — as a CSV (one record per line) or as JSON (plans with
-- their payments inside).
--
-- Every record is staged with its line (JSON: its position, and its path),
-- checked set-based (kept.import_history_problems), and, only if no record
-- has a problem, REPLAYED account by account in the order things happened,
-- through the same functions an agent's requests go through, each at its own
-- time on kept's clock (kept.now(), set with SET LOCAL): a plan's first due
-- date must be from that day to 60 days on, an affordability assessment counts
-- only from when it was made, a later plan replaces the one before, the
-- evaluation of the account runs up to each moment (so a plan breaks when its
-- misses broke it). The policy is the creditor's policy as it is now: kept
-- keeps no history of policies, so grace days, the kept threshold and the
-- misses that break a plan are today's. Whatever the replay refuses (kept's
-- own rules, and data or constraint errors) is listed too, and then nothing
-- is written; anything else is a defect and fails the request. The file's
-- accounts are finally judged as of now, in the same transaction, so the
-- background evaluator never sees half a history. Replayed plans have
-- channel `import`; the replay opens no escalation (what happened elsewhere
-- was handled there), the final judgement as of now opens what the evaluator
-- would.
--
-- Rules a history must keep: the account exists in kept and has no plan or
-- payment yet; a plan is within policy (history cannot show the second
-- associate an out-of-policy plan needs); nothing happens before the account
-- was placed, in the future, or to a payment before its plan was agreed; the
-- agent who agreed a plan is a user kept knows who holds the agent,
-- supervisor or admin role — agreed_by is their email, or their name when no
-- other such user has it (they may have left since: inactive users count);
-- a currency, when given, is the account's.

CREATE OR REPLACE FUNCTION kept.import_history_stage() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS import_history_stage (
        line                 integer NOT NULL,
        problems             text,   -- space-separated code or code:field found before SQL (the CSV reader, the JSON shape)
        record               text,
        plan_ref             text,
        account_external_ref text,
        origin               text,
        agreed_at            text,
        agreed_by            text,
        weekly_amount_cents  text,
        first_due_date       text,
        settlement_cents     text,
        installments         text,
        currency             text,
        cancelled_at         text,
        cancel_reason        text,
        amount_cents         text,
        received_at          text,
        source               text,
        source_ref           text,
        reversed_at          text,
        reversal_reason      text,
        path                 text    -- JSON: where the record is, e.g. plans[2].payments[0]
    ) ON COMMIT DROP;
    TRUNCATE pg_temp.import_history_stage;
END $$;

-- The problems of one JSON object's shape: keys kept does not know, and
-- values that are not a string, a number or null, as "code:field" tokens. A
-- key is named only when it is a plain word (a key with a space or a colon
-- could otherwise forge a token of its own).
CREATE OR REPLACE FUNCTION kept.history_json_shape(p_obj jsonb, p_keys text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_obj) <> 'object' THEN 'invalid_record'
                ELSE nullif(concat_ws(' ',
                    (SELECT string_agg('unknown_field:' || CASE WHEN k ~ '^[A-Za-z0-9_]{1,64}$' THEN k ELSE '?' END,
                                       ' ' ORDER BY k)
                     FROM jsonb_object_keys(p_obj) k WHERE k <> ALL (p_keys)),
                    (SELECT string_agg('invalid_type:' || e.key, ' ' ORDER BY e.key) FROM jsonb_each(p_obj) e
                     WHERE e.key = ANY (p_keys) AND e.key <> 'payments'
                       AND jsonb_typeof(e.value) NOT IN ('string', 'number', 'null')),
                    CASE WHEN p_obj ? 'payments' AND jsonb_typeof(p_obj->'payments') NOT IN ('array', 'null')
                         THEN 'invalid_type:payments' END), '') END;
$$;

-- A JSON history: {"plans": [{...plan..., "payments": [{...}, ...]}, ...]}
-- staged as the CSV's records, each plan followed by its payments.
CREATE OR REPLACE FUNCTION kept.import_history_stage_json(p_body text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_doc jsonb;
    v_plan_keys CONSTANT text[] := ARRAY['plan_ref', 'account_external_ref', 'origin', 'agreed_at', 'agreed_by',
        'weekly_amount_cents', 'first_due_date', 'settlement_cents', 'installments', 'currency', 'cancelled_at',
        'cancel_reason', 'payments'];
    v_payment_keys CONSTANT text[] := ARRAY['amount_cents', 'received_at', 'source', 'source_ref', 'reversed_at',
        'reversal_reason', 'currency'];
BEGIN
    BEGIN
        v_doc := p_body::jsonb;
    EXCEPTION WHEN others THEN
        INSERT INTO pg_temp.import_history_stage (line, problems, path) VALUES (1, 'invalid_json', '$');
        RETURN;
    END;
    IF jsonb_typeof(v_doc) <> 'object' OR jsonb_typeof(v_doc->'plans') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(v_doc) k WHERE k <> 'plans') THEN
        INSERT INTO pg_temp.import_history_stage (line, problems, path) VALUES (1, 'invalid_document', '$');
        RETURN;
    END IF;
    INSERT INTO pg_temp.import_history_stage (line, problems, record, plan_ref, account_external_ref, origin,
        agreed_at, agreed_by, weekly_amount_cents, first_due_date, settlement_cents, installments, currency,
        cancelled_at, cancel_reason, amount_cents, received_at, source, source_ref, reversed_at, reversal_reason, path)
    SELECT row_number() OVER (ORDER BY r.pi, r.pj NULLS FIRST), r.problems, r.record, r.plan_ref, r.account, r.origin,
           r.agreed_at, r.agreed_by, r.weekly, r.first_due, r.settlement, r.installments, r.currency, r.cancelled_at,
           r.cancel_reason, r.amount, r.received_at, r.source, r.source_ref, r.reversed_at, r.reversal_reason, r.path
    FROM (
        SELECT t.pi, NULL::bigint AS pj, kept.history_json_shape(t.p, v_plan_keys) AS problems, 'plan' AS record,
               t.p->>'plan_ref' AS plan_ref, t.p->>'account_external_ref' AS account, t.p->>'origin' AS origin,
               t.p->>'agreed_at' AS agreed_at, t.p->>'agreed_by' AS agreed_by, t.p->>'weekly_amount_cents' AS weekly,
               t.p->>'first_due_date' AS first_due, t.p->>'settlement_cents' AS settlement,
               t.p->>'installments' AS installments, t.p->>'currency' AS currency, t.p->>'cancelled_at' AS cancelled_at,
               t.p->>'cancel_reason' AS cancel_reason, NULL AS amount, NULL AS received_at, NULL AS source,
               NULL AS source_ref, NULL AS reversed_at, NULL AS reversal_reason, format('plans[%s]', t.pi - 1) AS path
        FROM jsonb_array_elements(v_doc->'plans') WITH ORDINALITY t(p, pi)
        UNION ALL
        SELECT t.pi, u.pj, kept.history_json_shape(u.q, v_payment_keys), 'payment', t.p->>'plan_ref',
               t.p->>'account_external_ref', NULL, NULL, NULL, NULL, NULL, NULL, NULL, u.q->>'currency', NULL, NULL,
               u.q->>'amount_cents', u.q->>'received_at', u.q->>'source', u.q->>'source_ref', u.q->>'reversed_at',
               u.q->>'reversal_reason', format('plans[%s].payments[%s]', t.pi - 1, u.pj - 1)
        FROM jsonb_array_elements(v_doc->'plans') WITH ORDINALITY t(p, pi)
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(t.p) = 'object'
                                                          AND jsonb_typeof(t.p->'payments') = 'array'
                                                     THEN t.p->'payments' ELSE '[]' END) WITH ORDINALITY u(q, pj)
    ) r;
END $$;

-- Text that is a time kept takes (kept.is_timestamp), or NULL.
CREATE OR REPLACE FUNCTION kept.parse_timestamp(v text) RETURNS timestamptz
LANGUAGE sql STABLE
RETURN CASE WHEN kept.is_timestamp(v) THEN v::timestamptz END;

-- A whole number of cents (at most 15 digits), or NULL.
CREATE OR REPLACE FUNCTION kept.parse_cents(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN v ~ '^[0-9]{1,15}$' THEN v::bigint END;

-- Each staged record with its values read and what it refers to looked up.
CREATE OR REPLACE FUNCTION kept.import_history_resolve() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.import_history_resolved;
    CREATE TEMP TABLE import_history_resolved ON COMMIT DROP AS
    WITH plan_lines AS (
        SELECT DISTINCT ON (s.plan_ref) s.plan_ref, s.line, s.account_external_ref,
               kept.parse_timestamp(s.agreed_at) AS agreed
        FROM pg_temp.import_history_stage s WHERE s.record = 'plan' AND s.plan_ref IS NOT NULL
        ORDER BY s.plan_ref, s.line
    )
    SELECT s.*,
           kept.parse_timestamp(s.agreed_at) AS agreed, kept.parse_timestamp(s.cancelled_at) AS cancelled,
           kept.parse_timestamp(s.received_at) AS received, kept.parse_timestamp(s.reversed_at) AS reversed,
           kept.parse_date(s.first_due_date) AS first_due, kept.parse_cents(s.weekly_amount_cents) AS weekly,
           kept.parse_cents(s.settlement_cents) AS settlement, kept.parse_cents(s.amount_cents) AS amount,
           CASE WHEN s.installments ~ '^[0-9]{1,2}$' THEN s.installments::integer END AS installment_count,
           pl.line AS plan_line, pl.agreed AS plan_agreed, pl.account_external_ref AS plan_account_ref,
           a.id AS account_id, a.currency AS account_currency,
           a.placed_on::timestamp AT TIME ZONE cu.time_zone AS placed_at, a.placed_on,
           EXISTS (SELECT 1 FROM kept.plans x WHERE x.account_id = a.id)
               OR EXISTS (SELECT 1 FROM kept.payments x WHERE x.account_id = a.id) AS account_active,
           kept.history_agent(s.agreed_by) AS agent_id,
           (SELECT count(*) FROM kept.users u WHERE u.name = s.agreed_by
                                               AND u.roles && ARRAY['agent', 'supervisor', 'admin']) AS agent_names,
           (SELECT x.id FROM kept.payments x WHERE x.source = s.source AND x.source_ref = s.source_ref) AS posted_id,
           count(*) FILTER (WHERE s.record = 'plan') OVER (PARTITION BY s.record, s.plan_ref) AS plan_ref_count,
           row_number() OVER (PARTITION BY s.record, s.plan_ref ORDER BY s.line) AS plan_ref_rank,
           row_number() OVER (PARTITION BY s.record, s.source, s.source_ref ORDER BY s.line) AS source_ref_rank
    FROM pg_temp.import_history_stage s
    LEFT JOIN plan_lines pl ON pl.plan_ref = s.plan_ref
    LEFT JOIN kept.accounts a ON a.external_ref = coalesce(s.account_external_ref, pl.account_external_ref)
    LEFT JOIN kept.customers cu ON cu.id = a.customer_id;
    ANALYZE pg_temp.import_history_resolved;
END $$;

-- The message of a problem code found before SQL.
CREATE OR REPLACE FUNCTION kept.history_shape_message(p_code text, p_field text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE p_code
    WHEN 'invalid_json' THEN 'the body is not JSON'
    WHEN 'invalid_document' THEN 'a history is {"plans": [...]}, each plan with its "payments": [...]'
    WHEN 'invalid_record' THEN 'each plan and payment is a JSON object'
    WHEN 'unknown_field' THEN p_field || ' is not a field of a history record'
    WHEN 'invalid_type' THEN p_field || ' must be a string or a number'
    WHEN 'invalid_utf8' THEN 'the line is not valid UTF-8'
    WHEN 'wrong_field_count' THEN 'the line has a different number of fields than the header'
    ELSE 'the line is not well-formed CSV' END;

-- Every problem of every record, in line order: the shape's, then the
-- rules', then whatever the replay refused.
CREATE OR REPLACE FUNCTION kept.import_history_problems()
RETURNS TABLE (line integer, code text, field text, message text, path text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- a record whose values could be read (at most an unknown field or a value of the wrong type) meets every rule too
    WITH r AS (SELECT * FROM pg_temp.import_history_resolved x
               WHERE NOT EXISTS (SELECT 1 FROM string_to_table(x.problems, ' ') t
                                 WHERE split_part(t, ':', 1) NOT IN ('unknown_field', 'invalid_type'))),
    p AS (SELECT * FROM r WHERE record = 'plan'),
    pay AS (SELECT * FROM r WHERE record = 'payment'),
    found AS (
        SELECT s.line, split_part(t, ':', 1) AS code, nullif(split_part(t, ':', 2), '') AS field, s.path
        FROM pg_temp.import_history_resolved s CROSS JOIN LATERAL string_to_table(s.problems, ' ') t
        WHERE s.problems IS NOT NULL
    ), rules AS (
        SELECT line, 'invalid_record' AS code, 'record' AS field, 'record is plan or payment' AS message, path
        FROM r WHERE record IS DISTINCT FROM 'plan' AND record IS DISTINCT FROM 'payment'
        UNION ALL SELECT line, 'missing_value', 'plan_ref', 'plan_ref is required: the plan''s reference in this file', path
        FROM r WHERE plan_ref IS NULL
        UNION ALL SELECT line, 'invalid_reference', 'plan_ref',
                         'plan_ref is 1-64 of A-Z a-z 0-9 . _ : / - starting with a letter or digit', path
        FROM r WHERE NOT kept.is_reference(plan_ref)
        -- plans
        UNION ALL SELECT line, 'duplicate_in_file', 'plan_ref', 'this plan_ref is on an earlier plan line', path
        FROM p WHERE plan_ref_rank > 1
        UNION ALL SELECT line, 'missing_value', 'account_external_ref', 'account_external_ref is required', path
        FROM p WHERE account_external_ref IS NULL
        UNION ALL SELECT line, 'unknown_account', 'account_external_ref', 'no account with this reference', path
        FROM p WHERE account_external_ref IS NOT NULL AND account_id IS NULL
        UNION ALL SELECT line, 'account_has_activity', 'account_external_ref',
                         'the account already has plans or payments in kept; history comes before them', path
        FROM p WHERE account_active AND plan_ref_rank = 1
        UNION ALL SELECT line, 'invalid_origin', 'origin', 'origin is customer_proposed, agent_set or settlement', path
        FROM p WHERE origin IS NULL OR origin NOT IN ('customer_proposed', 'agent_set', 'settlement')
        UNION ALL SELECT line, 'invalid_timestamp', 'agreed_at', 'agreed_at must be a time like 2026-03-02T10:00:00Z', path
        FROM p WHERE agreed IS NULL
        UNION ALL SELECT line, 'in_future', 'agreed_at', 'history is in the past: agreed_at is after now', path
        FROM p WHERE agreed > now()
        UNION ALL SELECT line, 'before_placed', 'agreed_at',
                         format('the account was placed on %s; nothing happens to it before that', placed_on), path
        FROM p WHERE agreed < placed_at
        UNION ALL SELECT line, 'missing_value', 'agreed_by', 'agreed_by is required: the agent who agreed the plan', path
        FROM p WHERE agreed_by IS NULL
        UNION ALL SELECT line, 'unknown_agent', 'agreed_by', 'no agent, supervisor or admin with that email or name in kept', path
        FROM p WHERE agreed_by IS NOT NULL AND agent_id IS NULL AND agent_names < 2
        UNION ALL SELECT line, 'ambiguous_agent', 'agreed_by', 'several users have that name: give their email', path
        FROM p WHERE agreed_by IS NOT NULL AND agent_id IS NULL AND agent_names > 1
        UNION ALL SELECT line, 'invalid_date', 'first_due_date', 'first_due_date must be a real date YYYY-MM-DD', path
        FROM p WHERE first_due IS NULL
        UNION ALL SELECT line, 'invalid_amount', 'weekly_amount_cents',
                         'weekly_amount_cents is a positive whole number of cents for this origin', path
        FROM p WHERE origin IN ('customer_proposed', 'agent_set') AND coalesce(weekly, 0) = 0
        UNION ALL SELECT line, 'invalid_amount', 'settlement_cents',
                         'settlement_cents is the agreed figure: a positive whole number of cents', path
        FROM p WHERE origin = 'settlement' AND coalesce(settlement, 0) = 0
        UNION ALL SELECT line, 'invalid_installments', 'installments', 'a settlement is 1 to 12 weekly installments', path
        FROM p WHERE origin = 'settlement' AND coalesce(installment_count, 0) NOT BETWEEN 1 AND 12
        UNION ALL SELECT line, 'unexpected_value', f.field, f.field || ' does not belong on this line', path
        FROM p CROSS JOIN LATERAL (VALUES
            ('weekly_amount_cents', origin = 'settlement' AND weekly_amount_cents IS NOT NULL),
            ('settlement_cents', origin IS DISTINCT FROM 'settlement' AND settlement_cents IS NOT NULL),
            ('installments', origin IS DISTINCT FROM 'settlement' AND installments IS NOT NULL),
            ('amount_cents', amount_cents IS NOT NULL), ('received_at', received_at IS NOT NULL),
            ('source', source IS NOT NULL), ('source_ref', source_ref IS NOT NULL),
            ('reversed_at', reversed_at IS NOT NULL), ('reversal_reason', reversal_reason IS NOT NULL)) f(field, bad)
        WHERE f.bad
        UNION ALL SELECT line, 'invalid_timestamp', 'cancelled_at', 'cancelled_at must be a time like 2026-03-02T10:00:00Z', path
        FROM p WHERE cancelled_at IS NOT NULL AND cancelled IS NULL
        UNION ALL SELECT line, 'in_future', 'cancelled_at', 'history is in the past: cancelled_at is after now', path
        FROM p WHERE cancelled > now()
        UNION ALL SELECT line, 'cancelled_before_agreed', 'cancelled_at', 'a plan is cancelled after it was agreed', path
        FROM p WHERE cancelled < agreed
        UNION ALL SELECT line, 'missing_value', 'cancel_reason', 'cancel_reason is required with cancelled_at', path
        FROM p WHERE cancelled_at IS NOT NULL AND cancel_reason IS NULL
        -- both
        UNION ALL SELECT line, 'invalid_currency', 'currency', kept.rule_message('currency'), path
        FROM r WHERE currency IS NOT NULL AND NOT kept.is_currency(currency)
        UNION ALL SELECT line, 'currency_mismatch', 'currency', format('the account''s currency is %s', account_currency), path
        FROM r WHERE kept.is_currency(currency) AND currency IS DISTINCT FROM account_currency AND account_id IS NOT NULL
        -- payments
        UNION ALL SELECT line, 'unknown_plan_ref', 'plan_ref', 'no plan line has this plan_ref', path
        FROM pay WHERE plan_ref IS NOT NULL AND plan_line IS NULL
        UNION ALL SELECT line, 'account_mismatch', 'account_external_ref', 'this is not the account of the payment''s plan', path
        FROM pay WHERE account_external_ref IS NOT NULL AND plan_line IS NOT NULL
                   AND account_external_ref IS DISTINCT FROM plan_account_ref
        UNION ALL SELECT line, 'invalid_amount', 'amount_cents', 'amount_cents must be a positive whole number of cents', path
        FROM pay WHERE coalesce(amount, 0) = 0
        UNION ALL SELECT line, 'invalid_timestamp', 'received_at', 'received_at must be a time like 2026-03-02T10:00:00Z', path
        FROM pay WHERE received IS NULL
        UNION ALL SELECT line, 'in_future', 'received_at', 'history is in the past: received_at is after now', path
        FROM pay WHERE received > now()
        UNION ALL SELECT line, 'payment_before_plan', 'received_at', 'a payment of a plan is received after the plan was agreed', path
        FROM pay WHERE received < plan_agreed
        UNION ALL SELECT line, 'before_placed', 'received_at',
                         format('the account was placed on %s; no payment is received before that', placed_on), path
        FROM pay WHERE received < placed_at
        UNION ALL SELECT line, 'invalid_source', 'source', kept.rule_message('source'), path
        -- the rule read once (an InitPlan), not once a line
        FROM pay WHERE source IS NULL OR source !~ (SELECT (kept.field_rule('source')).pattern)
        UNION ALL SELECT line, 'invalid_source_ref', 'source_ref', kept.rule_message('source_ref'), path
        FROM pay WHERE source_ref IS NULL
                    OR length(source_ref) > (SELECT (kept.field_rule('source_ref')).max_chars)
                    OR source_ref ~ '[[:cntrl:]]'
        UNION ALL SELECT line, 'duplicate_in_file', 'source_ref', 'this source and source_ref are on an earlier line', path
        FROM pay WHERE source_ref_rank > 1 AND source IS NOT NULL AND source_ref IS NOT NULL
        UNION ALL SELECT line, 'duplicate_source_ref', 'source_ref', 'a payment with this source and source_ref was already posted', path
        FROM pay WHERE posted_id IS NOT NULL
        UNION ALL SELECT line, 'invalid_timestamp', 'reversed_at', 'reversed_at must be a time like 2026-03-02T10:00:00Z', path
        FROM pay WHERE reversed_at IS NOT NULL AND reversed IS NULL
        UNION ALL SELECT line, 'in_future', 'reversed_at', 'history is in the past: reversed_at is after now', path
        FROM pay WHERE reversed > now()
        UNION ALL SELECT line, 'reversed_before_received', 'reversed_at', 'a payment is returned after it was received', path
        FROM pay WHERE reversed < received
        UNION ALL SELECT line, 'missing_value', 'reversal_reason', 'reversal_reason is required with reversed_at', path
        FROM pay WHERE reversed_at IS NOT NULL AND reversal_reason IS NULL
        UNION ALL SELECT line, 'unexpected_value', f.field, f.field || ' does not belong on a payment line', path
        FROM pay CROSS JOIN LATERAL (VALUES
            ('origin', origin), ('agreed_at', agreed_at), ('agreed_by', agreed_by),
            ('weekly_amount_cents', weekly_amount_cents), ('first_due_date', first_due_date),
            ('settlement_cents', settlement_cents), ('installments', installments), ('cancelled_at', cancelled_at),
            ('cancel_reason', cancel_reason)) f(field, value)
        WHERE f.value IS NOT NULL
    )
    SELECT f.line, f.code, f.field, kept.history_shape_message(f.code, f.field), f.path FROM found f
    UNION ALL SELECT * FROM rules
    UNION ALL SELECT x.line, x.code, x.field, x.message, x.path FROM pg_temp.import_history_replayed x
    ORDER BY 1, 3;
END $$;

-- The user agreed_by names: the one with that email, else the only one of
-- that name, holding the agent, supervisor or admin role; NULL otherwise.
CREATE OR REPLACE FUNCTION kept.history_agent(p_agreed_by text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT u.id FROM kept.users u WHERE lower(u.email) = lower(p_agreed_by)
                                        AND u.roles && ARRAY['agent', 'supervisor', 'admin']),
        (SELECT min(u.id) FROM kept.users u WHERE u.name = p_agreed_by
                                             AND u.roles && ARRAY['agent', 'supervisor', 'admin']
         HAVING count(*) = 1));
$$;

-- One plan line at its time (the clock is set): the origin's own path, the
-- account's open plan replaced, made by the agent's user (kept.actor_user;
-- they need no key of their own). A plan the policy leaves waiting for a
-- second associate is refused. p_actor names the import (its key is not
-- the agent's, so none is passed on).
DROP FUNCTION IF EXISTS kept.history_plan(bigint, text, bigint, bigint, date, bigint, integer, text, text);
CREATE OR REPLACE FUNCTION kept.history_plan(p_actor kept.actor, p_account bigint, p_origin text, p_agent_user bigint,
                                             p_weekly bigint, p_first_due date, p_settlement bigint,
                                             p_installments integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_replaces bigint := (SELECT id FROM kept.plan_newest_open(p_account));
    v_agent CONSTANT kept.actor := ROW(NULL, (p_actor).name, (p_actor).request_id); -- no key: the user below
    v_plan json;
    v_other json;
BEGIN
    PERFORM set_config('kept.actor_user', p_agent_user::text, true);
    IF p_origin = 'customer_proposed' THEN
        v_other := kept.proposal_create(v_agent, p_account,
                                        jsonb_build_object('weekly_amount_cents', p_weekly, 'first_due_date', p_first_due));
        v_plan := kept.plan_create(v_agent, p_account,
                                   jsonb_build_object('proposal_id', v_other->'id', 'replaces_plan_id', v_replaces));
    ELSIF p_origin = 'agent_set' THEN
        v_plan := kept.plan_create(v_agent, p_account,
                                   jsonb_build_object('weekly_amount_cents', p_weekly, 'first_due_date', p_first_due,
                                                      'replaces_plan_id', v_replaces));
    ELSE
        v_other := kept.settlement_offer_create(v_agent, p_account,
                                                jsonb_build_object('offer_cents', p_settlement));
        v_plan := kept.settlement_accept(v_agent, (v_other->>'id')::bigint,
                                         jsonb_build_object('amount_cents', p_settlement, 'first_due_date', p_first_due,
                                                            'installments', p_installments,
                                                            'replaces_plan_id', v_replaces));
    END IF;
    IF v_plan->>'status' <> 'active' THEN
        PERFORM kept.fail('rule_violation', 'out_of_policy', CASE WHEN p_origin = 'settlement' THEN 'settlement_cents'
                                                     ELSE 'weekly_amount_cents' END,
                          format('out of policy (%s): a plan needing a second associate cannot come from history',
                                 (SELECT string_agg(x, ', ') FROM json_array_elements_text(v_plan->'reasons') x)));
    END IF;
    PERFORM set_config('kept.actor_user', '', true);
    RETURN (v_plan->>'id')::bigint;
END $$;

-- Replays the staged history (see the top of this file). Answers the
-- summary, or NULL when the replay refused something (its problems are then
-- in pg_temp.import_history_replayed and the caller rolls back).
DROP FUNCTION IF EXISTS kept.import_history_write(bigint, text, text, text);
CREATE OR REPLACE FUNCTION kept.import_history_write(p_actor kept.actor, p_file_sha256 text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_actor kept.actor := ROW((p_actor).key_id, 'history import (' || (p_actor).name || ')', (p_actor).request_id);
    v_failed bigint[] := '{}';
    v_plans jsonb := '{}'; -- plan_ref -> plan id
    v_pay json;
    v_judged integer := 0;
    v_account bigint;
    v_import bigint;
    v_counts record;
    v_message text;
    v_code text;
    v_field text;
    v_state text;
    e record;
BEGIN
    PERFORM set_config('kept.history', 'on', true);
    -- account by account (nothing of one account touches another), each in one
    -- subtransaction: the first refusal ends that account's replay and is listed
    FOR v_account IN SELECT DISTINCT account_id FROM pg_temp.import_history_resolved ORDER BY 1 LOOP
        BEGIN
            FOR e IN
                SELECT r.*, x.kind, x.at FROM pg_temp.import_history_resolved r
                CROSS JOIN LATERAL (VALUES ('plan', 0, r.agreed), ('cancel', 3, r.cancelled), ('payment', 1, r.received),
                                           ('reversal', 2, r.reversed)) x(kind, kind_order, at)
                WHERE r.account_id = v_account AND x.at IS NOT NULL AND (x.kind IN ('plan', 'cancel')) = (r.record = 'plan')
                ORDER BY x.at, x.kind_order, r.line
            LOOP
                PERFORM kept.evaluate_account(e.account_id, e.at);
                PERFORM set_config('kept.clock', kept.ts(e.at), true);
                CASE e.kind
                WHEN 'plan' THEN
                    v_plans := v_plans || jsonb_build_object(e.plan_ref, kept.history_plan(
                                   v_actor, e.account_id, e.origin, e.agent_id, e.weekly, e.first_due, e.settlement,
                                   e.installment_count));
                WHEN 'cancel' THEN
                    PERFORM kept.plan_cancel(v_actor, (v_plans->>e.plan_ref)::bigint, e.cancel_reason);
                WHEN 'payment' THEN
                    v_pay := kept.payment_post(v_actor, jsonb_build_object(
                                 'account_id', e.account_id, 'amount_cents', e.amount,
                                 'received_at', kept.ts(e.received), 'source', e.source, 'source_ref', e.source_ref),
                                 NULL);
                ELSE
                    PERFORM kept.payment_reverse(v_actor,
                        (SELECT id FROM kept.payments WHERE source = e.source AND source_ref = e.source_ref),
                        e.reversal_reason);
                END CASE;
                -- what the event flagged (a judged week missed after all) is decided at its time
                PERFORM kept.evaluate_account_flags(e.account_id, e.at);
                PERFORM set_config('kept.clock', '', true);
            END LOOP;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_code = PG_EXCEPTION_HINT, v_field = COLUMN_NAME,
                                    v_state = RETURNED_SQLSTATE;
            IF v_state !~ '^(KR|22|23)' THEN
                RAISE; -- not a refusal: a defect, or a serialization failure the transaction is retried for
            END IF;
            INSERT INTO pg_temp.import_history_replayed
            VALUES (e.line, coalesce(nullif(v_code, ''), 'refused'), nullif(v_field, ''),
                    format('%s (at %s, replaying the %s)', v_message, kept.ts(e.at), e.kind), e.path);
            v_failed := v_failed || e.account_id;
        END;
    END LOOP;
    PERFORM set_config('kept.clock', '', true);
    PERFORM set_config('kept.history', '', true);
    IF cardinality(v_failed) > 0 THEN
        RETURN NULL;
    END IF;
    -- as of now, on the real clock: whatever's time has come is judged
    FOR v_account IN SELECT DISTINCT account_id FROM pg_temp.import_history_resolved ORDER BY 1 LOOP
        v_judged := v_judged + kept.evaluate_account(v_account, now());
    END LOOP;
    SELECT count(*) AS records, count(DISTINCT account_id) AS accounts,
           count(*) FILTER (WHERE record = 'plan') AS plans, count(*) FILTER (WHERE record = 'payment') AS payments,
           count(*) FILTER (WHERE reversed IS NOT NULL) AS reversals,
           count(*) FILTER (WHERE cancelled IS NOT NULL) AS cancellations
    INTO v_counts FROM pg_temp.import_history_resolved;
    INSERT INTO kept.history_imports (file_sha256, records, accounts, plans, payments, reversals, cancellations,
                                      imported_by)
    VALUES (p_file_sha256, v_counts.records, v_counts.accounts, v_counts.plans, v_counts.payments,
            v_counts.reversals, v_counts.cancellations, (p_actor).key_id)
    RETURNING id INTO v_import;
    RETURN kept.write_end(p_actor, 'history.imported', 'history_import', v_import, NULL,
                          jsonb_build_object('file_sha256', p_file_sha256) || to_jsonb(v_counts), NULL, NULL,
                          json_build_object('import_id', v_import, 'records', v_counts.records,
                                            'accounts', v_counts.accounts, 'plans', v_counts.plans,
                                            'payments', v_counts.payments, 'reversals', v_counts.reversals,
                                            'cancellations', v_counts.cancellations,
                                            'installments_judged_now', v_judged, 'plan_ids', v_plans));
END $$;

-- Where the replay's refusals go (made empty with each import).
CREATE OR REPLACE FUNCTION kept.import_history_begin() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kept.import_history_stage();
    CREATE TEMP TABLE IF NOT EXISTS import_history_replayed (
        line integer, code text, field text, message text, path text) ON COMMIT DROP;
    TRUNCATE pg_temp.import_history_replayed;
END $$;
