/* Helpers shared by the API's handlers, and the dispatcher's runs of the plain kinds of route. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/rules.h"

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

const char *api_filters_json(struct arena *arena, const char *const *names, const char *const *values,
                             int64_t path_id)
{
	cJSON *filters = json_object_in(arena);
	bool ok = filters != NULL;
	for (size_t i = 0; ok && names[i]; i++)
		if (values[i])
			ok = cJSON_AddStringToObject(filters, names[i], values[i]) != NULL;
	if (ok && path_id > 0) {
		const char *id = arena_sprintf(arena, "%" PRId64, path_id); /* text: a double loses digits */
		ok = id && cJSON_AddStringToObject(filters, "id", id) != NULL;
	}
	return ok ? json_print(arena, filters) : NULL;
}

kept_err api_body_not_empty(struct api_ctx *ctx, const cJSON *body, struct kept_error *err)
{
	(void)ctx;
	if (body && body->child)
		return KEPT_OK;
	return kept_fail(err, KEPT_ERR_INVALID, "empty_update", "", "name at least one field to change");
}

/* ---- the plain kinds of route ------------------------------------------------------------ */

static kept_err no_memory(struct kept_error *err)
{
	return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
}

/* <noun>_not_found, the route's noun's. */
static void not_found_code(const struct api_ctx *ctx, char *code, size_t size)
{
	snprintf(code, size, "%s_not_found", ctx->route->noun);
}

/* The path's {id}; a bad one is 404 <noun>_not_found. */
static kept_err route_id(struct api_ctx *ctx, int64_t *id, struct kept_error *err)
{
	char code[48];
	not_found_code(ctx, code, sizeof code);
	return api_path_id(ctx, "id", code, id, err);
}

/* The body checked against the route's spec, then its check (if any). */
static kept_err route_body(struct api_ctx *ctx, const char **body, struct kept_error *err)
{
	cJSON *obj = NULL;
	kept_err r = api_json_body(ctx, ctx->route->spec, &obj, body, err);
	if (!r && ctx->route->check)
		r = ctx->route->check(ctx, obj, err);
	return r;
}

/* Answers a write's JSON with the route's status (201: Location under its location). */
static kept_err reply_written(struct api_ctx *ctx, const char *answer, struct kept_error *err)
{
	if (!answer)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "the write answered nothing");
	if (ctx->route->status == 201)
		api_reply_created(ctx, ctx->route->location, answer);
	else
		api_reply_ok(ctx, answer);
	return KEPT_OK;
}

static kept_err run_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *found = NULL;
	int64_t id = 0;
	kept_err r = route_id(ctx, &id, err);
	if (!r)
		r = ctx->route->run.get(ctx->db, ctx->arena, id, &found, err);
	if (r)
		return r;
	if (!found) {
		char code[48];
		not_found_code(ctx, code, sizeof code);
		return kept_fail(err, KEPT_ERR_NOT_FOUND, code, "id", "no %s with id %" PRId64,
		                 ctx->route->noun, id);
	}
	api_reply_ok(ctx, found);
	return KEPT_OK;
}

static kept_err run_read(struct api_ctx *ctx, struct kept_error *err)
{
	const char *doc = NULL;
	kept_err r = ctx->route->run.read(ctx->db, ctx->arena, &doc, err);
	if (!r)
		http_reply_json(ctx->req, ctx->route->status, doc);
	return r;
}

/* LIST and VIEWER_LIST: the declared query parameters (and the path's {id}) as JSON. */
static kept_err run_list(struct api_ctx *ctx, struct kept_error *err)
{
	const struct api_route *route = ctx->route;
	int64_t id = 0;
	kept_err r = strstr(route->pattern, "{id}") ? route_id(ctx, &id, err) : KEPT_OK;
	if (r)
		return r;
	size_t n = 0;
	while (route->params[n])
		n++;
	const char **values = arena_alloc(ctx->arena, (n + 1) * sizeof *values);
	if (!values)
		return no_memory(err);
	for (size_t i = 0; i < n; i++)
		values[i] = http_query(ctx->req, route->params[i]);
	const char *filters = api_filters_json(ctx->arena, route->params, values, id), *page = NULL;
	if (!filters)
		return no_memory(err);
	if (route->kind == API_RUN_VIEWER_LIST)
		r = route->run.viewer_list(ctx->db, ctx->arena, API_VIEWER(ctx), filters, &page, err);
	else
		r = route->run.list(ctx->db, ctx->arena, filters, &page, err);
	if (!r)
		http_reply_json(ctx->req, route->status, page);
	return r;
}

static kept_err run_create(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *answer = NULL;
	kept_err r = route_body(ctx, &body, err);
	if (!r)
		r = ctx->route->run.create(ctx->db, ctx->arena, API_ACTOR(ctx), body, &answer, err);
	return r ? r : reply_written(ctx, answer, err);
}

static kept_err run_write(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *answer = NULL;
	int64_t id = 0;
	kept_err r = route_id(ctx, &id, err);
	if (!r)
		r = route_body(ctx, &body, err);
	if (!r)
		r = ctx->route->run.write(ctx->db, ctx->arena, API_ACTOR(ctx), id, body, &answer, err);
	return r ? r : reply_written(ctx, answer, err);
}

static kept_err run_update(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *answer = NULL;
	int64_t id = 0;
	int version = DB_NULL_INT;
	kept_err r = route_id(ctx, &id, err);
	if (!r)
		r = api_if_match(ctx, &version, err);
	if (!r)
		r = route_body(ctx, &body, err);
	if (!r)
		r = ctx->route->run.update(ctx->db, ctx->arena, API_ACTOR(ctx), id, version, body, &answer,
		                           err);
	return r ? r : reply_written(ctx, answer, err);
}

kept_err api_run_route(struct api_ctx *ctx, struct kept_error *err)
{
	switch (ctx->route->kind) {
	case API_RUN_C: return ctx->route->run.handler(ctx, err);
	case API_RUN_GET: return run_get(ctx, err);
	case API_RUN_READ: return run_read(ctx, err);
	case API_RUN_LIST:
	case API_RUN_VIEWER_LIST: return run_list(ctx, err);
	case API_RUN_CREATE: return run_create(ctx, err);
	case API_RUN_WRITE: return run_write(ctx, err);
	case API_RUN_UPDATE: return run_update(ctx, err);
	}
	return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "a route of no known kind");
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
