/* Helpers shared by the API's handlers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/rules.h"

kept_err api_db(struct api_ctx *ctx, struct kept_error *err)
{
	if (ctx->db)
		return KEPT_OK;
	return db_thread_conn(&ctx->db, err);
}

bool api_is_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 18 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

kept_err api_path_id(struct api_ctx *ctx, const char *name, const char *not_found_code, int64_t *id,
                     struct kept_error *err)
{
	const char *v = route_param(&ctx->params, name);
	if (!api_is_id(v))
		return kept_fail(err, KEPT_ERR_NOT_FOUND, not_found_code, name, "no such %s", name);
	*id = strtoll(v, NULL, 10);
	return KEPT_OK;
}

kept_err api_json_body(struct api_ctx *ctx, const struct json_field *spec, cJSON **obj,
                       const char **normalized, struct kept_error *err)
{
	size_t len;
	const char *body = http_body(ctx->req, &len);
	cJSON *root;
	kept_err r = json_parse_body(ctx->arena, body, len, &root, err);
	if (!r)
		r = json_check(root, spec, err);
	if (r)
		return r;
	*normalized = json_print(ctx->arena, root);
	if (!*normalized)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (obj)
		*obj = root;
	return KEPT_OK;
}

kept_err api_if_match(struct api_ctx *ctx, int *version, struct kept_error *err)
{
	const char *v = http_header(ctx->req, "If-Match");
	*version = DB_NULL_INT;
	if (!v)
		return KEPT_OK;
	if (strncmp(v, "W/", 2) == 0)
		v += 2;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	char *digits = arena_strndup(ctx->arena, v, n);
	if (!digits || !api_is_id(digits) || n > 9)
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_if_match", "If-Match",
		                 "If-Match must carry the version number the resource was read at");
	*version = (int)strtol(digits, NULL, 10); /* at most 9 digits */
	return KEPT_OK;
}

int64_t api_viewer_key(const struct api_ctx *ctx)
{
	return auth_actor_key(&ctx->who.actor);
}

/* The integer member `name` of a JSON document as text, or NULL. */
static const char *member_text(struct api_ctx *ctx, const char *json, const char *name)
{
	cJSON *doc = cJSON_Parse(json);
	long long v;
	const char *text = NULL;
	if (json_get_int(doc, name, &v))
		text = arena_sprintf(ctx->arena, "%lld", v);
	cJSON_Delete(doc);
	return text;
}

/* Optional headers: a reply without them is still correct, so a failure to
 * add one (out of memory) is not an error. */
static void add_optional_header(struct api_ctx *ctx, const char *name, const char *value)
{
	if (value) {
		kept_err r = http_add_header(ctx->req, name, value);
		(void)r;
	}
}

void api_reply_ok(struct api_ctx *ctx, const char *json)
{
	const char *version = member_text(ctx, json, "version");
	if (version)
		add_optional_header(ctx, "ETag", arena_sprintf(ctx->arena, "\"%s\"", version));
	http_reply_json(ctx->req, 200, json);
}

void api_reply_created(struct api_ctx *ctx, const char *collection, const char *json)
{
	const char *id = collection ? member_text(ctx, json, "id") : NULL;
	if (id)
		add_optional_header(ctx, "Location", arena_sprintf(ctx->arena, "%s/%s", collection, id));
	http_reply_json(ctx->req, 201, json);
}

/* Answers a write's JSON with `status` (201: Location under `location`). */
static kept_err reply_written(struct api_ctx *ctx, const char *answer, int status, const char *location,
                              struct kept_error *err)
{
	if (!answer)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "the write answered nothing");
	if (status == 201)
		api_reply_created(ctx, location, answer);
	else
		api_reply_ok(ctx, answer);
	return KEPT_OK;
}

kept_err api_write(struct api_ctx *ctx, const struct api_write *w, struct kept_error *err)
{
	const char *body = NULL, *answer = NULL;
	int64_t id = 0;
	char not_found_code[48];
	snprintf(not_found_code, sizeof not_found_code, "%s_not_found", w->noun);
	kept_err r = api_path_id(ctx, "id", not_found_code, &id, err);
	if (!r)
		r = api_json_body(ctx, w->spec, NULL, &body, err);
	if (!r)
		r = w->query(ctx->db, ctx->arena, API_ACTOR(ctx), id, body, &answer, err);
	return r ? r : reply_written(ctx, answer, w->status, w->location, err);
}

kept_err api_create_with(struct api_ctx *ctx, const struct json_field *spec, api_create_query q, int status,
                         const char *collection, struct kept_error *err)
{
	const char *body = NULL, *answer = NULL;
	kept_err r = api_json_body(ctx, spec, NULL, &body, err);
	if (!r)
		r = q(ctx->db, ctx->arena, API_ACTOR(ctx), body, &answer, err);
	return r ? r : reply_written(ctx, answer, status, collection, err);
}

kept_err api_create(struct api_ctx *ctx, const struct json_field *spec, api_create_query q,
                    const char *collection, struct kept_error *err)
{
	return api_create_with(ctx, spec, q, 201, collection, err);
}

kept_err api_get(struct api_ctx *ctx, api_get_query q, const char *noun, struct kept_error *err)
{
	char not_found_code[48];
	const char *found = NULL;
	int64_t id = 0;
	snprintf(not_found_code, sizeof not_found_code, "%s_not_found", noun);
	kept_err r = api_path_id(ctx, "id", not_found_code, &id, err);
	if (r)
		return r;
	r = q(ctx->db, ctx->arena, id, &found, err);
	if (r)
		return r;
	if (!found)
		return kept_fail(err, KEPT_ERR_NOT_FOUND, not_found_code, "id", "no %s with id %" PRId64,
		                 noun, id);
	api_reply_ok(ctx, found);
	return KEPT_OK;
}

/* ---- database constraints to API errors ---------------------------------------------- */

/* The constraints that are not a field's rule (rules/rules.c holds those):
 * uniqueness, and references to what must exist. */
static const struct {
	const char *constraint;
	kept_err kind;
	const char *code;
	const char *field;
	const char *message;
} constraint_errors[] = {
        {"customers_external_ref_key", KEPT_ERR_CONFLICT, "duplicate_external_ref", "external_ref",
         "a customer with this external_ref already exists"},
        {"accounts_external_ref_key", KEPT_ERR_CONFLICT, "duplicate_external_ref", "external_ref",
         "an account with this external_ref already exists"},
        {"accounts_currency_fkey", KEPT_ERR_RULE, "unknown_currency", "currency",
         "currency must be an ISO 4217 code kept knows, such as USD, EUR or JPY"},
        {"accounts_customer_id_fkey", KEPT_ERR_RULE, "unknown_customer", "customer_id",
         "no customer with that id"},
        {"users_email_key", KEPT_ERR_CONFLICT, "duplicate_email", "email", "another user has this email"},
};

void api_map_constraint(struct kept_error *err)
{
	if (!err->constraint[0])
		return;
	const struct field_rule *rule = rules_for_constraint(err->constraint);
	if (rule) {
		kept_fail(err, KEPT_ERR_INVALID, rule->code, rule->field, "%s", rule->message);
		return;
	}
	for (size_t i = 0; i < sizeof constraint_errors / sizeof constraint_errors[0]; i++) {
		if (strcmp(err->constraint, constraint_errors[i].constraint) != 0)
			continue;
		kept_fail(err, constraint_errors[i].kind, constraint_errors[i].code,
		          constraint_errors[i].field, "%s", constraint_errors[i].message);
		return;
	}
}
