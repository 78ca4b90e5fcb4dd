/* form: decoding x-www-form-urlencoded bodies (order, repeats, escapes, what
 * makes a body invalid) and encoding names and values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena/arena.h"
#include "buf/buf.h"
#include "form/form.h"

#define S(lit) (lit), strlen(lit)

static void decodes_fields_in_order(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	struct form f;
	struct kept_error err;
	kept_error_clear(&err);
	assert_int_equal(
	        form_decode(a, S("CallSid=CA1&Digits=1%232&From=%2B15550100&Note=a+b&Digits=9"), &f, &err),
	        KEPT_OK);
	assert_int_equal(f.count, 5);
	assert_string_equal(f.fields[0].name, "CallSid");
	assert_string_equal(form_get(&f, "Digits"), "1#2"); /* the first of a repeated name */
	assert_string_equal(f.fields[4].value, "9");
	assert_string_equal(form_get(&f, "From"), "+15550100");
	assert_string_equal(form_get(&f, "Note"), "a b");
	assert_null(form_get(&f, "Missing"));
	assert_int_equal(form_decode(a, S("Body=Zo%C3%AB&Empty="), &f, &err), KEPT_OK);
	assert_string_equal(form_get(&f, "Body"), "Zoë");
	assert_string_equal(form_get(&f, "Empty"), "");
	arena_free(a);
}

static void refuses_malformed_bodies(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	struct form f;
	struct kept_error err;
	const char *bad[] = {"a=%4", "a=%zz", "a=%00", "a=%ff", "a=%C3"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kept_error_clear(&err);
		assert_int_equal(form_decode(a, bad[i], strlen(bad[i]), &f, &err), KEPT_ERR_INVALID);
		assert_string_equal(err.code, "invalid_form");
	}
	arena_free(a);
}

static void encodes_every_reserved_byte(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(form_append(&b, "To", "+1 555"), KEPT_OK);
	assert_int_equal(form_append(&b, "Body", "a&b=c~d.e_f-g/é"), KEPT_OK);
	assert_string_equal(buf_str(&b), "To=%2B1%20555&Body=a%26b%3Dc~d.e_f-g%2F%C3%A9");
	buf_reset(&b);
	assert_int_equal(form_escape(&b, "AZaz09-._~"), KEPT_OK);
	assert_string_equal(buf_str(&b), "AZaz09-._~");
	buf_free(&b);
}

static void round_trip(void **state)
{
	(void)state;
	struct arena *a = arena_new(1 << 16);
	struct buf b;
	struct form f;
	struct kept_error err;
	const char *value = "50% off? +yes & no = maybe; Zoë";
	buf_init(&b, 1024);
	assert_int_equal(form_append(&b, "q", value), KEPT_OK);
	assert_int_equal(form_decode(a, buf_str(&b), strlen(buf_str(&b)), &f, &err), KEPT_OK);
	assert_string_equal(form_get(&f, "q"), value);
	buf_free(&b);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(decodes_fields_in_order),
	        cmocka_unit_test(refuses_malformed_bodies),
	        cmocka_unit_test(encodes_every_reserved_byte),
	        cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
