/* ratelimit: a burst, then the rate; each key its own bucket; the wait told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit/ratelimit.h"

#define SECOND 1000000000ull

static void a_burst_then_the_rate(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(2, 3);
	assert_non_null(rl);
	int wait = 0;
	uint64_t t = 10 * SECOND;
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(rl, 7, t, &wait));
	assert_false(ratelimit_take(rl, 7, t, &wait));
	assert_int_equal(wait, 1);
	/* half a second later one token has come back (2 a second) */
	assert_true(ratelimit_take(rl, 7, t + SECOND / 2, &wait));
	assert_false(ratelimit_take(rl, 7, t + SECOND / 2, &wait));
	/* another key is not slowed by this one */
	assert_true(ratelimit_take(rl, 8, t, &wait));
	/* a long pause fills the bucket to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(rl, 7, t + 100 * SECOND, &wait));
	assert_false(ratelimit_take(rl, 7, t + 100 * SECOND, &wait));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void a_slow_rate_says_how_long_to_wait(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(0.1, 1); /* one request every ten seconds */
	int wait = 0;
	assert_true(ratelimit_take(rl, 1, SECOND, &wait));
	assert_false(ratelimit_take(rl, 1, SECOND, &wait));
	assert_int_equal(wait, 10);
	ratelimit_free(rl);
	assert_null(ratelimit_new(0, 1));
}

static void many_keys_share_the_table(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(1, 1);
	int wait = 0;
	/* more keys than slots: each is still served once at the start */
	for (long long k = 1; k <= 2 * RATELIMIT_SLOTS; k++)
		assert_true(ratelimit_take(rl, k, SECOND, &wait));
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(a_burst_then_the_rate),
	        cmocka_unit_test(a_slow_rate_says_how_long_to_wait),
	        cmocka_unit_test(many_keys_share_the_table),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
