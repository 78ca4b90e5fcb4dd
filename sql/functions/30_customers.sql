-- Customers (debtors) and their phone numbers. keptd has already checked
-- the shape of the JSON (types, required fields, unknown fields); the rules
-- on values are the table constraints of schema/0001_foundation.sql.

CREATE OR REPLACE FUNCTION kept.customer_json(c kept.customers) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'external_ref', c.external_ref,
        'name', c.name,
        'time_zone', c.time_zone,
        'jurisdiction', c.jurisdiction,
        'language', c.language,
        'phones', coalesce((
            SELECT json_agg(json_build_object(
                       'number', p.number,
                       'type', p.type,
                       'consent_automated', p.consent_automated,
                       'consent_updated_at', kept.ts(p.consent_updated_at),
                       'consent_texts', p.consent_texts,
                       'texts_consent_updated_at', kept.ts(p.texts_consent_updated_at),
                       'texts_opted_out', EXISTS (SELECT 1 FROM kept.text_opt_outs o WHERE o.number = p.number),
                       'wrong_party_at', kept.ts(p.wrong_party_at),
                       'failed_attempts', p.failed_attempts,
                       'time_zones', to_json(kept.phone_time_zones(p.number))) ORDER BY p.position)
            FROM kept.customer_phones p WHERE p.customer_id = c.id), '[]'::json),
        'time_zones', coalesce(to_json(kept.customer_zones(c.id)), '[]'::json),
        'inconvenient_times', c.inconvenient_times,
        'date_of_birth', c.date_of_birth,
        'postcode', c.postcode,
        'contact_restrictions', json_build_object(
            'cease_communication', c.cease_communication,
            'attorney_represented', c.attorney_represented,
            'bankruptcy', c.bankruptcy,
            'dispute_open', c.dispute_open,
            'vulnerable', c.vulnerable,
            'moratorium_until', c.moratorium_until),
        'version', c.version,
        'created_at', kept.ts(c.created_at),
        'updated_at', kept.ts(c.updated_at));
$$;

-- Replaces a customer's phone list with p_phones (a JSON array of
-- {number, consent_automated, consent_texts?, type?}), in order. A number that
-- stays keeps its consent timestamps unless its consent changed, and what
-- calls learnt about it (a wrong party, its failures). type defaults to
-- mobile; consent_texts (a separate consent: texts) to false, or for a number
-- that stays, to what it was.
CREATE OR REPLACE FUNCTION kept.customer_phones_replace(p_customer_id bigint, p_phones jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_duplicate text;
BEGIN
    SELECT e->>'number' INTO v_duplicate
    FROM jsonb_array_elements(p_phones) e
    GROUP BY e->>'number' HAVING count(*) > 1 LIMIT 1;
    IF v_duplicate IS NOT NULL THEN
        PERFORM kept.fail(400, 'duplicate_phone', 'phones', 'a phone number appears twice in the list');
    END IF;
    DELETE FROM kept.customer_phones
    WHERE customer_id = p_customer_id
      AND number NOT IN (SELECT e->>'number' FROM jsonb_array_elements(p_phones) e);
    INSERT INTO kept.customer_phones AS cp (customer_id, number, position, consent_automated, type,
                                            consent_updated_at, consent_texts, texts_consent_updated_at)
    SELECT p_customer_id, e->>'number', n::smallint, (e->>'consent_automated')::boolean,
           coalesce(e->>'type', 'mobile'), kept.now(), coalesce((e->>'consent_texts')::boolean, false),
           CASE WHEN e ? 'consent_texts' THEN kept.now() END
    FROM jsonb_array_elements(p_phones) WITH ORDINALITY AS t(e, n)
    ON CONFLICT (customer_id, number) DO UPDATE
        SET position = EXCLUDED.position,
            consent_automated = EXCLUDED.consent_automated,
            type = EXCLUDED.type,
            consent_updated_at = CASE WHEN cp.consent_automated = EXCLUDED.consent_automated
                                      THEN cp.consent_updated_at ELSE kept.now() END,
            consent_texts = CASE WHEN EXCLUDED.texts_consent_updated_at IS NULL THEN cp.consent_texts
                                 ELSE EXCLUDED.consent_texts END,
            texts_consent_updated_at = CASE WHEN EXCLUDED.texts_consent_updated_at IS NULL
                                                 OR cp.consent_texts = EXCLUDED.consent_texts
                                            THEN cp.texts_consent_updated_at ELSE kept.now() END;
END $$;

-- What the audit log keeps of a customer: its JSON without the answers to
-- the self-service page's identity questions (they are kept out of the log's
-- clear text), only whether they are on file.
CREATE OR REPLACE FUNCTION kept.customer_audit_json(c kept.customers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT kept.customer_json(c)::jsonb - 'date_of_birth' - 'postcode'
           || jsonb_build_object('date_of_birth_on_file', c.date_of_birth IS NOT NULL,
                                 'postcode_on_file', c.postcode IS NOT NULL);
$$;

-- A date of birth is a past day on the customer's calendar.
CREATE OR REPLACE FUNCTION kept.check_date_of_birth(p_date date, p_zone text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_date IS NOT NULL AND (p_date >= kept.local_today(p_zone) OR p_date < DATE '1900-01-01') THEN
        PERFORM kept.fail(400, 'invalid_date_of_birth', 'date_of_birth',
                          'date_of_birth must be a past date from 1900-01-01');
    END IF;
END $$;

CREATE OR REPLACE FUNCTION kept.customer_create(p_actor_key_id bigint, p_actor text, p_request_id text,
                                                p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := coalesce(p->'contact_restrictions', '{}');
    c kept.customers;
BEGIN
    INSERT INTO kept.customers (external_ref, name, time_zone, jurisdiction, language,
                                cease_communication, attorney_represented, bankruptcy,
                                dispute_open, vulnerable, moratorium_until, inconvenient_times,
                                date_of_birth, postcode)
    VALUES (p->>'external_ref', p->>'name', p->>'time_zone', p->>'jurisdiction',
            coalesce(p->>'language', 'en'),
            coalesce((r->>'cease_communication')::boolean, false),
            coalesce((r->>'attorney_represented')::boolean, false),
            coalesce((r->>'bankruptcy')::boolean, false),
            coalesce((r->>'dispute_open')::boolean, false),
            coalesce((r->>'vulnerable')::boolean, false),
            (r->>'moratorium_until')::date,
            coalesce(p->'inconvenient_times', '[]'),
            (p->>'date_of_birth')::date, p->>'postcode')
    RETURNING * INTO c;
    PERFORM kept.check_date_of_birth(c.date_of_birth, c.time_zone);
    PERFORM kept.customer_phones_replace(c.id, coalesce(p->'phones', '[]'));
    PERFORM kept.audit_write(p_actor_key_id, p_actor, p_request_id, 'customer.created', 'customer',
                             c.id, NULL, kept.customer_audit_json(c));
    RETURN kept.customer_json(c);
END $$;

-- Applies the fields present in p; a field left out is left as it is, and
-- moratorium_until: null clears the moratorium. p_expected_version (from
-- If-Match) guards against overwriting a change the caller has not seen.
CREATE OR REPLACE FUNCTION kept.customer_update(p_actor_key_id bigint, p_actor text, p_request_id text,
                                                p_id bigint, p_expected_version integer, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := coalesce(p->'contact_restrictions', '{}');
    old kept.customers;
    c kept.customers;
    v_before jsonb;
BEGIN
    SELECT * INTO old FROM kept.customers WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kept.fail(404, 'customer_not_found', 'id', format('no customer with id %s', p_id));
    END IF;
    IF p_expected_version IS NOT NULL AND p_expected_version <> old.version THEN
        PERFORM kept.fail(412, 'version_mismatch', 'If-Match',
                          format('the customer is at version %s, not %s', old.version, p_expected_version));
    END IF;
    v_before := kept.customer_audit_json(old);
    UPDATE kept.customers SET
        name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
        time_zone = CASE WHEN p ? 'time_zone' THEN p->>'time_zone' ELSE time_zone END,
        jurisdiction = CASE WHEN p ? 'jurisdiction' THEN p->>'jurisdiction' ELSE jurisdiction END,
        language = CASE WHEN p ? 'language' THEN p->>'language' ELSE language END,
        cease_communication = coalesce((r->>'cease_communication')::boolean, cease_communication),
        attorney_represented = coalesce((r->>'attorney_represented')::boolean, attorney_represented),
        bankruptcy = coalesce((r->>'bankruptcy')::boolean, bankruptcy),
        dispute_open = coalesce((r->>'dispute_open')::boolean, dispute_open),
        vulnerable = coalesce((r->>'vulnerable')::boolean, vulnerable),
        moratorium_until = CASE WHEN r ? 'moratorium_until' THEN (r->>'moratorium_until')::date
                                ELSE moratorium_until END,
        inconvenient_times = coalesce(p->'inconvenient_times', inconvenient_times),
        date_of_birth = CASE WHEN p ? 'date_of_birth' THEN (p->>'date_of_birth')::date ELSE date_of_birth END,
        postcode = CASE WHEN p ? 'postcode' THEN p->>'postcode' ELSE postcode END,
        version = version + 1,
        updated_at = kept.now()
    WHERE id = p_id
    RETURNING * INTO c;
    PERFORM kept.check_date_of_birth(CASE WHEN p ? 'date_of_birth' THEN c.date_of_birth END, c.time_zone);
    IF p ? 'phones' THEN
        PERFORM kept.customer_phones_replace(c.id, p->'phones');
    END IF;
    IF c.time_zone <> old.time_zone THEN
        -- due dates stay on the customer's calendar; when those days end moves with them
        UPDATE kept.installments i
        SET due_end_at = kept.local_day_end(i.due_date, c.time_zone),
            grace_end_at = kept.local_day_end(i.due_date + pl.grace_days, c.time_zone)
        FROM kept.plans pl JOIN kept.accounts a ON a.id = pl.account_id
        WHERE a.customer_id = c.id AND pl.id = i.plan_id AND i.outcome = 'scheduled';
        -- local dates in analytics (payments, calls, days late) move with the zone
        PERFORM kept.outbox_write('customer_moved', 'customer', c.id,
                                  jsonb_build_object('from', old.time_zone, 'to', c.time_zone));
    END IF;
    PERFORM kept.audit_write(p_actor_key_id, p_actor, p_request_id, 'customer.updated', 'customer',
                             c.id, v_before, kept.customer_audit_json(c));
    RETURN kept.customer_json(c);
END $$;
