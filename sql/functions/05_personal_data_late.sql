-- Personal data that later migrations store in clear, sealed here once.
--
-- schema/0030_self_service.sql (issue 17) runs after this branch's
-- 0020-0022 on a new database, but before them on one that had issue 17
-- first, so what it adds in clear is converted here, at every reload, once
-- (each step checks that the clear column is still there): a customer's date
-- of birth and postcode, the numbers texts went to and came from, a text's
-- body. Numbers are sealed under the customer's data key, with the digests
-- 0021 and 0022 compare them by (a number's opt-out holds whoever's it is:
-- its global digest); a date of birth or postcode is sealed like a name. A
-- text from a number kept cannot tie to one customer keeps only its global
-- digest and the keyword found in it, never its words. A dropped column's
-- values stay in the table's files until its rows are written again: the
-- customers' are rewritten here at once (an UPDATE writes dropped columns as
-- null), and older row versions go with the next VACUUM.

CREATE OR REPLACE FUNCTION kept.column_is_clear(p_table text, p_column text) RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('kept.' || p_table)
                                             AND attname = p_column AND NOT attisdropped);

DO $$
BEGIN
    IF kept.column_is_clear('customers', 'date_of_birth') THEN
        ALTER TABLE kept.customers ADD COLUMN date_of_birth_enc bytea, ADD COLUMN postcode_enc bytea;
        UPDATE kept.customers SET date_of_birth_enc = kept.pii_seal(id, date_of_birth::text),
                                  postcode_enc = kept.pii_seal(id, postcode)
        WHERE date_of_birth IS NOT NULL OR postcode IS NOT NULL;
        ALTER TABLE kept.customers DROP COLUMN date_of_birth, DROP COLUMN postcode;
        UPDATE kept.customers SET postcode_enc = postcode_enc WHERE postcode_enc IS NOT NULL
                                                                 OR date_of_birth_enc IS NOT NULL;
    END IF;
    IF kept.column_is_clear('text_opt_outs', 'number') THEN
        ALTER TABLE kept.text_opt_outs ADD COLUMN number_gdigest bytea;
        UPDATE kept.text_opt_outs SET number_gdigest = kept.number_gdigest(number);
        ALTER TABLE kept.text_opt_outs DROP COLUMN number;
        ALTER TABLE kept.text_opt_outs ALTER COLUMN number_gdigest SET NOT NULL,
                                       ADD CONSTRAINT text_opt_outs_pkey PRIMARY KEY (number_gdigest);
    END IF;
    IF kept.column_is_clear('self_service_links', 'sent_to') THEN
        ALTER TABLE kept.self_service_links ADD COLUMN sent_to_enc bytea;
        UPDATE kept.self_service_links SET sent_to_enc = kept.pii_seal(customer_id, sent_to) WHERE sent_to IS NOT NULL;
        ALTER TABLE kept.self_service_links DROP COLUMN sent_to;
    END IF;
    IF kept.column_is_clear('self_service_codes', 'number') THEN
        ALTER TABLE kept.self_service_codes ADD COLUMN number_enc bytea;
        UPDATE kept.self_service_codes k SET number_enc = kept.pii_seal(l.customer_id, k.number)
        FROM kept.self_service_links l WHERE l.id = k.link_id;
        ALTER TABLE kept.self_service_codes DROP COLUMN number;
    END IF;
    IF kept.column_is_clear('messages', 'number') THEN
        ALTER TABLE kept.messages ADD COLUMN number_enc bytea, ADD COLUMN number_digest bytea,
                                  ADD COLUMN number_gdigest bytea, ADD COLUMN body_enc bytea;
        UPDATE kept.messages SET number_enc = kept.pii_seal(customer_id, number),
                                 number_digest = kept.pii_digest(customer_id, number),
                                 number_gdigest = kept.number_gdigest(number),
                                 body_enc = kept.pii_seal(customer_id, body);
        ALTER TABLE kept.messages DROP COLUMN number, DROP COLUMN body;
        CREATE INDEX messages_number_gdigest_idx ON kept.messages (number_gdigest);
    END IF;
    IF kept.column_is_clear('inbound_messages', 'number') THEN
        ALTER TABLE kept.inbound_messages ADD COLUMN number_gdigest bytea;
        UPDATE kept.inbound_messages SET number_gdigest = kept.number_gdigest(number);
        DROP INDEX IF EXISTS kept.inbound_messages_number_idx;
        ALTER TABLE kept.inbound_messages DROP COLUMN number, DROP COLUMN body;
        ALTER TABLE kept.inbound_messages ALTER COLUMN number_gdigest SET NOT NULL;
        CREATE INDEX inbound_messages_number_gdigest_idx ON kept.inbound_messages (number_gdigest, id);
    END IF;
END $$;

-- The customer an audited entity concerns (schema/0021_personal_data.sql's,
-- with the entities of later issues: texts and personal links).
CREATE OR REPLACE FUNCTION kept.audit_customer(p_entity_type text, p_entity_id bigint) RETURNS bigint
LANGUAGE sql STABLE
RETURN CASE p_entity_type
    WHEN 'customer' THEN p_entity_id
    WHEN 'account' THEN (SELECT customer_id FROM kept.accounts WHERE id = p_entity_id)
    WHEN 'plan' THEN (SELECT a.customer_id FROM kept.plans p JOIN kept.accounts a ON a.id = p.account_id
                      WHERE p.id = p_entity_id)
    WHEN 'payment' THEN (SELECT a.customer_id FROM kept.payments p JOIN kept.accounts a ON a.id = p.account_id
                         WHERE p.id = p_entity_id)
    WHEN 'proposal' THEN (SELECT a.customer_id FROM kept.proposals p JOIN kept.accounts a ON a.id = p.account_id
                          WHERE p.id = p_entity_id)
    WHEN 'settlement_offer' THEN (SELECT a.customer_id FROM kept.settlement_offers o
                                  JOIN kept.accounts a ON a.id = o.account_id WHERE o.id = p_entity_id)
    WHEN 'escalation' THEN (SELECT a.customer_id FROM kept.escalations e JOIN kept.accounts a ON a.id = e.account_id
                            WHERE e.id = p_entity_id)
    WHEN 'review' THEN (SELECT a.customer_id FROM kept.reviews r JOIN kept.plans p ON p.id = r.plan_id
                        JOIN kept.accounts a ON a.id = p.account_id WHERE r.id = p_entity_id)
    WHEN 'call' THEN (SELECT customer_id FROM kept.calls WHERE id = p_entity_id)
    WHEN 'contact' THEN (SELECT customer_id FROM kept.contacts WHERE id = p_entity_id)
    WHEN 'message' THEN (SELECT customer_id FROM kept.messages WHERE id = p_entity_id)
    WHEN 'self_service_link' THEN (SELECT customer_id FROM kept.self_service_links WHERE id = p_entity_id)
    END;

-- The members of a JSON document that hold a customer's personal values
-- (0021's, and a text's words).
CREATE OR REPLACE FUNCTION kept.pii_members() RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY['name', 'customer_name', 'external_ref', 'account_external_ref', 'number', 'note', 'reason',
             'cancel_reason', 'resolution_note', 'approval_note', 'reversal_reason', 'body', 'first_name'];

-- A customer's key is made inside statements that write many customers (an
-- accounts import, a bulk load). Its check that the customer was not erased
-- is planned anew each time: a plan kept from when kept.customers looked
-- empty (a new database, just analysed) scans the whole table for every
-- customer the statement writes, and an import of n customers then reads
-- n²/2 rows. (Reads, kept.customer_key, keep their plans: a key is read far
-- more often than made.)
ALTER FUNCTION kept.customer_key_make(bigint) SET plan_cache_mode = force_custom_plan;
