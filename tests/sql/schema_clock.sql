-- The SQL clock: kept.now() is the transaction's time unless the
-- transaction set kept.clock; the domain's own times default to it.
BEGIN;
SELECT plan(6);

SELECT is(kept.now(), now(), 'without kept.clock, kept.now() is now()');

SAVEPOINT s;
SET LOCAL kept.clock = '2025-03-02T10:00:00Z';
SELECT is(kept.now(), '2025-03-02T10:00:00Z'::timestamptz, 'SET LOCAL kept.clock moves kept.now()');
ROLLBACK TO SAVEPOINT s;
SELECT is(kept.now(), now(), 'the clock goes back with the (sub)transaction that set it');

SELECT is(array_agg(format('%s.%s', d.adrelid::regclass, a.attname) ORDER BY format('%s.%s', d.adrelid::regclass, a.attname)),
          ARRAY['kept.affordability_assessments.created_at', 'kept.calls.created_at', 'kept.contacts.created_at',
                'kept.escalations.created_at', 'kept.inbound_messages.received_at', 'kept.messages.created_at',
                'kept.payments.created_at', 'kept.plan_approvals.created_at',
                'kept.plans.created_at', 'kept.plans.updated_at', 'kept.proposals.created_at',
                'kept.reviews.created_at', 'kept.self_service_codes.created_at',
                'kept.self_service_links.created_at', 'kept.self_service_sessions.created_at',
                'kept.self_service_sessions.last_seen_at', 'kept.settlement_offers.created_at'],
          'the domain''s times default to the clock')
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE pg_get_expr(d.adbin, d.adrelid) = 'kept.now()';

-- keptd in simulated time gives its sessions an offset; a transaction's SET LOCAL kept.clock still wins
SELECT set_config('kept.clock_offset', '-40 days', true);
SELECT is(kept.now(), now() - interval '40 days', 'kept.clock_offset moves kept.now() by the offset');
SELECT set_config('kept.clock', '2025-03-02T10:00:00Z', true);
SELECT is(kept.now(), '2025-03-02T10:00:00Z'::timestamptz, 'and kept.clock overrides it');
SELECT set_config('kept.clock', '', true), set_config('kept.clock_offset', '', true);

SELECT * FROM finish();
ROLLBACK;
