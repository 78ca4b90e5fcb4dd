/* api: the routing table's own rules and a list's filter object (the rest of
 * the module is glue to libpq and HTTP, tested by tests/integration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/internal.h"
#include "api/specs.h"

static void the_table_keeps_its_rules(void **state)
{
	(void)state;
	char problem[256] = "";
	assert_true(api_routes_check(api_routes, api_routes_count, problem, sizeof problem));
	assert_string_equal(problem, "");
	/* the drift test's premise: every JSON body's spec is in its row */
	for (size_t i = 0; i < api_routes_count; i++)
		assert_true((api_routes[i].body == API_BODY_JSON) == (api_routes[i].spec != NULL));
}

static kept_err fake_get(struct db_conn *c, struct arena *arena, int64_t id, const char **json,
                         struct kept_error *err)
{
	(void)c, (void)arena, (void)id, (void)err;
	*json = NULL;
	return KEPT_OK;
}

static kept_err fake_handler(struct api_ctx *ctx, struct kept_error *err)
{
	(void)ctx, (void)err;
	return KEPT_OK;
}

static void bad_rows_are_named(void **state)
{
	(void)state;
	char problem[256];
	const struct api_route no_noun[] = {
	        {"GET", "/v1/x/{id}", 0, API_BODY_NONE, .kind = API_RUN_GET, .run.get = fake_get,
	         .status = 200},
	};
	assert_false(api_routes_check(no_noun, 1, problem, sizeof problem));
	assert_non_null(strstr(problem, "GET /v1/x/{id}: "));
	const struct api_route no_id[] = {
	        {"GET", "/v1/x", 0, API_BODY_NONE, .kind = API_RUN_GET, .run.get = fake_get, .noun = "x",
	         .status = 200},
	};
	assert_false(api_routes_check(no_id, 1, problem, sizeof problem));
	const struct api_route json_without_spec[] = {
	        {"POST", "/v1/x", 0, API_BODY_JSON, .kind = API_RUN_C, .run.handler = fake_handler},
	};
	assert_false(api_routes_check(json_without_spec, 1, problem, sizeof problem));
	assert_non_null(strstr(problem, "without a spec"));
	const struct api_route spec_without_json[] = {
	        {"GET", "/v1/x", 0, API_BODY_NONE, .kind = API_RUN_C, .run.handler = fake_handler,
	         .spec = api_spec_admin_run},
	};
	assert_false(api_routes_check(spec_without_json, 1, problem, sizeof problem));
	const struct api_route list_without_params[] = {
	        {"GET", "/v1/x", 0, API_BODY_NONE, .kind = API_RUN_LIST, .status = 200},
	};
	assert_false(api_routes_check(list_without_params, 1, problem, sizeof problem));
	const struct api_route no_query[] = {
	        {"GET", "/v1/x/{id}", 0, API_BODY_NONE, .kind = API_RUN_GET, .noun = "x", .status = 200},
	};
	assert_false(api_routes_check(no_query, 1, problem, sizeof problem));
	assert_non_null(strstr(problem, "no query"));
	const struct api_route good[] = {
	        {"GET", "/v1/x/{id}", 0, API_BODY_NONE, .kind = API_RUN_GET, .run.get = fake_get, .noun = "x",
	         .status = 200},
	};
	assert_true(api_routes_check(good, 1, problem, sizeof problem));
}

static void filters_leave_out_what_is_absent(void **state)
{
	(void)state;
	struct arena *a = arena_new(1u << 16);
	assert_non_null(a);
	const char *const names[] = {"status", "cursor", "limit", NULL};
	const char *const none[] = {NULL, NULL, NULL};
	assert_string_equal(api_filters_json(a, names, none, 0), "{}");
	const char *const some[] = {"open", NULL, ""};
	assert_string_equal(api_filters_json(a, names, some, 0), "{\"status\":\"open\",\"limit\":\"\"}");
	arena_free(a);
}

static void filters_are_text_and_escaped(void **state)
{
	(void)state;
	struct arena *a = arena_new(1u << 16);
	assert_non_null(a);
	const char *const names[] = {"q", NULL};
	const char *const quoted[] = {"a\"b\\c\n"};
	assert_string_equal(api_filters_json(a, names, quoted, 0), "{\"q\":\"a\\\"b\\\\c\\n\"}");
	/* the path's id as text: 18 digits survive (a double would not keep them) */
	const char *const absent[] = {NULL};
	assert_string_equal(api_filters_json(a, names, absent, 999999999999999999),
	                    "{\"id\":\"999999999999999999\"}");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(the_table_keeps_its_rules),
	        cmocka_unit_test(bad_rows_are_named),
	        cmocka_unit_test(filters_leave_out_what_is_absent),
	        cmocka_unit_test(filters_are_text_and_escaped),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
