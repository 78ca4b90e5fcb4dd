/*
 * api/internal.h — shared by the files of the api module only.
 *
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
	struct db_conn *db;        /* this thread's connection, once api_db() has run */
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

struct api_route {
	const char *method;
	const char *pattern;
	unsigned roles; /* bit set of enum auth_role; 0 = open */
	enum api_body body;
	api_handler handler;
	enum api_scope scope;
	enum api_pii pii;
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

/* This thread's database connection (KEPT_ERR_UNAVAILABLE when down). */
kept_err api_db(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

/* True for a positive id in decimal text (1 to 18 digits, no leading zero). */
bool api_is_id(const char *s);

/* The path parameter `name` as a positive id (decimal text of 1 to 18
 * digits); anything else is a 404 with `not_found_code` (no resource lives at
 * such a URL). */
kept_err api_path_id(struct api_ctx *ctx, const char *name, const char *not_found_code, int64_t *id,
                     struct kept_error *err) KEPT_MUST_CHECK;

/* Parses and checks the JSON body against `spec`; *normalized is the body
 * re-serialised compactly (what SQL receives), *obj the tree (may be NULL). */
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

/* The typed queries (db_queries.h, their _json form) the generic helpers
 * below run: a write of the actor's three, the path's {id} and the body; a
 * create of the actor's three and the body; a read by id. A query of another
 * shape does not compile in their place. */
typedef kept_err (*api_write_query)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                    const char *request_id, int64_t id, const char *body, const char **json,
                                    struct kept_error *err);
typedef kept_err (*api_create_query)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                     const char *request_id, const char *body, const char **json,
                                     struct kept_error *err);
typedef kept_err (*api_get_query)(struct db_conn *c, struct arena *arena, int64_t id, const char **json,
                                  struct kept_error *err);

/*
 * A write through one query. The query's parameters are the actor's three,
 * then the path's {id}, which `noun` names (a bad id is a 404
 * <noun>_not_found), then the JSON body checked against `spec`. The query's
 * JSON answers with `status`; on 201 with `location` set, Location is
 * <location>/<the answer's id>. A write with no path id is api_create_with.
 */
struct api_write {
	const struct json_field *spec;
	api_write_query query;
	const char *noun;
	int status;
	const char *location;
};

kept_err api_write(struct api_ctx *ctx, const struct api_write *w, struct kept_error *err) KEPT_MUST_CHECK;

/* A write with no path id: the actor's three and the body checked against
 * `spec`, answering `status` (201: Location under `collection`, when set). */
kept_err api_create_with(struct api_ctx *ctx, const struct json_field *spec, api_create_query q, int status,
                         const char *collection, struct kept_error *err) KEPT_MUST_CHECK;

/* POST of a new resource: api_create_with, 201 and Location under `collection`. */
kept_err api_create(struct api_ctx *ctx, const struct json_field *spec, api_create_query q,
                    const char *collection, struct kept_error *err) KEPT_MUST_CHECK;

/* GET of one resource by its path id: runs `q` with the id; 404 with code
 * "<noun>_not_found" when it answers no row. */
kept_err api_get(struct api_ctx *ctx, api_get_query q, const char *noun,
                 struct kept_error *err) KEPT_MUST_CHECK;

/* Turns a database constraint violation into the API's code and field. */
void api_map_constraint(struct kept_error *err);

/* ---- handlers -------------------------------------------------------------------- */

kept_err api_health_live(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_health_ready(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_metrics(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_keys_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_keys_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_keys_revoke(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_users_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_users_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_users_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_users_update(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_creditors_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_creditors_put(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_access_log(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_customers_erase(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_retention_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_retention_put(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_customers_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_customers_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_customers_find(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_customers_update(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_accounts_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_accounts_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_accounts_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_accounts_overview(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_imports_accounts(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_imports_payments(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_imports_history(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_payments_post(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_payments_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_payments_reverse(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_payments_of_account(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_escalations_open(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_escalations_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_escalations_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_escalations_assign(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_escalations_resolve(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_admin_evaluate(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_admin_reminders(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_admin_clock_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_admin_clock_set(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_calls_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_contacts_log(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_contacts_of_account(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_reports_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_dashboard(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_twiml(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_gather(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_status(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_policies_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_policies_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_policies_replace(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_affordability_record(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_affordability_latest(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_proposals_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_plans_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_plans_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_plans_of_account(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_plans_approve(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_plans_cancel(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_reviews_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_reviews_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_reviews_decide(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_self_service_links_create(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_self_service_links_of_account(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_self_service_links_revoke(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_messages_list(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
/* KEPT_ERR_RULE self_service_off unless the page is on. */
kept_err api_self_service_require(struct kept_error *err) KEPT_MUST_CHECK;

/* the customer's page (page.c): open routes; the link's token is the credential */
kept_err api_page_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_page_post(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_telephony_amount(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_message_status(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_telephony_message_inbound(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

kept_err api_settlements_offer(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_settlements_get(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;
kept_err api_settlements_accept(struct api_ctx *ctx, struct kept_error *err) KEPT_MUST_CHECK;

#endif
