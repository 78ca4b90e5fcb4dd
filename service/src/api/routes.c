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
        {"GET", "/v1/customers", API_STAFF, API_BODY_NONE, api_customers_find},
        {"GET", "/v1/customers/{id}", API_STAFF, API_BODY_NONE, api_customers_get},
        {"PATCH", "/v1/customers/{id}", API_STAFF, API_BODY_JSON, api_customers_update},

        {"POST", "/v1/accounts", API_STAFF, API_BODY_JSON, api_accounts_create},
        {"GET", "/v1/accounts", API_STAFF, API_BODY_NONE, api_accounts_list},
        {"GET", "/v1/accounts/{id}", API_STAFF, API_BODY_NONE, api_accounts_get},
        {"GET", "/v1/accounts/{id}/overview", API_STAFF, API_BODY_NONE, api_accounts_overview},

        {"POST", "/v1/imports/accounts", AUTH_ADMIN, API_BODY_CSV, api_imports_accounts},

        /* every role reads the rules it works or reports under */
        {"GET", "/v1/policies", API_STAFF | AUTH_FINANCE, API_BODY_NONE, api_policies_list},
        {"POST", "/v1/policies", AUTH_ADMIN, API_BODY_JSON, api_policies_create},
        {"PUT", "/v1/policies/{id}", AUTH_ADMIN, API_BODY_JSON, api_policies_replace},

        {"POST", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_JSON, api_affordability_record},
        {"GET", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_NONE, api_affordability_latest},
        {"POST", "/v1/accounts/{id}/proposals", API_STAFF, API_BODY_JSON, api_proposals_create},
        {"POST", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_JSON, api_plans_create},
        {"GET", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_NONE, api_plans_of_account},
        {"GET", "/v1/plans/{id}", API_STAFF, API_BODY_NONE, api_plans_get},
        {"POST", "/v1/plans/{id}/approvals", API_STAFF, API_BODY_JSON, api_plans_approve},
        {"POST", "/v1/plans/{id}/cancel", API_STAFF, API_BODY_JSON, api_plans_cancel},

        {"GET", "/v1/reviews", API_STAFF, API_BODY_NONE, api_reviews_list},
        {"GET", "/v1/reviews/{id}", API_STAFF, API_BODY_NONE, api_reviews_get},
        {"POST", "/v1/reviews/{id}", API_REVIEWERS, API_BODY_JSON, api_reviews_decide},

        {"POST", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_JSON,
         api_self_service_links_create},
        {"GET", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_NONE,
         api_self_service_links_of_account},
        {"POST", "/v1/self-service-links/{id}/revoke", API_STAFF, API_BODY_JSON,
         api_self_service_links_revoke},

        {"POST", "/v1/accounts/{id}/settlement-offers", API_STAFF, API_BODY_JSON, api_settlements_offer},
        {"GET", "/v1/settlement-offers/{id}", API_STAFF, API_BODY_NONE, api_settlements_get},
        {"POST", "/v1/settlement-offers/{id}/accept", API_STAFF, API_BODY_JSON, api_settlements_accept},

        {"POST", "/v1/payments", API_STAFF, API_BODY_JSON, api_payments_post},
        {"GET", "/v1/payments/{id}", API_STAFF, API_BODY_NONE, api_payments_get},
        {"POST", "/v1/payments/{id}/reversal", API_STAFF, API_BODY_JSON, api_payments_reverse},
        {"GET", "/v1/accounts/{id}/payments", API_STAFF, API_BODY_NONE, api_payments_of_account},
        {"POST", "/v1/imports/payments", AUTH_ADMIN, API_BODY_CSV, api_imports_payments},
        {"POST", "/v1/imports/history", AUTH_ADMIN, API_BODY_FILE, api_imports_history},

        {"GET", "/v1/escalations", API_STAFF, API_BODY_NONE, api_escalations_list},
        {"POST", "/v1/escalations", API_STAFF, API_BODY_JSON, api_escalations_open},
        {"GET", "/v1/escalations/{id}", API_STAFF, API_BODY_NONE, api_escalations_get},
        {"POST", "/v1/escalations/{id}/assign", API_STAFF, API_BODY_JSON, api_escalations_assign},
        {"POST", "/v1/escalations/{id}/resolve", API_STAFF, API_BODY_JSON, api_escalations_resolve},

        {"GET", "/v1/calls", API_STAFF, API_BODY_NONE, api_calls_list},
        {"GET", "/v1/messages", API_STAFF, API_BODY_NONE, api_messages_list},
        {"POST", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_JSON, api_contacts_log},
        {"GET", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_NONE, api_contacts_of_account},

        {"GET", "/v1/reports/{name}", API_FINANCE, API_BODY_NONE, api_reports_get},
        /* the page asks for a key; the reports it draws need one */
        {"GET", "/dashboard", 0, API_BODY_NONE, api_dashboard},
        {"GET", "/dashboard/{file}", 0, API_BODY_NONE, api_dashboard},

        {"POST", "/v1/admin/evaluate", AUTH_ADMIN, API_BODY_JSON, api_admin_evaluate},
        {"POST", "/v1/admin/reminders", AUTH_ADMIN, API_BODY_JSON, api_admin_reminders},
        {"GET", "/v1/admin/clock", AUTH_ADMIN, API_BODY_NONE, api_admin_clock_get},
        {"PUT", "/v1/admin/clock", AUTH_ADMIN, API_BODY_JSON, api_admin_clock_set},

        /* the provider's webhooks: no API key, a valid X-Twilio-Signature instead */
        {"POST", "/telephony/twiml/{id}", 0, API_BODY_FORM, api_telephony_twiml},
        {"POST", "/telephony/gather/{id}", 0, API_BODY_FORM, api_telephony_gather},
        {"POST", "/telephony/status/{id}", 0, API_BODY_FORM, api_telephony_status},
        {"POST", "/telephony/amount/{id}", 0, API_BODY_FORM, api_telephony_amount},
        {"POST", "/telephony/messages", 0, API_BODY_FORM, api_telephony_message_inbound},
        {"POST", "/telephony/messages/{id}/status", 0, API_BODY_FORM, api_telephony_message_status},

        /* the customer's self-service page: no API key; the personal link's signed token
         * (and, past the identity step, a session) instead */
        {"GET", "/s/{token}", 0, API_BODY_NONE, api_page_get},
        {"GET", "/s/{token}/budget", 0, API_BODY_NONE, api_page_get},
        {"GET", "/s/{token}/settlement", 0, API_BODY_NONE, api_page_get},
        {"POST", "/s/{token}/verify", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/code", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/proposal", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/plan", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/budget", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/settlement", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/settlement/accept", 0, API_BODY_FORM, api_page_post},
        {"POST", "/s/{token}/signout", 0, API_BODY_FORM, api_page_post},
        {"GET", "/self-service/{file}", 0, API_BODY_NONE, api_dashboard},
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
