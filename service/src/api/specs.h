/*
 * api/specs.h — the JSON body of every route that takes one, as a json_field
 * spec (json/json.h), named api_spec_<resource>_<action>. Each is named by its
 * route's row in routes.c, which is the only place a spec is tied to a route:
 * the dispatcher checks a plain route's body against it, and a C handler
 * checks against ctx->route->spec. Defined in specs.c; clients/openapi.yaml
 * describes the same bodies.
 */
#ifndef KEPT_API_SPECS_H
#define KEPT_API_SPECS_H

#include "json/json.h"

extern const struct json_field api_spec_keys_create[];
extern const struct json_field api_spec_users_create[];
extern const struct json_field api_spec_users_update[];
extern const struct json_field api_spec_creditors_put[];
extern const struct json_field api_spec_retention_put[];
extern const struct json_field api_spec_customers_create[];
extern const struct json_field api_spec_customers_update[];
extern const struct json_field api_spec_customers_erase[];
extern const struct json_field api_spec_accounts_create[];
extern const struct json_field api_spec_policies_create[];
extern const struct json_field api_spec_policies_replace[];
extern const struct json_field api_spec_affordability_record[];
extern const struct json_field api_spec_proposals_create[];
extern const struct json_field api_spec_plans_create[];
extern const struct json_field api_spec_plans_approve[];
extern const struct json_field api_spec_plans_cancel[];
extern const struct json_field api_spec_reviews_decide[];
extern const struct json_field api_spec_self_service_links_create[];
extern const struct json_field api_spec_self_service_links_revoke[];
extern const struct json_field api_spec_settlements_offer[];
extern const struct json_field api_spec_settlements_accept[];
extern const struct json_field api_spec_payments_post[];
extern const struct json_field api_spec_payments_reverse[];
extern const struct json_field api_spec_escalations_open[];
extern const struct json_field api_spec_escalations_assign[];
extern const struct json_field api_spec_escalations_resolve[];
extern const struct json_field api_spec_contacts_log[];
/* POST /v1/admin/evaluate and /v1/admin/reminders: {"as_of": "..."} */
extern const struct json_field api_spec_admin_run[];
extern const struct json_field api_spec_admin_clock[];

#endif
