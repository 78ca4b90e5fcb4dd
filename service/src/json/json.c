#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

#define JSON_DEFAULT_STRING_MAX 4096

/* ---- parsing ---------------------------------------------------------------- */

/* Nesting depth outside strings, and whether a \u0000 escape appears. */
static kept_err scan_structure(const char *s, size_t n, struct kept_error *err)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\' && i + 1 < n) {
				if (s[i + 1] == 'u' && i + 5 < n && strncmp(s + i + 2, "0000", 4) == 0)
					return kept_fail(
					        err, KEPT_ERR_INVALID, "invalid_string", "",
					        "strings must not contain the NUL character (\\u0000)");
				i++;
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH)
				return kept_fail(err, KEPT_ERR_INVALID, "too_deep", "",
				                 "JSON nesting deeper than %d levels", JSON_MAX_DEPTH);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return KEPT_OK;
}

static void delete_json(void *p)
{
	cJSON_Delete(p);
}

kept_err json_parse_body(struct arena *arena, const char *body, size_t len, cJSON **out,
                         struct kept_error *err)
{
	size_t start = 0;
	while (start < len &&
	       (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' || body[start] == '\t'))
		start++;
	if (start == len)
		return kept_fail(err, KEPT_ERR_INVALID, "empty_body", "", "a JSON object is required");
	if (!text_utf8_valid(body, len))
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_utf8", "", "the body is not valid UTF-8");
	if (memchr(body, '\0', len))
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_json", "", "the body contains a NUL byte");
	kept_err r = scan_structure(body, len, err);
	if (r)
		return r;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (!root) {
		long at = end ? (long)(end - body) : 0;
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_json", "",
		                 "the body is not valid JSON (near byte %ld)", at);
	}
	if (arena_defer(arena, delete_json, root))
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	for (size_t i = (size_t)(end - body); i < len; i++)
		if (!(body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
			return kept_fail(err, KEPT_ERR_INVALID, "invalid_json", "",
			                 "unexpected data after the JSON value");
	if (!cJSON_IsObject(root))
		return kept_fail(err, KEPT_ERR_INVALID, "not_an_object", "",
		                 "the body must be a JSON object");
	*out = root;
	return KEPT_OK;
}

/* ---- spec checking ---------------------------------------------------------- */

static kept_err check_value(const cJSON *v, const struct json_field *f, const char *path,
                            struct kept_error *err);

static const char *kind_name(enum json_kind k)
{
	switch (k) {
	case JSON_STRING: return "a string";
	case JSON_INT: return "an integer";
	case JSON_BOOL: return "true or false";
	case JSON_DATE: return "a date (YYYY-MM-DD)";
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	}
	return "?";
}

static kept_err wrong_type(const struct json_field *f, const char *path, struct kept_error *err)
{
	return kept_fail(err, KEPT_ERR_INVALID, "invalid_type", path, "%s must be %s%s", path,
	                 kind_name(f->kind), (f->flags & JSON_NULLABLE) ? " or null" : "");
}

static kept_err check_int(const cJSON *v, const struct json_field *f, const char *path,
                          struct kept_error *err)
{
	double d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > (double)JSON_INT_MAX)
		return kept_fail(err, KEPT_ERR_INVALID,
		                 isfinite(d) && d == floor(d) ? "out_of_range" : "invalid_type", path,
		                 "%s must be a whole number between %lld and %lld", path, -JSON_INT_MAX,
		                 JSON_INT_MAX);
	long long n = (long long)d;
	if ((f->min || f->max_int) && (n < f->min || n > f->max_int))
		return kept_fail(err, KEPT_ERR_INVALID, "out_of_range", path,
		                 "%s must be between %lld and %lld", path, f->min, f->max_int);
	return KEPT_OK;
}

static kept_err check_array(const cJSON *v, const struct json_field *f, const char *path,
                            struct kept_error *err)
{
	int n = cJSON_GetArraySize(v);
	if (f->max && (size_t)n > f->max)
		return kept_fail(err, KEPT_ERR_INVALID, "too_many_items", path, "%s holds at most %zu items",
		                 path, f->max);
	int i = 0;
	for (const cJSON *item = v->child; item; item = item->next, i++) {
		char sub[96];
		snprintf(sub, sizeof sub, "%s[%d]", path, i);
		kept_err r = check_value(item, f->items, sub, err);
		if (r)
			return r;
	}
	return KEPT_OK;
}

static kept_err check_members(const cJSON *obj, const struct json_field *spec, const char *prefix,
                              struct kept_error *err);

static kept_err check_value(const cJSON *v, const struct json_field *f, const char *path,
                            struct kept_error *err)
{
	if (cJSON_IsNull(v))
		return (f->flags & JSON_NULLABLE) ? KEPT_OK : wrong_type(f, path, err);
	switch (f->kind) {
	case JSON_STRING:
	case JSON_DATE: {
		if (!cJSON_IsString(v))
			return wrong_type(f, path, err);
		size_t max = f->max ? f->max : JSON_DEFAULT_STRING_MAX;
		if (text_utf8_length(v->valuestring, strlen(v->valuestring)) > max)
			return kept_fail(err, KEPT_ERR_INVALID, "too_long", path,
			                 "%s is longer than %zu characters", path, max);
		if (f->kind == JSON_DATE && !text_is_date(v->valuestring, strlen(v->valuestring)))
			return kept_fail(err, KEPT_ERR_INVALID, "invalid_date", path,
			                 "%s must be a real calendar date YYYY-MM-DD", path);
		return KEPT_OK;
	}
	case JSON_INT: return cJSON_IsNumber(v) ? check_int(v, f, path, err) : wrong_type(f, path, err);
	case JSON_BOOL: return cJSON_IsBool(v) ? KEPT_OK : wrong_type(f, path, err);
	case JSON_OBJECT:
		return cJSON_IsObject(v) ? check_members(v, f->members, path, err) : wrong_type(f, path, err);
	case JSON_ARRAY: return cJSON_IsArray(v) ? check_array(v, f, path, err) : wrong_type(f, path, err);
	}
	return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", path, "unknown field kind");
}

static const struct json_field *spec_find(const struct json_field *spec, const char *name)
{
	for (const struct json_field *f = spec; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void join_path(char *out, size_t size, const char *prefix, const char *name)
{
	if (*prefix)
		snprintf(out, size, "%s.%s", prefix, name);
	else
		snprintf(out, size, "%s", name);
}

static kept_err check_members(const cJSON *obj, const struct json_field *spec, const char *prefix,
                              struct kept_error *err)
{
	char path[96];
	for (const cJSON *m = obj->child; m; m = m->next) {
		join_path(path, sizeof path, prefix, m->string);
		const struct json_field *f = spec_find(spec, m->string);
		if (!f)
			return kept_fail(err, KEPT_ERR_INVALID, "unknown_field", path,
			                 "%s is not a known field", path);
		for (const cJSON *o = m->next; o; o = o->next)
			if (strcmp(o->string, m->string) == 0)
				return kept_fail(err, KEPT_ERR_INVALID, "duplicate_field", path,
				                 "%s appears more than once", path);
		kept_err r = check_value(m, f, path, err);
		if (r)
			return r;
	}
	for (const struct json_field *f = spec; f->name; f++) {
		if ((f->flags & JSON_REQUIRED) && !cJSON_GetObjectItemCaseSensitive(obj, f->name)) {
			join_path(path, sizeof path, prefix, f->name);
			return kept_fail(err, KEPT_ERR_INVALID, "missing_field", path, "%s is required",
			                 path);
		}
	}
	return KEPT_OK;
}

kept_err json_check(const cJSON *obj, const struct json_field *spec, struct kept_error *err)
{
	if (!cJSON_IsObject(obj))
		return kept_fail(err, KEPT_ERR_INVALID, "not_an_object", "", "a JSON object is required");
	return check_members(obj, spec, "", err);
}

/* ---- output and accessors -------------------------------------------------- */

char *json_print(struct arena *arena, const cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	if (!text)
		return NULL;
	char *copy = arena_strdup(arena, text);
	cJSON_free(text);
	return copy;
}

cJSON *json_object_in(struct arena *arena)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || arena_defer(arena, delete_json, o))
		return NULL;
	return o;
}

const char *json_get_string(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool json_get_int(const cJSON *obj, const char *name, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsNumber(v))
		return false;
	*out = (long long)v->valuedouble;
	return true;
}

bool json_has(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name) != NULL;
}
