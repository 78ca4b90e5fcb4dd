/* sms: the words of kept's texts in English and Spanish — the business named,
 * how to opt out, nothing of the debt before the customer proves who they
 * are — and the TwiML answers to STOP, START, HELP and anything else. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf/buf.h"
#include "sms/sms.h"

static const char *const DEBT_WORDS[] = {"debt",     "owe",   "balance", "arrears",
                                         "creditor", "deuda", "saldo",   "$"};

static bool says_nothing_of_a_debt(const char *text)
{
	char lower[SMS_MAX_CHARS * 4 + 1];
	size_t n = strlen(text);
	assert_true(n < sizeof lower);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	for (size_t i = 0; i < sizeof DEBT_WORDS / sizeof DEBT_WORDS[0]; i++)
		if (strstr(lower, DEBT_WORDS[i]))
			return false;
	return true;
}

static void link_and_code_texts(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(sms_link_text(&b, LANG_EN, "Acme Services", "Zoë", "https://kept.example/s/abc",
	                               "2026-12-09"),
	                 KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "Acme Services"));
	assert_non_null(strstr(buf_str(&b), "Zoë"));
	assert_non_null(strstr(buf_str(&b), "https://kept.example/s/abc"));
	assert_non_null(strstr(buf_str(&b), "Reply STOP to opt out."));
	assert_true(says_nothing_of_a_debt(buf_str(&b)));
	buf_reset(&b);
	assert_int_equal(sms_code_text(&b, LANG_ES, "Acme Services", "123456", 10), KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "123456"));
	assert_non_null(strstr(buf_str(&b), "10 minutos"));
	assert_non_null(strstr(buf_str(&b), "Responda STOP"));
	assert_true(says_nothing_of_a_debt(buf_str(&b)));
	buf_free(&b);
}

static void plan_texts(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(sms_plan_text(&b, LANG_EN, "Acme Services", true, "25.00 GBP", "2026-12-09", NULL),
	                 KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "25.00 GBP"));
	assert_non_null(strstr(buf_str(&b), "STOP"));
	buf_reset(&b);
	assert_int_equal(
	        sms_plan_text(&b, LANG_ES, "Acme Services", false, "25,00 GBP", "2026-12-09", "2026-12-03"),
	        KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "asociado"));
	buf_free(&b);
}

static void replies(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(sms_reply_twiml(&b, LANG_EN, "stop", "Acme", "+15550100"), KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "<Response/>")); /* the provider confirms opt-outs itself */
	buf_reset(&b);
	assert_int_equal(sms_reply_twiml(&b, LANG_EN, "help", "Acme & Co <Ltd>", "+15550100"), KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "<Message>"));
	assert_non_null(strstr(buf_str(&b), "Acme &amp; Co &lt;Ltd&gt;")); /* XML-escaped */
	assert_non_null(strstr(buf_str(&b), "+15550100"));
	buf_reset(&b);
	assert_int_equal(sms_reply_twiml(&b, LANG_ES, "start", "Acme", "+15550100"), KEPT_OK);
	assert_non_null(strstr(buf_str(&b), "<Message>"));
	buf_reset(&b);
	assert_int_equal(sms_reply_twiml(&b, LANG_EN, NULL, "Acme", "+15550100"), KEPT_OK);
	assert_null(strstr(buf_str(&b), "<Message>")); /* anything else: nothing */
	buf_free(&b);
}

static void a_text_is_capped(void **state)
{
	(void)state;
	struct buf b;
	char name[SMS_MAX_CHARS * 5];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	buf_init(&b, 1 << 16);
	assert_int_not_equal(
	        sms_link_text(&b, LANG_EN, "Acme", name, "https://kept.example/s/abc", "2026-12-09"),
	        KEPT_OK);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(link_and_code_texts),
	        cmocka_unit_test(plan_texts),
	        cmocka_unit_test(replies),
	        cmocka_unit_test(a_text_is_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
