/* http: the one table of error kinds to statuses. (The server itself is
 * exercised over real sockets by the integration tests.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/http.h"

static void kinds_map_to_statuses(void **state)
{
	(void)state;
	assert_int_equal(http_status_for(KEPT_ERR_INVALID), 400);
	assert_int_equal(http_status_for(KEPT_ERR_UNAUTHENTICATED), 401);
	assert_int_equal(http_status_for(KEPT_ERR_FORBIDDEN), 403);
	assert_int_equal(http_status_for(KEPT_ERR_NOT_FOUND), 404);
	assert_int_equal(http_status_for(KEPT_ERR_METHOD), 405);
	assert_int_equal(http_status_for(KEPT_ERR_CONFLICT), 409);
	assert_int_equal(http_status_for(KEPT_ERR_PRECONDITION), 412);
	assert_int_equal(http_status_for(KEPT_ERR_TOO_LARGE), 413);
	assert_int_equal(http_status_for(KEPT_ERR_MEDIA_TYPE), 415);
	assert_int_equal(http_status_for(KEPT_ERR_RULE), 422);
	assert_int_equal(http_status_for(KEPT_ERR_UNAVAILABLE), 503);
	assert_int_equal(http_status_for(KEPT_ERR_RETRY), 503);
	assert_int_equal(http_status_for(KEPT_ERR_INTERNAL), 500);
	assert_int_equal(http_status_for(KEPT_ERR_NOMEM), 500);
	assert_int_equal(http_status_for((kept_err)1000), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(kinds_map_to_statuses),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
