/*
 * The one routing table of kept's API: a row per route says who may call it
 * (roles, scope), what it reads (body and its spec, query parameters), what
 * runs (a typed query of the row's kind, or a C handler where C does real
 * work), what it answers (status, Location, <noun>_not_found), and whether it
 * needs the database; internal.h says what each kind does. Keep
 * clients/openapi.yaml and README.md's privilege table in step
 * (tests/integration/test_auth.py holds this table to it).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "specs.h"

#define CUSTOMER   API_SCOPE_CUSTOMER
#define ACCOUNT    API_SCOPE_ACCOUNT
#define PLAN       API_SCOPE_PLAN
#define PAYMENT    API_SCOPE_PAYMENT
#define OFFER      API_SCOPE_OFFER
#define ESCALATION API_SCOPE_ESCALATION
#define REVIEW     API_SCOPE_REVIEW
#define LINK       API_SCOPE_LINK
#define NO_SCOPE   API_SCOPE_NONE
#define NO_PII     API_PII_NONE

/* What runs, one macro per kind, so a row names its kind and its query's
 * member together (a query of the wrong shape does not compile). */
#define C(fn)            .kind = API_RUN_C, .run.handler = (fn)
#define C_NO_DB(fn)      C(fn), .no_db = true
#define C_JSON(fn, body) C(fn), .spec = (body)
#define GET(query, what) .kind = API_RUN_GET, .run.get = (query), .noun = (what), .status = 200
#define READ(query)      .kind = API_RUN_READ, .run.read = (query), .status = 200
#define PARAMS(...)                                                                                          \
	.params = (const char *const[])                                                                      \
	{                                                                                                    \
		__VA_ARGS__, NULL                                                                            \
	}
#define LIST(query, ...)          .kind = API_RUN_LIST, .run.list = (query), .status = 200, PARAMS(__VA_ARGS__)
#define LIST_OF(query, what, ...) LIST(query, __VA_ARGS__), .noun = (what)
#define VIEWER_LIST(query, ...)                                                                              \
	.kind = API_RUN_VIEWER_LIST, .run.viewer_list = (query), .status = 200, PARAMS(__VA_ARGS__)
#define CREATE(body, query, code, collection)                                                                \
	.kind = API_RUN_CREATE, .spec = (body), .run.create = (query), .status = (code),                     \
	.location = (collection)
#define WRITE(body, query, what, code, collection)                                                           \
	.kind = API_RUN_WRITE, .spec = (body), .run.write = (query), .noun = (what), .status = (code),       \
	.location = (collection)
#define UPDATE(body, query, what)                                                                            \
	.kind = API_RUN_UPDATE, .spec = (body), .run.update = (query), .noun = (what), .status = 200

const struct api_route api_routes[] = {
        {"GET", "/healthz", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C_NO_DB(api_health_live)},
        {"GET", "/readyz", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_health_ready)},
        {"GET", "/metrics", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C_NO_DB(api_metrics)},

        {"POST", "/v1/api-keys", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_keys_create, api_spec_keys_create)},
        {"GET", "/v1/api-keys", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII, READ(q_api_key_list_value)},
        {"DELETE", "/v1/api-keys/{id}", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_keys_revoke)},
        {"POST", "/v1/users", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_users_create, q_user_create_value, 201, "/v1/users")},
        {"GET", "/v1/users", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII,
         LIST(q_user_page_value, "team", "cursor", "limit")},
        {"GET", "/v1/users/{id}", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII, GET(q_user_get_value, "user")},
        {"PATCH", "/v1/users/{id}", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         UPDATE(api_spec_users_update, q_user_update_value, "user"), .check = api_body_not_empty},
        {"GET", "/v1/creditors", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII, READ(q_creditor_list_value)},
        {"POST", "/v1/creditors", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_creditors_put, q_creditor_put_value, 200, NULL)},
        /* newest first */
        {"GET", "/v1/access-log", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII,
         LIST(q_access_page_value, "customer_id", "user_id", "from", "to", "cursor", "limit")},
        {"GET", "/v1/retention-policies", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII,
         READ(q_retention_list_value)},
        {"PUT", "/v1/retention-policies/{jurisdiction}", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_retention_put, api_spec_retention_put)},

        {"POST", "/v1/customers", API_STAFF, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_customers_create, q_customer_create_value, 201, "/v1/customers")},
        /* the customer on the telephone, by name, phone digits or reference
         * (sql/functions/32_find.sql): of the customers the caller's team sees */
        {"GET", "/v1/customers", API_STAFF, API_BODY_NONE, NO_SCOPE, API_LISTS_PII,
         VIEWER_LIST(q_customer_find_value, "q", "cursor", "limit")},
        {"GET", "/v1/customers/{id}", API_STAFF, API_BODY_NONE, CUSTOMER, API_READS_PII,
         GET(q_customer_get_value, "customer")},
        {"PATCH", "/v1/customers/{id}", API_STAFF, API_BODY_JSON, CUSTOMER, NO_PII,
         UPDATE(api_spec_customers_update, q_customer_update_value, "customer"), .check = api_body_not_empty},
        {"POST", "/v1/customers/{id}/erasure", AUTH_ADMIN, API_BODY_JSON, CUSTOMER, NO_PII,
         WRITE(api_spec_customers_erase, q_customer_erase_value, "customer", 200, NULL)},

        {"POST", "/v1/accounts", API_STAFF, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_accounts_create, q_account_create_value, 201, "/v1/accounts")},
        {"GET", "/v1/accounts", API_ALL_ROLES, API_BODY_NONE, CUSTOMER, API_LISTS_PII,
         VIEWER_LIST(q_account_page_value, "customer_id", "external_ref", "cursor", "limit")},
        {"GET", "/v1/accounts/{id}", API_ALL_ROLES, API_BODY_NONE, ACCOUNT, API_READS_PII,
         GET(q_account_get_value, "account")},
        /* finance too: kept pay reads it (the currency, the last payments) */
        {"GET", "/v1/accounts/{id}/overview", API_ALL_ROLES, API_BODY_NONE, ACCOUNT, API_READS_PII,
         GET(q_account_overview_value, "account")},

        {"POST", "/v1/imports/accounts", AUTH_ADMIN, API_BODY_CSV, NO_SCOPE, NO_PII, C(api_imports_accounts)},

        /* every role reads the rules it works or reports under */
        {"GET", "/v1/policies", API_STAFF | AUTH_FINANCE, API_BODY_NONE, NO_SCOPE, NO_PII,
         READ(q_policy_list_value)},
        {"POST", "/v1/policies", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_policies_create, q_policy_create_value, 201, "/v1/policies")},
        {"PUT", "/v1/policies/{id}", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         UPDATE(api_spec_policies_replace, q_policy_replace_value, "policy")},

        {"POST", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         WRITE(api_spec_affordability_record, q_affordability_record_value, "account", 201, NULL)},
        {"GET", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         GET(q_affordability_latest_value, "affordability")},
        {"POST", "/v1/accounts/{id}/proposals", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         WRITE(api_spec_proposals_create, q_proposal_create_value, "account", 201, NULL)},
        {"POST", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         WRITE(api_spec_plans_create, q_plan_create_value, "account", 201, "/v1/plans"),
         .check = api_plans_terms},
        {"GET", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         GET(q_plans_of_account_value, "account")},
        {"GET", "/v1/plans/{id}", API_STAFF, API_BODY_NONE, PLAN, API_READS_PII,
         GET(q_plan_get_value, "plan")},
        {"POST", "/v1/plans/{id}/approvals", API_STAFF, API_BODY_JSON, PLAN, NO_PII,
         WRITE(api_spec_plans_approve, q_plan_approve_value, "plan", 200, NULL)},
        {"POST", "/v1/plans/{id}/cancel", API_STAFF, API_BODY_JSON, PLAN, NO_PII,
         WRITE(api_spec_plans_cancel, q_plan_cancel_value, "plan", 200, NULL)},

        /* a reviewer reads every review of their team's; anyone else those of their own plans
         * (status=open|upheld|corrected|all, checked in SQL) */
        {"GET", "/v1/reviews", API_STAFF, API_BODY_NONE, NO_SCOPE, API_LISTS_PII,
         VIEWER_LIST(q_review_page_value, "status", "cursor", "limit")},
        {"GET", "/v1/reviews/{id}", API_STAFF, API_BODY_NONE, REVIEW, API_READS_PII, C(api_reviews_get)},
        {"POST", "/v1/reviews/{id}", API_REVIEWERS, API_BODY_JSON, REVIEW, NO_PII,
         WRITE(api_spec_reviews_decide, q_review_decide_value, "review", 200, NULL)},

        {"POST", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         C_JSON(api_self_service_links_create, api_spec_self_service_links_create)},
        {"GET", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         GET(q_self_service_links_of_account_value, "account")},
        {"POST", "/v1/self-service-links/{id}/revoke", API_STAFF, API_BODY_JSON, LINK, NO_PII,
         WRITE(api_spec_self_service_links_revoke, q_self_service_link_revoke_value, "self_service_link", 200,
               NULL)},

        /* "what do you think would be fair?"; accepting answers the plan it became */
        {"POST", "/v1/accounts/{id}/settlement-offers", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         WRITE(api_spec_settlements_offer, q_settlement_offer_create_value, "account", 201, NULL)},
        {"GET", "/v1/settlement-offers/{id}", API_STAFF, API_BODY_NONE, OFFER, API_READS_PII,
         GET(q_settlement_offer_get_value, "settlement_offer")},
        {"POST", "/v1/settlement-offers/{id}/accept", API_STAFF, API_BODY_JSON, OFFER, NO_PII,
         WRITE(api_spec_settlements_accept, q_settlement_accept_value, "settlement_offer", 201, "/v1/plans")},

        {"POST", "/v1/payments", API_FINANCE, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_payments_post, api_spec_payments_post)},
        {"GET", "/v1/payments/{id}", API_ALL_ROLES, API_BODY_NONE, PAYMENT, API_READS_PII,
         GET(q_payment_get_value, "payment")},
        {"POST", "/v1/payments/{id}/reversal", API_REVERSERS, API_BODY_JSON, PAYMENT, NO_PII,
         WRITE(api_spec_payments_reverse, q_payment_reverse_value, "payment", 200, NULL)},
        {"GET", "/v1/accounts/{id}/payments", API_ALL_ROLES, API_BODY_NONE, ACCOUNT, API_READS_PII,
         LIST_OF(q_payment_page_value, "account", "cursor", "limit")},
        {"POST", "/v1/imports/payments", API_FINANCE, API_BODY_CSV, NO_SCOPE, NO_PII,
         C(api_imports_payments)},
        {"POST", "/v1/imports/history", AUTH_ADMIN, API_BODY_FILE, NO_SCOPE, NO_PII, C(api_imports_history)},

        /* the skilled queue, by priority, then due-by; filters checked in SQL */
        {"GET", "/v1/escalations", API_ALL_ROLES, API_BODY_NONE, ACCOUNT, API_LISTS_PII,
         VIEWER_LIST(q_escalation_page_value, "status", "reason", "team", "assigned_to", "account_id",
                     "overdue", "cursor", "limit")},
        {"POST", "/v1/escalations", API_ALL_ROLES, API_BODY_JSON, NO_SCOPE, NO_PII,
         CREATE(api_spec_escalations_open, q_escalation_open_value, 201, "/v1/escalations")},
        {"GET", "/v1/escalations/{id}", API_ALL_ROLES, API_BODY_NONE, ESCALATION, API_READS_PII,
         GET(q_escalation_get_value, "escalation")},
        {"POST", "/v1/escalations/{id}/assign", API_ALL_ROLES, API_BODY_JSON, ESCALATION, NO_PII,
         WRITE(api_spec_escalations_assign, q_escalation_assign_value, "escalation", 200, NULL)},
        {"POST", "/v1/escalations/{id}/resolve", API_ALL_ROLES, API_BODY_JSON, ESCALATION, NO_PII,
         WRITE(api_spec_escalations_resolve, q_escalation_resolve_value, "escalation", 200, NULL)},

        /* each call (text) with the rule that held or blocked it, in plain words */
        {"GET", "/v1/calls", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         LIST(q_call_page_value, "account_id", "cursor", "limit")},
        {"GET", "/v1/messages", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         LIST(q_message_page_value, "account_id", "cursor", "limit")},
        {"POST", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_JSON, ACCOUNT, NO_PII,
         WRITE(api_spec_contacts_log, q_contact_log_value, "account", 201, NULL)},
        {"GET", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_NONE, ACCOUNT, API_READS_PII,
         LIST_OF(q_contact_page_value, "account", "cursor", "limit")},

        {"GET", "/v1/reports/{name}", API_FINANCE, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_reports_get)},
        /* the page asks for a key; the reports it draws need one */
        {"GET", "/dashboard", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C_NO_DB(api_dashboard)},
        {"GET", "/dashboard/{file}", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C_NO_DB(api_dashboard)},

        {"POST", "/v1/admin/evaluate", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_admin_evaluate, api_spec_admin_run)},
        {"POST", "/v1/admin/reminders", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_admin_reminders, api_spec_admin_run)},
        {"GET", "/v1/admin/clock", AUTH_ADMIN, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_admin_clock_get)},
        {"PUT", "/v1/admin/clock", AUTH_ADMIN, API_BODY_JSON, NO_SCOPE, NO_PII,
         C_JSON(api_admin_clock_set, api_spec_admin_clock)},

        /* the provider's webhooks: no API key, a valid X-Twilio-Signature instead */
        {"POST", "/telephony/twiml/{id}", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_telephony_twiml)},
        {"POST", "/telephony/gather/{id}", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_telephony_gather)},
        {"POST", "/telephony/status/{id}", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_telephony_status)},
        {"POST", "/telephony/amount/{id}", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_telephony_amount)},
        {"POST", "/telephony/messages", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_telephony_message_inbound)},
        {"POST", "/telephony/messages/{id}/status", 0, API_BODY_FORM, NO_SCOPE, NO_PII,
         C(api_telephony_message_status)},

        /* the customer's self-service page: no API key; the personal link's signed token
         * (and, past the identity step, a session) instead */
        {"GET", "/s/{token}", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_page_get)},
        {"GET", "/s/{token}/budget", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_page_get)},
        {"GET", "/s/{token}/settlement", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C(api_page_get)},
        {"POST", "/s/{token}/verify", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/code", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/proposal", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/plan", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/budget", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/settlement", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/settlement/accept", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"POST", "/s/{token}/signout", 0, API_BODY_FORM, NO_SCOPE, NO_PII, C(api_page_post)},
        {"GET", "/self-service/{file}", 0, API_BODY_NONE, NO_SCOPE, NO_PII, C_NO_DB(api_dashboard)},
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];

/* ---- the table's own rules ----------------------------------------------------------------- */

/* The query of the row's kind is set (C handlers are checked apart). */
static bool has_query(const struct api_route *r)
{
	switch (r->kind) {
	case API_RUN_GET: return r->run.get != NULL;
	case API_RUN_READ: return r->run.read != NULL;
	case API_RUN_LIST: return r->run.list != NULL;
	case API_RUN_VIEWER_LIST: return r->run.viewer_list != NULL;
	case API_RUN_CREATE: return r->run.create != NULL;
	case API_RUN_WRITE: return r->run.write != NULL;
	case API_RUN_UPDATE: return r->run.update != NULL;
	case API_RUN_C: return r->run.handler != NULL;
	}
	return false;
}

/* What is wrong with one row, or NULL. */
static const char *row_problem(const struct api_route *r)
{
	bool has_id = strstr(r->pattern, "{id}") != NULL;
	if ((r->body == API_BODY_JSON) != (r->spec != NULL))
		return r->spec ? "a spec on a route without a JSON body" : "a JSON body without a spec";
	if (r->roles && r->no_db)
		return "a route with roles needs the database (keys are checked there)";
	switch (r->kind) {
	case API_RUN_C: return r->run.handler ? NULL : "no handler";
	case API_RUN_GET:
	case API_RUN_WRITE:
	case API_RUN_UPDATE:
		if (!has_id || !r->noun)
			return "a get, write or update needs {id} in its path and a noun";
		break;
	case API_RUN_LIST:
	case API_RUN_VIEWER_LIST:
		if (!r->params)
			return "a list without its query parameters";
		if (has_id && !r->noun)
			return "a list under {id} needs a noun";
		break;
	case API_RUN_READ:
	case API_RUN_CREATE: break;
	default: return "no known kind";
	}
	if (!has_query(r))
		return "no query";
	if (r->status != 200 && r->status != 201)
		return "a success status of 200 or 201";
	bool writes = r->kind == API_RUN_CREATE || r->kind == API_RUN_WRITE || r->kind == API_RUN_UPDATE;
	if (!writes && (r->check || r->location))
		return "a body check or Location on a route that writes nothing";
	return NULL;
}

bool api_routes_check(const struct api_route *routes, size_t n, char *problem, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = row_problem(&routes[i]);
		if (p) {
			snprintf(problem, size, "%s %s: %s", routes[i].method, routes[i].pattern, p);
			return false;
		}
	}
	return true;
}
