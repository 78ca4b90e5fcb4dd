/* route: literal and parameter segments, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route/route.h"

static void literals_and_params(void **state)
{
	(void)state;
	struct route_params p;
	assert_true(route_match("/healthz", "/healthz", &p));
	assert_int_equal(p.count, 0);
	assert_true(route_match("/v1/customers/{id}", "/v1/customers/42", &p));
	assert_string_equal(route_param(&p, "id"), "42");
	assert_null(route_param(&p, "other"));
	assert_true(route_match("/v1/a/{x}/b/{y}", "/v1/a/1/b/two", &p));
	assert_string_equal(route_param(&p, "x"), "1");
	assert_string_equal(route_param(&p, "y"), "two");
}

static void mismatches(void **state)
{
	(void)state;
	struct route_params p;
	assert_false(route_match("/v1/customers/{id}", "/v1/customers", &p));
	assert_false(route_match("/v1/customers/{id}", "/v1/customers/", &p));
	assert_false(route_match("/v1/customers/{id}", "/v1/customers/1/x", &p));
	assert_false(route_match("/v1/customers", "/v1/customers/", &p));
	assert_false(route_match("/v1/customers", "/v1/customer", &p));
	assert_false(route_match("/v1/customers", "v1/customers", &p));
	assert_false(route_match("/v1/customers", "", &p));
	assert_false(route_match("/healthz", "/healthzz", &p));
}

static void long_segments_do_not_match(void **state)
{
	(void)state;
	char path[400] = "/v1/customers/";
	memset(path + strlen(path), '9', 300);
	assert_false(route_match("/v1/customers/{id}", path, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(literals_and_params),
	        cmocka_unit_test(mismatches),
	        cmocka_unit_test(long_segments_do_not_match),
	};
	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
