/* The kept client's money and times: every currency of the schema's list
 * (schema/0025_desk.sql) with the minor units the database has for it,
 * amounts read and written in those units, times in a zone to the second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"

/* Every "('JPY', 0, ..." row of the currencies migration agrees with money_digits. */
static void digits_match_the_schema(void **state)
{
	(void)state;
	const char *dir = getenv("KEPT_SCHEMA_DIR");
	char path[512], line[512];
	snprintf(path, sizeof path, "%s/0025_desk.sql", dir && *dir ? dir : "schema");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int rows = 0;
	while (fgets(line, sizeof line, f)) {
		char code[4];
		int units;
		if (sscanf(line, " ('%3[A-Z]', %d,", code, &units) != 2)
			continue;
		rows++;
		if (money_digits(code) != units)
			fail_msg("%s has %d minor units in the schema, %d in the client", code, units,
			         money_digits(code));
	}
	fclose(f);
	assert_true(rows > 150);
}

static void amounts(void **state)
{
	(void)state;
	long long v;
	char out[64];
	assert_true(money_parse("1250", "JPY", &v));
	assert_int_equal(v, 1250);
	assert_false(money_parse("12.5", "JPY", &v));
	assert_true(money_parse("1.234", "KWD", &v));
	assert_int_equal(v, 1234);
	assert_false(money_parse("1.2345", "KWD", &v));
	assert_true(money_parse("7", "USD", &v));
	assert_int_equal(v, 700);
	assert_false(money_parse("-1", "USD", &v));
	assert_false(money_parse("1e3", "USD", &v));
	assert_false(money_parse("99999999999999999999", "USD", &v));
	money_format(123456789, "KWD", out, sizeof out);
	assert_string_equal(out, "123,456.789 KWD");
	money_format(1500000, "JPY", out, sizeof out);
	assert_string_equal(out, "1,500,000 JPY");
	money_format(-5, "USD", out, sizeof out);
	assert_string_equal(out, "-0.05 USD");
	assert_string_equal(money_example("CLF"), "1250.0000");
}

static void times(void **state)
{
	(void)state;
	char out[64];
	time_format("2026-07-01T09:08:07.654321Z", "Asia/Tokyo", out, sizeof out);
	assert_string_equal(out, "2026-07-01 18:08:07 JST");
	time_format("2026-01-15T15:04:05Z", "America/New_York", out, sizeof out);
	assert_string_equal(out, "2026-01-15 10:04:05 EST");
	time_format("2026-07-15T15:04:05Z", "America/New_York", out, sizeof out);
	assert_string_equal(out, "2026-07-15 11:04:05 EDT");
	time_format("2026-12-02", "Asia/Tokyo", out, sizeof out); /* a date stays a date */
	assert_string_equal(out, "2026-12-02");
	time_format("", NULL, out, sizeof out);
	assert_string_equal(out, "");
	/* the machine's own zone is left as it was */
	setenv("TZ", "Europe/London", 1);
	time_format("2026-07-01T09:08:07Z", "Asia/Tokyo", out, sizeof out);
	assert_string_equal(getenv("TZ"), "Europe/London");
	time_format("2026-07-01T09:08:07Z", NULL, out, sizeof out);
	assert_string_equal(out, "2026-07-01 10:08:07 BST");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(digits_match_the_schema),
	        cmocka_unit_test(amounts),
	        cmocka_unit_test(times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
