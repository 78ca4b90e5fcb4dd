/* The one routing table of kept's API. Keep clients/openapi.yaml and README.md's
 * privilege table in step (tests/integration/test_auth.py holds this table to it). */
#include "internal.h"

#define CUSTOMER   API_SCOPE_CUSTOMER
#define ACCOUNT    API_SCOPE_ACCOUNT
#define PLAN       API_SCOPE_PLAN
#define PAYMENT    API_SCOPE_PAYMENT
#define OFFER      API_SCOPE_OFFER
#define ESCALATION API_SCOPE_ESCALATION
#define REVIEW     API_SCOPE_REVIEW
#define LINK       API_SCOPE_LINK

const struct api_route api_routes[] = {
        {"GET", "/healthz", 0, API_BODY_NONE, api_health_live},
        {"GET", "/readyz", 0, API_BODY_NONE, api_health_ready},
        {"GET", "/metrics", 0, API_BODY_NONE, api_metrics},

        {"POST", "/v1/api-keys", AUTH_ADMIN, API_BODY_JSON, api_keys_create},
        {"GET", "/v1/api-keys", AUTH_ADMIN, API_BODY_NONE, api_keys_list},
        {"DELETE", "/v1/api-keys/{id}", AUTH_ADMIN, API_BODY_NONE, api_keys_revoke},
        {"POST", "/v1/users", AUTH_ADMIN, API_BODY_JSON, api_users_create},
        {"GET", "/v1/users", AUTH_ADMIN, API_BODY_NONE, api_users_list},
        {"GET", "/v1/users/{id}", AUTH_ADMIN, API_BODY_NONE, api_users_get},
        {"PATCH", "/v1/users/{id}", AUTH_ADMIN, API_BODY_JSON, api_users_update},
        {"GET", "/v1/creditors", AUTH_ADMIN, API_BODY_NONE, api_creditors_list},
        {"POST", "/v1/creditors", AUTH_ADMIN, API_BODY_JSON, api_creditors_put},
        {"GET", "/v1/access-log", AUTH_ADMIN, API_BODY_NONE, api_access_log},
        {"GET", "/v1/retention-policies", AUTH_ADMIN, API_BODY_NONE, api_retention_list},
        {"PUT", "/v1/retention-policies/{jurisdiction}", AUTH_ADMIN, API_BODY_JSON, api_retention_put},

        {"POST", "/v1/customers", API_STAFF, API_BODY_JSON, api_customers_create},
        {"GET", "/v1/customers", API_STAFF, API_BODY_NONE, api_customers_find, API_SCOPE_NONE, API_LISTS_PII},
        {"GET", "/v1/customers/{id}", API_STAFF, API_BODY_NONE, api_customers_get, CUSTOMER, API_READS_PII},
        {"PATCH", "/v1/customers/{id}", API_STAFF, API_BODY_JSON, api_customers_update, CUSTOMER},
        {"POST", "/v1/customers/{id}/erasure", AUTH_ADMIN, API_BODY_JSON, api_customers_erase, CUSTOMER},

        {"POST", "/v1/accounts", API_STAFF, API_BODY_JSON, api_accounts_create},
        {"GET", "/v1/accounts", API_ALL_ROLES, API_BODY_NONE, api_accounts_list, CUSTOMER, API_LISTS_PII},
        {"GET", "/v1/accounts/{id}", API_ALL_ROLES, API_BODY_NONE, api_accounts_get, ACCOUNT, API_READS_PII},
        /* finance too: kept pay reads it (the currency, the last payments) */
        {"GET", "/v1/accounts/{id}/overview", API_ALL_ROLES, API_BODY_NONE, api_accounts_overview, ACCOUNT,
         API_READS_PII},

        {"POST", "/v1/imports/accounts", AUTH_ADMIN, API_BODY_CSV, api_imports_accounts},

        /* every role reads the rules it works or reports under */
        {"GET", "/v1/policies", API_STAFF | AUTH_FINANCE, API_BODY_NONE, api_policies_list},
        {"POST", "/v1/policies", AUTH_ADMIN, API_BODY_JSON, api_policies_create},
        {"PUT", "/v1/policies/{id}", AUTH_ADMIN, API_BODY_JSON, api_policies_replace},

        {"POST", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_JSON, api_affordability_record,
         ACCOUNT},
        {"GET", "/v1/accounts/{id}/affordability", API_STAFF, API_BODY_NONE, api_affordability_latest,
         ACCOUNT, API_READS_PII},
        {"POST", "/v1/accounts/{id}/proposals", API_STAFF, API_BODY_JSON, api_proposals_create, ACCOUNT},
        {"POST", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_JSON, api_plans_create, ACCOUNT},
        {"GET", "/v1/accounts/{id}/plans", API_STAFF, API_BODY_NONE, api_plans_of_account, ACCOUNT,
         API_READS_PII},
        {"GET", "/v1/plans/{id}", API_STAFF, API_BODY_NONE, api_plans_get, PLAN, API_READS_PII},
        {"POST", "/v1/plans/{id}/approvals", API_STAFF, API_BODY_JSON, api_plans_approve, PLAN},
        {"POST", "/v1/plans/{id}/cancel", API_STAFF, API_BODY_JSON, api_plans_cancel, PLAN},

        /* a reviewer reads every review of their team's; anyone else those of their own plans */
        {"GET", "/v1/reviews", API_STAFF, API_BODY_NONE, api_reviews_list, API_SCOPE_NONE, API_LISTS_PII},
        {"GET", "/v1/reviews/{id}", API_STAFF, API_BODY_NONE, api_reviews_get, REVIEW, API_READS_PII},
        {"POST", "/v1/reviews/{id}", API_REVIEWERS, API_BODY_JSON, api_reviews_decide, REVIEW},

        {"POST", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_JSON,
         api_self_service_links_create, ACCOUNT},
        {"GET", "/v1/accounts/{id}/self-service-links", API_STAFF, API_BODY_NONE,
         api_self_service_links_of_account, ACCOUNT, API_READS_PII},
        {"POST", "/v1/self-service-links/{id}/revoke", API_STAFF, API_BODY_JSON,
         api_self_service_links_revoke, LINK},

        {"POST", "/v1/accounts/{id}/settlement-offers", API_STAFF, API_BODY_JSON, api_settlements_offer,
         ACCOUNT},
        {"GET", "/v1/settlement-offers/{id}", API_STAFF, API_BODY_NONE, api_settlements_get, OFFER,
         API_READS_PII},
        {"POST", "/v1/settlement-offers/{id}/accept", API_STAFF, API_BODY_JSON, api_settlements_accept,
         OFFER},

        {"POST", "/v1/payments", API_FINANCE, API_BODY_JSON, api_payments_post},
        {"GET", "/v1/payments/{id}", API_ALL_ROLES, API_BODY_NONE, api_payments_get, PAYMENT, API_READS_PII},
        {"POST", "/v1/payments/{id}/reversal", API_REVERSERS, API_BODY_JSON, api_payments_reverse, PAYMENT},
        {"GET", "/v1/accounts/{id}/payments", API_ALL_ROLES, API_BODY_NONE, api_payments_of_account, ACCOUNT,
         API_READS_PII},
        {"POST", "/v1/imports/payments", API_FINANCE, API_BODY_CSV, api_imports_payments},
        {"POST", "/v1/imports/history", AUTH_ADMIN, API_BODY_FILE, api_imports_history},

        {"GET", "/v1/escalations", API_ALL_ROLES, API_BODY_NONE, api_escalations_list, ACCOUNT,
         API_LISTS_PII},
        {"POST", "/v1/escalations", API_ALL_ROLES, API_BODY_JSON, api_escalations_open},
        {"GET", "/v1/escalations/{id}", API_ALL_ROLES, API_BODY_NONE, api_escalations_get, ESCALATION,
         API_READS_PII},
        {"POST", "/v1/escalations/{id}/assign", API_ALL_ROLES, API_BODY_JSON, api_escalations_assign,
         ESCALATION},
        {"POST", "/v1/escalations/{id}/resolve", API_ALL_ROLES, API_BODY_JSON, api_escalations_resolve,
         ESCALATION},

        {"GET", "/v1/calls", API_STAFF, API_BODY_NONE, api_calls_list, ACCOUNT, API_READS_PII},
        {"GET", "/v1/messages", API_STAFF, API_BODY_NONE, api_messages_list, ACCOUNT, API_READS_PII},
        {"POST", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_JSON, api_contacts_log, ACCOUNT},
        {"GET", "/v1/accounts/{id}/contacts", API_STAFF, API_BODY_NONE, api_contacts_of_account, ACCOUNT,
         API_READS_PII},

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
