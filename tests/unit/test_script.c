/* The call script: nothing about a debt before the right party confirms, a
 * limited-content message (12 CFR 1006.2(j)) for machines and undetermined
 * answers, a callback number on every path, and the names a call may say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "script/script.h"

static const char *const debt_words[] = {"debt",    "owe",     "payment", "collect", "amount",  "due",
                                         "balance", "arrears", "$",       "42.50",   "November"};

/* case-insensitive search without GNU extensions */
static bool contains_word(const char *hay, const char *word)
{
	size_t n = strlen(word);
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] && (hay[i] | 0x20) == (word[i] | 0x20))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static void assert_no_debt_words(const char *twiml)
{
	for (size_t i = 0; i < sizeof debt_words / sizeof debt_words[0]; i++)
		if (contains_word(twiml, debt_words[i]))
			fail_msg("the limited message says \"%s\": %s", debt_words[i], twiml);
}

static const struct script_call call = {
        .business = "Kept Customer Services",
        .contact_name = "Robin Smith",
        .callback_number = "+15550001111",
        .customer_name = "Ann <Lee> & Co",
        .amount = "$42.50",
        .due_date = "Friday, 27 November 2026",
        .gather_url = "https://k.example/g/1?a=1&b=2",
};

static char *render_opening(struct buf *b, enum script_answer answer)
{
	buf_reset(b);
	assert_int_equal(script_opening(b, &call, answer), KEPT_OK);
	return (char *)buf_str(b);
}

static char *render_step(struct buf *b, const struct script_call *c, const char *step)
{
	buf_reset(b);
	assert_int_equal(script_step(b, c, step), KEPT_OK);
	return (char *)buf_str(b);
}

/* The limited-content message: the salutation with the consumer's name, the
 * natural person and the business, a request to reply, the number. */
static void assert_limited_content(const char *twiml)
{
	assert_no_debt_words(twiml);
	assert_non_null(strstr(twiml, "Hello, Ann &lt;Lee&gt; &amp; Co."));
	assert_non_null(strstr(twiml, "This is Robin Smith calling from "));
	assert_non_null(strstr(twiml, "Kept Customer Services"));
	assert_non_null(strstr(twiml, "Please call me back at +15550001111."));
	assert_null(strstr(twiml, "<Gather"));
}

static void machines_and_unknown_hear_the_limited_message(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 16);
	assert_limited_content(render_opening(&b, SCRIPT_MACHINE));
	char *unknown = render_opening(&b, SCRIPT_UNKNOWN);
	assert_limited_content(unknown);
	/* twice, so that one whole copy follows a greeting still playing */
	const char *first = strstr(unknown, "Please call me back");
	assert_non_null(strstr(first + 1, "Please call me back"));
	assert_limited_content(render_step(&b, &call, "limited"));
	assert_limited_content(render_step(&b, &call, "no such step"));
	buf_free(&b);
}

static void the_live_opening_names_the_caller_and_asks(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 16);
	char *twiml = render_opening(&b, SCRIPT_HUMAN);
	assert_no_debt_words(twiml);
	assert_non_null(strstr(twiml, "action=\"https://k.example/g/1?a=1&amp;b=2\""));
	assert_non_null(strstr(twiml, "Hello, this is Robin Smith calling from "));
	assert_non_null(strstr(twiml, "please press 1"));
	assert_non_null(strstr(twiml, "If you are not Ann &lt;Lee&gt; &amp; Co, please press 2"));
	assert_non_null(strstr(twiml, "press 9"));
	/* silence falls through to the limited-content message */
	assert_non_null(strstr(strstr(twiml, "</Gather>"), "Please call me back at +15550001111"));
	buf_free(&b);
}

static void after_confirmation_the_disclosure_then_the_debt(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1u << 16);
	char *twiml = render_step(&b, &call, "disclose");
	const char *disclosure = strstr(twiml, "This is an attempt to collect a debt");
	assert_non_null(disclosure);
	assert_true(disclosure < strstr(twiml, "$42.50"));
	assert_non_null(strstr(twiml, "27 November 2026"));
	buf_free(&b);
}

/* 47 CFR 64.1200(b)(2): a number to call on every path, 1-1 included. */
static void a_callback_number_on_every_path(void **state)
{
	(void)state;
	static const char *const steps[] = {"disclose",  "menu",        "confirmed", "agent",
	                                    "opted_out", "wrong_party", "limited"};
	struct buf b;
	buf_init(&b, 1u << 16);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (!strstr(render_step(&b, &call, steps[i]), "+15550001111"))
			fail_msg("step %s says no callback number: %s", steps[i], buf_str(&b));
	struct script_call with_line = call;
	with_line.agent_line = "+15550002222";
	char *twiml = render_step(&b, &with_line, "agent");
	assert_non_null(strstr(twiml, "<Dial><Number>+15550002222</Number></Dial>"));
	assert_non_null(strstr(twiml, "+15550001111"));
	assert_no_debt_words(render_step(&b, &call, "wrong_party"));
	buf_free(&b);
}

static void answers(void **state)
{
	(void)state;
	assert_int_equal(script_answer_of("human"), SCRIPT_HUMAN);
	assert_int_equal(script_answer_of("machine_end_beep"), SCRIPT_MACHINE);
	assert_int_equal(script_answer_of("machine_start"), SCRIPT_MACHINE);
	assert_int_equal(script_answer_of("fax"), SCRIPT_MACHINE);
	assert_int_equal(script_answer_of("unknown"), SCRIPT_UNKNOWN);
	assert_int_equal(script_answer_of(NULL), SCRIPT_UNKNOWN);
}

static void names_that_disclose_debt_collection(void **state)
{
	(void)state;
	assert_null(script_debt_word("Kept Customer Services"));
	assert_null(script_debt_word("Lowe & Bowers Associates")); /* "owe" only as a word */
	assert_string_equal(script_debt_word("ABC Debt Solutions"), "debt");
	assert_string_equal(script_debt_word("National Collections Ltd"), "collect");
	assert_string_equal(script_debt_word("Acme RECOVERY"), "recover");
	assert_string_equal(script_debt_word("You Owe Us"), "owe");
	assert_string_equal(script_debt_word("Past-Due Partners"), "due");
	assert_string_equal(script_debt_word("Arrears.co"), "arrear");
	assert_true(script_is_person_name("Robin Smith"));
	assert_true(script_is_person_name("Mary-Ann O'Neil"));
	assert_true(script_is_person_name("José María Cruz"));
	assert_false(script_is_person_name("Robin"));
	assert_false(script_is_person_name("Kept Team 2"));
	assert_false(script_is_person_name("Robin  Smith"));
	assert_false(script_is_person_name("A B C D E"));
	assert_false(script_is_person_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(machines_and_unknown_hear_the_limited_message),
	        cmocka_unit_test(the_live_opening_names_the_caller_and_asks),
	        cmocka_unit_test(after_confirmation_the_disclosure_then_the_debt),
	        cmocka_unit_test(a_callback_number_on_every_path),
	        cmocka_unit_test(answers),
	        cmocka_unit_test(names_that_disclose_debt_collection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
