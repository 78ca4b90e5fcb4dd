/* rules: each field rule declared once. The database constraints map to the
 * codes, fields and messages clients have always been told; names are
 * unique; and the C checks of the CSV imports accept exactly what the rules'
 * patterns accept. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/rules.h"
#include "text/text.h"

/* What each constraint answered before the rules were declared in one place. */
static const struct {
	const char *constraint, *code, *field, *message;
} answers[] = {
        {"customers_external_ref_check", "invalid_external_ref", "external_ref",
         "external_ref must be 1-64 of A-Z a-z 0-9 . _ : / - and start with a letter or digit"},
        {"customers_time_zone_fkey", "invalid_time_zone", "time_zone",
         "time_zone must be an IANA time zone name, such as Europe/London"},
        {"customers_jurisdiction_check", "invalid_jurisdiction", "jurisdiction",
         "jurisdiction must be an ISO 3166 code such as GB or US-MA"},
        {"customers_language_check", "invalid_language", "language",
         "language must be a BCP 47 tag such as en or es-US"},
        {"customer_phones_type_check", "invalid_phone_type", "phones",
         "a phone's type is mobile, home or work"},
        {"accounts_external_ref_check", "invalid_external_ref", "external_ref",
         "external_ref must be 1-64 of A-Z a-z 0-9 . _ : / - and start with a letter or digit"},
        {"accounts_creditor_check", "invalid_creditor", "creditor",
         "creditor must be 1-200 characters with no control characters"},
        {"accounts_original_balance_check", "invalid_amount", "original_balance_cents",
         "original_balance_cents must be a positive number of cents"},
        {"accounts_remaining_balance_check", "invalid_amount", "balance_cents",
         "balance_cents must not be negative"},
        {"accounts_currency_check", "invalid_currency", "currency",
         "currency must be an ISO 4217 code such as USD"},
        {"accounts_placed_on_check", "invalid_placed_on", "placed_on",
         "placed_on must be a date from 2000-01-01 to today"},
        {"api_keys_name_check", "invalid_name", "name",
         "name must be 1-200 characters with no control characters"},
        {"api_keys_role_check", "invalid_role", "role", "role must be agent, supervisor, finance or admin"},
        {"users_name_check", "invalid_name", "name",
         "name must be 1-200 characters with no control characters"},
        {"users_email_check", "invalid_email", "email", "email must be an address such as ann@example.com"},
        {"users_team_check", "invalid_team", "team",
         "team is 1-64 of a-z 0-9 . _ - starting with a letter or digit"},
        {"users_roles_check", "invalid_roles", "roles",
         "roles is a list of one to four of agent, supervisor, finance, admin, each once"},
        {"creditors_name_check", "invalid_creditor", "name",
         "a creditor's name is 1-200 characters with no control characters"},
        {"creditors_team_check", "invalid_team", "team",
         "team is 1-64 of a-z 0-9 . _ - starting with a letter or digit"},
        {"policies_creditor_check", "invalid_creditor", "creditor",
         "creditor must be 1-200 characters with no control characters"},
        {"policies_max_weeks_check", "invalid_policy", "max_weeks", "max_weeks must be from 1 to 520"},
        {"policies_grace_days_check", "invalid_policy", "grace_days", "grace_days must be from 0 to 28"},
        {"policies_threshold_check", "invalid_policy", "kept_threshold_percent",
         "kept_threshold_percent must be from 1 to 100"},
        {"policies_misses_check", "invalid_policy", "breaks_after_misses",
         "breaks_after_misses must be from 1 to 52"},
        {"policies_settlement_check", "invalid_policy", "min_settlement_percent",
         "min_settlement_percent must be from 1 to 100"},
        {"policies_lead_days_check", "invalid_policy", "reminder_lead_days",
         "reminder_lead_days must be from 0 to 14"},
        {"policies_call_gap_check", "invalid_policy", "min_call_gap_minutes",
         "min_call_gap_minutes must be from 0 to 1440"},
        {"policies_triage_check", "invalid_policy", "failed_calls_before_triage",
         "failed_calls_before_triage must be from 1 to 50"},
        {"payments_source_check", "invalid_source", "source",
         "source is 1-40 of a-z 0-9 _ . : - (e.g. card, bacs, processor:stripe)"},
        {"payments_source_ref_check", "invalid_source_ref", "source_ref",
         "source_ref is 1-128 characters with no control characters"},
};

static void constraints_answer_as_before(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		const struct field_rule *r = rules_for_constraint(answers[i].constraint);
		assert_non_null(r);
		assert_string_equal(r->code, answers[i].code);
		assert_string_equal(r->field, answers[i].field);
		assert_string_equal(r->message, answers[i].message);
	}
	assert_null(rules_for_constraint("no_such_constraint"));
	assert_null(rules_for_constraint(""));
	assert_null(rules_for_constraint(NULL));
	/* a constraint's name is matched whole, not as a prefix of another */
	assert_null(rules_for_constraint("payments_source"));
	assert_string_equal(rules_for_constraint("payments_source_ref_check")->name, "source_ref");
}

static void names_are_unique_and_rules_complete(void **state)
{
	(void)state;
	assert_true(field_rules_count > 20);
	for (size_t i = 0; i < field_rules_count; i++) {
		const struct field_rule *r = &field_rules[i];
		assert_ptr_equal(rules_find(r->name), r);
		assert_true(strncmp(r->code, "invalid_", 8) == 0);
		assert_non_null(r->field);
		assert_non_null(r->message);
		if (r->bounds & RULE_MIN && r->bounds & RULE_MAX)
			assert_true(r->min <= r->max);
	}
	assert_null(rules_find("no_such_rule"));
}

/* True when `s` matches the rule's pattern (POSIX ERE: the same as
 * PostgreSQL's for these ASCII patterns). */
static bool matches(const struct field_rule *r, const char *s)
{
	regex_t re;
	assert_int_equal(regcomp(&re, r->pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void import_checks_follow_the_rules(void **state)
{
	(void)state;
	static const char *const sources[] = {
	        "card",
	        "bacs",
	        "processor:stripe",
	        "a",
	        "0",
	        "a_b.c:d-e",
	        "Card",
	        "",
	        " card",
	        "card ",
	        "-card",
	        "_x",
	        "a/b",
	        "caf\xc3\xa9",
	        "a123456789012345678901234567890123456789",
	        "a1234567890123456789012345678901234567890",
	};
	const struct field_rule *source = rules_find("source");
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
		assert_int_equal(text_is_source(sources[i], strlen(sources[i])), matches(source, sources[i]));

	static const char *const phones[] = {
	        "+14155550123",      "+4420",        "+1234567",    "+123456", "+123456789012345",
	        "+1234567890123456", "+04155550123", "14155550123", "+1 415",  "",
	};
	const struct field_rule *phone = rules_find("phone");
	for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++)
		assert_int_equal(text_is_e164(phones[i], strlen(phones[i])), matches(phone, phones[i]));

	const struct field_rule *ref = rules_find("source_ref");
	char longest[129];
	memset(longest, 'x', sizeof longest);
	assert_true(text_is_source_ref(longest, (size_t)ref->max_chars));
	assert_false(text_is_source_ref(longest, (size_t)ref->max_chars + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(constraints_answer_as_before),
	        cmocka_unit_test(names_are_unique_and_rules_complete),
	        cmocka_unit_test(import_checks_follow_the_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
