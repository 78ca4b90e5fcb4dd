/* config: defaults, every problem listed, redaction of secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

static void defaults_apply(void **state)
{
	(void)state;
	char *env[] = {"KEPT_DATABASE_URL=postgresql:///kept", NULL};
	struct kept_config cfg;
	struct buf problems;
	buf_init(&problems, 4096);
	assert_int_equal(config_load(&cfg, env, &problems), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.threads, 8);
	assert_int_equal(cfg.max_body_bytes, 1u << 20);
	assert_int_equal(cfg.max_import_bytes, 256u << 20);
	assert_int_equal(cfg.log_level, LOG_INFO);
	config_free(&cfg);
	buf_free(&problems);
}

static void values_parse(void **state)
{
	(void)state;
	char *env[] = {"KEPT_DATABASE_URL=host=db",
	               "KEPT_LISTEN=[::1]:0",
	               "KEPT_THREADS=3",
	               "KEPT_MAX_BODY_BYTES=64k",
	               "KEPT_MAX_IMPORT_BYTES=2MiB",
	               "KEPT_LOG_LEVEL=debug",
	               NULL};
	struct kept_config cfg;
	struct buf problems;
	buf_init(&problems, 4096);
	assert_int_equal(config_load(&cfg, env, &problems), 0);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 0);
	assert_int_equal(cfg.threads, 3);
	assert_int_equal(cfg.max_body_bytes, 65536);
	assert_int_equal(cfg.max_import_bytes, 2u << 20);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	config_free(&cfg);
	buf_free(&problems);
}

static void every_problem_is_listed(void **state)
{
	(void)state;
	char *env[] = {"KEPT_LISTEN=localhost",  "KEPT_THREADS=0",      "KEPT_MAX_BODY_BYTES=lots",
	               "KEPT_LOG_LEVEL=verbose", "KEPT_RETRY_AFTER=2x", NULL};
	struct kept_config cfg;
	struct buf problems;
	buf_init(&problems, 4096);
	assert_int_equal(config_load(&cfg, env, &problems), 6);
	const char *text = buf_str(&problems);
	assert_non_null(strstr(text, "KEPT_DATABASE_URL: is required"));
	assert_non_null(strstr(text, "KEPT_LISTEN:"));
	assert_non_null(strstr(text, "KEPT_THREADS: must be between 1 and 256"));
	assert_non_null(strstr(text, "KEPT_MAX_BODY_BYTES:"));
	assert_non_null(strstr(text, "KEPT_LOG_LEVEL:"));
	assert_non_null(strstr(text, "KEPT_RETRY_AFTER:"));
	config_free(&cfg);
	buf_free(&problems);
}

/* What a call says and when keptd may use simulated time. */
static void telephony_names_and_clock(void **state)
{
	(void)state;
	char *env[] = {"KEPT_DATABASE_URL=postgresql:///kept",
	               "KEPT_TELEPHONY_BASE_URL=https://api.twilio.com",
	               "KEPT_TELEPHONY_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef",
	               "KEPT_TELEPHONY_AUTH_TOKEN=t",
	               "KEPT_TELEPHONY_FROM=+15550000100",
	               "KEPT_PUBLIC_URL=https://kept.example",
	               "KEPT_BUSINESS_NAME=National Debt Recovery",
	               "KEPT_CLOCK=simulated",
	               NULL};
	struct kept_config cfg;
	struct buf problems;
	buf_init(&problems, 4096);
	assert_int_equal(config_load(&cfg, env, &problems), 3);
	const char *text = buf_str(&problems);
	assert_non_null(strstr(text, "KEPT_CONTACT_NAME: is required with KEPT_TELEPHONY_BASE_URL"));
	assert_non_null(strstr(text, "KEPT_BUSINESS_NAME: must not suggest debt collection (\"debt\")"));
	assert_non_null(
	        strstr(text, "KEPT_CLOCK: simulated time is allowed only with the telephony simulator"));
	config_free(&cfg);
	buf_free(&problems);

	char *sim[] = {"KEPT_DATABASE_URL=postgresql:///kept",
	               "KEPT_TELEPHONY_BASE_URL=http://127.0.0.1:8090",
	               "KEPT_TELEPHONY_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef",
	               "KEPT_TELEPHONY_AUTH_TOKEN=t",
	               "KEPT_TELEPHONY_FROM=+15550000100",
	               "KEPT_PUBLIC_URL=http://127.0.0.1:8080",
	               "KEPT_CONTACT_NAME=Robin Smith",
	               "KEPT_CLOCK=simulated",
	               "KEPT_TELEPHONY_CPS=5",
	               NULL};
	buf_init(&problems, 4096);
	assert_int_equal(config_load(&cfg, sim, &problems), 0);
	assert_true(cfg.clock_simulated);
	assert_int_equal(cfg.telephony_cps, 5);
	assert_string_equal(cfg.callback_number, "+15550000100"); /* the caller id unless set */
	config_free(&cfg);
	buf_free(&problems);
}

static void passwords_are_redacted(void **state)
{
	(void)state;
	char out[256];
	config_redact_conninfo("postgresql://kept:s3cr3t@db.example:5432/kept?sslmode=require", out,
	                       sizeof out);
	assert_string_equal(out, "postgresql://kept:****@db.example:5432/kept?sslmode=require");
	config_redact_conninfo("postgres://u:p%40ss@h/db?password=other&x=1", out, sizeof out);
	assert_null(strstr(out, "p%40ss"));
	assert_null(strstr(out, "other"));
	assert_non_null(strstr(out, "x=1"));
	config_redact_conninfo("host=db user=kept password='a secret' dbname=kept", out, sizeof out);
	assert_string_equal(out, "host=db user=kept password=**** dbname=kept");
	config_redact_conninfo("host=db password = plain dbname=kept", out, sizeof out);
	assert_null(strstr(out, "plain"));
	config_redact_conninfo("postgresql:///kept?host=/tmp/run&user=kept", out, sizeof out);
	assert_string_equal(out, "postgresql:///kept?host=/tmp/run&user=kept");
	config_redact_conninfo("postgresql://user@host/db", out, sizeof out);
	assert_string_equal(out, "postgresql://user@host/db");
}

/* keptd help: only what is required says so; an optional setting without a
 * default is not called required. */
static void help_says_what_is_required(void **state)
{
	(void)state;
	struct buf out;
	char line[512];
	buf_init(&out, 64 << 10);
	config_help(&out);
	const char *text = buf_str(&out);
	assert_null(strstr(text, "none, required"));
	assert_non_null(strstr(text, "(URL or key=value) (required)\n"));
	const char *names[] = {"KEPT_ANALYTICS_DATABASE_URL", "KEPT_REPORTS_DATABASE_URL",
	                       "KEPT_TELEPHONY_BASE_URL", "KEPT_AGENT_LINE", "KEPT_CALLBACK_NUMBER"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *at = strstr(text, names[i]);
		assert_non_null(at);
		snprintf(line, sizeof line, "%.*s", (int)strcspn(at, "\n"), at);
		assert_null(strstr(line, "required"));
	}
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(defaults_apply),          cmocka_unit_test(values_parse),
	        cmocka_unit_test(every_problem_is_listed), cmocka_unit_test(telephony_names_and_clock),
	        cmocka_unit_test(passwords_are_redacted),  cmocka_unit_test(help_says_what_is_required),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
