/* db: what each SQLSTATE means to kept (db.h's table), without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/db_gen.h"

static void outages_are_503(void **state)
{
	(void)state;
	static const char *const outages[] = {"08000", "08003", "08006", "08001", "08004", "53100",
	                                      "53200", "53300", "57P01", "57P02", "57P03", "25006"};
	for (size_t i = 0; i < sizeof outages / sizeof outages[0]; i++)
		assert_int_equal(db_state_class(outages[i]), DB_STATE_OUTAGE);
	assert_int_equal(db_state_class(NULL), DB_STATE_OUTAGE); /* no answer at all: the connection went */
	assert_int_equal(db_state_class("57014"), DB_STATE_TIMEOUT);
}

static void a_protocol_violation_is_a_defect_not_an_outage(void **state)
{
	(void)state;
	/* 08P01: e.g. a statement given the wrong number of parameters */
	assert_int_equal(db_state_class("08P01"), DB_STATE_DEFECT);
}

static void kept_rules_and_constraints(void **state)
{
	(void)state;
	assert_int_equal(db_state_class("KR422"), DB_STATE_OWN);
	assert_int_equal(db_state_class("KR404"), DB_STATE_OWN);
	assert_int_equal(db_state_class("KR500"), DB_STATE_OWN);
	assert_int_equal(db_state_class("23505"), DB_STATE_CONSTRAINT);
	assert_int_equal(db_state_class("23514"), DB_STATE_CONSTRAINT);
	assert_int_equal(db_state_class("40001"), DB_STATE_RETRY);
	assert_int_equal(db_state_class("40P01"), DB_STATE_RETRY);
	assert_int_equal(db_state_class("55P03"), DB_STATE_RETRY);
	assert_int_equal(db_state_class("26000"), DB_STATE_STALE);
}

static void everything_else_is_a_defect(void **state)
{
	(void)state;
	static const char *const defects[] = {"42883", "42P01", "42601", "22P02", "22003",
	                                      "22012", "22007", "XX000", "P0001", "2F005"};
	for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++)
		assert_int_equal(db_state_class(defects[i]), DB_STATE_DEFECT);
}

static void typed_parameters_as_text(void **state)
{
	(void)state;
	char buf[DB_PARAM_TEXT_MAX];
	assert_string_equal(db_param_int64(buf, 42), "42");
	assert_string_equal(db_param_int64(buf, INT64_MAX), "9223372036854775807");
	assert_string_equal(db_param_int64(buf, -7), "-7");
	assert_null(db_param_int64(buf, DB_NULL_BIGINT));
	assert_string_equal(db_param_int(buf, 0), "0");
	assert_null(db_param_int(buf, DB_NULL_INT));
	assert_string_equal(db_param_bool(true), "true");
	assert_string_equal(db_param_bool(false), "false");
	assert_int_equal(db_int64("1234567890123"), 1234567890123LL);
	assert_true(db_int64(NULL) == DB_NULL_BIGINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(outages_are_503),
	        cmocka_unit_test(a_protocol_violation_is_a_defect_not_an_outage),
	        cmocka_unit_test(kept_rules_and_constraints),
	        cmocka_unit_test(everything_else_is_a_defect),
	        cmocka_unit_test(typed_parameters_as_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
