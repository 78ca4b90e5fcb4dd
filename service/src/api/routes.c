/* The one routing table of kept's API. Keep clients/openapi.yaml in step. */
#include "internal.h"

const struct api_route api_routes[] = {
        {"GET", "/healthz", 0, API_BODY_NONE, api_health_live},
        {"GET", "/readyz", 0, API_BODY_NONE, api_health_ready},
        {"GET", "/metrics", 0, API_BODY_NONE, api_metrics},

        {"POST", "/v1/api-keys", AUTH_ADMIN, API_BODY_JSON, api_keys_create},
        {"GET", "/v1/api-keys", AUTH_ADMIN, API_BODY_NONE, api_keys_list},
        {"DELETE", "/v1/api-keys/{id}", AUTH_ADMIN, API_BODY_NONE, api_keys_revoke},

        {"POST", "/v1/customers", API_STAFF, API_BODY_JSON, api_customers_create},
        {"GET", "/v1/customers/{id}", API_STAFF, API_BODY_NONE, api_customers_get},
        {"PATCH", "/v1/customers/{id}", API_STAFF, API_BODY_JSON, api_customers_update},

        {"POST", "/v1/accounts", API_STAFF, API_BODY_JSON, api_accounts_create},
        {"GET", "/v1/accounts", API_STAFF, API_BODY_NONE, api_accounts_list},
        {"GET", "/v1/accounts/{id}", API_STAFF, API_BODY_NONE, api_accounts_get},

        {"POST", "/v1/imports/accounts", AUTH_ADMIN, API_BODY_CSV, api_imports_accounts},
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
