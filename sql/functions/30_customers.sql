-- Customers (debtors) and their phone numbers. keptd has already checked
-- the shape of the JSON (types, required fields, unknown fields); the rules
-- on values are the table constraints of schema/0001_foundation.sql, and
-- for the name and numbers, which are stored sealed under the customer's
-- data key (schema/0021_personal_data.sql), the checks below.

CREATE OR REPLACE FUNCTION kept.customer_json(c kept.customers) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'external_ref', c.external_ref,
        'name', kept.pii_open(c.id, c.name_enc),
        'time_zone', c.time_zone,
        'jurisdiction', c.jurisdiction,
        'language', c.language,
        'phones', coalesce((
            SELECT json_agg(json_build_object(
                       'number', kept.pii_open(p.customer_id, p.number_enc),
                       'type', p.type,
                       'consent_automated', p.consent_automated,
                       'consent_updated_at', kept.ts(p.consent_updated_at),
                       'consent_texts', p.consent_texts,
                       'texts_consent_updated_at', kept.ts(p.texts_consent_updated_at),
                       'texts_opted_out', EXISTS (SELECT 1 FROM kept.text_opt_outs o
                                                  WHERE o.number_gdigest = p.number_gdigest),
                       'wrong_party_at', kept.ts(p.wrong_party_at),
                       'failed_attempts', p.failed_attempts,
                       'time_zones', to_json(kept.phone_time_zones(kept.pii_open(p.customer_id, p.number_enc)))) ORDER BY p.position)
            FROM kept.customer_phones p WHERE p.customer_id = c.id), '[]'::json),
        'time_zones', coalesce(to_json(kept.customer_zones(c.id)), '[]'::json),
        'inconvenient_times', c.inconvenient_times,
        'date_of_birth', kept.pii_open(c.id, c.date_of_birth_enc)::date,
        'postcode', kept.pii_open(c.id, c.postcode_enc),
        'contact_restrictions', json_build_object(
            'cease_communication', c.cease_communication,
            'attorney_represented', c.attorney_represented,
            'bankruptcy', c.bankruptcy,
            'dispute_open', c.dispute_open,
            'vulnerable', c.vulnerable,
            'moratorium_until', c.moratorium_until),
        'version', c.version,
        'erased_at', kept.ts(c.erased_at),
        'created_at', kept.ts(c.created_at),
        'updated_at', kept.ts(c.updated_at));
$$;

-- The rules on a name and numbers, checked before they are sealed (the
-- table can no longer see them): what the CHECKs of 0001 said, answered as
-- the field rules (kept.field_rules) say.
CREATE OR REPLACE FUNCTION kept.check_customer_pii(p jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p ? 'name' AND NOT coalesce(kept.is_display_name(p->>'name'), false) THEN
        PERFORM kept.fail_rule('name');
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(p->'phones', '[]')) e
               WHERE NOT coalesce(kept.is_e164(e->>'number'), false)) THEN
        PERFORM kept.fail_rule('phone');
    END IF;
    IF p ? 'postcode' AND p->>'postcode' IS NOT NULL AND NOT coalesce(kept.is_postcode(p->>'postcode'), false) THEN
        PERFORM kept.fail_rule('postcode');
    END IF;
END $$;

-- Replaces a customer's phone list with p_phones (a JSON array of
-- {number, consent_automated, consent_texts?, type?}), in order. A number that
-- stays (the same digest) keeps its consent timestamps unless its consent
-- changed, and what calls learnt about it (a wrong party, its failures). type
-- defaults to mobile; consent_texts (a separate consent: texts) to false, or
-- for a number that stays, to what it was.
CREATE OR REPLACE FUNCTION kept.customer_phones_replace(p_customer_id bigint, p_phones jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_duplicate text;
    v_digests bytea[];
    v_numbers text[];
    v_consents boolean[];
    v_types text[];
    v_texts boolean[];
BEGIN
    SELECT e->>'number' INTO v_duplicate
    FROM jsonb_array_elements(p_phones) e
    GROUP BY e->>'number' HAVING count(*) > 1 LIMIT 1;
    IF v_duplicate IS NOT NULL THEN
        PERFORM kept.fail('invalid', 'duplicate_phone', 'phones', 'a phone number appears twice in the list');
    END IF;
    -- each number's digest once: it says which stored phone a number is
    SELECT array_agg(kept.pii_digest(p_customer_id, e->>'number') ORDER BY n), array_agg(e->>'number' ORDER BY n),
           array_agg((e->>'consent_automated')::boolean ORDER BY n), array_agg(e->>'type' ORDER BY n),
           array_agg((e->>'consent_texts')::boolean ORDER BY n)
    INTO v_digests, v_numbers, v_consents, v_types, v_texts
    FROM jsonb_array_elements(p_phones) WITH ORDINALITY AS t(e, n);
    DELETE FROM kept.customer_phones
    WHERE customer_id = p_customer_id AND number_digest <> ALL (coalesce(v_digests, '{}'));
    INSERT INTO kept.customer_phones AS cp (customer_id, number_enc, number_digest, number_gdigest, position,
                                            consent_automated, type, consent_updated_at, consent_texts,
                                            texts_consent_updated_at)
    SELECT p_customer_id, kept.pii_seal(p_customer_id, x.number), x.digest, kept.number_gdigest(x.number),
           x.position::smallint, x.consent, coalesce(x.type, 'mobile'), kept.now(), coalesce(x.texts, false),
           CASE WHEN x.texts IS NOT NULL THEN kept.now() END
    FROM unnest(v_digests, v_numbers, v_consents, v_types, v_texts)
         WITH ORDINALITY AS x(digest, number, consent, type, texts, position)
    ON CONFLICT (customer_id, number_digest) DO UPDATE
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
           || jsonb_build_object('date_of_birth_on_file', c.date_of_birth_enc IS NOT NULL,
                                 'postcode_on_file', c.postcode_enc IS NOT NULL);
$$;

-- A date of birth is a past day on the customer's calendar.
CREATE OR REPLACE FUNCTION kept.check_date_of_birth(p_date date, p_zone text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_date IS NOT NULL AND (p_date >= kept.local_today(p_zone) OR p_date < DATE '1900-01-01') THEN
        PERFORM kept.fail_rule('date_of_birth');
    END IF;
END $$;

DROP FUNCTION IF EXISTS kept.customer_create(bigint, text, text, jsonb);
CREATE OR REPLACE FUNCTION kept.customer_create(p_actor kept.actor, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := coalesce(p->'contact_restrictions', '{}');
    v_id bigint := nextval(pg_get_serial_sequence('kept.customers', 'id'));
    c kept.customers;
BEGIN
    PERFORM kept.check_customer_pii(p);
    INSERT INTO kept.customers (id, team, external_ref, name_enc, time_zone, jurisdiction, language,
                                cease_communication, attorney_represented, bankruptcy,
                                dispute_open, vulnerable, moratorium_until, inconvenient_times,
                                date_of_birth_enc, postcode_enc)
    OVERRIDING SYSTEM VALUE
    VALUES (v_id, (SELECT u.team FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id WHERE k.id = (p_actor).key_id),
            p->>'external_ref', kept.pii_seal(v_id, p->>'name'), p->>'time_zone', p->>'jurisdiction',
            coalesce(p->>'language', 'en'),
            coalesce((r->>'cease_communication')::boolean, false),
            coalesce((r->>'attorney_represented')::boolean, false),
            coalesce((r->>'bankruptcy')::boolean, false),
            coalesce((r->>'dispute_open')::boolean, false),
            coalesce((r->>'vulnerable')::boolean, false),
            (r->>'moratorium_until')::date,
            coalesce(p->'inconvenient_times', '[]'),
            kept.pii_seal(v_id, ((p->>'date_of_birth')::date)::text), kept.pii_seal(v_id, p->>'postcode'))
    RETURNING * INTO c;
    PERFORM kept.check_date_of_birth((p->>'date_of_birth')::date, c.time_zone);
    PERFORM kept.customer_phones_replace(c.id, coalesce(p->'phones', '[]'));
    RETURN kept.write_end(p_actor, 'customer.created', 'customer', c.id, NULL,
                          kept.customer_audit_json(c), NULL, NULL, kept.customer_json(c));
END $$;

-- The contact restrictions p would clear (true now, false in p): cease
-- communication, attorney, bankruptcy, dispute.
CREATE OR REPLACE FUNCTION kept.restrictions_cleared(old kept.customers, r jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT f FROM unnest(ARRAY['cease_communication', 'attorney_represented', 'bankruptcy',
                                            'dispute_open']) f
                 WHERE (to_jsonb(old)->>f)::boolean AND (r->>f)::boolean IS FALSE);
$$;

-- True when the key acts in `p_role` (the keptd command line acts in every role).
CREATE OR REPLACE FUNCTION kept.actor_acts_as(p_actor_key_id bigint, p_role text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_actor_key_id IS NULL OR EXISTS (
        SELECT 1 FROM kept.api_keys k JOIN kept.users u ON u.id = k.user_id
        WHERE k.id = p_actor_key_id AND p_role = ANY (kept.key_roles(k, u)));
$$;

-- Clearing a contact restriction is a supervisor's decision, with a note,
-- audited on its own: an agent cannot, and neither can anything acting for
-- the customer (it has no supervisor's key).
DROP FUNCTION IF EXISTS kept.check_restrictions_cleared(bigint, text, text, kept.customers, jsonb);
CREATE OR REPLACE FUNCTION kept.check_restrictions_cleared(p_actor kept.actor, old kept.customers, p jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cleared text[] := kept.restrictions_cleared(old, coalesce(p->'contact_restrictions', '{}'));
BEGIN
    IF cardinality(v_cleared) = 0 THEN
        RETURN;
    END IF;
    IF NOT kept.actor_acts_as((p_actor).key_id, 'supervisor') THEN
        PERFORM kept.fail('forbidden', 'supervisor_required', 'contact_restrictions.' || v_cleared[1],
                          'only a supervisor may clear a contact restriction (' || array_to_string(v_cleared, ', ') || ')');
    END IF;
    IF coalesce(btrim(p->>'note'), '') = '' THEN
        PERFORM kept.fail('invalid', 'note_required', 'note', 'say why the restriction is cleared');
    END IF;
    PERFORM kept.audit_write(p_actor, 'customer.restrictions_cleared', 'customer',
                             old.id, jsonb_build_object('restrictions', to_jsonb(v_cleared)),
                             jsonb_build_object('cleared', to_jsonb(v_cleared), 'note', p->>'note'));
END $$;

-- Applies the fields present in p; a field left out is left as it is, and
-- moratorium_until: null clears the moratorium. p_expected_version (from
-- If-Match) guards against overwriting a change the caller has not seen.
DROP FUNCTION IF EXISTS kept.customer_update(bigint, text, text, bigint, integer, jsonb);
CREATE OR REPLACE FUNCTION kept.customer_update(p_actor kept.actor, p_id bigint, p_expected_version integer, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := coalesce(p->'contact_restrictions', '{}');
    old kept.customers;
    c kept.customers;
    v_before jsonb;
BEGIN
    old := kept.lock_or_404(NULL::kept.customers, p_id, 'FOR UPDATE',
                            'customer_not_found', 'id', format('no customer with id %s', p_id));
    PERFORM kept.check_version('customer', old.version, p_expected_version);
    IF old.erased_at IS NOT NULL THEN
        PERFORM kept.fail('conflict', 'customer_erased', 'id', format('customer %s was erased', old.id));
    END IF;
    PERFORM kept.check_customer_pii(p);
    PERFORM kept.check_restrictions_cleared(p_actor, old, p);
    v_before := kept.customer_audit_json(old);
    UPDATE kept.customers SET
        name_enc = CASE WHEN p ? 'name' THEN kept.pii_seal(id, p->>'name') ELSE name_enc END,
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
        date_of_birth_enc = CASE WHEN p ? 'date_of_birth' THEN kept.pii_seal(id, ((p->>'date_of_birth')::date)::text)
                                 ELSE date_of_birth_enc END,
        postcode_enc = CASE WHEN p ? 'postcode' THEN kept.pii_seal(id, p->>'postcode') ELSE postcode_enc END,
        version = version + 1,
        updated_at = kept.now()
    WHERE id = p_id
    RETURNING * INTO c;
    PERFORM kept.check_date_of_birth(CASE WHEN p ? 'date_of_birth' THEN (p->>'date_of_birth')::date END, c.time_zone);
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
    RETURN kept.write_end(p_actor, 'customer.updated', 'customer', c.id, v_before,
                          kept.customer_audit_json(c), NULL, NULL, kept.customer_json(c));
END $$;
