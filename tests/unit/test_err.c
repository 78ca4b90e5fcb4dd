/* err: filling the one error type, truncation to its buffers, kind names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err/err.h"

static void fail_fills_and_returns_the_kind(void **state)
{
	(void)state;
	struct kept_error e;
	kept_error_clear(&e);
	assert_int_equal(e.kind, KEPT_OK);
	assert_int_equal(
	        kept_fail(&e, KEPT_ERR_RULE, "plan_exists", "account_id", "account %d has a plan", 42),
	        KEPT_ERR_RULE);
	assert_int_equal(e.kind, KEPT_ERR_RULE);
	assert_string_equal(e.code, "plan_exists");
	assert_string_equal(e.field, "account_id");
	assert_string_equal(e.message, "account 42 has a plan");
	kept_error_clear(&e);
	assert_int_equal(e.kind, KEPT_OK);
	assert_string_equal(e.code, "");
	assert_string_equal(e.message, "");
	assert_null(e.details_json);
}

static void a_null_error_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(kept_fail(NULL, KEPT_ERR_INVALID, "invalid_json", "", "body is not JSON"),
	                 KEPT_ERR_INVALID);
}

static void long_values_are_cut_to_their_buffers(void **state)
{
	(void)state;
	struct kept_error e;
	char code[200];
	char message[600];
	memset(code, 'c', sizeof code - 1);
	code[sizeof code - 1] = '\0';
	memset(message, 'm', sizeof message - 1);
	message[sizeof message - 1] = '\0';
	kept_error_clear(&e);
	(void)kept_fail(&e, KEPT_ERR_INTERNAL, code, code, "%s", message);
	assert_int_equal(strlen(e.code), sizeof e.code - 1);
	assert_int_equal(strlen(e.field), sizeof e.field - 1);
	assert_int_equal(strlen(e.message), sizeof e.message - 1);
}

static void every_kind_has_a_name(void **state)
{
	(void)state;
	for (int k = KEPT_OK; k < KEPT_ERR__COUNT; k++) {
		const char *name = kept_err_name((kept_err)k);
		assert_non_null(name);
		assert_true(strlen(name) > 0);
	}
	assert_string_equal(kept_err_name(KEPT_ERR_INVALID), "invalid");
	assert_string_equal(kept_err_name(KEPT_ERR_UNAVAILABLE), "unavailable");
	assert_non_null(kept_err_name(KEPT_ERR__COUNT)); /* out of range: still a name */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fail_fills_and_returns_the_kind),
	        cmocka_unit_test(a_null_error_is_allowed),
	        cmocka_unit_test(long_values_are_cut_to_their_buffers),
	        cmocka_unit_test(every_kind_has_a_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
