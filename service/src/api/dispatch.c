/* Routing, authentication, roles and error replies for every request. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "metrics/metrics.h"

const struct api_config *api_cfg;
static struct metrics_route metric_routes[128];

static void fail_request(struct api_ctx *ctx, struct kept_error *err)
{
	api_map_constraint(err);
	http_reply_error(ctx->req, err);
}

/* Finds the route for method + path; on no match fills err (404 or 405). */
static const struct api_route *find_route(struct api_ctx *ctx, struct kept_error *err)
{
	const char *method = http_method(ctx->req);
	const char *path = http_path(ctx->req);
	char allow[128] = "";
	for (size_t i = 0; i < api_routes_count; i++) {
		if (!route_match(api_routes[i].pattern, path, &ctx->params))
			continue;
		if (strcmp(api_routes[i].method, method) == 0) {
			http_set_route(ctx->req, i);
			return &api_routes[i];
		}
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", api_routes[i].method);
	}
	if (!allow[0]) {
		kept_fail(err, KEPT_ERR_NOT_FOUND, "route_not_found", "", "no such endpoint: %s %s", method,
		          path);
		return NULL;
	}
	kept_fail(err, KEPT_ERR_METHOD, "method_not_allowed", "", "%s is not allowed here; use %s", method,
	          allow);
	err->details_json = arena_sprintf(ctx->arena, "{\"allow\":\"%s\"}", allow);
	return NULL;
}

static bool media_type_is(const char *content_type, const char *expected)
{
	size_t n = strlen(expected);
	if (!content_type || strncasecmp(content_type, expected, n) != 0)
		return false;
	return content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ';
}

static kept_err check_body_type(struct api_ctx *ctx, struct kept_error *err)
{
	const char *ct = http_header(ctx->req, "Content-Type");
	switch (ctx->route->body) {
	case API_BODY_JSON:
		http_set_body_limit(ctx->req, api_cfg->max_body_bytes);
		if (!media_type_is(ct, "application/json"))
			return kept_fail(err, KEPT_ERR_MEDIA_TYPE, "unsupported_media_type", "Content-Type",
			                 "send the body as Content-Type: application/json");
		return KEPT_OK;
	case API_BODY_CSV:
		http_set_body_limit(ctx->req, api_cfg->max_import_bytes);
		if (!media_type_is(ct, "text/csv"))
			return kept_fail(err, KEPT_ERR_MEDIA_TYPE, "unsupported_media_type", "Content-Type",
			                 "send the file as Content-Type: text/csv");
		return KEPT_OK;
	case API_BODY_FILE:
		http_set_body_limit(ctx->req, api_cfg->max_import_bytes);
		if (!media_type_is(ct, "text/csv") && !media_type_is(ct, "application/json"))
			return kept_fail(err, KEPT_ERR_MEDIA_TYPE, "unsupported_media_type", "Content-Type",
			                 "send the file as Content-Type: text/csv or application/json");
		return KEPT_OK;
	case API_BODY_FORM:
		http_set_body_limit(ctx->req, api_cfg->max_body_bytes);
		if (!media_type_is(ct, "application/x-www-form-urlencoded"))
			return kept_fail(err, KEPT_ERR_MEDIA_TYPE, "unsupported_media_type", "Content-Type",
			                 "send the body as Content-Type: application/x-www-form-urlencoded");
		return KEPT_OK;
	case API_BODY_NONE: http_set_body_limit(ctx->req, api_cfg->max_body_bytes); return KEPT_OK;
	}
	return KEPT_OK;
}

static kept_err authorize(struct api_ctx *ctx, struct kept_error *err)
{
	if (!ctx->route->roles)
		return KEPT_OK;
	kept_err r = api_db(ctx, err);
	if (r)
		return r;
	r = auth_authenticate(ctx->db, ctx->arena, http_header(ctx->req, "Authorization"),
	                      http_request_id(ctx->req), &ctx->who, err);
	if (r)
		return r;
	http_set_actor(ctx->req, arena_sprintf(ctx->arena, "key:%lld", ctx->who.key_id));
	if (!(ctx->route->roles & ctx->who.role))
		return kept_fail(err, KEPT_ERR_FORBIDDEN, "forbidden_role", "",
		                 "the %s role may not use %s %s", auth_role_name(ctx->who.role),
		                 ctx->route->method, ctx->route->pattern);
	return KEPT_OK;
}

/* A personal link's token is a credential: the access log writes /s/… instead. */
static void mask_token(struct api_ctx *ctx)
{
	const char *path = http_path(ctx->req);
	if (strncmp(path, "/s/", 3) != 0)
		return;
	const char *rest = strchr(path + 3, '/');
	http_set_log_path(ctx->req, arena_sprintf(ctx->arena, "/s/...%s", rest ? rest : ""));
}

/* Headers are in: route, authenticate, authorise, check the body's type.
 * Replying here makes the server drop any body unread. */
static void on_begin(struct http_request *req, void *cls)
{
	(void)cls;
	struct kept_error err;
	kept_error_clear(&err);
	struct api_ctx *ctx = arena_zalloc(http_arena(req), sizeof *ctx);
	if (!ctx) {
		kept_fail(&err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
		http_reply_error(req, &err);
		return;
	}
	ctx->req = req;
	ctx->arena = http_arena(req);
	http_set_app_data(req, ctx);
	mask_token(ctx);
	ctx->route = find_route(ctx, &err);
	if (!ctx->route) {
		fail_request(ctx, &err);
		return;
	}
	/* who may call comes before what the call must look like */
	kept_err r = authorize(ctx, &err);
	if (!r)
		r = check_body_type(ctx, &err);
	if (r)
		fail_request(ctx, &err);
}

static void on_handle(struct http_request *req, void *cls)
{
	(void)cls;
	struct api_ctx *ctx = http_app_data(req);
	struct kept_error err;
	kept_error_clear(&err);
	kept_err r = ctx->route->handler(ctx, &err);
	if (r)
		fail_request(ctx, &err);
}

static const struct http_app app = {on_begin, on_handle, NULL};

kept_err api_init(const struct api_config *cfg)
{
	api_cfg = cfg;
	if (api_routes_count > sizeof metric_routes / sizeof metric_routes[0])
		return KEPT_ERR_INTERNAL;
	for (size_t i = 0; i < api_routes_count; i++) {
		metric_routes[i].method = api_routes[i].method;
		metric_routes[i].pattern = api_routes[i].pattern;
	}
	return metrics_init(metric_routes, api_routes_count);
}

const struct http_app *api_http_app(void)
{
	return &app;
}
