-- Personal data later migrations stored in clear, sealed at every reload
-- (sql/functions/05_personal_data_late.sql): no clear column is left after
-- keptd migrate; the customer an audited entity concerns; the JSON members
-- that hold personal values.
BEGIN;
SELECT plan(10);

SELECT ok(kept.column_is_clear('customers', 'time_zone'), 'column_is_clear sees a column that is there');
SELECT ok(NOT kept.column_is_clear('customers', 'no_such_column'), 'and not one that is not');
SELECT ok(NOT kept.column_is_clear('no_such_table', 'x'), 'nor a table that is not');
SELECT is(ARRAY(SELECT t || '.' || c FROM (VALUES ('customers', 'date_of_birth'), ('customers', 'postcode'),
                ('text_opt_outs', 'number'), ('self_service_links', 'sent_to'), ('self_service_codes', 'number'),
                ('messages', 'number'), ('messages', 'body'), ('inbound_messages', 'number'),
                ('inbound_messages', 'body')) v(t, c) WHERE kept.column_is_clear(t, c)), '{}'::text[],
          'after migrate no personal value is left in a clear column');
SELECT has_column('kept', 'customers', 'date_of_birth_enc', 'a date of birth is sealed');
SELECT has_column('kept', 'messages', 'number_gdigest', 'a text''s number is compared by its digest');

SELECT kept.customer_create(ROW(NULL, 'test', NULL)::kept.actor, '{"external_ref":"PDL-C","name":"Late Sealed","time_zone":"UTC","jurisdiction":"GB"}');
SELECT kept.account_create(ROW(NULL, 'test', NULL)::kept.actor, json_build_object('customer_id',
    (SELECT id FROM kept.customers WHERE external_ref = 'PDL-C'), 'external_ref', 'PDL-A', 'creditor', 'Bank',
    'original_balance_cents', 10000, 'currency', 'GBP')::jsonb);
SELECT kept.escalation_open(ROW(NULL, 'test', NULL)::kept.actor, jsonb_build_object('account_id',
    (SELECT id FROM kept.accounts WHERE external_ref = 'PDL-A'), 'reason', 'other', 'note', 'x'));
SELECT is(ARRAY[kept.audit_customer('customer', c.id), kept.audit_customer('account', a.id),
                kept.audit_customer('escalation', (SELECT id FROM kept.escalations WHERE account_id = a.id))],
          ARRAY[c.id, c.id, c.id], 'a customer, their account and its escalation all concern the customer')
FROM kept.customers c JOIN kept.accounts a ON a.customer_id = c.id WHERE c.external_ref = 'PDL-C';
SELECT is(kept.audit_customer('api_key', 1), NULL, 'an API key concerns no customer');
SELECT ok(kept.pii_members() @> ARRAY['name', 'number', 'body', 'first_name', 'note'],
          'names, numbers, a text''s words and free notes are personal members');
SELECT ok(NOT kept.pii_members() && ARRAY['id', 'status', 'amount_cents'], 'ids, states and amounts are not');

SELECT * FROM finish();
ROLLBACK;
