-- Schedule arithmetic and local calendars: installments sum exactly to the
-- total, the last carries the remainder, due dates are weekly local dates,
-- and daylight-saving changes move the instant a local day ends, never the date.
BEGIN;
SELECT plan(21);

SELECT results_eq($$SELECT seq, due_date, amount_due_cents FROM kept.schedule(1000, 300, '2026-12-01')$$,
    $$VALUES (1, '2026-12-01'::date, 300::bigint), (2, '2026-12-08', 300), (3, '2026-12-15', 300), (4, '2026-12-22', 100)$$,
    'weekly amounts, the last carrying the remainder');
SELECT results_eq($$SELECT count(*)::int, sum(amount_due_cents) FROM kept.schedule(1000, 250, '2026-12-01')$$,
    $$VALUES (4, 1000::numeric)$$, 'an exact division has no short last installment');
SELECT results_eq($$SELECT seq, amount_due_cents FROM kept.schedule(1000, 5000, '2026-12-01')$$,
    $$VALUES (1, 1000::bigint)$$, 'a weekly amount above the total is one installment of the total');
SELECT results_eq($$SELECT seq, amount_due_cents FROM kept.schedule(1, 1, '2026-12-01')$$,
    $$VALUES (1, 1::bigint)$$, 'one cent');

-- the sum is exact for many totals and amounts, and only the last differs
SELECT is((SELECT count(*)::int
           FROM (SELECT t * 997::bigint AS total, w * 113::bigint AS weekly
                 FROM generate_series(1, 400) t, generate_series(1, 60) w) c,
           LATERAL (SELECT sum(amount_due_cents) AS paid, count(*) AS n, max(seq) AS last,
                           count(*) FILTER (WHERE amount_due_cents <> c.weekly AND seq < (c.total + c.weekly - 1) / c.weekly) AS odd,
                           max(amount_due_cents) AS biggest, min(amount_due_cents) AS smallest
                    FROM kept.schedule(c.total, c.weekly, '2026-01-05')) s
           WHERE s.paid <> c.total OR s.n <> (c.total + c.weekly - 1) / c.weekly OR s.odd > 0
              OR s.biggest > c.weekly OR s.smallest < 1),
          0, 'sums exact, counts right, only the last installment differs (24,000 schedules)');

-- due dates are dates: every installment of a plan across a DST change is on the same weekday
SELECT is((SELECT count(DISTINCT extract(isodow FROM due_date))::int FROM kept.schedule(10000, 100, '2026-02-02')),
    1, 'a hundred weeks of due dates all fall on a Monday');

-- the end of a local due day, across the changes in two hemispheres and a half-hour zone
SELECT is(kept.local_day_end('2026-03-01', 'America/New_York'), '2026-03-02 05:00:00+00'::timestamptz, 'NY before the change');
SELECT is(kept.local_day_end('2026-03-08', 'America/New_York'), '2026-03-09 04:00:00+00'::timestamptz, 'NY after spring forward');
SELECT is(kept.local_day_end('2026-03-08', 'America/New_York') - kept.local_day_end('2026-03-01', 'America/New_York'),
    interval '167 hours', 'NY: the week with the change is an hour short');
SELECT is(kept.local_day_end('2026-11-01', 'America/New_York') - kept.local_day_end('2026-10-25', 'America/New_York'),
    interval '169 hours', 'NY: the week with fall back is an hour long');
SELECT is(kept.local_day_end('2026-03-29', 'Europe/London') - kept.local_day_end('2026-03-22', 'Europe/London'),
    interval '167 hours', 'London: British Summer Time starts');
SELECT is(kept.local_day_end('2026-03-29', 'Europe/London'), '2026-03-29 23:00:00+00'::timestamptz, 'London: a BST day ends at 23:00 UTC');
SELECT is(kept.local_day_end('2026-04-05', 'Pacific/Auckland') - kept.local_day_end('2026-03-29', 'Pacific/Auckland'),
    interval '169 hours', 'Auckland: daylight time ends in April');
SELECT is(kept.local_day_end('2026-04-05', 'Australia/Lord_Howe') - kept.local_day_end('2026-03-29', 'Australia/Lord_Howe'),
    interval '168 hours 30 minutes', 'Lord Howe: a half-hour change');
SELECT is(kept.local_day_end('2026-07-01', 'UTC'), '2026-07-02 00:00:00+00'::timestamptz, 'UTC');

-- the evaluation of terms
SELECT is(kept.evaluate_terms(100000, 962, kept.policy_for(NULL), NULL, 'GBP')->>'in_policy', 'true',
    'ceil(100000 / 104) = 962 a week is the policy minimum');
SELECT is(kept.evaluate_terms(100000, 961, kept.policy_for(NULL), NULL, 'GBP')->'reasons',
    '["below_policy_minimum", "longer_than_max_weeks"]'::jsonb, 'one cent less is out of policy for both reasons');
SELECT is(kept.evaluate_terms(100000, 5000, kept.policy_for(NULL), 4999, 'GBP')->'reasons',
    '["above_affordability"]'::jsonb, 'above the weekly disposable income');
SELECT is(kept.evaluate_terms(100000, 5000, kept.policy_for(NULL), 4999, 'GBP')->>'weeks_to_clear', '20', 'weeks to clear');
SELECT throws_ok($$SELECT kept.evaluate_terms(521, 1, kept.policy_for(NULL), NULL, 'GBP')$$, 'KRRUL', NULL,
    'more than 520 weeks is refused');
SELECT lives_ok($$SELECT kept.evaluate_terms(520, 1, kept.policy_for(NULL), NULL, 'GBP')$$, '520 weeks is allowed (out of policy)');

SELECT * FROM finish();
ROLLBACK;
