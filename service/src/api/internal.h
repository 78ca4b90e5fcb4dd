/*
 * api/internal.h — shared by the files of the api module only.
 *
 * Every route is a row of routes.c (struct api_route below). The dispatcher
 * routes, takes the database connection, authenticates and authorises, then
 * runs the row: a plain kind (a typed query) itself, or the row's C handler.
 * A handler gets the request context and either replies (api_reply_*) and
 * returns KEPT_OK, or returns an error that the dispatcher turns into the
 * API's error shape. Everything a handler allocates goes in ctx->arena.
 */
#ifndef KEPT_API_INTERNAL_H
#define KEPT_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "arena/arena.h"
#include "auth/auth.h"
#include "db/db.h"
#include "http/http.h"
#include "json/json.h"
#include "route/route.h"

struct api_route;

struct api_ctx {
	struct http_request *req;
	struct arena *arena;
	const struct api_route *route;
	struct route_params params;
	struct auth_principal who; /* set when the route requires a role */
	struct db_conn *db;        /* this thread's connection, taken by the dispatcher (NULL: no_db) */
};

typedef kept_err (*api_handler)(struct api_ctx *ctx, struct kept_error *err);

/* API_BODY_FORM: a provider webhook, form-encoded and signed (the handler
 * checks the signature, since it covers the body). API_BODY_FILE: an import
 * as CSV or JSON, up to the import limit. */
enum api_body { API_BODY_NONE, API_BODY_JSON, API_BODY_CSV, API_BODY_FORM, API_BODY_FILE };

/* The resource a route touches, named by the path's {id} (or, on a list,
 * by ?customer_id= / ?account_id=): before the handler runs, the dispatcher
 * makes sure it exists and the caller's team may see it (404 otherwise), and
 * logs the read when the route reads a customer's personal data. */
enum api_scope {
	API_SCOPE_NONE,
	API_SCOPE_CUSTOMER,
	API_SCOPE_ACCOUNT,
	API_SCOPE_PLAN,
	API_SCOPE_PAYMENT,
	API_SCOPE_OFFER,
	API_SCOPE_ESCALATION,
	API_SCOPE_REVIEW,
	API_SCOPE_LINK, /* a personal self-service link */
};

/* Whether the answer carries a customer's personal data, which every such
 * request, once allowed, writes to the access log (kept.access_log): for
 * API_READS_PII the dispatcher logs the customer the route's id names; a
 * list (API_LISTS_PII) logs the customers it answered, in its own query. */
enum api_pii { API_PII_NONE, API_READS_PII, API_LISTS_PII };

/* The typed queries (db_queries.h, their _json form) a route row may run,
 * one shape per kind of route: a query of another shape does not compile in
 * its place. `json` is the answer (NULL: no row). */

/* get: the path's {id} */
typedef kept_err (*api_get_query)(struct db_conn *c, struct arena *arena, int64_t id, const char **json,
                                  struct kept_error *err);
/* read: no parameter (a short list that needs no filter) */
typedef kept_err (*api_read_query)(struct db_conn *c, struct arena *arena, const char **json,
                                   struct kept_error *err);
/* list: the route's query parameters as one JSON object (api_filters_json) */
typedef kept_err (*api_list_query)(struct db_conn *c, struct arena *arena, const char *filters,
                                   const char **json, struct kept_error *err);
/* viewer list: the caller's key id, the request id and path (what the caller's
 * team may see; the access log), then the filters */
typedef kept_err (*api_viewer_list_query)(struct db_conn *c, struct arena *arena, int64_t key,
                                          const char *request_id, const char *path, const char *filters,
                                          const char **json, struct kept_error *err);
/* create: the actor's three and the checked body */
typedef kept_err (*api_create_query)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                     const char *request_id, const char *body, const char **json,
                                     struct kept_error *err);
/* write: the actor's three, the path's {id} and the checked body */
typedef kept_err (*api_write_query)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                    const char *request_id, int64_t id, const char *body, const char **json,
                                    struct kept_error *err);
/* update: as write, with the version If-Match names (DB_NULL_INT: none) before the body */
typedef kept_err (*api_update_query)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                     const char *request_id, int64_t id, int version, const char *body,
                                     const char **json, struct kept_error *err);

/* A rule on a checked body that its spec cannot say (plans: one set of terms
 * or the other); runs after the spec, before the query. */
typedef kept_err (*api_body_check)(struct api_ctx *ctx, const cJSON *body, struct kept_error *err);

/*
 * What a route does. The dispatcher runs every kind but API_RUN_C itself:
 *   GET     the path's {id} (a bad one: 404 <noun>_not_found), the query; no
 *           row is that 404 too; 200 with ETag from the answer's "version"
 *   READ    the query; 200
 *   LIST    the route's declared query parameters (`params`) as a JSON object,
 *           absent ones left out, and the path's {id} as "id" when it has one
 *           (checked as GET's); unknown parameters are ignored; 200
 *   VIEWER_LIST as LIST, after the caller's key id, request id and path
 *   CREATE  the body checked against `spec` (then `check`), the query;
 *           `status`, and on 201 Location: <location>/<the answer's id>
 *   WRITE   as CREATE, with the path's {id} (checked as GET's) before the body
 *   UPDATE  as WRITE, with If-Match's version; `status` 200
 *   C       `run.handler`: C that does real work (imports, telephony, reports,
 *           the dashboard, the customer's page, ...)
 */
enum api_run_kind {
	API_RUN_C,
	API_RUN_GET,
	API_RUN_READ,
	API_RUN_LIST,
	API_RUN_VIEWER_LIST,
	API_RUN_CREATE,
	API_RUN_WRITE,
	API_RUN_UPDATE,
};

union api_run {
	api_handler handler;
	api_get_query get;
	api_read_query read;
	api_list_query list;
	api_viewer_list_query viewer_list;
	api_create_query create;
	api_write_query write;
	api_update_query update;
};

/*
 * One row of the routing table (routes.c). Before anything runs, the
 * dispatcher takes this thread's database connection (unless `no_db`: the
 * routes that must answer without one), authenticates and authorises when
 * `roles` is set, checks the scope and the body's type. Every JSON-body route
 * carries its body's spec here, C handlers too (they check the body against
 * ctx->route->spec), so the spec a route checks is the one its row names.
 */
struct api_route {
	const char *method;
	const char *pattern;
	unsigned roles; /* bit set of enum auth_role; 0 = open */
	enum api_body body;
	enum api_scope scope;
	enum api_pii pii;
	enum api_run_kind kind;
	union api_run run;             /* the member `kind` names */
	const struct json_field *spec; /* API_BODY_JSON: the body's; else NULL */
	api_body_check check;          /* CREATE/WRITE/UPDATE: optional */
	const char *noun;              /* <noun>_not_found for a bad or unknown {id} */
	int status;                    /* the answer's, on success */
	const char *location;          /* 201: Location's collection, or NULL */
	const char *const *params;     /* LIST, VIEWER_LIST: query parameters, NULL-ended */
	bool no_db;                    /* answers without the database */
};

extern const struct api_route api_routes[];
extern const size_t api_routes_count;
extern const struct api_config *api_cfg;

/* Role sets used by the routing table (README.md's privilege table says the same). */
#define API_STAFF     (AUTH_AGENT | AUTH_SUPERVISOR | AUTH_ADMIN)
#define API_ALL_ROLES (AUTH_AGENT | AUTH_SUPERVISOR | AUTH_FINANCE | AUTH_ADMIN)
#define API_REVIEWERS (AUTH_SUPERVISOR | AUTH_ADMIN)
#define API_FINANCE   (AUTH_FINANCE | AUTH_ADMIN)
#define API_REVERSERS (AUTH_FINANCE | AUTH_SUPERVISOR)

/* ---- helpers (support.c) -------------------------------------------------------- */

/* True for a positive id in decimal text (1 to 18 digits, no leading zero). */
bool api_is_id(const char *s);

/* The path parameter `name` as a positive id (decimal text of 1 to 18
 * digits); anything else is a 404 with `not_found_code` (no resource lives at
 * such a URL). */
kept_err api_path_id(struct api_ctx *ctx, const char *name, const char *not_found_code, int64_t *id,
                     struct kept_error *err) KEPT_MUST_CHECK;

/* Parses and checks the JSON body against `spec` (a route's: ctx->route->spec);
 * *normalized is the body re-serialised compactly (what SQL receives), *obj
 * the tree (may be NULL). */
kept_err api_json_body(struct api_ctx *ctx, const struct json_field *spec, cJSON **obj,
                       const char **normalized, struct kept_error *err) KEPT_MUST_CHECK;

/* The version number in If-Match ("3", "\"3\"" or W/"3"); *version is
 * DB_NULL_INT when the header is absent. */
kept_err api_if_match(struct api_ctx *ctx, int *version, struct kept_error *err) KEPT_MUST_CHECK;

/* The three actor arguments of a typed write query (see AUTH_ACTOR_ARGS). */
#define API_ACTOR(ctx) AUTH_ACTOR_ARGS(&(ctx)->who.actor)

/* The caller's key id, DB_NULL_BIGINT when none. */
int64_t api_viewer_key(const struct api_ctx *ctx);

/* The first three arguments of a list that shows (and logs) only what the
 * caller may see: the caller's key id, the request id, the request path. */
#define API_VIEWER(ctx) api_viewer_key(ctx), http_request_id((ctx)->req), http_path((ctx)->req)

/* 200 with JSON (and ETag from the document's "version", when present). */
void api_reply_ok(struct api_ctx *ctx, const char *json);

/* 201 with JSON and Location: <collection>/<the document's "id"> (none when collection is NULL). */
void api_reply_created(struct api_ctx *ctx, const char *collection, const char *json);

/* A list's filters as one JSON object of strings: names[i] with values[i]
 * for each of the NULL-ended `names` whose value is not NULL, and "id" with
 * `path_id` when it is positive (a list under /x/{id}). In `arena`; NULL when
 * out of memory. The named query unpacks it ($4::jsonb->>'status'). */
const char *api_filters_json(struct arena *arena, const char *const *names, const char *const *values,
                             int64_t path_id);

/* Runs the route's row: its C handler, or its query as enum api_run_kind says. */
kept_err api_run_route(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

/* A body check (api_body_check): an update names at least one field to change. */
kept_err api_body_not_empty(struct api_ctx *ctx, const cJSON *body, struct kept_error *err) KEPT_MUST_CHECK;

/* Turns a database constraint violation into the API's code and field. */
void api_map_constraint(struct kept_error *err);

/* ---- the routing table's own rules (routes.c) ------------------------------------------- */

/* True when every row of `routes` is well formed: its kind's member and what
 * the kind needs (a noun and {id} for GET/WRITE/UPDATE, params for lists, a
 * status), a spec exactly when the body is JSON. Otherwise false, with the
 * first bad row's problem in `problem` (api_init refuses to start). */
bool api_routes_check(const struct api_route *routes, size_t n, char *problem, size_t size);

/* ---- C handlers -------------------------------------------------------------------- */

kept_err api_health_live(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_health_ready(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_metrics(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_keys_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_keys_revoke(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_retention_put(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_imports_accounts(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_imports_payments(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_imports_history(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_payments_post(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_admin_evaluate(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_admin_reminders(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_admin_clock_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_admin_clock_set(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_reports_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_dashboard(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_telephony_twiml(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_gather(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_status(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_amount(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_message_status(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_message_inbound(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

/* a body check: a plan is made from a proposal, or from an amount and a first date */
kept_err api_plans_terms(struct api_ctx *ctx, const cJSON *body, struct kept_error *err) KEPT_MUST_CHECK;

/* reviews: who may read a review depends on the viewer (review_get) */
kept_err api_reviews_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_self_service_links_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

/* the customer's page (page.c): open routes; the link's token is the credential */
kept_err api_page_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_page_post(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

#endif
