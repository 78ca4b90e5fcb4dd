/* json: hostile bodies refused before parsing, and the declarative spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"

static const struct json_field phone_fields[] = {
        {"number", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"consent_automated", JSON_BOOL, JSON_REQUIRED},
        {0},
};
static const struct json_field phone_item[] = {{"phone", JSON_OBJECT, 0, .members = phone_fields}, {0}};
static const struct json_field spec[] = {
        {"name", JSON_STRING, JSON_REQUIRED, .max = 10},          {"cents", JSON_INT, 0},
        {"weeks", JSON_INT, 0, .min = 1, .max_int = 520},         {"on", JSON_DATE, JSON_NULLABLE},
        {"phones", JSON_ARRAY, 0, .max = 2, .items = phone_item}, {0},
};

/* Parses and checks `text`; returns the error code ("" when fine). */
static const char *check(const char *text, char *field)
{
	static struct kept_error err;
	struct arena *a = arena_new(0);
	cJSON *root;
	kept_error_clear(&err);
	kept_err r = json_parse_body(a, text, strlen(text), &root, &err);
	if (!r)
		r = json_check(root, spec, &err);
	if (field)
		strcpy(field, err.field);
	arena_free(a);
	return r ? err.code : "";
}

static void good_bodies_pass(void **state)
{
	(void)state;
	assert_string_equal(check("{\"name\":\"Ann\"}", NULL), "");
	assert_string_equal(
	        check(" {\"name\":\"Ann\",\"cents\":999999999999999,\"weeks\":520,\"on\":null}\n", NULL), "");
	assert_string_equal(check("{\"name\":\"Ann\",\"on\":\"2024-02-29\",\"phones\":[{\"number\":\"+1\","
	                          "\"consent_automated\":false}]}",
	                          NULL),
	                    "");
}

static void bad_shapes_name_their_field(void **state)
{
	(void)state;
	char field[96];
	assert_string_equal(check("{}", field), "missing_field");
	assert_string_equal(field, "name");
	assert_string_equal(check("{\"name\":\"Ann\",\"extra\":1}", field), "unknown_field");
	assert_string_equal(field, "extra");
	assert_string_equal(check("{\"name\":\"Ann\",\"name\":\"Bob\"}", field), "duplicate_field");
	assert_string_equal(check("{\"name\":5}", field), "invalid_type");
	assert_string_equal(check("{\"name\":\"abcdefghijk\"}", field), "too_long");
	/* limits count characters, as the database does, not bytes */
	assert_string_equal(
	        check("{\"name\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}", NULL),
	        "");
	assert_string_equal(check("{\"name\":\"éééééééééé\"}", NULL), "");
	assert_string_equal(check("{\"name\":\"ééééééééééé\"}", NULL), "too_long");
	assert_string_equal(check("{\"name\":\"A\",\"cents\":1.5}", field), "invalid_type");
	assert_string_equal(field, "cents");
	assert_string_equal(check("{\"name\":\"A\",\"cents\":\"100\"}", field), "invalid_type");
	assert_string_equal(check("{\"name\":\"A\",\"cents\":1e300}", field), "out_of_range");
	assert_string_equal(check("{\"name\":\"A\",\"cents\":1000000000000000}", field), "out_of_range");
	assert_string_equal(check("{\"name\":\"A\",\"weeks\":521}", field), "out_of_range");
	assert_string_equal(check("{\"name\":\"A\",\"weeks\":0}", field), "out_of_range");
	assert_string_equal(check("{\"name\":\"A\",\"on\":\"2023-02-29\"}", field), "invalid_date");
	assert_string_equal(check("{\"name\":\"A\",\"on\":\"2023-2-1\"}", field), "invalid_date");
	assert_string_equal(check("{\"name\":\"A\",\"phones\":[{\"number\":\"+1\"}]}", field),
	                    "missing_field");
	assert_string_equal(field, "phones[0].consent_automated");
	assert_string_equal(check("{\"name\":\"A\",\"phones\":[1,2,3]}", field), "too_many_items");
	assert_string_equal(check("{\"name\":\"A\",\"phones\":[7]}", field), "invalid_type");
	assert_string_equal(field, "phones[0]");
}

static void hostile_bodies_are_refused(void **state)
{
	(void)state;
	char deep[200] = "{\"name\":";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	assert_string_equal(check("", NULL), "empty_body");
	assert_string_equal(check("   ", NULL), "empty_body");
	assert_string_equal(check("{\"name\":\"\xff\"}", NULL), "invalid_utf8");
	assert_string_equal(check("{\"name\":\"\xc0\xaf\"}", NULL), "invalid_utf8");     /* overlong '/' */
	assert_string_equal(check("{\"name\":\"\xed\xa0\x80\"}", NULL), "invalid_utf8"); /* surrogate */
	assert_string_equal(check("{\"name\":\"a\\u0000b\"}", NULL), "invalid_string");
	assert_string_equal(check(deep, NULL), "too_deep");
	assert_string_equal(check("{\"name\":\"A\"} trailing", NULL), "invalid_json");
	assert_string_equal(check("{\"name\":", NULL), "invalid_json");
	assert_string_equal(check("[1,2]", NULL), "not_an_object");
	assert_string_equal(check("{\"name\":\"Zoë 😀\"}", NULL), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(good_bodies_pass),
	        cmocka_unit_test(bad_shapes_name_their_field),
	        cmocka_unit_test(hostile_bodies_are_refused),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
