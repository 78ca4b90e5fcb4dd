-- Bulk payments (POST /v1/imports/payments): a processor's daily file.
--
-- keptd parses the CSV, checks each value's format (service/src/text/, the
-- mirror of the SQL rules) and COPYs every record into a typed staging table
-- with its line and the format problems it found. kept.import_payments_resolve()
-- resolves each line once (account, the payment already posted with that
-- source and source_ref, its rank among duplicates, the running total per
-- account); every problem of every line is then listed and, if there is any,
-- nothing is posted. Lines whose (source, source_ref) was posted before with
-- the same account and amount are duplicates, skipped and counted: loading a
-- file twice posts nothing twice. The rest is posted set-based: balances,
-- payments, allocations to the oldest unpaid installments, all in keptd's one
-- transaction. One audit event records the import.
--
-- The temporary tables are ANALYZEd as they are filled: autovacuum never
-- sees them, and a plan guessed for a thousand rows is ruinous for a million.

CREATE OR REPLACE FUNCTION kept.import_payments_stage() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- a big file's sorts and hashes in memory rather than on disk (this transaction only)
    PERFORM set_config('work_mem', '256MB', true);
    CREATE TEMP TABLE IF NOT EXISTS import_payments_stage (
        line                 integer NOT NULL,
        problems             text,   -- keptd's findings: space-separated code or code:field
        account_external_ref text,
        amount_cents         bigint,
        received_at          timestamptz,
        source               text,
        source_ref           text
    ) ON COMMIT DROP;
    TRUNCATE pg_temp.import_payments_stage;
END $$;

-- An RFC 3339 / ISO 8601 time that names a real instant PostgreSQL can hold
-- (years 0001-9999, offsets up to 15:59); no exception blocks. keptd checks
-- file lines with its mirror, text_is_timestamp (service/src/text/).
CREATE OR REPLACE FUNCTION kept.is_timestamp(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN v ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$'
       AND substr(v, 1, 4) <> '0000'
       AND substr(v, 9, 2)::integer <= extract(day FROM make_date(substr(v, 1, 4)::integer, substr(v, 6, 2)::integer, 1)
                                                      + interval '1 month - 1 day');

DROP FUNCTION IF EXISTS kept.import_payments_resolve();
CREATE OR REPLACE FUNCTION kept.import_payments_resolve(p_viewer bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_team text := kept.viewer_team(p_viewer);
BEGIN
    ANALYZE pg_temp.import_payments_stage;
    DROP TABLE IF EXISTS pg_temp.import_payments_resolved;
    CREATE TEMP TABLE import_payments_resolved ON COMMIT DROP AS
    SELECT s.line, s.problems, s.account_external_ref, s.amount_cents AS amount, s.received_at, s.source,
           s.source_ref, a.id AS account_id, a.balance_cents, a.currency,
           a.placed_on::timestamp AT TIME ZONE cu.time_zone AS placed_at, p.id AS existing_id, p.account_id AS existing_account, p.amount_cents AS existing_amount,
           row_number() OVER (PARTITION BY s.source, s.source_ref ORDER BY s.line) AS dup_rank,
           sum(CASE WHEN p.id IS NULL THEN s.amount_cents ELSE 0 END)
               OVER (PARTITION BY a.id ORDER BY s.line) AS running
    FROM pg_temp.import_payments_stage s
    LEFT JOIN kept.accounts a ON a.external_ref = s.account_external_ref
                              AND (v_team IS NULL OR kept.creditor_team(a.creditor) = v_team)
    LEFT JOIN kept.customers cu ON cu.id = a.customer_id
    LEFT JOIN kept.payments p ON p.source = s.source AND p.source_ref = s.source_ref;
    ANALYZE pg_temp.import_payments_resolved;
END $$;

-- Every problem of every line, in line order: those keptd found in the
-- values, then one scan per rule that needs the database.
CREATE OR REPLACE FUNCTION kept.import_payments_problems()
RETURNS TABLE (line integer, code text, field text, message text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH found AS (
        SELECT r.line, split_part(t, ':', 1) AS code, nullif(split_part(t, ':', 2), '') AS field
        FROM pg_temp.import_payments_resolved r CROSS JOIN LATERAL string_to_table(r.problems, ' ') t
        WHERE r.problems IS NOT NULL
    )
    SELECT f.line, f.code, f.field,
           CASE f.code
               WHEN 'missing_value' THEN f.field || ' is required'
               WHEN 'invalid_amount' THEN 'amount_cents must be a positive whole number of cents (at most 15 digits)'
               WHEN 'invalid_received_at' THEN 'received_at must be a time like 2026-11-20T14:05:00Z'
               WHEN 'invalid_source' THEN kept.rule_message('source')
               WHEN 'invalid_source_ref' THEN kept.rule_message('source_ref')
               WHEN 'invalid_utf8' THEN 'the line is not valid UTF-8'
               ELSE 'the line is not well-formed CSV' END
    FROM found f
    UNION ALL
    SELECT r.line, 'unknown_account', 'account_external_ref', 'no account with this reference'
    FROM pg_temp.import_payments_resolved r WHERE r.account_external_ref IS NOT NULL AND r.account_id IS NULL
    UNION ALL
    SELECT r.line, 'received_at_in_future', 'received_at', 'a payment cannot be received in the future'
    FROM pg_temp.import_payments_resolved r WHERE r.received_at > kept.now() + interval '5 minutes'
    UNION ALL
    SELECT r.line, 'received_before_placed', 'received_at',
           'a payment cannot be received before the day its account was placed'
    FROM pg_temp.import_payments_resolved r WHERE r.received_at < r.placed_at
    UNION ALL
    SELECT r.line, 'duplicate_in_file', 'source_ref', 'this source_ref is on an earlier line'
    FROM pg_temp.import_payments_resolved r
    WHERE r.dup_rank > 1 AND r.source IS NOT NULL AND r.source_ref IS NOT NULL
    UNION ALL
    SELECT r.line, 'source_ref_conflict', 'source_ref', 'this source_ref was posted before with another account or amount'
    FROM pg_temp.import_payments_resolved r
    WHERE r.existing_id IS NOT NULL
      AND (r.existing_account IS DISTINCT FROM r.account_id OR r.existing_amount IS DISTINCT FROM r.amount)
    UNION ALL
    SELECT r.line, 'payment_above_balance', 'amount_cents',
           'the account''s payments in this file come to more than its balance'
    FROM pg_temp.import_payments_resolved r WHERE r.existing_id IS NULL AND r.running > r.balance_cents
    ORDER BY 1, 3;
END $$;

DROP FUNCTION IF EXISTS kept.import_payments_write(bigint, text, text, text);
CREATE OR REPLACE FUNCTION kept.import_payments_write(p_actor kept.actor, p_file_sha256 text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_import bigint;
    v_lines integer;
    v_posted integer;
    v_amount bigint;
    v_account kept.accounts;
    v_plan bigint;
    v_hashjoin text;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE existing_id IS NULL),
           coalesce(sum(amount) FILTER (WHERE existing_id IS NULL), 0)
    INTO v_lines, v_posted, v_amount
    FROM pg_temp.import_payments_resolved;
    INSERT INTO kept.payment_imports (file_sha256, lines, posted, duplicates, amount_cents, imported_by)
    VALUES (p_file_sha256, v_lines, v_posted, v_lines - v_posted, v_amount, (p_actor).key_id)
    RETURNING id INTO v_import;

    -- balances fall: one UPDATE walking the accounts in id order (a merge or
    -- nested-loop join over the sorted totals; a hash join would take their
    -- locks in table order), instead of locking them first and updating after
    v_hashjoin := current_setting('enable_hashjoin');
    PERFORM set_config('enable_hashjoin', 'off', true);
    CREATE TEMP TABLE import_payments_fell ON COMMIT DROP AS
    WITH totals AS (
        SELECT account_id, sum(amount) AS total FROM pg_temp.import_payments_resolved
        WHERE existing_id IS NULL GROUP BY account_id ORDER BY account_id
    ), fell AS (
        UPDATE kept.accounts a SET balance_cents = a.balance_cents - t.total, version = version + 1, updated_at = kept.now()
        FROM totals t WHERE a.id = t.account_id
        RETURNING a.id, a.balance_cents + t.total AS before, a.balance_cents AS after
    )
    SELECT * FROM fell;
    PERFORM set_config('enable_hashjoin', v_hashjoin, true);
    ANALYZE pg_temp.import_payments_fell;
    CREATE TEMP TABLE import_payments_accounts ON COMMIT DROP AS
    SELECT f.id, f.before, f.after, pl.id AS plan_id, pl.weekly_amount_cents
    FROM pg_temp.import_payments_fell f LEFT JOIN kept.plans pl ON pl.account_id = f.id AND pl.status = 'active';
    ANALYZE pg_temp.import_payments_accounts;

    INSERT INTO kept.payments (account_id, amount_cents, currency, received_at, source, source_ref, import_id,
                               posted_by, balance_after_cents, plan_id)
    SELECT r.account_id, r.amount, r.currency, r.received_at, r.source, r.source_ref, v_import, (p_actor).key_id,
           t.before - r.running, t.plan_id
    FROM pg_temp.import_payments_resolved r JOIN pg_temp.import_payments_accounts t ON t.id = r.account_id
    WHERE r.existing_id IS NULL
    ORDER BY r.line;

    PERFORM kept.import_payments_allocate(v_import);

    -- whatever reached its end
    FOR v_account IN SELECT acc.* FROM kept.accounts acc JOIN pg_temp.import_payments_accounts t ON t.id = acc.id
                     WHERE t.after = 0 OR t.plan_id IS NOT NULL AND EXISTS (
                         SELECT 1 FROM kept.plans pl WHERE pl.id = t.plan_id AND pl.origin = 'settlement') LOOP
        SELECT plan_id INTO v_plan FROM pg_temp.import_payments_accounts WHERE id = v_account.id;
        PERFORM kept.account_settle_up(p_actor, v_account, v_plan);
    END LOOP;

    PERFORM kept.audit_write(p_actor, 'payments.imported', 'payment_import', v_import,
                             NULL, jsonb_build_object('file_sha256', p_file_sha256, 'lines', v_lines,
                                                      'posted', v_posted, 'duplicates', v_lines - v_posted,
                                                      'amount_cents', v_amount));
    PERFORM kept.outbox_write('payments_imported', 'payment_import', v_import,
                              jsonb_build_object('posted', v_posted, 'amount_cents', v_amount));
    -- and, like a payment posted alone, an event per payment: what the
    -- analytics loader reads, a bounded batch at a time however big the file
    INSERT INTO kept.outbox_events (event_type, aggregate_type, aggregate_id, payload)
    SELECT 'payment_posted', 'payment', p.id,
           jsonb_build_object('account_id', p.account_id, 'plan_id', p.plan_id, 'amount_cents', p.amount_cents,
                              'received_at', p.received_at, 'source', p.source, 'import_id', v_import)
    FROM kept.payments p WHERE p.import_id = v_import ORDER BY p.id;
    RETURN json_build_object('import_id', v_import, 'lines', v_lines, 'posted', v_posted,
                             'duplicates', v_lines - v_posted, 'rejected', 0, 'amount_cents', v_amount);
END $$;

-- The import's payments spread over each plan's oldest unpaid installments,
-- in file order: the payments of a plan cover consecutive stretches of money
-- [start, end), its unpaid installments consecutive stretches of need, and
-- each allocation is the overlap of one with the other. Only the
-- installments the money can reach are read (at most ceil(total / weekly) + 1).
CREATE OR REPLACE FUNCTION kept.import_payments_allocate(p_import bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Each stretch is its own analyzed table, joined by hash on plan_id: as
    -- one statement the planner may nest-loop a million payments against a
    -- million plans' installments.
    CREATE TEMP TABLE import_pays ON COMMIT DROP AS
    SELECT p.id, p.plan_id, p.received_at,
           sum(p.amount_cents) OVER w - p.amount_cents AS p_start, sum(p.amount_cents) OVER w AS p_end
    FROM kept.payments p
    WHERE p.import_id = p_import AND p.plan_id IS NOT NULL
    WINDOW w AS (PARTITION BY p.plan_id ORDER BY p.id);
    ANALYZE pg_temp.import_pays;

    CREATE TEMP TABLE import_need ON COMMIT DROP AS
    WITH per_plan AS (
        SELECT t.plan_id, max(pays.p_end) AS total, t.weekly_amount_cents AS weekly
        FROM pg_temp.import_pays pays JOIN pg_temp.import_payments_accounts t ON t.plan_id = pays.plan_id
        GROUP BY t.plan_id, t.weekly_amount_cents
    )
    SELECT pp.plan_id, i.seq, i.due_end_at, i.grace_end_at,
           sum(i.need) OVER w - i.need AS i_start, sum(i.need) OVER w AS i_end
    FROM per_plan pp
    CROSS JOIN LATERAL (
        SELECT k.seq, k.due_end_at, k.grace_end_at, k.amount_due_cents - k.amount_paid_cents AS need
        FROM kept.installments k
        WHERE k.plan_id = pp.plan_id AND k.amount_paid_cents < k.amount_due_cents
        ORDER BY k.seq LIMIT (pp.total + pp.weekly - 1) / pp.weekly + 1) i
    WINDOW w AS (PARTITION BY pp.plan_id ORDER BY i.seq);
    ANALYZE pg_temp.import_need;

    CREATE TEMP TABLE import_allocations ON COMMIT DROP AS
    SELECT p.id AS payment_id, n.plan_id, n.seq,
           least(p.p_end, n.i_end) - greatest(p.p_start, n.i_start) AS amount,
           p.received_at < n.due_end_at AS on_time, p.received_at < n.grace_end_at AS in_grace
    FROM pg_temp.import_pays p JOIN pg_temp.import_need n
      ON n.plan_id = p.plan_id AND n.i_start < p.p_end AND p.p_start < n.i_end;
    ANALYZE pg_temp.import_allocations;

    -- the installments before the allocations that reference them: the
    -- allocations' foreign-key checks then find rows this transaction has
    -- already updated, instead of share-locking rows it is about to update
    -- (a lock and an update of one row by one transaction need a multixact)
    UPDATE kept.installments i
    SET amount_paid_cents = i.amount_paid_cents + s.amount,
        paid_by_due_cents = i.paid_by_due_cents + s.by_due,
        paid_by_grace_cents = i.paid_by_grace_cents + s.by_grace
    FROM (SELECT plan_id, seq, sum(amount) AS amount,
                 sum(CASE WHEN on_time THEN amount ELSE 0 END) AS by_due,
                 sum(CASE WHEN in_grace THEN amount ELSE 0 END) AS by_grace
          FROM pg_temp.import_allocations GROUP BY plan_id, seq) s
    WHERE i.plan_id = s.plan_id AND i.seq = s.seq;

    INSERT INTO kept.allocations (payment_id, plan_id, seq, amount_cents, on_time, in_grace)
    SELECT payment_id, plan_id, seq, amount, on_time, in_grace FROM pg_temp.import_allocations;

    -- installments already judged whose money changed (a backdated file) are judged again
    PERFORM kept.installments_rejudge(plan_id, array_agg(seq))
    FROM (SELECT DISTINCT al.plan_id, al.seq FROM pg_temp.import_allocations al
          JOIN kept.installments i ON i.plan_id = al.plan_id AND i.seq = al.seq
          WHERE i.outcome IN ('kept', 'kept_late', 'partial', 'missed')) judged
    GROUP BY plan_id;
END $$;
