/* link: the self-service page's secrets — tokens signed and checked, cookies,
 * form tokens bound to their cookie, one-time codes, addresses, sealed texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena/arena.h"
#include "link/link.h"

#define SECRET  "0123456789abcdef0123456789abcdef-the-link-secret"
#define SECRET2 "another secret of at least thirty-two bytes, really"

static bool hex64(const char *s)
{
	if (strlen(s) != LINK_HASH_HEX_LEN)
		return false;
	return strspn(s, "0123456789abcdef") == LINK_HASH_HEX_LEN;
}

static void keys_need_a_long_secret(void **state)
{
	(void)state;
	struct link_keys k;
	assert_int_not_equal(link_keys_derive("too short", &k), KEPT_OK);
	assert_int_equal(link_keys_derive(SECRET, &k), KEPT_OK);
	/* one key per purpose */
	assert_memory_not_equal(k.token, k.csrf, sizeof k.token);
	assert_memory_not_equal(k.code, k.address, sizeof k.code);
}

static void tokens(void **state)
{
	(void)state;
	struct link_keys k, other;
	char token[LINK_TOKEN_LEN + 1], token2[LINK_TOKEN_LEN + 1];
	char hash[LINK_HASH_HEX_LEN + 1], checked[LINK_HASH_HEX_LEN + 1], hash2[LINK_HASH_HEX_LEN + 1];
	assert_int_equal(link_keys_derive(SECRET, &k), KEPT_OK);
	assert_int_equal(link_keys_derive(SECRET2, &other), KEPT_OK);
	assert_int_equal(link_token_new(&k, token, hash), KEPT_OK);
	assert_int_equal(strlen(token), LINK_TOKEN_LEN);
	assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	                 LINK_TOKEN_LEN);
	assert_true(hex64(hash));
	assert_true(link_token_check(&k, token, checked));
	assert_string_equal(checked, hash);
	assert_false(link_token_check(&other, token, checked)); /* signed under another secret */
	token[LINK_TOKEN_LEN - 1] = token[LINK_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	assert_false(link_token_check(&k, token, checked)); /* a changed signature */
	assert_false(link_token_check(&k, "short", checked));
	assert_int_equal(link_token_new(&k, token2, hash2), KEPT_OK);
	assert_string_not_equal(token2, token);
	assert_string_not_equal(hash2, hash);
}

static void sessions_and_form_tokens(void **state)
{
	(void)state;
	struct link_keys k;
	char cookie[LINK_SESSION_LEN + 1], hash[LINK_HASH_HEX_LEN + 1], again[LINK_HASH_HEX_LEN + 1];
	char csrf[LINK_CSRF_LEN + 1];
	assert_int_equal(link_keys_derive(SECRET, &k), KEPT_OK);
	assert_int_equal(link_session_new(cookie, hash), KEPT_OK);
	assert_int_equal(strlen(cookie), LINK_SESSION_LEN);
	assert_true(link_session_hash(cookie, again));
	assert_string_equal(again, hash);
	assert_false(link_session_hash("not a cookie", again));
	link_csrf(&k, cookie, csrf);
	assert_int_equal(strlen(csrf), LINK_CSRF_LEN);
	assert_true(link_csrf_ok(&k, cookie, csrf));
	assert_false(link_csrf_ok(&k, "another cookie", csrf)); /* bound to its cookie */
	assert_false(link_csrf_ok(&k, cookie, ""));
}

static void codes_and_addresses(void **state)
{
	(void)state;
	struct link_keys k;
	char code[LINK_CODE_DIGITS + 1];
	char h1[LINK_HASH_HEX_LEN + 1], h2[LINK_HASH_HEX_LEN + 1];
	char a1[LINK_ADDRESS_LEN + 1], a2[LINK_ADDRESS_LEN + 1];
	const char *link_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *link_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	assert_int_equal(link_keys_derive(SECRET, &k), KEPT_OK);
	assert_int_equal(link_code_new(code), KEPT_OK);
	assert_int_equal(strlen(code), LINK_CODE_DIGITS);
	assert_int_equal(strspn(code, "0123456789"), LINK_CODE_DIGITS);
	link_code_hash(&k, link_a, "123456", h1);
	link_code_hash(&k, link_b, "123456", h2);
	assert_true(hex64(h1));
	assert_string_not_equal(h1, h2); /* the same code for another link is another hash */
	link_address_key(&k, "192.0.2.1", a1);
	link_address_key(&k, "192.0.2.2", a2);
	assert_int_equal(strlen(a1), LINK_ADDRESS_LEN);
	assert_string_not_equal(a1, a2);
	assert_null(strstr(a1, "192"));
}

static void sealed_texts(void **state)
{
	(void)state;
	struct link_keys k, other;
	struct arena *a = arena_new(1 << 16);
	assert_int_equal(link_keys_derive(SECRET, &k), KEPT_OK);
	assert_int_equal(link_keys_derive(SECRET2, &other), KEPT_OK);
	const char *sealed = link_seal(&k, a, "Your code is 123456");
	assert_non_null(sealed);
	assert_null(strstr(sealed, "123456"));
	assert_string_equal(link_open(&k, a, sealed), "Your code is 123456");
	assert_null(link_open(&other, a, sealed));
	assert_null(link_open(&k, a, "zz"));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(keys_need_a_long_secret),
	        cmocka_unit_test(tokens),
	        cmocka_unit_test(sessions_and_form_tokens),
	        cmocka_unit_test(codes_and_addresses),
	        cmocka_unit_test(sealed_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
