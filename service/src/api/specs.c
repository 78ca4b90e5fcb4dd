/* The JSON bodies of kept's API (specs.h): what each route's row checks.
 * Shape is checked here; value rules are SQL's (the schema's constraints and
 * sql/functions/), so these say types, presence and lengths only. */
#include "specs.h"

/* ---- api keys, users, creditors, retention (admin) ------------------------------------ */

/* A key belongs to a user: {user_id, role?, name?, expires_at?}, or {name,
 * role} as before users (the user of that name; see kept.api_key_create). */
const struct json_field api_spec_keys_create[] = {
        {"user_id", JSON_INT, 0, .min = 1, .max_int = JSON_INT_MAX},
        {"name", JSON_STRING, 0, .max = 200},
        {"role", JSON_STRING, 0, .max = 16},
        {"expires_at", JSON_STRING, 0, .max = 40},
        {0},
};

static const struct json_field role_item[] = {
        {"role", JSON_STRING, 0, .max = 16},
        {0},
};

#define USER_FIELDS(required)                                                                                \
	{"name", JSON_STRING, required, .max = 200}, {"email", JSON_STRING, JSON_NULLABLE, .max = 254},      \
	        {"team", JSON_STRING, 0, .max = 64},                                                         \
	        {"roles", JSON_ARRAY, required, .max = 4, .items = role_item},                               \
	{                                                                                                    \
		"active", JSON_BOOL, 0                                                                       \
	}

const struct json_field api_spec_users_create[] = {
        USER_FIELDS(JSON_REQUIRED),
        {0},
};

const struct json_field api_spec_users_update[] = {
        USER_FIELDS(0),
        {0},
};

const struct json_field api_spec_creditors_put[] = {
        {"name", JSON_STRING, JSON_REQUIRED, .max = 200},
        {"team", JSON_STRING, JSON_REQUIRED, .max = 64},
        {0},
};

const struct json_field api_spec_retention_put[] = {
        {"retain_days", JSON_INT, JSON_REQUIRED, .min = 0, .max_int = 3650},
        {"citation", JSON_STRING, JSON_REQUIRED, .max = 500},
        {0},
};

/* ---- customers -------------------------------------------------------------------------- */

static const struct json_field phone_fields[] = {
        {"number", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"consent_automated", JSON_BOOL, JSON_REQUIRED},
        {"consent_texts", JSON_BOOL, 0},     /* a separate consent: texts (default false) */
        {"type", JSON_STRING, 0, .max = 10}, /* mobile (default), home, work */
        {0},
};

/* Times the customer says are inconvenient, in their time zone; values are
 * checked by the database (kept.is_inconvenient_times). */
static const struct json_field day_item[] = {
        {"day", JSON_STRING, 0, .max = 3},
        {0},
};

static const struct json_field period_fields[] = {
        {"days", JSON_ARRAY, JSON_REQUIRED, .max = 7, .items = day_item},
        {"from", JSON_STRING, JSON_REQUIRED, .max = 5},
        {"to", JSON_STRING, JSON_REQUIRED, .max = 5},
        {"note", JSON_STRING, 0, .max = 200},
        {0},
};

static const struct json_field period_item[] = {
        {"period", JSON_OBJECT, 0, .members = period_fields},
        {0},
};

static const struct json_field phone_item[] = {
        {"phone", JSON_OBJECT, 0, .members = phone_fields},
        {0},
};

static const struct json_field restriction_fields[] = {
        {"cease_communication", JSON_BOOL, 0},
        {"attorney_represented", JSON_BOOL, 0},
        {"bankruptcy", JSON_BOOL, 0},
        {"dispute_open", JSON_BOOL, 0},
        {"vulnerable", JSON_BOOL, 0},
        {"moratorium_until", JSON_DATE, JSON_NULLABLE},
        {0},
};

#define CUSTOMER_FIELDS(required)                                                                            \
	{"name", JSON_STRING, required, .max = 200}, {"time_zone", JSON_STRING, required, .max = 64},        \
	        {"jurisdiction", JSON_STRING, required, .max = 6}, {"language", JSON_STRING, 0, .max = 35},  \
	        {"phones", JSON_ARRAY, 0, .max = 10, .items = phone_item},                                   \
	        {"inconvenient_times", JSON_ARRAY, 0, .max = 20, .items = period_item},                      \
	        {"date_of_birth", JSON_DATE, JSON_NULLABLE},                                                 \
	        {"postcode", JSON_STRING, JSON_NULLABLE, .max = 12},                                         \
	{                                                                                                    \
		"contact_restrictions", JSON_OBJECT, 0, .members = restriction_fields                        \
	}

const struct json_field api_spec_customers_create[] = {
        {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
        CUSTOMER_FIELDS(JSON_REQUIRED),
        {0},
};

/* external_ref is the creditor's key for the customer and never changes;
 * note says why a contact restriction is cleared (a supervisor's, required then). */
const struct json_field api_spec_customers_update[] = {
        CUSTOMER_FIELDS(0),
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

const struct json_field api_spec_customers_erase[] = {
        {"reason", JSON_STRING, 0, .max = 500},
        {0},
};

/* ---- accounts and policies ------------------------------------------------------------ */

const struct json_field api_spec_accounts_create[] = {
        {"customer_id", JSON_INT, JSON_REQUIRED},
        {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
        {"creditor", JSON_STRING, JSON_REQUIRED, .max = 200},
        {"original_balance_cents", JSON_INT, JSON_REQUIRED},
        {"balance_cents", JSON_INT, 0},
        {"currency", JSON_STRING, JSON_REQUIRED, .max = 3},
        {"placed_on", JSON_DATE, 0},
        {0},
};

#define POLICY_SETTINGS(required)                                                                            \
	{"max_weeks", JSON_INT, required}, {"grace_days", JSON_INT, required},                               \
	        {"kept_threshold_percent", JSON_INT, required}, {"breaks_after_misses", JSON_INT, required}, \
	        {"min_settlement_percent", JSON_INT, required},                                              \
	{                                                                                                    \
		"reminder_lead_days", JSON_INT, required                                                     \
	}

/* The reminder settings: left out of a PUT they stay as they are. */
#define REMINDER_SETTINGS                                                                                    \
	{"min_call_gap_minutes", JSON_INT, 0},                                                               \
	{                                                                                                    \
		"failed_calls_before_triage", JSON_INT, 0                                                    \
	}

const struct json_field api_spec_policies_create[] = {
        {"creditor", JSON_STRING, JSON_REQUIRED, .max = 200},
        POLICY_SETTINGS(0),
        REMINDER_SETTINGS,
        {0},
};

/* PUT replaces every setting. */
const struct json_field api_spec_policies_replace[] = {
        POLICY_SETTINGS(JSON_REQUIRED),
        REMINDER_SETTINGS,
        {0},
};

/* ---- negotiation: affordability, proposals, plans, reviews, offers ------------------------- */

/* Income and expenditure in the shape of the UK Standard Financial Statement,
 * monthly integer cents; categories and sums are checked in SQL
 * (sql/functions/60_negotiation.sql). */
static const struct json_field line_fields[] = {
        {"category", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"description", JSON_STRING, 0, .max = 200},
        {"monthly_cents", JSON_INT, JSON_REQUIRED},
        {0},
};

static const struct json_field line_item[] = {{"line", JSON_OBJECT, 0, .members = line_fields}, {0}};

const struct json_field api_spec_affordability_record[] = {
        {"income", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {"fixed_costs", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {"flexible_costs", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {0},
};

const struct json_field api_spec_proposals_create[] = {
        {"weekly_amount_cents", JSON_INT, JSON_REQUIRED},
        {"first_due_date", JSON_DATE, JSON_REQUIRED},
        {"note", JSON_STRING, 0, .max = 1000},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {0},
};

/* contact_channel: how the agent and the customer agreed it (default phone:
 * a telephone conversation for Reg F); reminder_consent: the customer's
 * direct consent to a reminder within seven days (12 CFR 1006.14(b)(3)(i)).
 * Which fields go together: api_plans_terms (plans.c). */
const struct json_field api_spec_plans_create[] = {
        {"proposal_id", JSON_INT, 0},       {"weekly_amount_cents", JSON_INT, 0},
        {"first_due_date", JSON_DATE, 0},   {"replaces_plan_id", JSON_INT, 0},
        {"imported", JSON_BOOL, 0},         {"contact_channel", JSON_STRING, 0, .max = 20},
        {"reminder_consent", JSON_BOOL, 0}, {0},
};

const struct json_field api_spec_plans_approve[] = {
        {"note", JSON_STRING, 0, .max = 1000},
        {0},
};

const struct json_field api_spec_plans_cancel[] = {
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 1000},
        {0},
};

const struct json_field api_spec_reviews_decide[] = {
        {"decision", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

const struct json_field api_spec_settlements_offer[] = {
        {"offer_cents", JSON_INT, JSON_REQUIRED},
        {"note", JSON_STRING, 0, .max = 1000},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {0},
};

const struct json_field api_spec_settlements_accept[] = {
        {"amount_cents", JSON_INT, 0},
        {"installments", JSON_INT, 0},
        {"first_due_date", JSON_DATE, JSON_REQUIRED},
        {"replaces_plan_id", JSON_INT, 0},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {"reminder_consent", JSON_BOOL, 0},
        {0},
};

/* ---- self-service links ------------------------------------------------------------------- */

const struct json_field api_spec_self_service_links_create[] = {
        {"send", JSON_STRING, 0, .max = 8}, /* sms or none (default) */
        {"number", JSON_STRING, 0, .max = 16},   {"expires_in_days", JSON_INT, 0, .min = 1, .max_int = 30},
        {"language", JSON_STRING, 0, .max = 35}, {0},
};

const struct json_field api_spec_self_service_links_revoke[] = {
        {"reason", JSON_STRING, 0, .max = 1000},
        {0},
};

/* ---- payments ----------------------------------------------------------------------------- */

const struct json_field api_spec_payments_post[] = {
        {"account_id", JSON_INT, JSON_REQUIRED},
        {"amount_cents", JSON_INT, JSON_REQUIRED},
        {"received_at", JSON_STRING, 0, .max = 40}, /* absent: now */
        {"source", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"source_ref", JSON_STRING, JSON_REQUIRED, .max = 128},
        {0},
};

const struct json_field api_spec_payments_reverse[] = {
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 1000},
        {0},
};

/* ---- escalations and contacts ------------------------------------------------------------- */

const struct json_field api_spec_escalations_open[] = {
        {"account_id", JSON_INT, JSON_REQUIRED},
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"note", JSON_STRING, 0, .max = 2000},
        {"priority", JSON_INT, 0},
        {"plan_id", JSON_INT, 0},
        {0},
};

const struct json_field api_spec_escalations_assign[] = {
        {"assignee_key_id", JSON_INT, 0},
        {0},
};

const struct json_field api_spec_escalations_resolve[] = {
        {"note", JSON_STRING, JSON_REQUIRED, .max = 2000},
        {0},
};

/* Contacts from every channel: an agent's call, a customer's call in, a
 * letter, an email; values are checked in sql/functions/82_contacts.sql. */
const struct json_field api_spec_contacts_log[] = {
        {"channel", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"direction", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"outcome", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"number", JSON_STRING, 0, .max = 16},
        {"occurred_at", JSON_STRING, 0, .max = 40},
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

/* ---- admin -------------------------------------------------------------------------------- */

const struct json_field api_spec_admin_run[] = {
        {"as_of", JSON_STRING, 0, .max = 40},
        {0},
};

const struct json_field api_spec_admin_clock[] = {
        {"now", JSON_STRING, JSON_REQUIRED | JSON_NULLABLE, .max = 40},
        {0},
};
