/* text: UTF-8 and the value formats keptd checks before COPY, each the
 * mirror of a SQL predicate (kept.is_timestamp, payments_source_check, ...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text/text.h"

#define S(lit) (lit), strlen(lit)

static void utf8(void **state)
{
	(void)state;
	assert_true(text_utf8_valid(S("plain ascii")));
	assert_true(text_utf8_valid(S("Zoë 😀 €")));
	assert_true(text_utf8_valid("", 0));
	assert_false(text_utf8_valid(S("\xff")));
	assert_false(text_utf8_valid(S("\xc0\xaf")));         /* overlong '/' */
	assert_false(text_utf8_valid(S("\xed\xa0\x80")));     /* surrogate */
	assert_false(text_utf8_valid(S("\xf4\x90\x80\x80"))); /* past U+10FFFF */
	assert_false(text_utf8_valid(S("ok\xe2\x82")));       /* cut short */
	/* the length bounds the read: a valid prefix of an invalid buffer */
	assert_true(text_utf8_valid("ab\xff", 2));
	assert_int_equal(text_utf8_length(S("Zoë 😀")), 5);
	assert_int_equal(text_utf8_length("", 0), 0);
}

static void dates(void **state)
{
	(void)state;
	assert_true(text_is_date(S("2000-02-29")));
	assert_false(text_is_date(S("1900-02-29")));
	assert_false(text_is_date(S("1899-12-31")));
	assert_false(text_is_date(S("2026-04-31")));
	assert_false(text_is_date(S("2026-00-10")));
	assert_false(text_is_date(S("20261-01-01")));
	assert_false(text_is_date(S("2026-1-01")));
	assert_true(text_is_date(S("2026-12-31")));
}

static void timestamps(void **state)
{
	(void)state;
	static const char *good[] = {
	        "2026-11-20T14:05:00Z",        "2026-11-20 14:05Z",         "2026-11-20T14:05:00.123456Z",
	        "2026-11-20T14:05:00.1+01:00", "2026-11-20T14:05-0530",     "2026-11-20T14:05:59+15",
	        "2024-02-29T00:00:00Z",        "0001-01-01T00:00:00-15:59", "9999-12-31T23:59:59Z",
	};
	static const char *bad[] = {
	        "",
	        "2026-11-20",
	        "2026-11-20T14:05:00", /* no zone */
	        "2026-11-20T24:00:00Z",
	        "2026-11-20T14:60:00Z",
	        "2026-11-20T14:05:60Z",
	        "2026-11-20T14:05:00.Z",        /* empty fraction */
	        "2026-11-20T14:05:00.1234567Z", /* seven digits */
	        "2026-11-20T14:05.5Z",          /* a fraction needs seconds */
	        "2026-11-20T14:05:00+16:00",    /* PostgreSQL refuses offsets past 15:59 */
	        "2026-11-20T14:05:00+01:60",
	        "2026-11-20T14:05:00+1",
	        "2026-11-20T14:05:00+01:0",
	        "2026-11-20T14:05:00Zjunk",
	        "2023-02-29T00:00:00Z",
	        "2026-13-01T00:00:00Z",
	        "0000-01-01T00:00:00Z", /* PostgreSQL has no year 0 */
	        "2026-11-20t14:05:00Z",
	        "yesterday",
	        "epoch",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(text_is_timestamp(S(good[i])));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(text_is_timestamp(S(bad[i])));
	/* the length bounds the read */
	assert_true(text_is_timestamp("2026-11-20T14:05:00Zxyz", 20));
}

static void cents(void **state)
{
	(void)state;
	assert_true(text_is_cents(S("1")));
	assert_true(text_is_cents(S("0100")));
	assert_true(text_is_cents(S("999999999999999")));
	assert_false(text_is_cents(S("1000000000000000"))); /* sixteen digits */
	assert_false(text_is_cents(S("0")));
	assert_false(text_is_cents(S("000")));
	assert_false(text_is_cents(S("-5")));
	assert_false(text_is_cents(S("12.5")));
	assert_false(text_is_cents(S(" 5")));
	assert_false(text_is_cents("", 0));
}

static void sources(void **state)
{
	(void)state;
	assert_true(text_is_source(S("bacs")));
	assert_true(text_is_source(S("processor:stripe")));
	assert_true(text_is_source(S("0a_.:-")));
	assert_true(text_is_source(S("abcdefghijabcdefghijabcdefghijabcdefghij"))); /* forty */
	assert_false(text_is_source(S("abcdefghijabcdefghijabcdefghijabcdefghijk")));
	assert_false(text_is_source(S("Bacs")));
	assert_false(text_is_source(S("-bacs")));
	assert_false(text_is_source(S("ba cs")));
	assert_false(text_is_source("", 0));
}

static void source_refs(void **state)
{
	(void)state;
	char long_ref[130];
	memset(long_ref, 'x', sizeof long_ref);
	assert_true(text_is_source_ref(S("BACS-2026-11-20/000123")));
	assert_true(text_is_source_ref(S("référence")));
	assert_true(text_is_source_ref(long_ref, 128));
	assert_false(text_is_source_ref(long_ref, 129));
	/* 128 characters of two bytes each is still 128 characters */
	char wide[256];
	for (int i = 0; i < 128; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	assert_true(text_is_source_ref(wide, sizeof wide));
	assert_false(text_is_source_ref(S("a\tb")));
	assert_false(text_is_source_ref(S("a\x7f")));
	assert_false(text_is_source_ref(S("a\xff")));
	assert_false(text_is_source_ref("", 0));
}

/* the mirror of kept.is_e164: ^\+[1-9][0-9]{6,14}$ */
static void e164(void **state)
{
	(void)state;
	assert_true(text_is_e164(S("+15558675310")));
	assert_true(text_is_e164(S("+1234567")));         /* 7 digits, the shortest */
	assert_true(text_is_e164(S("+123456789012345"))); /* 15, the longest */
	assert_false(text_is_e164(S("+123456")));
	assert_false(text_is_e164(S("+1234567890123456")));
	assert_false(text_is_e164(S("+05558675310")));
	assert_false(text_is_e164(S("15558675310")));
	assert_false(text_is_e164(S("+1555 867 5310")));
	assert_false(text_is_e164(S("+1555867531x")));
	assert_false(text_is_e164("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(utf8),  cmocka_unit_test(dates),   cmocka_unit_test(timestamps),
	        cmocka_unit_test(cents), cmocka_unit_test(sources), cmocka_unit_test(source_refs),
	        cmocka_unit_test(e164),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
