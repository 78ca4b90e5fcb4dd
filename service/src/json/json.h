/*
 * json — reading untrusted JSON and checking it against a declarative spec.
 *
 * json_parse_body() turns a request body into a cJSON tree owned by an arena
 * (freed with it). Before parsing it refuses what cJSON would accept silently
 * but kept must not: invalid UTF-8, nesting deeper than JSON_MAX_DEPTH, a
 * "\u0000" escape (PostgreSQL text cannot hold NUL), trailing bytes.
 *
 * json_check() validates an object against a table of `struct json_field`
 * rows, terminated by a row with a NULL name:
 *
 *     static const struct json_field customer_spec[] = {
 *         {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
 *         {"phones", JSON_ARRAY, 0, .max = 10, .items = phone_item},
 *         {0},
 *     };
 *
 * It reports the first problem with a stable code and the path of the field
 * ("phones[1].number"): unknown_field, duplicate_field, missing_field,
 * invalid_type, too_long, out_of_range, invalid_date, too_many_items.
 * Integers are JSON numbers with no fractional part and at most 15 digits
 * (|n| <= JSON_INT_MAX), so they survive the double inside cJSON exactly and
 * print back without an exponent.
 */
#ifndef KEPT_JSON_H
#define KEPT_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "err/err.h"

#define JSON_MAX_DEPTH 32
#define JSON_INT_MAX   999999999999999LL

enum json_kind {
	JSON_STRING,
	JSON_INT,
	JSON_BOOL,
	JSON_DATE, /* a string "YYYY-MM-DD" that names a real calendar day */
	JSON_OBJECT,
	JSON_ARRAY,
};

enum json_flag {
	JSON_REQUIRED = 1u << 0,
	JSON_NULLABLE = 1u << 1,
};

struct json_field {
	const char *name;
	enum json_kind kind;
	unsigned flags;
	size_t max;                       /* STRING: max characters, as the database counts them
	                                   * (0 = 4096); ARRAY: max items */
	long long min, max_int;           /* INT: inclusive range (both 0 = full range) */
	const struct json_field *members; /* OBJECT: member spec */
	const struct json_field *items;   /* ARRAY: one row describing each element */
};

/*
 * Parses `body` (`len` bytes, not necessarily NUL-terminated) as one JSON
 * object. On success *out is owned by `arena`. Errors are KEPT_ERR_INVALID
 * with codes empty_body, invalid_utf8, too_deep, invalid_string,
 * invalid_json, not_an_object.
 */
kept_err json_parse_body(struct arena *arena, const char *body, size_t len, cJSON **out,
                         struct kept_error *err) KEPT_MUST_CHECK;

/* Validates `obj` against `spec` (see above). KEPT_ERR_INVALID on the first problem. */
kept_err json_check(const cJSON *obj, const struct json_field *spec, struct kept_error *err) KEPT_MUST_CHECK;

/* Compact JSON text of `item`, owned by `arena`; NULL when out of memory. */
char *json_print(struct arena *arena, const cJSON *item);

/* Makes a root cJSON object freed with `arena`; NULL when out of memory.
 * Never add it as a child of another object (the parent would free it too). */
cJSON *json_object_in(struct arena *arena);

/* Member accessors for already-checked objects; NULL/false/0 when absent or null. */
const char *json_get_string(const cJSON *obj, const char *name);
bool json_get_int(const cJSON *obj, const char *name, long long *out);
bool json_has(const cJSON *obj, const char *name);

#endif
