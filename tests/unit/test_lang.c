/* lang: tags, Accept-Language, dates and amounts in English and Spanish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lang/lang.h"

static void tags(void **state)
{
	(void)state;
	enum lang l = LANG_EN;
	assert_true(lang_of_tag("es-419", &l));
	assert_int_equal(l, LANG_ES);
	assert_true(lang_of_tag("en-GB", &l));
	assert_int_equal(l, LANG_EN);
	assert_false(lang_of_tag("fr", &l));
	assert_false(lang_of_tag("", &l));
	assert_string_equal(lang_code(LANG_ES), "es");
	assert_string_equal(lang_code(LANG_EN), "en");
}

static void accept_language(void **state)
{
	(void)state;
	enum lang l = LANG_EN;
	assert_true(lang_of_accept("fr-FR, es;q=0.8, en;q=0.5", &l));
	assert_int_equal(l, LANG_ES); /* the highest q among ours */
	assert_true(lang_of_accept("en;q=0.7, es;q=0.7", &l));
	assert_int_equal(l, LANG_EN); /* a tie: the first listed */
	assert_true(lang_of_accept("es-MX", &l));
	assert_int_equal(l, LANG_ES);
	assert_false(lang_of_accept("de, fr;q=0.9", &l));
	assert_false(lang_of_accept("", &l));
}

static void dates(void **state)
{
	(void)state;
	char out[LANG_DATE_MAX];
	assert_true(lang_date(LANG_EN, "2026-12-04", true, out, sizeof out));
	assert_string_equal(out, "Friday 4 December 2026");
	assert_true(lang_date(LANG_ES, "2026-12-04", true, out, sizeof out));
	assert_string_equal(out, "viernes, 4 de diciembre de 2026");
	assert_true(lang_date(LANG_EN, "2026-12-04", false, out, sizeof out));
	assert_string_equal(out, "4 December 2026");
	strcpy(out, "unchanged");
	assert_false(lang_date(LANG_EN, "2026-02-30", true, out, sizeof out));
	assert_false(lang_date(LANG_EN, "tomorrow", true, out, sizeof out));
	assert_string_equal(out, "unchanged");
}

static void money(void **state)
{
	(void)state;
	char out[LANG_MONEY_MAX];
	lang_money(LANG_EN, 125000, 2, "USD", out, sizeof out);
	assert_string_equal(out, "1,250.00 USD");
	lang_money(LANG_ES, 125000, 2, "USD", out, sizeof out);
	assert_string_equal(out, "1.250,00 USD");
	lang_money(LANG_EN, 1500, 0, "JPY", out, sizeof out);
	assert_string_equal(out, "1,500 JPY");
	lang_money(LANG_EN, 5, 2, "GBP", out, sizeof out);
	assert_string_equal(out, "0.05 GBP");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(tags),
	        cmocka_unit_test(accept_language),
	        cmocka_unit_test(dates),
	        cmocka_unit_test(money),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
