-- The contact rules: whether a reminder call may be dialled at a moment on
-- kept's clock, which rule holds or blocks it, when it may go, and why, in
-- plain words. Every rule here is checked at the moment of dialling
-- (kept.calls_claim passes kept.now()), never at a time a request names.
--
--   1 restrictions: cease_communication, attorney, bankruptcy, dispute, moratorium,
--     account_closed, plan_not_active, installment_paid, and wrong_party (the number
--     reached someone else)                                                     blocked
--   2 no_consent to automated calls on the number (TCPA)                        blocked
--     repeated_call_failures: every usable number keeps reaching nobody         blocked
--   3 calling_window: 08:00-21:00 (or a jurisdiction's narrower window) in every
--     time zone kept knows for the customer; inconvenient_time: a period the
--     customer said is inconvenient                                             held
--   4 reg_f_7_in_7: at most 7 attempts per debt in 7 consecutive days;
--     reg_f_conversation: none in the 7 days from a telephone conversation's date
--     (kept's calls, agents' logged contacts, negotiations by telephone), unless
--     the call is excluded by the customer's direct consent                     held
--   5 spacing: per number, one automated attempt per local day and
--     min_call_gap_minutes apart, across all the customer's debts               held
--   6 jurisdiction_cap: e.g. Massachusetts, two in seven days to personal
--     numbers and two in thirty days to others, per debt                        held
--
-- "Seven consecutive days" is counted both ways and the stricter wins: as
-- 7 x 24 hours back from the moment, and as the seven local calendar days
-- ending today in every zone kept knows for the customer (so a week with a
-- daylight-saving change is never short). A conversation's date is the first
-- day of its seven, in every known zone.

-- A dial must start at least this long before a window closes (the provider
-- rings for up to 30 seconds).
CREATE OR REPLACE FUNCTION kept.dial_margin() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN interval '1 minute';

-- ---- days -------------------------------------------------------------------------------------

-- The start of the n-th local day after t's day, the latest over the zones.
CREATE OR REPLACE FUNCTION kept.days_after(t timestamptz, n integer, zones text[]) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT max((((t AT TIME ZONE z)::date + n)::timestamp) AT TIME ZONE z) FROM unnest(zones) z;
$$;

-- The start of the n consecutive days that end at t: n x 24 hours back, or
-- the start of the local day n - 1 days before t's in any zone, whichever is earlier.
CREATE OR REPLACE FUNCTION kept.days_window_start(t timestamptz, n integer, zones text[]) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT least(t - n * interval '24 hours',
                 min((((t AT TIME ZONE z)::date - (n - 1))::timestamp) AT TIME ZONE z))
    FROM unnest(zones) z;
$$;

-- The first moment whose n-day window (kept.days_window_start) no longer holds `a`.
CREATE OR REPLACE FUNCTION kept.period_release(a timestamptz, n integer, zones text[]) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN greatest(a + n * interval '24 hours' + interval '1 second', kept.days_after(a, n, zones));

-- ---- the calling window and inconvenient times ------------------------------------------------------

-- True when [t, t + margin] lies inside [ws, we) of one local day in every zone.
CREATE OR REPLACE FUNCTION kept.in_windows(t timestamptz, zones text[], ws time, we time, p_margin interval)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and((t AT TIME ZONE z)::time >= ws
                             AND (t AT TIME ZONE z)::date = ((t + p_margin) AT TIME ZONE z)::date
                             AND ((t + p_margin) AT TIME ZONE z)::time <= we), false)
    FROM unnest(zones) z;
$$;

CREATE OR REPLACE FUNCTION kept.day_name(d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[extract(isodow FROM d)::integer];

CREATE OR REPLACE FUNCTION kept.inconvenient_end(e jsonb) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE e->>'to' WHEN '24:00' THEN interval '24 hours' ELSE (e->>'to')::time::interval END;

-- The first period the customer said is inconvenient that [t, t + margin]
-- touches (in the customer's zone), or NULL.
CREATE OR REPLACE FUNCTION kept.inconvenient_at(t timestamptz, p_periods jsonb, p_home text, p_margin interval)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e FROM jsonb_array_elements(p_periods) e,
                  (VALUES ((t AT TIME ZONE p_home)::date), (((t + p_margin) AT TIME ZONE p_home)::date)) d(day)
    WHERE e->'days' ? kept.day_name(d.day)
      AND (t AT TIME ZONE p_home) < d.day + kept.inconvenient_end(e)
      AND ((t + p_margin) AT TIME ZONE p_home) >= d.day + (e->>'from')::time
    LIMIT 1;
$$;

CREATE OR REPLACE FUNCTION kept.call_time_ok(t timestamptz, zones text[], ws time, we time, p_periods jsonb,
                                             p_home text)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
RETURN kept.in_windows(t, zones, ws, we, kept.dial_margin())
       AND kept.inconvenient_at(t, p_periods, p_home, kept.dial_margin()) IS NULL;

-- The first moment from t on when a call may start: t itself, or a window's
-- opening, or an inconvenient period's end, in the next nine local days.
-- NULL when there is none (inconvenient all day, every day).
CREATE OR REPLACE FUNCTION kept.next_call_time(t timestamptz, zones text[], ws time, we time, p_periods jsonb,
                                               p_home text)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT min(s.at) FROM (
        SELECT t AS at
        UNION ALL
        SELECT (((t AT TIME ZONE z)::date + d) + ws) AT TIME ZONE z FROM unnest(zones) z, generate_series(0, 8) d
        UNION ALL
        SELECT (((t AT TIME ZONE p_home)::date + d) + kept.inconvenient_end(e)) AT TIME ZONE p_home
        FROM jsonb_array_elements(p_periods) e, generate_series(0, 8) d
    ) s
    WHERE s.at >= t AND kept.call_time_ok(s.at, zones, ws, we, p_periods, p_home);
$$;

-- The last moment at which a create may still be sent for a call judged at
-- t: the margin before the first window end (in any zone) or the first
-- inconvenient period that starts later on the customer's day.
CREATE OR REPLACE FUNCTION kept.call_send_by(t timestamptz, zones text[], we time, p_periods jsonb, p_home text)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT least((SELECT min((((t AT TIME ZONE z)::date) + we) AT TIME ZONE z) FROM unnest(zones) z),
                 (SELECT min(((t AT TIME ZONE p_home)::date + (e->>'from')::time) AT TIME ZONE p_home)
                  FROM jsonb_array_elements(p_periods) e
                  WHERE e->'days' ? kept.day_name((t AT TIME ZONE p_home)::date)
                    AND ((t AT TIME ZONE p_home)::date + (e->>'from')::time) AT TIME ZONE p_home > t))
           - kept.dial_margin();
$$;

-- ---- plain words ------------------------------------------------------------------------------------

-- "Mon 2026-03-09 08:00 America/New_York" (no to_char: it is in every decision the claim writes)
CREATE OR REPLACE FUNCTION kept.local_words(t timestamptz, p_zone text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN initcap(kept.day_name((t AT TIME ZONE p_zone)::date)) || ' ' || left((t AT TIME ZONE p_zone)::text, 16)
       || ' ' || p_zone;

-- ---- the facts each call is judged on ----------------------------------------------------------------

-- What the rules need to know about each call, at p_now.
CREATE OR REPLACE FUNCTION kept.call_facts(p_now timestamptz, p_ids bigint[])
RETURNS TABLE (id bigint, account_id bigint, customer_id bigint, purpose text, number text, home text,
               zones text[], ws time, we time, periods jsonb, restriction text, consent boolean,
               wrong_party_at timestamptz, number_type text, failing boolean, failures integer, gap interval,
               cap_personal integer, cap_other integer, citation text, useful_until timestamptz,
               excluded_consent_at timestamptz, conversation_at timestamptz, attempts timestamptz[],
               number_last_at timestamptz, personal_times timestamptz[], other_times timestamptz[])
LANGUAGE sql STABLE AS $$
    WITH c0 AS MATERIALIZED (
        SELECT k.id, k.account_id, k.customer_id, k.plan_id, k.purpose, kept.pii_open(k.customer_id, k.number_enc) AS number,
               k.number_gdigest, cu.time_zone AS home,
               zz.zones,
               greatest(coalesce(jr.window_start, '08:00'), '08:00') AS ws,
               least(coalesce(jr.window_end, '21:00'), '21:00') AS we, cu.inconvenient_times AS periods,
               CASE WHEN cu.cease_communication THEN 'cease_communication'
                    WHEN cu.attorney_represented THEN 'attorney'
                    WHEN cu.bankruptcy THEN 'bankruptcy'
                    WHEN cu.dispute_open THEN 'dispute'
                    WHEN cu.moratorium_until >= (p_now AT TIME ZONE cu.time_zone)::date THEN 'moratorium'
                    WHEN a.status NOT IN ('open', 'in_plan') THEN 'account_closed'
                    WHEN p.status <> 'active' THEN 'plan_not_active'
                    WHEN i.amount_paid_cents >= i.amount_due_cents THEN 'installment_paid'
               END AS restriction,
               coalesce(ph.consent_automated, false) AS consent, ph.wrong_party_at,
               coalesce(ph.type, 'mobile') AS number_type,
               coalesce(pc.min_call_gap_minutes, pd.min_call_gap_minutes) * interval '1 minute' AS gap,
               coalesce(pc.failed_calls_before_triage, pd.failed_calls_before_triage) AS triage_after,
               jr.max_attempts_7d AS cap_personal,
               jr.max_attempts_30d_other AS cap_other, jr.citation, p.reminder_consent_at,
               CASE k.purpose WHEN 'pre_due' THEN i.due_end_at ELSE i.grace_end_at + interval '7 days' END
                   AS useful_until
        FROM kept.calls k
        JOIN kept.customers cu ON cu.id = k.customer_id
        JOIN kept.installments i ON i.plan_id = k.plan_id AND i.seq = k.seq
        JOIN kept.plans p ON p.id = k.plan_id
        JOIN kept.accounts a ON a.id = k.account_id
        LEFT JOIN kept.policies pc ON pc.creditor = a.creditor -- the creditor's policy, else the default
        CROSS JOIN (SELECT * FROM kept.policies WHERE creditor IS NULL) pd
        LEFT JOIN kept.customer_phones ph ON ph.customer_id = k.customer_id AND ph.number_digest = k.number_digest
        LEFT JOIN kept.jurisdiction_call_rules jr ON jr.jurisdiction = cu.jurisdiction
        -- kept.customer_zones, written out: a join is planned once, a function call costs per call
        CROSS JOIN LATERAL (
            SELECT array_agg(DISTINCT s.z ORDER BY s.z) AS zones FROM (
                SELECT cu.time_zone AS z
                UNION ALL
                SELECT unnest(pz.zones) FROM kept.customer_phones p2
                CROSS JOIN LATERAL (SELECT z.zones FROM kept.phone_zone_prefixes z
                                    WHERE z.prefix = ANY (ARRAY(SELECT left(substr(kept.pii_open(p2.customer_id, p2.number_enc), 2), n)
                                                                FROM generate_series(4, 15) n))
                                    ORDER BY length(z.prefix) DESC LIMIT 1) pz
                WHERE p2.customer_id = k.customer_id) s) zz
        WHERE k.id = ANY (p_ids)
    ), c AS MATERIALIZED (
        SELECT c0.*, kept.days_window_start(p_now, 7, c0.zones) AS since7,
               kept.days_window_start(p_now, 30, c0.zones) AS since30
        FROM c0
    )
    SELECT c.id, c.account_id, c.customer_id, c.purpose, c.number, c.home, c.zones, c.ws, c.we, c.periods,
           c.restriction, c.consent, c.wrong_party_at, c.number_type,
           coalesce(tri.open OR tri.all_failing, false), c.triage_after, c.gap, c.cap_personal, c.cap_other,
           c.citation, c.useful_until,
           CASE WHEN c.reminder_consent_at <= p_now
                     AND p_now < (SELECT min((((c.reminder_consent_at AT TIME ZONE z)::date + 7)::timestamp)
                                             AT TIME ZONE z) FROM unnest(c.zones) z)
                     AND NOT coalesce(conv.at > c.reminder_consent_at, false)
                THEN c.reminder_consent_at END,
           conv.at, att.times, sp.at, ma.personal, ma.other
    FROM c
    -- the latest telephone conversation about this debt
    LEFT JOIN LATERAL (
        SELECT max(x.at) AS at FROM (
            SELECT o.conversation_at AS at FROM kept.calls o
            WHERE o.account_id = c.account_id AND o.conversation_at <= p_now
            UNION ALL
            SELECT t.occurred_at FROM kept.contacts t
            WHERE t.account_id = c.account_id AND t.channel = 'phone' AND t.outcome IN ('conversation', 'refused')
              AND t.occurred_at <= p_now) x) conv ON true
    -- attempts on this debt in the last seven days, newest first: kept's calls that may
    -- have rung (not failed, 1006.14(b)(3)(ii)) and were not excluded, agents' outbound calls
    LEFT JOIN LATERAL (
        SELECT array_agg(x.at ORDER BY x.at DESC) AS times FROM (
            SELECT o.dialed_at AS at FROM kept.calls o
            WHERE o.account_id = c.account_id AND o.id <> c.id AND o.state <> 'failed' AND o.excluded IS NULL
              AND o.dialed_at BETWEEN c.since7 AND p_now
            UNION ALL
            SELECT t.occurred_at FROM kept.contacts t
            WHERE t.account_id = c.account_id AND t.channel = 'phone' AND t.direction = 'outbound'
              AND t.source = 'logged' AND t.occurred_at BETWEEN c.since7 AND p_now
        ) x) att ON true
    -- the last automated attempt on this number, whoever's debt it was about
    LEFT JOIN LATERAL (
        SELECT max(o.dialed_at) AS at FROM kept.calls o
        WHERE o.number_gdigest = c.number_gdigest AND o.id <> c.id AND o.state <> 'failed' AND o.dialed_at <= p_now) sp ON true
    -- a jurisdiction's caps: attempts on this debt to personal numbers (7 days) and to others (30 days);
    -- a number kept no longer has counts as both
    LEFT JOIN LATERAL (
        SELECT array_agg(x.at ORDER BY x.at DESC) FILTER (WHERE x.type IS DISTINCT FROM 'work'
                                                            AND x.at >= c.since7)
                   AS personal,
               array_agg(x.at ORDER BY x.at DESC) FILTER (WHERE x.type IS DISTINCT FROM 'mobile'
                                                            AND x.type IS DISTINCT FROM 'home') AS other
        FROM (
            SELECT o.dialed_at AS at, p2.type FROM kept.calls o
            LEFT JOIN kept.customer_phones p2 ON p2.customer_id = o.customer_id AND p2.number_digest = o.number_digest
            WHERE o.account_id = c.account_id AND o.id <> c.id AND o.state <> 'failed'
              AND o.dialed_at BETWEEN c.since30 AND p_now
            UNION ALL
            SELECT t.occurred_at, p2.type FROM kept.contacts t
            LEFT JOIN kept.customer_phones p2 ON p2.customer_id = t.customer_id AND p2.number_digest = t.number_digest
            WHERE t.account_id = c.account_id AND t.channel = 'phone' AND t.direction = 'outbound'
              AND t.source = 'logged' AND t.occurred_at BETWEEN c.since30 AND p_now
        ) x
        WHERE c.cap_personal IS NOT NULL OR c.cap_other IS NOT NULL) ma ON true
    -- triage: an open escalation, or every usable number at its run of failures
    LEFT JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM kept.escalations e WHERE e.account_id = c.account_id
                         AND e.reason = 'repeated_call_failures' AND e.status = 'open') AS open,
               (SELECT count(*) > 0 AND bool_and(p3.failed_attempts >= c.triage_after)
                FROM kept.customer_phones p3
                WHERE p3.customer_id = c.customer_id AND p3.consent_automated AND p3.wrong_party_at IS NULL)
                   AS all_failing) tri ON true;
$$;

-- The judgment in plain words: which rule, its citation, when the call may go.
CREATE OR REPLACE FUNCTION kept.rule_words(p_rule text, p_next timestamptz, p_useful_until timestamptz,
                                           p_now timestamptz, p_home text, p_zones text[], p_ws time, p_we time,
                                           p_number text, p_wrong_party_at timestamptz, p_failures integer,
                                           p_inconvenient jsonb, p_attempts integer, p_conversation_at timestamptz,
                                           p_number_last_at timestamptz, p_gap interval, p_citation text,
                                           p_cap_times timestamptz[], p_cap_days integer, p_consent_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_rule IS NULL THEN
            format('Cleared at %s: inside %s-%s in %s, %s of 7 calls about this debt in 7 days%s.',
                   kept.local_words(p_now, p_home), left(p_ws::text, 5), left(p_we::text, 5),
                   array_to_string(p_zones, ', '), p_attempts + 1,
                   CASE WHEN p_consent_at IS NOT NULL THEN '; an excluded call: the customer consented to it on '
                                                          || kept.local_words(p_consent_at, p_home)
                                                          || ' (12 CFR 1006.14(b)(3)(i))' ELSE '' END)
        WHEN p_rule IN ('cease_communication', 'attorney', 'bankruptcy', 'dispute', 'moratorium', 'account_closed',
                        'plan_not_active', 'installment_paid', 'wrong_party', 'no_consent', 'repeated_call_failures')
        THEN 'Blocked, never dialled: ' || CASE p_rule
            WHEN 'cease_communication' THEN 'the customer asked for communication to cease (12 CFR 1006.6(c)).'
            WHEN 'attorney' THEN 'the customer is represented by an attorney (12 CFR 1006.6(b)(2)).'
            WHEN 'bankruptcy' THEN 'the customer is in bankruptcy.'
            WHEN 'dispute' THEN 'the customer disputes the debt.'
            WHEN 'moratorium' THEN 'a moratorium (breathing space) is in force.'
            WHEN 'account_closed' THEN 'the account is no longer open.'
            WHEN 'plan_not_active' THEN 'the plan is no longer active.'
            WHEN 'installment_paid' THEN 'the installment is paid.'
            WHEN 'wrong_party' THEN format('the number ending %s reached someone else on %s; kept makes no automated '
                                           || 'call to it again.', right(p_number, 4),
                                           kept.local_words(p_wrong_party_at, p_home))
            WHEN 'no_consent' THEN format('no consent to automated calls on the number ending %s '
                                          || '(TCPA, 47 CFR 64.1200(a)).', right(p_number, 4))
            WHEN 'repeated_call_failures' THEN format('calls to every number of the customer keep reaching nobody '
                                                      || '(%s in a row); an escalation is open until it is resolved.',
                                                      p_failures)
            END
        ELSE (CASE WHEN p_next IS NOT NULL AND p_next < p_useful_until THEN 'Held by ' ELSE 'Blocked by ' END)
             || CASE p_rule
                WHEN 'calling_window' THEN format('the calling window, %s-%s local time in every time zone kept knows '
                                                  || 'for the customer (%s; 12 CFR 1006.6(b)(1)(i))',
                                                  left(p_ws::text, 5), left(p_we::text, 5),
                                                  array_to_string(p_zones, ', '))
                WHEN 'inconvenient_time' THEN format('a time the customer said is inconvenient, %s %s-%s %s '
                                                     || '(12 CFR 1006.6(b)(1)(i))',
                                                     (SELECT string_agg(d, ',') FROM jsonb_array_elements_text(p_inconvenient->'days') d),
                                                     p_inconvenient->>'from', p_inconvenient->>'to', p_home)
                WHEN 'reg_f_7_in_7' THEN format('Regulation F''s 7-in-7: %s calls about this debt in the last 7 days '
                                                || '(12 CFR 1006.14(b)(2)(i)(A))', p_attempts)
                WHEN 'reg_f_conversation' THEN format('Regulation F: a telephone conversation about this debt on %s, '
                                                      || 'and no call in the 7 days from its date '
                                                      || '(12 CFR 1006.14(b)(2)(i)(B))',
                                                      kept.local_words(p_conversation_at, p_home))
                WHEN 'spacing' THEN format('spacing: the number ending %s was called at %s, and kept makes at most '
                                           || 'one automated attempt per local day, %s minutes apart, across all the '
                                           || 'customer''s debts (against the bursts of 12 CFR 1006.14(b)(1), '
                                           || 'comment 14(b)(2)(i)-2.i)', right(p_number, 4),
                                           kept.local_words(p_number_last_at, p_home),
                                           (extract(epoch FROM p_gap) / 60)::integer)
                WHEN 'jurisdiction_cap' THEN format('%s (%s calls about this debt to %s numbers in %s days)',
                                                   p_citation, cardinality(p_cap_times),
                                                   CASE p_cap_days WHEN 30 THEN 'other' ELSE 'personal' END, p_cap_days)
                END
             || CASE WHEN p_next IS NULL THEN '; no allowed time in the next nine days.'
                     WHEN p_next < p_useful_until THEN '; it may go at ' || kept.local_words(p_next, p_home) || '.'
                     ELSE format('; the next allowed time, %s, comes after the reminder is of use (%s).',
                                 kept.local_words(p_next, p_home), kept.local_words(p_useful_until, p_home)) END
        END;
$$;

-- ---- the judgment ---------------------------------------------------------------------------------------

-- The first rule that forbids dialling each call of p_ids at p_now (NULL: it
-- may go), when it may be tried again (NULL: never), until when a retry is
-- of use, by when a create must be sent (for a call that may go), why it is
-- excluded from Reg F's counts, the zones it was judged in, and all of it in
-- plain words. Set-based: one statement judges a whole batch.
CREATE OR REPLACE FUNCTION kept.calls_rules(p_now timestamptz, p_ids bigint[])
RETURNS TABLE (id bigint, rule text, retry_at timestamptz, useful_until timestamptz, send_by timestamptz,
               excluded text, zones text[], decision text)
LANGUAGE sql STABLE AS $$
    WITH f AS MATERIALIZED (
        SELECT f.*, coalesce(cardinality(f.attempts), 0) AS n_attempts,
               f.excluded_consent_at IS NOT NULL AS excluded,
               (SELECT coalesce(bool_and((p_now AT TIME ZONE z)::time >= f.ws
                                         AND (p_now AT TIME ZONE z)::date = ((p_now + kept.dial_margin()) AT TIME ZONE z)::date
                                         AND ((p_now + kept.dial_margin()) AT TIME ZONE z)::time <= f.we), false)
                FROM unnest(f.zones) z) AS in_window, -- kept.in_windows, written out (called per call)
               CASE WHEN f.periods <> '[]' THEN kept.inconvenient_at(p_now, f.periods, f.home, kept.dial_margin())
               END AS inconvenient,
               CASE WHEN f.number_type = 'work' THEN f.cap_other ELSE f.cap_personal END AS cap,
               CASE WHEN f.number_type = 'work' THEN f.other_times ELSE f.personal_times END AS cap_times,
               CASE WHEN f.number_type = 'work' THEN 30 ELSE 7 END AS cap_days
        FROM kept.call_facts(p_now, p_ids) f
    ), releases AS (
        SELECT f.*,
               CASE WHEN NOT f.excluded AND f.n_attempts >= 7 THEN kept.period_release(f.attempts[7], 7, f.zones) END
                   AS r_count,
               CASE WHEN NOT f.excluded AND f.conversation_at IS NOT NULL
                         AND p_now < kept.days_after(f.conversation_at, 7, f.zones)
                    THEN kept.days_after(f.conversation_at, 7, f.zones) END AS r_conversation,
               CASE WHEN f.number_last_at IS NOT NULL
                         AND (p_now < f.number_last_at + f.gap OR p_now < kept.days_after(f.number_last_at, 1, f.zones))
                    THEN greatest(f.number_last_at + f.gap, kept.days_after(f.number_last_at, 1, f.zones)) END
                   AS r_spacing,
               CASE WHEN f.cap IS NOT NULL AND coalesce(cardinality(f.cap_times), 0) >= f.cap
                    THEN CASE WHEN f.cap = 0 THEN 'infinity'::timestamptz
                              ELSE kept.period_release(f.cap_times[f.cap], f.cap_days, f.zones) END END AS r_cap
        FROM f
    ), judged AS (
        SELECT r.*,
               CASE WHEN r.restriction IS NOT NULL THEN r.restriction
                    WHEN r.wrong_party_at IS NOT NULL THEN 'wrong_party'
                    WHEN NOT r.consent THEN 'no_consent'
                    WHEN r.failing THEN 'repeated_call_failures'
                    WHEN NOT r.in_window THEN 'calling_window'
                    WHEN r.inconvenient IS NOT NULL THEN 'inconvenient_time'
                    WHEN r.r_count IS NOT NULL THEN 'reg_f_7_in_7'
                    WHEN r.r_conversation IS NOT NULL THEN 'reg_f_conversation'
                    WHEN r.r_spacing IS NOT NULL THEN 'spacing'
                    WHEN r.r_cap IS NOT NULL THEN 'jurisdiction_cap'
               END AS rule
        FROM releases r
    ), timed AS (
        SELECT j.*,
               CASE WHEN j.rule IN ('calling_window', 'inconvenient_time', 'reg_f_7_in_7', 'reg_f_conversation',
                                    'spacing', 'jurisdiction_cap')
                         AND j.r_cap IS DISTINCT FROM 'infinity'
                    THEN kept.next_call_time(greatest(p_now, j.r_count, j.r_conversation, j.r_spacing, j.r_cap),
                                             j.zones, j.ws, j.we, j.periods, j.home) END AS next_at,
               CASE WHEN j.rule IS NULL
                    THEN least(kept.call_send_by(p_now, j.zones, j.we, j.periods, j.home), j.useful_until) END
                   AS send_by
        FROM judged j
    )
    SELECT t.id, t.rule, t.next_at, t.useful_until, t.send_by,
           CASE WHEN t.excluded THEN format('consent given directly on %s to a call within seven days '
                                            || '(12 CFR 1006.14(b)(3)(i))', kept.local_words(t.excluded_consent_at, t.home))
           END,
           t.zones,
           CASE WHEN t.rule IS NULL AND NOT t.excluded -- the common case, written out (rule_words costs per call)
                THEN 'Cleared at ' || kept.local_words(p_now, t.home) || ': inside ' || left(t.ws::text, 5) || '-'
                     || left(t.we::text, 5) || ' in ' || array_to_string(t.zones, ', ') || ', ' || (t.n_attempts + 1)
                     || ' of 7 calls about this debt in 7 days.'
                ELSE kept.rule_words(t.rule, t.next_at, t.useful_until, p_now, t.home, t.zones, t.ws, t.we, t.number,
                                     t.wrong_party_at, t.failures, t.inconvenient, t.n_attempts, t.conversation_at,
                                     t.number_last_at, t.gap, t.citation, t.cap_times, t.cap_days,
                                     t.excluded_consent_at) END
    FROM timed t;
$$;
