/* csv: RFC 4180 records, line numbers, and problems reported per record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csv/csv.h"

struct seen {
	int records;
	long lines[16];
	const char *problems[16];
	char fields[16][8][64];
	size_t counts[16];
};

static kept_err collect(void *ctx, const struct csv_record *rec, struct kept_error *err)
{
	(void)err;
	struct seen *s = ctx;
	int i = s->records++;
	s->lines[i] = rec->line;
	s->problems[i] = rec->problem;
	s->counts[i] = rec->count;
	for (size_t f = 0; f < rec->count && f < 8; f++)
		snprintf(s->fields[i][f], 64, "%s", rec->fields[f]);
	return KEPT_OK;
}

static struct seen read_text(const char *text)
{
	struct seen s;
	memset(&s, 0, sizeof s);
	struct kept_error err;
	assert_int_equal(csv_read(text, strlen(text), collect, &s, &err), KEPT_OK);
	return s;
}

static void plain_and_quoted_fields(void **state)
{
	(void)state;
	struct seen s = read_text("\xEF\xBB\xBF"
	                          "a,b,c\r\n1,\"two, \"\"2\"\"\",\n\n\"multi\nline\",x,y\nlast,,z");
	assert_int_equal(s.records, 4);
	assert_string_equal(s.fields[0][0], "a");
	assert_int_equal(s.counts[1], 3);
	assert_string_equal(s.fields[1][1], "two, \"2\"");
	assert_string_equal(s.fields[1][2], "");
	assert_int_equal(s.lines[2], 4);
	assert_string_equal(s.fields[2][0], "multi\nline");
	assert_int_equal(s.lines[3], 6); /* the quoted line break counts */
	assert_string_equal(s.fields[3][1], "");
	assert_null(s.problems[3]);
}

static void problems_are_per_record(void **state)
{
	(void)state;
	struct seen s = read_text("ok,1\nbad\"quote,2\n\"closed\"junk,3\nfine,4\n\"never closed,5\nx,y\n");
	assert_int_equal(s.records, 5);
	assert_null(s.problems[0]);
	assert_string_equal(s.problems[1], "stray_quote");
	assert_int_equal(s.lines[1], 2);
	assert_string_equal(s.problems[2], "stray_quote");
	assert_null(s.problems[3]);
	assert_string_equal(s.fields[3][0], "fine");
	assert_int_equal(s.lines[3], 4);
	assert_string_equal(s.problems[4], "unterminated_quote");
	assert_int_equal(s.lines[4], 5);
}

static void limits(void **state)
{
	(void)state;
	char many[200] = "";
	for (int i = 0; i < CSV_MAX_FIELDS + 1; i++)
		strcat(many, i ? ",x" : "x");
	strcat(many, "\nafter\n");
	struct seen s = read_text(many);
	assert_string_equal(s.problems[0], "too_many_fields");
	assert_string_equal(s.fields[1][0], "after");

	static char long_field[CSV_MAX_FIELD_LEN + 20];
	memset(long_field, 'a', CSV_MAX_FIELD_LEN + 1);
	strcpy(long_field + CSV_MAX_FIELD_LEN + 1, "\nz\n");
	s = read_text(long_field);
	assert_string_equal(s.problems[0], "field_too_long");
	assert_string_equal(s.fields[1][0], "z");

	const char nul[] = "a\0b,c\nd\n";
	memset(&s, 0, sizeof s);
	struct kept_error err;
	assert_int_equal(csv_read(nul, sizeof nul - 1, collect, &s, &err), KEPT_OK);
	assert_string_equal(s.problems[0], "nul_byte");
	assert_string_equal(s.fields[1][0], "d");
}

static kept_err stop_at_two(void *ctx, const struct csv_record *rec, struct kept_error *err)
{
	int *n = ctx;
	(void)rec;
	return ++*n == 2 ? kept_fail(err, KEPT_ERR_INVALID, "stop", "", "stop") : KEPT_OK;
}

static void the_callback_can_stop(void **state)
{
	(void)state;
	int n = 0;
	struct kept_error err;
	const char *text = "a\nb\nc\n";
	assert_int_equal(csv_read(text, strlen(text), stop_at_two, &n, &err), KEPT_ERR_INVALID);
	assert_int_equal(n, 2);
}

static void report_cells_are_never_formulas(void **state)
{
	(void)state;
	const char *cells[][2] = {
	        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
	        {"+1+1", "'+1+1"},
	        {"-2+3", "'-2+3"},
	        {"@SUM(A1)", "'@SUM(A1)"},
	        {"\tx", "'\tx"},
	        {"\rx", "\"'\rx\""},
	        {"-12", "-12"},
	        {"-0.0042", "-0.0042"},
	        {"3.5", "3.5"},
	        {"Ann, Bee", "\"Ann, Bee\""},
	        {"plain", "plain"},
	        {"", ""},
	};
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		struct buf b;
		buf_init(&b, 1024);
		assert_int_equal(csv_put_field(&b, cells[i][0]), KEPT_OK);
		assert_string_equal(buf_str(&b), cells[i][1]);
		buf_free(&b);
	}
	assert_true(csv_is_formula("=1"));
	assert_false(csv_is_formula("-1"));
	assert_true(csv_is_formula("-")); /* not a number: shown as text */
	assert_true(csv_is_formula("-x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(plain_and_quoted_fields),
	        cmocka_unit_test(problems_are_per_record),
	        cmocka_unit_test(limits),
	        cmocka_unit_test(the_callback_can_stop),
	        cmocka_unit_test(report_cells_are_never_formulas),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
