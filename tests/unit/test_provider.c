/* provider signatures (the telephony README's vectors) and form bodies
 * (the call script's own tests are in test_script.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena/arena.h"
#include "form/form.h"
#include "provider/provider.h"

static struct form_field vector_fields[] = {
        {"To", "+18005551212"},   {"CallSid", "CA1234567890ABCDE"}, {"Digits", "1234"},
        {"From", "+14158675309"}, {"Caller", "+14158675309"},
};
static const struct form vector = {vector_fields, 5};

static void readme_vectors(void **state)
{
	(void)state;
	char sig[PROVIDER_SIGNATURE_LEN + 1];
	assert_int_equal(provider_sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &vector, sig),
	                 KEPT_OK);
	assert_string_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	assert_int_equal(
	        provider_sign("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &vector, sig),
	        KEPT_OK);
	assert_string_equal(sig, "kvajT1Ptam85bY51eRf/AJRuM3w=");
	assert_int_equal(
	        provider_sign("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", &vector, sig),
	        KEPT_OK);
	assert_string_equal(sig, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
}

static void validation_and_ports(void **state)
{
	(void)state;
	const char *plain = "https://mycompany.com/myapp.php?foo=1&bar=2";
	const char *with443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
	/* either signature is accepted for either spelling of the URL */
	assert_true(provider_signature_valid("12345", plain, &vector, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_true(provider_signature_valid("12345", plain, &vector, "kvajT1Ptam85bY51eRf/AJRuM3w="));
	assert_true(provider_signature_valid("12345", with443, &vector, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_true(provider_signature_valid("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
	                                     &vector, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
	/* wrong token, wrong URL, tampered parameter, wrong length, missing */
	assert_false(provider_signature_valid("12346", plain, &vector, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_false(provider_signature_valid("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", &vector,
	                                      "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	struct form_field tampered_fields[5];
	memcpy(tampered_fields, vector_fields, sizeof tampered_fields);
	tampered_fields[2].value = "1235";
	struct form tampered = {tampered_fields, 5};
	assert_false(provider_signature_valid("12345", plain, &tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_false(provider_signature_valid("12345", plain, &vector, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
	assert_false(provider_signature_valid("12345", plain, &vector, NULL));
	assert_false(provider_signature_valid("12345", plain, &vector, ""));
}

static void form_round_trip(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct form f;
	struct kept_error err;
	const char *body = "To=%2B15558675310&Body=a+b%26c%3Dd&Empty=&Flag&StatusCallbackEvent=initiated"
	                   "&StatusCallbackEvent=completed&Name=Zo%C3%AB";
	assert_int_equal(form_decode(a, body, strlen(body), &f, &err), KEPT_OK);
	assert_int_equal(f.count, 7);
	assert_string_equal(form_get(&f, "To"), "+15558675310");
	assert_string_equal(form_get(&f, "Body"), "a b&c=d");
	assert_string_equal(form_get(&f, "Empty"), "");
	assert_string_equal(form_get(&f, "Flag"), "");
	assert_string_equal(f.fields[5].value, "completed");
	assert_string_equal(form_get(&f, "Name"), "Zoë");
	assert_null(form_get(&f, "Missing"));
	/* malformed escapes, an escaped NUL, invalid UTF-8 */
	const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%00", "a=%FF", "=novalue"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(form_decode(a, bad[i], strlen(bad[i]), &f, &err), KEPT_ERR_INVALID);
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(form_append(&b, "To", "+1 555&=é"), KEPT_OK);
	assert_int_equal(form_append(&b, "Url", "https://k.example/t?x=1"), KEPT_OK);
	assert_string_equal(buf_str(&b), "To=%2B1%20555%26%3D%C3%A9&Url=https%3A%2F%2Fk.example%2Ft%3Fx%3D1");
	buf_free(&b);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(readme_vectors),
	        cmocka_unit_test(validation_and_ports),
	        cmocka_unit_test(form_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
