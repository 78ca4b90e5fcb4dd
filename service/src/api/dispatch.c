/* Routing, the database connection, authentication, roles and error replies
 * for every request; then the route's row runs (api_run_route). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <time.h>

#include "internal.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "ratelimit/ratelimit.h"

const struct api_config *api_cfg;
static struct metrics_route *metric_routes; /* one per row of api_routes */
static struct ratelimit *limiter;           /* NULL: no limit */

static void fail_request(struct api_ctx *ctx, struct kept_error *err)
{
	api_map_constraint(err);
	if (http_status_for(err->kind) == 500) {
		/* the client is told only "internal error"; the log says what (never a secret) */
		struct log_line l;
		log_begin(&l, LOG_ERROR, "request_failed");
		log_str(&l, "code", err->code);
		log_str(&l, "msg", err->message);
		log_end(&l);
	}
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

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every authenticated request takes a token of its key's bucket; 429 without one. */
static kept_err check_rate(struct api_ctx *ctx, struct kept_error *err)
{
	int wait_s = 1;
	if (!limiter || ratelimit_take(limiter, ctx->who.key_id, monotonic_ns(), &wait_s))
		return KEPT_OK;
	kept_fail(err, KEPT_ERR_RATE_LIMITED, "rate_limited", "",
	          "this key made more than %d requests a second; try again in %d s", api_cfg->rate_limit,
	          wait_s);
	err->details_json = arena_sprintf(ctx->arena, "{\"retry_after\":%d}", wait_s);
	return KEPT_ERR_RATE_LIMITED;
}

/* This thread's connection, for every route but those that answer without one. */
static kept_err take_db(struct api_ctx *ctx, struct kept_error *err)
{
	if (ctx->route->no_db)
		return KEPT_OK;
	return db_thread_conn(&ctx->db, err);
}

static kept_err authorize(struct api_ctx *ctx, struct kept_error *err)
{
	if (!ctx->route->roles)
		return KEPT_OK;
	kept_err r = auth_authenticate(ctx->db, ctx->arena, http_header(ctx->req, "Authorization"),
	                               http_request_id(ctx->req), &ctx->who, err);
	if (r)
		return r;
	http_set_actor(ctx->req,
	               arena_sprintf(ctx->arena, "key:%lld/user:%lld", ctx->who.key_id, ctx->who.user_id));
	r = check_rate(ctx, err);
	if (r)
		return r;
	if (!(ctx->route->roles & ctx->who.roles)) {
		char held[64];
		auth_roles_format(ctx->who.roles, held, sizeof held);
		return kept_fail(err, KEPT_ERR_FORBIDDEN, "forbidden_role", "",
		                 "this key acts as %s, which may not use %s %s", held, ctx->route->method,
		                 ctx->route->pattern);
	}
	return KEPT_OK;
}

static const char *const scope_kinds[] = {
        [API_SCOPE_CUSTOMER] = "customer",
        [API_SCOPE_ACCOUNT] = "account",
        [API_SCOPE_PLAN] = "plan",
        [API_SCOPE_PAYMENT] = "payment",
        [API_SCOPE_OFFER] = "settlement_offer",
        [API_SCOPE_ESCALATION] = "escalation",
        [API_SCOPE_REVIEW] = "review",
        [API_SCOPE_LINK] = "self_service_link",
};

/* Where the route's resource is named: the path's {id}, else the list's filter. */
static const char *scope_field(const struct api_route *route)
{
	if (strstr(route->pattern, "{id}"))
		return "id";
	return route->scope == API_SCOPE_CUSTOMER ? "customer_id" : "account_id";
}

static const char *scope_id(struct api_ctx *ctx)
{
	const char *field = scope_field(ctx->route);
	return strcmp(field, "id") == 0 ? route_param(&ctx->params, "id") : http_query(ctx->req, field);
}

/* The resource exists and the caller's team may see it, else 404; a read of
 * personal data is logged. A malformed or absent id is left to the handler
 * (which answers 404 or 400), and a list with no filter to its query, which
 * shows and logs only what the caller's team may see. */
static kept_err check_scope(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id = scope_id(ctx);
	if (ctx->route->scope == API_SCOPE_NONE || !api_is_id(id))
		return KEPT_OK;
	return q_access_check(ctx->db, ctx->arena, api_viewer_key(ctx), http_request_id(ctx->req),
	                      scope_kinds[ctx->route->scope], strtoll(id, NULL, 10), ctx->route->method,
	                      ctx->route->pattern, http_path(ctx->req), ctx->route->pii == API_READS_PII,
	                      scope_field(ctx->route), NULL, err);
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

/* Headers are in: route, take the connection, authenticate, authorise, check
 * the scope and the body's type.
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
	kept_err r;
	if (ctx->route->roles) {
		/* who may call comes before what the call must look like */
		r = take_db(ctx, &err);
		if (!r)
			r = authorize(ctx, &err);
		if (!r)
			r = check_scope(ctx, &err);
		if (!r)
			r = check_body_type(ctx, &err);
	} else {
		/* an open route (a webhook, the customer's page) needs the database only to run */
		r = check_body_type(ctx, &err);
		if (!r)
			r = take_db(ctx, &err);
	}
	if (r)
		fail_request(ctx, &err);
}

static void on_handle(struct http_request *req, void *cls)
{
	(void)cls;
	struct api_ctx *ctx = http_app_data(req);
	struct kept_error err;
	kept_error_clear(&err);
	kept_err r = api_run_route(ctx, &err);
	if (r)
		fail_request(ctx, &err);
}

static const struct http_app app = {on_begin, on_handle, NULL};

kept_err api_init(const struct api_config *cfg)
{
	api_cfg = cfg;
	if (cfg->rate_limit > 0) {
		limiter = ratelimit_new(cfg->rate_limit, cfg->rate_burst);
		if (!limiter)
			return KEPT_ERR_NOMEM;
	}
	char problem[256];
	if (!api_routes_check(api_routes, api_routes_count, problem, sizeof problem)) {
		log_msg(LOG_ERROR, "bad_route", "%s", problem);
		return KEPT_ERR_INTERNAL;
	}
	metric_routes = calloc(api_routes_count, sizeof *metric_routes);
	if (!metric_routes)
		return KEPT_ERR_NOMEM;
	for (size_t i = 0; i < api_routes_count; i++) {
		metric_routes[i].method = api_routes[i].method;
		metric_routes[i].pattern = api_routes[i].pattern;
	}
	return metrics_init(metric_routes, api_routes_count);
}

void api_shutdown(void)
{
	ratelimit_free(limiter);
	limiter = NULL;
	free(metric_routes); /* after the server stopped: nothing counts by route any more */
	metric_routes = NULL;
}

const struct http_app *api_http_app(void)
{
	return &app;
}
