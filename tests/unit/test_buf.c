/* buf: growth, the cap, taking the storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf/buf.h"

static void grows_and_stays_terminated(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 20);
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_adds(&b, "0123456789"), KEPT_OK);
	assert_int_equal(buf_len(&b), 10000);
	assert_int_equal(buf_str(&b)[10000], '\0');
	assert_int_equal(buf_printf(&b, "-%d-", 42), KEPT_OK);
	assert_string_equal(buf_str(&b) + 10000, "-42-");
	buf_reset(&b);
	assert_int_equal(buf_len(&b), 0);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void the_cap_refuses_and_keeps_content(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), KEPT_OK);
	assert_int_equal(buf_addc(&b, '9'), KEPT_ERR_TOO_LARGE);
	assert_int_equal(buf_printf(&b, "%s", "x"), KEPT_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "12345678");
	buf_free(&b);
}

static void binary_data_and_take(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 64);
	assert_int_equal(buf_add(&b, "a\0b", 3), KEPT_OK);
	assert_int_equal(buf_len(&b), 3);
	char *taken = buf_take(&b);
	assert_memory_equal(taken, "a\0b", 3);
	assert_int_equal(buf_len(&b), 0);
	free(taken);
	char *empty = buf_take(&b);
	assert_string_equal(empty, "");
	free(empty);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(grows_and_stays_terminated),
	        cmocka_unit_test(the_cap_refuses_and_keeps_content),
	        cmocka_unit_test(binary_data_and_take),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
