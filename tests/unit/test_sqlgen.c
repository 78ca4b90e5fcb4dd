/* sqlgen: a named query's parameters and their C types, read from its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The generator is one file with static functions; the test compiles it in
 * without its main() and leaves its emitters unused. */
#define SQLGEN_NO_MAIN
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../../service/tools/sqlgen.c"

static void types_from_casts(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(
	        parse_params("SELECT kept.f($1::bigint, $2, $3::integer, $4::boolean, $5::jsonb, $6::int8,\n"
	                     "  $7::int, $8::smallint, $9::bool, $10::timestamptz, $11::BIGINT)",
	                     &qp));
	assert_int_equal(qp.count, 11);
	static const enum param_type want[] = {PARAM_BIGINT,  PARAM_TEXT,   PARAM_INTEGER, PARAM_BOOLEAN,
	                                       PARAM_TEXT,    PARAM_BIGINT, PARAM_INTEGER, PARAM_INTEGER,
	                                       PARAM_BOOLEAN, PARAM_TEXT,   PARAM_BIGINT};
	for (int i = 0; i < 11; i++)
		assert_int_equal(qp.type[i], want[i]);
	assert_string_equal(qp.name[0], "p1");
	assert_string_equal(qp.name[10], "p11");
}

static void arrays_and_untyped_are_text(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(parse_params("SELECT f($1::bigint[], $2::integer[], $3::text, $4)", &qp));
	assert_int_equal(qp.count, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(qp.type[i], PARAM_TEXT);
}

static void one_cast_types_every_use(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(parse_params(
	        "SELECT f($1) WHERE x = $1::bigint AND ($2::jsonb)->>'a' = ($2::jsonb)->>'b'", &qp));
	assert_int_equal(qp.count, 2);
	assert_int_equal(qp.type[0], PARAM_BIGINT);
	assert_int_equal(qp.type[1], PARAM_TEXT);
}

/* The actor of a write query: three parameters made into one kept.actor. The
 * cast after the row is the row's, not a parameter's. */
static void a_row_of_parameters_keeps_their_casts(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(
	        parse_params("SELECT kept.payment_reverse(ROW($1::bigint, $2::text, $3::text)::kept.actor,\n"
	                     "  $4::bigint, ($5::jsonb)->>'reason')",
	                     &qp));
	assert_int_equal(qp.count, 5);
	static const enum param_type want[] = {PARAM_BIGINT, PARAM_TEXT, PARAM_TEXT, PARAM_BIGINT,
	                                       PARAM_TEXT};
	for (int i = 0; i < 5; i++)
		assert_int_equal(qp.type[i], want[i]);
}

static void comments_and_quotes_are_not_code(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(parse_params("-- $3 the caller's key, $4::bigint\n"
	                         "SELECT '$5::bigint', 'it''s $6', \"$7\", $1::integer -- $9\n"
	                         "FROM t WHERE b = $2",
	                         &qp));
	assert_int_equal(qp.count, 2);
	assert_int_equal(qp.type[0], PARAM_INTEGER);
	assert_int_equal(qp.type[1], PARAM_TEXT);
	assert_null(parse_params("SELECT pg_advisory_lock(7738715179926839662)", &qp));
	assert_int_equal(qp.count, 0);
}

static void mistakes_are_refused(void **state)
{
	(void)state;
	struct query_params qp;
	assert_non_null(parse_params("SELECT f($1, $3)", &qp));                /* $2 missing */
	assert_non_null(parse_params("SELECT f($1::bigint, $1::text)", &qp));  /* two types */
	assert_non_null(parse_params("SELECT f($0)", &qp));                    /* no $0 */
	assert_non_null(parse_params("SELECT f($99999999999999999999)", &qp)); /* out of range */
}

static void names_from_the_name_line(void **state)
{
	(void)state;
	struct query_params qp;
	assert_null(parse_params("SELECT f($1::bigint, $2)", &qp));
	assert_null(parse_names("(account_id, source)", &qp));
	assert_string_equal(qp.name[0], "account_id");
	assert_string_equal(qp.name[1], "source");
	assert_int_equal(qp.type[0], PARAM_BIGINT);
	assert_non_null(parse_names("(account_id)", &qp));    /* too few */
	assert_non_null(parse_names("(a, b, c)", &qp));       /* too many */
	assert_non_null(parse_names("(Account, b)", &qp));    /* not [a-z0-9_] */
	assert_non_null(parse_names("(a, b) trailing", &qp)); /* after ')' */
	assert_non_null(parse_names("(a, b", &qp));           /* unclosed */
}

static void value_functions_may_not_collide(void **state)
{
	(void)state;
	assert_true(is_value_of("customer_get_value", "customer_get"));
	assert_false(is_value_of("customer_get", "customer_get"));
	assert_false(is_value_of("customer_get_json", "customer_get"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(types_from_casts),
	        cmocka_unit_test(arrays_and_untyped_are_text),
	        cmocka_unit_test(one_cast_types_every_use),
	        cmocka_unit_test(a_row_of_parameters_keeps_their_casts),
	        cmocka_unit_test(comments_and_quotes_are_not_code),
	        cmocka_unit_test(mistakes_are_refused),
	        cmocka_unit_test(names_from_the_name_line),
	        cmocka_unit_test(value_functions_may_not_collide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
