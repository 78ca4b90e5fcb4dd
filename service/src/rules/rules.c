/* The field rules of kept's API (rules.h says who reads them and what holds them together). */
#include "rules/rules.h"

#include <stdbool.h>
#include <string.h>

#define DISPLAY_NAME "1-200 characters with no control characters"
#define TEAM         "team is 1-64 of a-z 0-9 . _ - starting with a letter or digit"

/* A policy setting: an integer from `lo` to `hi`. */
#define POLICY(setting, lo, hi, constraint)                                                                  \
	{                                                                                                    \
		.name = setting, .code = "invalid_policy", .field = setting,                                 \
		.message = setting " must be from " #lo " to " #hi, .bounds = RULE_MIN | RULE_MAX,           \
		.min = lo, .max = hi, .constraints = constraint                                              \
	}

const struct field_rule field_rules[] = {
        /* customers and accounts */
        {.name = "external_ref",
         .code = "invalid_external_ref",
         .field = "external_ref",
         .message = "external_ref must be 1-64 of A-Z a-z 0-9 . _ : / - and start with a letter or digit",
         .pattern = "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$",
         .max_chars = 64,
         .predicate = "is_reference",
         .constraints = "customers_external_ref_check accounts_external_ref_check"},
        {.name = "time_zone",
         .code = "invalid_time_zone",
         .field = "time_zone",
         .message = "time_zone must be an IANA time zone name, such as Europe/London",
         .constraints = "customers_time_zone_fkey"},
        {.name = "jurisdiction",
         .code = "invalid_jurisdiction",
         .field = "jurisdiction",
         .message = "jurisdiction must be an ISO 3166 code such as GB or US-MA",
         .pattern = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
         .predicate = "is_jurisdiction",
         .constraints = "customers_jurisdiction_check"},
        {.name = "language",
         .code = "invalid_language",
         .field = "language",
         .message = "language must be a BCP 47 tag such as en or es-US",
         .pattern = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$",
         .max_chars = 35,
         .predicate = "is_language",
         .constraints = "customers_language_check"},
        {.name = "phone",
         .code = "invalid_phone",
         .field = "phones",
         .property = "number",
         .message = "phone numbers must be E.164, such as +14155550123",
         .pattern = "^\\+[1-9][0-9]{6,14}$",
         .predicate = "is_e164"},
        {.name = "phone_type",
         .code = "invalid_phone_type",
         .field = "phones",
         .property = "type",
         .message = "a phone's type is mobile, home or work",
         .values = "mobile home work",
         .constraints = "customer_phones_type_check"},
        {.name = "inconvenient_times",
         .code = "invalid_inconvenient_times",
         .field = "inconvenient_times",
         .message = "inconvenient_times is a list of at most 20 {days: [mon..sun], from: \"HH:MM\", to: "
                    "\"HH:MM\"} with from before to",
         .predicate = "is_inconvenient_times",
         .constraints = "customers_inconvenient_times_check"},
        {.name = "postcode",
         .code = "invalid_postcode",
         .field = "postcode",
         .message = "postcode must be 2-12 letters, digits, spaces or hyphens, such as SW1A 1AA or 02139",
         .pattern = "^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$",
         .max_chars = 12,
         .predicate = "is_postcode"},
        {.name = "date_of_birth",
         .code = "invalid_date_of_birth",
         .field = "date_of_birth",
         .message = "date_of_birth must be a past date from 1900-01-01"},
        {.name = "creditor",
         .code = "invalid_creditor",
         .field = "creditor",
         .message = "creditor must be " DISPLAY_NAME,
         .max_chars = 200,
         .predicate = "is_display_name",
         .constraints = "accounts_creditor_check policies_creditor_check"},
        {.name = "original_balance_cents",
         .code = "invalid_amount",
         .field = "original_balance_cents",
         .message = "original_balance_cents must be a positive number of cents",
         .bounds = RULE_MIN,
         .min = 1,
         .constraints = "accounts_original_balance_check"},
        {.name = "balance_cents",
         .code = "invalid_amount",
         .field = "balance_cents",
         .message = "balance_cents must not be negative",
         .bounds = RULE_MIN,
         .min = 0,
         .constraints = "accounts_remaining_balance_check"},
        {.name = "currency",
         .code = "invalid_currency",
         .field = "currency",
         .message = "currency must be an ISO 4217 code such as USD",
         .pattern = "^[A-Z]{3}$",
         .max_chars = 3,
         .predicate = "is_currency",
         .constraints = "accounts_currency_check"},
        {.name = "placed_on",
         .code = "invalid_placed_on",
         .field = "placed_on",
         .message = "placed_on must be a date from 2000-01-01 to today",
         .constraints = "accounts_placed_on_check"},

        /* people and keys */
        {.name = "name",
         .code = "invalid_name",
         .field = "name",
         .message = "name must be " DISPLAY_NAME,
         .max_chars = 200,
         .predicate = "is_display_name",
         .constraints = "api_keys_name_check users_name_check"},
        {.name = "creditor_name",
         .code = "invalid_creditor",
         .field = "name",
         .message = "a creditor's name is " DISPLAY_NAME,
         .max_chars = 200,
         .predicate = "is_display_name",
         .constraints = "creditors_name_check"},
        {.name = "role",
         .code = "invalid_role",
         .field = "role",
         .message = "role must be agent, supervisor, finance or admin",
         .values = "agent supervisor finance admin",
         .constraints = "api_keys_role_check"},
        {.name = "roles",
         .code = "invalid_roles",
         .field = "roles",
         .message = "roles is a list of one to four of agent, supervisor, finance, admin, each once",
         .values = "agent supervisor finance admin",
         .predicate = "is_roles",
         .constraints = "users_roles_check"},
        {.name = "email",
         .code = "invalid_email",
         .field = "email",
         .message = "email must be an address such as ann@example.com",
         .max_chars = 254,
         .predicate = "is_email",
         .constraints = "users_email_check"},
        {.name = "team",
         .code = "invalid_team",
         .field = "team",
         .message = TEAM,
         .pattern = "^[a-z0-9][a-z0-9._-]{0,63}$",
         .max_chars = 64,
         .predicate = "is_team",
         .constraints = "users_team_check creditors_team_check"},

        /* policies */
        POLICY("max_weeks", 1, 520, "policies_max_weeks_check"),
        POLICY("grace_days", 0, 28, "policies_grace_days_check"),
        POLICY("kept_threshold_percent", 1, 100, "policies_threshold_check"),
        POLICY("breaks_after_misses", 1, 52, "policies_misses_check"),
        POLICY("min_settlement_percent", 1, 100, "policies_settlement_check"),
        POLICY("reminder_lead_days", 0, 14, "policies_lead_days_check"),
        POLICY("min_call_gap_minutes", 0, 1440, "policies_call_gap_check"),
        POLICY("failed_calls_before_triage", 1, 50, "policies_triage_check"),

        /* payments */
        {.name = "source",
         .code = "invalid_source",
         .field = "source",
         .message = "source is 1-40 of a-z 0-9 _ . : - (e.g. card, bacs, processor:stripe)",
         .pattern = "^[a-z0-9][a-z0-9_.:-]{0,39}$",
         .max_chars = 40,
         .constraints = "payments_source_check"},
        {.name = "source_ref",
         .code = "invalid_source_ref",
         .field = "source_ref",
         .message = "source_ref is 1-128 characters with no control characters",
         .max_chars = 128,
         .constraints = "payments_source_ref_check"},
};

const size_t field_rules_count = sizeof field_rules / sizeof field_rules[0];

const struct field_rule *rules_find(const char *name)
{
	for (size_t i = 0; i < field_rules_count; i++)
		if (strcmp(field_rules[i].name, name) == 0)
			return &field_rules[i];
	return NULL;
}

/* True when the space-separated `list` holds `word`. */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

const struct field_rule *rules_for_constraint(const char *constraint)
{
	if (!constraint || !constraint[0])
		return NULL;
	for (size_t i = 0; i < field_rules_count; i++)
		if (list_has(field_rules[i].constraints, constraint))
			return &field_rules[i];
	return NULL;
}
