/* keptd's one clock: the wall clock, or a simulated one an admin sets, which
 * then flows; RFC 3339 in and out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock/clock.h"

static void rfc3339(void **state)
{
	(void)state;
	int64_t us;
	assert_true(clock_parse_rfc3339("2026-03-08T07:00:00Z", &us));
	assert_int_equal(us, 1772953200LL * 1000000);
	assert_true(clock_parse_rfc3339("2026-03-08T02:00:00-05:00", &us));
	assert_int_equal(us, 1772953200LL * 1000000);
	assert_true(clock_parse_rfc3339("2026-03-08T07:00:00.250001Z", &us));
	assert_int_equal(us, 1772953200LL * 1000000 + 250001);
	char text[40];
	clock_format_us(us, text, sizeof text);
	assert_string_equal(text, "2026-03-08T07:00:00.250001Z");
	const char *bad[] = {"",
	                     "2026-03-08",
	                     "2026-02-30T00:00:00Z",
	                     "2026-03-08T24:00:00Z",
	                     "2026-03-08T07:00:00",
	                     "2026-03-08T07:00:00+5",
	                     "2026-03-08 07:00:00Z",
	                     "x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(clock_parse_rfc3339(bad[i], &us));
}

static void wall_then_simulated(void **state)
{
	(void)state;
	unsigned gen1, gen2;
	clock_configure(false);
	assert_false(clock_set_us(0));
	assert_false(clock_reset());
	assert_int_equal(clock_offset_us(&gen1), 0);
	clock_configure(true);
	int64_t target = 1772953200LL * 1000000;
	assert_true(clock_set_us(target));
	assert_true(clock_offset_us(&gen2) != 0);
	assert_true(gen2 != gen1);
	int64_t now = clock_now_us();
	assert_true(now >= target && now < target + 5 * 1000000); /* it flows from there */
	assert_true(clock_reset());
	assert_int_equal(clock_offset_us(NULL), 0);
	clock_configure(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(rfc3339),
	        cmocka_unit_test(wall_then_simulated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
