/* crypto: SHA-256 test vectors, encodings, randomness, constant-time compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"

static void sha256_vectors(void **state)
{
	(void)state;
	char hex[65];
	crypto_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void base64url_round_trips(void **state)
{
	(void)state;
	unsigned char data[40], back[40];
	char text[64];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 37 + 251);
	for (size_t n = 0; n <= sizeof data; n++) {
		size_t out_len = 0;
		crypto_base64url(data, n, text);
		assert_int_equal(strlen(text), crypto_base64url_len(n));
		assert_null(strpbrk(text, "+/="));
		assert_true(crypto_base64url_decode(text, strlen(text), back, sizeof back, &out_len));
		assert_int_equal(out_len, n);
		assert_memory_equal(back, data, n);
	}
	crypto_base64url((const unsigned char *)"\xfb\xff", 2, text);
	assert_string_equal(text, "-_8");
}

static void base64url_rejects_junk(void **state)
{
	(void)state;
	unsigned char out[8];
	size_t n;
	assert_false(crypto_base64url_decode("ab=c", 4, out, sizeof out, &n));
	assert_false(crypto_base64url_decode("a", 1, out, sizeof out, &n));
	assert_false(crypto_base64url_decode("ab+/", 4, out, sizeof out, &n));
	assert_false(crypto_base64url_decode("AAAAAAAAAAAAAAAA", 16, out, sizeof out, &n));
	assert_false(crypto_base64url_decode("AB", 2, out, sizeof out, &n)); /* non-canonical bits */
}

static void randomness_differs(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	assert_int_equal(crypto_random(a, sizeof a), KEPT_OK);
	assert_int_equal(crypto_random(b, sizeof b), KEPT_OK);
	assert_false(crypto_equal(a, b, sizeof a));
	assert_true(crypto_equal(a, a, sizeof a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sha256_vectors),
	        cmocka_unit_test(base64url_round_trips),
	        cmocka_unit_test(base64url_rejects_junk),
	        cmocka_unit_test(randomness_differs),
	};
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
