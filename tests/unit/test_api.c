/* api: the routing table's own rules and a list's filter object (the rest of
 * the module is glue to libpq and HTTP, tested by tests/integration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/internal.h"
#include "api/specs.h"
#include "rules/rules.h"

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
	const struct api_route roles_without_db[] = {
	        {"GET", "/v1/x", AUTH_ADMIN, API_BODY_NONE, .kind = API_RUN_C, .run.handler = fake_handler,
	         .no_db = true},
	};
	assert_false(api_routes_check(roles_without_db, 1, problem, sizeof problem));
	assert_non_null(strstr(problem, "needs the database"));
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

/* A spec field against every field rule that governs a property of its name:
 * the same longest text, and (when the spec bounds an integer) the same
 * bounds. Counts the rules it was held to in *held; answers how many it
 * disagrees with (each printed). */
static int field_drift(const struct json_field *f, const char *where, int *held)
{
	int drift = 0;
	for (size_t i = 0; i < field_rules_count; i++) {
		const struct field_rule *r = &field_rules[i];
		if (strcmp(r->property ? r->property : r->field, f->name) != 0)
			continue;
		(*held)++;
		bool longer = f->kind == JSON_STRING && r->max_chars && f->max != (size_t)r->max_chars;
		bool bounds = f->kind == JSON_INT && (f->min || f->max_int) &&
		              (!(r->bounds & RULE_MIN) || f->min != r->min || !(r->bounds & RULE_MAX) ||
		               f->max_int != r->max);
		if (longer || bounds) {
			print_message("%s: %s differs from the field rule %s\n", where, f->name, r->name);
			drift++;
		}
	}
	return drift;
}

static int spec_drift(const struct json_field *spec, const char *where, int *held);

/* One row, its object's members and its array's element (a single row). */
static int row_drift(const struct json_field *f, const char *where, int *held)
{
	return field_drift(f, where, held) + spec_drift(f->members, where, held) +
	       (f->items ? row_drift(f->items, where, held) : 0);
}

static int spec_drift(const struct json_field *spec, const char *where, int *held)
{
	int drift = 0;
	for (const struct json_field *f = spec; f && f->name; f++)
		drift += row_drift(f, where, held);
	return drift;
}

/* Each field rule declared once (rules/rules.c): every request spec that
 * names a governed field agrees with it (tests/integration/test_field_rules.py
 * holds openapi.yaml and the database to the same rules). */
static void specs_follow_the_field_rules(void **state)
{
	(void)state;
	int held = 0, drift = 0;
	for (size_t i = 0; i < api_routes_count; i++) {
		char where[160];
		snprintf(where, sizeof where, "%s %s", api_routes[i].method, api_routes[i].pattern);
		drift += spec_drift(api_routes[i].spec, where, &held);
	}
	assert_int_equal(drift, 0);
	assert_true(held >= 20); /* it reaches the specs: name, team, source, currency, ... */

	/* and it sees a drift, nested ones too */
	const struct json_field phone[] = {{"type", JSON_STRING, 0, .max = 10}, {0}};
	const struct json_field drifted[] = {
	        {"source", JSON_STRING, JSON_REQUIRED, .max = 41},
	        {"max_weeks", JSON_INT, 0, .min = 1, .max_int = 52},
	        {"phones", JSON_ARRAY, 0, .max = 10,
	         .items = &(const struct json_field){"p", JSON_OBJECT, 0, .members = phone}},
	        {"team", JSON_STRING, 0, .max = 64},
	        {0},
	};
	held = 0;
	assert_int_equal(spec_drift(drifted, "drifted", &held), 2);
	assert_int_equal(held, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(the_table_keeps_its_rules),
	        cmocka_unit_test(bad_rows_are_named),
	        cmocka_unit_test(filters_leave_out_what_is_absent),
	        cmocka_unit_test(filters_are_text_and_escaped),
	        cmocka_unit_test(specs_follow_the_field_rules),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
